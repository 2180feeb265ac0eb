// The floor: the least a Node relay can do. node:http in, undici out with keep-alive, bodies piped,
// hop-by-hop headers dropped. `/openai` is stripped so it serves the same URLs as the openai-relay, unless
// KEEP_PREFIX=1 (the front floor of the floor chain, whose target is another floor).
import { createServer } from 'node:http';
import { Agent } from 'undici';

const target = new URL(process.env.TARGET);
const keepPrefix = process.env.KEEP_PREFIX === '1';
const agent = new Agent({ keepAliveTimeout: 4_000 });
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'host',
  'proxy-connection',
]);

function forwardable(headers) {
  const result = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!HOP_BY_HOP.has(name) && value !== undefined) result[name] = value;
  }
  return result;
}

const server = createServer(async (request, response) => {
  const hasBody = request.headers['content-length'] !== undefined || request.headers['transfer-encoding'] !== undefined;
  try {
    const upstream = await agent.request({
      origin: target.origin,
      path: keepPrefix ? (request.url ?? '/') : (request.url ?? '/').replace(/^\/openai/, '') || '/',
      method: request.method,
      headers: forwardable(request.headers),
      body: hasBody ? request : undefined,
    });
    response.writeHead(upstream.statusCode, forwardable(upstream.headers));
    upstream.body.pipe(response);
    response.once('close', () => upstream.body.destroy());
  } catch {
    response.writeHead(502).end();
  }
});
server.keepAliveTimeout = 65_000;
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`);
});
process.once('SIGTERM', () => process.exit(0));
