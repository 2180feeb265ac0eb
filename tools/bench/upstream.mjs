// The bench's fake OpenAI: as fast as node:http allows, so the numbers measure what sits in front of it.
//   /v1/instant  JSON at once          /v1/delayed  JSON after 50 ms
//   /v1/sse      20 chat chunks, 5 ms apart, then [DONE]
import { createServer } from 'node:http';

const DELAY_MS = 50;
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

function streamChunks(response) {
  response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  let sent = 0;
  const timer = setInterval(() => {
    if (response.destroyed) {
      clearInterval(timer);
      return;
    }
    response.write(frames[sent]);
    sent += 1;
    if (sent === SSE_CHUNKS) {
      clearInterval(timer);
      response.end('data: [DONE]\n\n');
    }
  }, SSE_INTERVAL_MS);
  response.write(frames[0]);
  sent = 1;
}

const server = createServer((request, response) => {
  request.resume();
  request.once('end', () => {
    const path = request.url ?? '';
    if (path.startsWith('/v1/sse')) {
      streamChunks(response);
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
