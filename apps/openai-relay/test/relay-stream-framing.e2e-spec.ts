import { Client } from 'undici';
import { type FakeUpstream, json, startFakeOpenAi } from '@openai-proxy/testing-fakes';
import { type RunningRelay, startRelay } from './support/relay-app';

const frame = (text: string): string => `data: {"text":"${text}"}\n\n`;

/** Resolves when `promise` does, or after `waitMs` (the timer is cleared either way). */
function settledWithin(promise: Promise<void>, waitMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, waitMs);
    void promise.then(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

describe('RelayService event-stream framing', () => {
  let openai: FakeUpstream;
  let relay: RunningRelay;

  beforeAll(async () => {
    openai = await startFakeOpenAi();
    relay = await startRelay({ OPENAI_API_BASE: openai.url, STREAM_HEARTBEAT_MS: '100' });
  });

  afterAll(async () => {
    await relay.app.close();
    await openai.close();
  });

  it('should drop the upstream Content-Length of an event stream it adds pings to, so keep-alive survives', async () => {
    const body = frame('a') + frame('b') + 'data: [DONE]\n\n';
    let pinged: () => void = () => undefined;
    const pingArrived = new Promise<void>((resolve) => {
      pinged = resolve;
    });
    openai.on('POST', '/v1/chat/completions', async (_request, response) => {
      response.writeHead(200, { 'content-type': 'text/event-stream', 'content-length': String(body.length) });
      response.write(frame('a'));
      // The upstream pauses until the relay's heartbeat has reached the client (3 s at most), then ends.
      await settledWithin(pingArrived, 3_000);
      response.end(frame('b') + 'data: [DONE]\n\n');
    });
    openai.on('GET', '/v1/after-stream', json(200, { ok: true }));
    const client = new Client(relay.url, { pipelining: 1 });
    try {
      const first = await client.request({ method: 'POST', path: '/openai/v1/chat/completions', body: '{}' });
      let text = '';
      for await (const chunk of first.body as AsyncIterable<Buffer>) {
        text += chunk.toString('utf8');
        if (text.includes(': ping\n\n')) {
          pinged();
        }
      }
      expect(first.headers['content-length']).toBeUndefined();
      expect(text).toContain(': ping\n\n');
      expect(text.replace(/: ping\n\n/g, '')).toBe(body);
      const second = await client.request({ method: 'GET', path: '/openai/v1/after-stream' });
      expect(second.statusCode).toBe(200);
      expect(await second.body.json()).toEqual({ ok: true });
    } finally {
      await client.close();
    }
  });
});
