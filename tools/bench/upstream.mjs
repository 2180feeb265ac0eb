// The bench's fake OpenAI: as fast as node:http allows, so the numbers measure what sits in front of it.
//   /v1/instant  JSON at once          /v1/delayed  JSON after 50 ms
//   /v1/sse      20 chat chunks, 5 ms apart, then [DONE]
//   /v1/messages an Anthropic stream with 20 text deltas, 5 ms apart (for the translating bridge)
//   /v1/chat/completions  what team mode sends (the body is read): JSON at once (after 50 ms with the request
//                header x-bench-delay), or with "stream": true the same 20 chunks and, when
//                stream_options.include_usage is asked, OpenAI's usage chunk before [DONE]
import { createServer } from 'node:http';

const DELAY_MS = 50;
/** On `/v1/chat/completions`, this request header asks for the JSON answer after DELAY_MS (what /v1/delayed does). */
const DELAY_HEADER = 'x-bench-delay';
const SSE_CHUNKS = 20;
const SSE_INTERVAL_MS = 5;

const completion = JSON.stringify({
  id: 'chatcmpl-bench',
  object: 'chat.completion',
  created: 1700000000,
  model: 'gpt-4o-mini',
  choices: [
    {
      index: 0,
      message: { role: 'assistant', content: 'Hello from the bench upstream.', refusal: null },
      logprobs: null,
      finish_reason: 'stop',
    },
  ],
  usage: { prompt_tokens: 9, completion_tokens: 6, total_tokens: 15 },
});
const jsonHeaders = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(completion) };
const chunk = (index) =>
  `data: ${JSON.stringify({ id: 'chatcmpl-bench', object: 'chat.completion.chunk', created: 1700000000, model: 'gpt-4o-mini', choices: [{ index: 0, delta: { content: `token${index} ` }, logprobs: null, finish_reason: null }] })}\n\n`;
const frames = Array.from({ length: SSE_CHUNKS }, (_, index) => chunk(index));
const done = 'data: [DONE]\n\n';
// OpenAI's last chunk when include_usage is asked: no choices, the whole stream's usage.
const usageChunk = `data: ${JSON.stringify({ id: 'chatcmpl-bench', object: 'chat.completion.chunk', created: 1700000000, model: 'gpt-4o-mini', choices: [], usage: { prompt_tokens: 9, completion_tokens: SSE_CHUNKS, total_tokens: 9 + SSE_CHUNKS } })}\n\n`;
const anthropicEvent = (type, payload) => `event: ${type}\ndata: ${JSON.stringify({ type, ...payload })}\n\n`;
const anthropicFrames = [
  anthropicEvent('message_start', {
    message: {
      id: 'msg_bench',
      type: 'message',
      role: 'assistant',
      model: 'claude-bench',
      content: [],
      stop_reason: null,
      usage: { input_tokens: 9, output_tokens: 1 },
    },
  }) + anthropicEvent('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }),
  ...Array.from({ length: SSE_CHUNKS - 2 }, (_, index) =>
    anthropicEvent('content_block_delta', { index: 0, delta: { type: 'text_delta', text: `token${index} ` } }),
  ),
  anthropicEvent('content_block_stop', { index: 0 }) +
    anthropicEvent('message_delta', {
      delta: { stop_reason: 'end_turn', stop_sequence: null },
      usage: { output_tokens: 20 },
    }),
  anthropicEvent('message_stop', {}),
];

function streamChunks(response, chunks, last) {
  response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  let sent = 0;
  const timer = setInterval(() => {
    if (response.destroyed) {
      clearInterval(timer);
      return;
    }
    response.write(chunks[sent]);
    sent += 1;
    if (sent === chunks.length) {
      clearInterval(timer);
      response.end(last);
    }
  }, SSE_INTERVAL_MS);
  response.write(chunks[0]);
  sent = 1;
}

/** The chat request's body, when it is a JSON object; anything else reads as an empty request. */
function chatRequest(text) {
  try {
    const value = JSON.parse(text);
    return typeof value === 'object' && value !== null ? value : {};
  } catch {
    return {};
  }
}

/** `/v1/chat/completions`: a stream when asked for one (with the usage chunk when asked for it), else JSON. */
function answerChat(request, response) {
  const parts = [];
  request.on('data', (part) => parts.push(part));
  request.once('end', () => {
    const body = chatRequest(Buffer.concat(parts).toString('utf8'));
    if (body.stream !== true) {
      const answer = () => response.writeHead(200, jsonHeaders).end(completion);
      if (request.headers[DELAY_HEADER] === undefined) answer();
      else setTimeout(answer, DELAY_MS);
      return;
    }
    const withUsage = body.stream_options?.include_usage === true;
    streamChunks(response, frames, withUsage ? usageChunk + done : done);
  });
}

const server = createServer((request, response) => {
  const path = request.url ?? '';
  if (path.startsWith('/v1/chat/completions')) {
    answerChat(request, response);
    return;
  }
  request.resume();
  request.once('end', () => {
    if (path.startsWith('/v1/sse')) {
      streamChunks(response, frames, done);
    } else if (path.startsWith('/v1/messages')) {
      streamChunks(response, anthropicFrames.slice(0, -1), anthropicFrames[anthropicFrames.length - 1]);
    } else if (path.startsWith('/v1/delayed')) {
      setTimeout(() => response.writeHead(200, jsonHeaders).end(completion), DELAY_MS);
    } else {
      response.writeHead(200, jsonHeaders).end(completion);
    }
  });
});
server.keepAliveTimeout = 65_000;
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`);
});
process.once('SIGTERM', () => process.exit(0));
