import { connect } from 'node:net';
import request from 'supertest';
import { shutdownServiceApp } from '@openai-proxy/feature-platform';
import {
  answerAfterShutdown,
  delayed,
  type FakeUpstream,
  json,
  sse,
  stall,
  startFakeOpenAi,
} from '@openai-proxy/testing-fakes';
import { loadOpenAiRelayConfig } from '../src/config/openai-relay.env';
import { type RelayOnFakeOpenAi, startRelay, startRelayOnFakeOpenAi } from './support/relay-app';

/** Sends raw bytes on one connection, then collects everything until the server closes or the time is up. */
function rawExchange(
  port: number,
  head: string,
  body: Buffer | undefined,
  waitMs: number,
): Promise<{ text: string; closed: boolean; elapsedMs: number }> {
  return new Promise((resolve) => {
    const started = Date.now();
    const socket = connect(port, '127.0.0.1');
    let text = '';
    let closed = false;
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1');
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      closed = true;
      clearTimeout(timer);
      resolve({ text, closed, elapsedMs: Date.now() - started });
    });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ text, closed, elapsedMs: Date.now() - started });
    }, waitMs);
    socket.write(head);
    if (body !== undefined) {
      socket.write(body);
    }
  });
}

describe('RelayService hardening', () => {
  let openai: FakeUpstream;

  beforeAll(async () => {
    openai = await startFakeOpenAi();
  });

  afterAll(async () => {
    await openai.close();
  });

  it('should keep reading a body it refused, so a client that sends everything before reading gets the answer', async () => {
    const relay = await startRelay({ OPENAI_API_BASE: 'http://127.0.0.1:9' });
    const socket = connect(relay.port, '127.0.0.1');
    try {
      const body = Buffer.alloc(12 * 1024 * 1024, 0x61);
      let text = '';
      socket.on('data', (chunk: Buffer) => {
        text += chunk.toString('latin1');
      });
      socket.write(`POST /openai/v1/files HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n`);
      // Like Python's http.client: the whole body goes out before the answer is read.
      const sent = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), 4_000);
        socket.write(body, (error) => {
          clearTimeout(timer);
          resolve(error === undefined || error === null);
        });
      });
      expect(sent).toBe(true);
      // Until the answer's error code arrived, or the relay closed (bounded).
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(done, 4_000);
        const check = (): void => {
          if (text.includes('"code":"upstream_unavailable"')) {
            done();
          }
        };
        socket.on('data', check);
        socket.once('close', done);
        check();
      });
      expect(text.startsWith('HTTP/1.1 503')).toBe(true);
      expect(text).toContain('"code":"upstream_unavailable"');
    } finally {
      socket.destroy();
      await relay.app.close();
    }
  });

  // 1000 bytes are read whole before the upstream call; 200000 are streamed through the counting pipe.
  it.each([1_000, 200_000])(
    'should close a stalled upload of %i declared bytes after the idle budget and release the upstream request',
    async (declared) => {
      openai.on('POST', '/v1/stalled-upload', stall());
      const relay = await startRelay({ OPENAI_API_BASE: openai.url, UPSTREAM_IDLE_TIMEOUT_MS: '300' });
      try {
        const head = `POST /openai/v1/stalled-upload HTTP/1.1\r\nHost: x\r\nContent-Length: ${declared}\r\n\r\n`;
        const { closed, elapsedMs } = await rawExchange(relay.port, head, Buffer.alloc(10, 0x61), 5_000);
        expect(closed).toBe(true);
        expect(elapsedMs).toBeLessThan(3_000);
        const arrived = openai.lastRequest('/v1/stalled-upload');
        if (arrived !== undefined) {
          await openai.waitForClose(arrived, 2_000);
        }
      } finally {
        await relay.app.close();
      }
    },
  );

  it('should not call the upstream for a small body the client never finished sending', async () => {
    openai.on('POST', '/v1/unfinished', json(200, { ok: true }));
    const relay = await startRelay({ OPENAI_API_BASE: openai.url });
    try {
      const head = 'POST /openai/v1/unfinished HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n';
      const socket = connect(relay.port, '127.0.0.1');
      socket.on('error', () => undefined);
      socket.write(head);
      socket.write(Buffer.alloc(100, 0x61));
      await new Promise((resolve) => setTimeout(resolve, 100));
      socket.destroy();
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(openai.lastRequest('/v1/unfinished')).toBeUndefined();
    } finally {
      await relay.app.close();
    }
  });

  it('should read a small body whole, so pipelined requests each get their answer when the upstream is down', async () => {
    const relay = await startRelay({ OPENAI_API_BASE: 'http://127.0.0.1:9' });
    try {
      const body = '{"model":"gpt-4o-mini","messages":[]}';
      const one = `POST /openai/v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
      const { text } = await rawExchange(relay.port, one + one, undefined, 1_500);
      expect(text.split('HTTP/1.1 503').length - 1).toBe(2);
      expect(text).toContain('"code":"upstream_unavailable"');
    } finally {
      await relay.app.close();
    }
  });

  it('should refuse an oversized Expect: 100-continue upload without inviting the body', async () => {
    const relay = await startRelay({ OPENAI_API_BASE: openai.url, MAX_RELAY_BODY_BYTES: '1000' });
    try {
      const head = 'POST /openai/v1/files HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\nExpect: 100-continue\r\n\r\n';
      const { text } = await rawExchange(relay.port, head, undefined, 3_000);
      expect(text).not.toContain('100 Continue');
      expect(text.startsWith('HTTP/1.1 413')).toBe(true);
    } finally {
      await relay.app.close();
    }
  });

  it('should invite an Expect: 100-continue upload within the limit and relay it', async () => {
    openai.on('POST', '/v1/continue-ok', json(200, { ok: true }));
    const relay = await startRelay({ OPENAI_API_BASE: openai.url });
    try {
      const head =
        'POST /openai/v1/continue-ok HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n';
      const { text } = await rawExchange(relay.port, head, Buffer.from('hello'), 3_000);
      expect(text).toContain('100 Continue');
      expect(text).toContain('{"ok":true}');
      expect(openai.lastRequest('/v1/continue-ok')?.body.toString()).toBe('hello');
      expect(openai.lastRequest('/v1/continue-ok')?.headers.expect).toBeUndefined();
    } finally {
      await relay.app.close();
    }
  });

  it('should send heartbeats on streams with CRLF line ends and mark relayed streams unbuffered', async () => {
    const frame = (text: string): string => `data: {"text":"${text}"}\r\n\r\n`;
    openai.on('POST', '/v1/crlf', sse({ frames: [frame('a'), frame('b')], intervalMs: 400 }));
    const relay = await startRelay({ OPENAI_API_BASE: openai.url, STREAM_HEARTBEAT_MS: '100' });
    try {
      const response = await fetch(`${relay.url}/openai/v1/crlf`, { method: 'POST', body: '{}' });
      expect(response.headers.get('x-accel-buffering')).toBe('no');
      const text = await response.text();
      expect(text).toContain(': ping\n\n');
      expect(text.replace(/: ping\n\n/g, '')).toBe(frame('a') + frame('b'));
    } finally {
      await relay.app.close();
    }
  });

  it('should answer 503 server_shutting_down to a request still waiting for upstream headers at the drain cap', async () => {
    openai.on('POST', '/v1/slow-answer', stall());
    const relay = await startRelay({ OPENAI_API_BASE: openai.url });
    try {
      const pending = fetch(`${relay.url}/openai/v1/slow-answer`, { method: 'POST', body: '{}' });
      await openai.waitForRequest((arrived) => arrived.url === '/v1/slow-answer');
      const drained = answerAfterShutdown(pending, () =>
        shutdownServiceApp(relay.app, loadOpenAiRelayConfig({ SHUTDOWN_DRAIN_MS: '200' }).platform),
      );
      expect(await drained).toEqual({ status: 503, code: 'server_shutting_down' });
    } finally {
      await relay.app.close();
    }
  });
});

describe('RelayService shutdown while a small body is arriving', () => {
  it('should answer 503 server_shutting_down at the drain cap without calling the upstream', async () => {
    const openai = await startFakeOpenAi();
    openai.on('POST', '/v1/slow-upload', json(200, { ok: true }));
    const relay = await startRelay({ OPENAI_API_BASE: openai.url });
    try {
      const head = 'POST /openai/v1/slow-upload HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n';
      const exchange = rawExchange(relay.port, head, Buffer.alloc(10, 0x61), 3_000);
      await new Promise((resolve) => setTimeout(resolve, 100));
      const started = Date.now();
      await shutdownServiceApp(relay.app, loadOpenAiRelayConfig({ SHUTDOWN_DRAIN_MS: '200' }).platform);
      const { text } = await exchange;
      expect(text.startsWith('HTTP/1.1 503')).toBe(true);
      expect(text).toContain('"code":"server_shutting_down"');
      expect(Date.now() - started).toBeLessThan(1_000);
      expect(openai.lastRequest('/v1/slow-upload')).toBeUndefined();
    } finally {
      await relay.app.close();
      await openai.close();
    }
  });
});

describe('BillingService limits', () => {
  let relay: RelayOnFakeOpenAi;

  beforeAll(async () => {
    relay = await startRelayOnFakeOpenAi();
  });

  afterAll(() => relay.close());

  it('should refuse a range over five years without calling the upstream', async () => {
    const before = relay.openai.requests.length;
    const response = await request(relay.url)
      .get('/openai/billing/credit_grants?start_date=1000-01-01&end_date=2999-12-31')
      .set('Authorization', 'Bearer sk-x');
    expect(response.status).toBe(400);
    expect(response.body.error).toContain('at most 1827 days');
    expect(relay.openai.requests.length).toBe(before);
  });

  it('should answer 401 for a missing key before looking at the dates', async () => {
    const response = await request(relay.url).get('/openai/billing/credit_grants?start_date=bad');
    expect(response.status).toBe(401);
  });

  it('should stop the outstanding usage calls when one call fails, and keep Retry-After', async () => {
    relay.openai.on('GET', '/v1/dashboard/billing/usage', delayed(3_000, json(200, { total_usage: 1 })));
    relay.openai.on(
      'GET',
      '/v1/dashboard/billing/subscription',
      delayed(100, json(429, { error: { message: 'slow down' } }, { 'retry-after': '9' })),
    );
    const response = await request(relay.url)
      .get('/openai/billing/credit_grants?start_date=2022-01-01&end_date=2022-12-31')
      .set('Authorization', 'Bearer sk-x');
    expect(response.status).toBe(429);
    expect(response.headers['retry-after']).toBe('9');
    const usageCalls = relay.openai.requests.filter(
      (arrived) =>
        arrived.url.startsWith('/v1/dashboard/billing/usage?end_date=2023-01-01') ||
        arrived.url.includes('start_date=2022-'),
    );
    expect(usageCalls.length).toBeGreaterThan(0);
    for (const call of usageCalls) {
      await relay.openai.waitForClose(call, 1_000);
      expect(call.closedEarly).toBe(true);
    }
  });
});
