// The soak's fake provider: OpenAI's chat completions and Anthropic's messages, JSON or streamed, whose stream
// chunks are numbered (text `s0 `, `s1 `, …) so a client can tell a whole stream from a cut one. What one request
// gets (chunks, pace, a reset, a stall, a 503, …) is its plan, read from the body's `model` (soak-plan.mjs).
// GET /stats answers what a run checks at the end: answers still open, and abandoned streams that ran to the end.
// Prints {"port":N} on stdout once listening on 127.0.0.1.
import { createServer } from 'node:http';
import { JSON_TEXT, chunkText, parsePlan } from './soak-plan.mjs';

/** The longest a stalled answer holds its connection: the services' idle timeout ends it long before. */
const STALL_CAP_MS = 30_000;
const CREATED = 1700000000;

const openAi = {
  json: (model) => ({
    id: 'chatcmpl-soak',
    object: 'chat.completion',
    created: CREATED,
    model,
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: JSON_TEXT, refusal: null },
        logprobs: null,
        finish_reason: 'stop',
      },
    ],
    usage: { prompt_tokens: 9, completion_tokens: 1, total_tokens: 10 },
  }),
  error: () => ({ error: { message: 'The fake is overloaded', type: 'server_error', param: null, code: null } }),
  head: () => '',
  chunk: (model, index) =>
    `data: ${JSON.stringify({ id: 'chatcmpl-soak', object: 'chat.completion.chunk', created: CREATED, model, choices: [{ index: 0, delta: { content: chunkText(index) }, logprobs: null, finish_reason: null }] })}\n\n`,
  errorEvent: () => `data: ${JSON.stringify(openAi.error())}\n\n`,
  tail: (model, chunks) =>
    `data: ${JSON.stringify({ id: 'chatcmpl-soak', object: 'chat.completion.chunk', created: CREATED, model, choices: [{ index: 0, delta: {}, logprobs: null, finish_reason: 'stop' }], usage: { prompt_tokens: 9, completion_tokens: chunks, total_tokens: 9 + chunks } })}\n\ndata: [DONE]\n\n`,
};

const anthropicEvent = (type, payload) => `event: ${type}\ndata: ${JSON.stringify({ type, ...payload })}\n\n`;
const anthropic = {
  json: (model) => ({
    id: 'msg_soak',
    type: 'message',
    role: 'assistant',
    model,
    content: [{ type: 'text', text: JSON_TEXT }],
    stop_reason: 'end_turn',
    stop_sequence: null,
    usage: { input_tokens: 9, output_tokens: 1 },
  }),
  error: () => ({ type: 'error', error: { type: 'overloaded_error', message: 'The fake is overloaded' } }),
  head: (model) =>
    anthropicEvent('message_start', {
      message: {
        id: 'msg_soak',
        type: 'message',
        role: 'assistant',
        model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { input_tokens: 9, output_tokens: 1 },
      },
    }) + anthropicEvent('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }),
  chunk: (_model, index) =>
    anthropicEvent('content_block_delta', { index: 0, delta: { type: 'text_delta', text: chunkText(index) } }),
  errorEvent: () => anthropicEvent('error', { error: anthropic.error().error }),
  tail: (_model, chunks) =>
    anthropicEvent('content_block_stop', { index: 0 }) +
    anthropicEvent('message_delta', {
      delta: { stop_reason: 'end_turn', stop_sequence: null },
      usage: { output_tokens: chunks },
    }) +
    anthropicEvent('message_stop', {}),
};

const stats = { open: 0, served: 0, abandonedRanToEnd: 0 };

function answerJson(response, status, payload) {
  const text = JSON.stringify(payload);
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  response.end(text);
}

/** Writes the numbered stream of `plan` in the `dialect`'s frames, cutting it where the plan says. */
function stream(response, dialect, model, plan) {
  response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  let sent = 0;
  let timer;
  const stop = () => clearTimeout(timer);
  response.once('close', stop);
  const next = () => {
    if (response.destroyed) return;
    if (plan.cut !== undefined && sent === plan.cut.after) {
      cut(response, dialect, plan.cut.how);
      return;
    }
    if (sent === plan.chunks) {
      if (plan.abandon) stats.abandonedRanToEnd += 1;
      response.end(dialect.tail(model, plan.chunks));
      return;
    }
    response.write(dialect.chunk(model, sent));
    sent += 1;
    timer = setTimeout(next, plan.gapMs);
  };
  const head = dialect.head(model);
  if (head !== '') response.write(head);
  timer = setTimeout(next, plan.waitMs);
}

function cut(response, dialect, how) {
  if (how === 'reset') response.socket?.resetAndDestroy();
  else if (how === 'close') response.end();
  else if (how === 'error') response.end(dialect.errorEvent());
  else {
    const cap = setTimeout(() => response.destroy(), STALL_CAP_MS);
    response.once('close', () => clearTimeout(cap));
  }
}

/** The request body as a JSON object, or an empty object when it is not one. */
function parseBody(text) {
  try {
    const value = JSON.parse(text);
    return typeof value === 'object' && value !== null ? value : {};
  } catch {
    return {};
  }
}

function answer(response, dialect, body) {
  const plan = parsePlan(body.model);
  if (plan.fail) answerJson(response, 503, dialect.error());
  else if (body.stream === true) stream(response, dialect, String(body.model), plan);
  else answerJson(response, 200, dialect.json(String(body.model)));
}

const server = createServer((request, response) => {
  const path = request.url ?? '';
  if (request.method === 'GET' && path === '/stats') {
    answerJson(response, 200, stats);
    return;
  }
  stats.open += 1;
  stats.served += 1;
  response.once('close', () => {
    stats.open -= 1;
  });
  const parts = [];
  request.on('data', (part) => parts.push(part));
  request.once('end', () => {
    const body = parseBody(Buffer.concat(parts).toString('utf8'));
    if (path.startsWith('/v1/chat/completions')) answer(response, openAi, body);
    else if (path.startsWith('/v1/messages')) answer(response, anthropic, body);
    else answerJson(response, 404, { error: { message: `No route ${request.method} ${path}`, type: 'not_found' } });
  });
});
// Short, so the services' idle connections to the fake close a few seconds after the load (undici closes first).
server.keepAliveTimeout = 5_000;
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`);
});
process.once('SIGTERM', () => process.exit(0));
