import { readdirSync, readlinkSync } from 'node:fs';
import type { Socket } from 'node:net';
import { Agent } from 'undici';
import { RelayService } from '@openai-proxy/data-access-upstream';
import {
  type FakeHandler,
  FakeUpstream,
  RawUpstream,
  type RecordedRequest,
  delayed,
  fakeChatCompletions,
  json,
  openAiError,
  reset,
  sse,
  stall,
  writeRaw,
} from '@openai-proxy/testing-fakes';
import { type RunningRelay, startRelay } from './support/relay-app';

const CHAT = '/v1/chat/completions';
const CHAT_BODY = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
/** Longest a test polls for a circuit to let its probe through. */
const PROBE_WITHIN_MS = 3_000;
/** Past the reset retry window (RESET_RETRY_WINDOW_MS, 1 s): a reset this late may come after the work was done. */
const LATE_RESET_MS = 1_500;
const JSON_ANSWER = 'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{"ok":true}';

const chunk = (content: string): string =>
  `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { content }, finish_reason: null }] })}\n\n`;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function post(
  url: string,
  path: string,
  body = CHAT_BODY,
): Promise<{ status: number; text: string; headers: Headers }> {
  const response = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer sk-test-0123456789' },
    body,
    signal: AbortSignal.timeout(10_000),
  });
  return { status: response.status, text: await response.text(), headers: response.headers };
}

/** What the fake saw on `path`. */
function arrived(fake: FakeUpstream, path: string): RecordedRequest[] {
  return fake.requests.filter((request) => request.url === path);
}

/** A handler that answers with each handler of `answers` in turn, the last one from then on. */
function inTurn(...answers: FakeHandler[]): FakeHandler {
  let next = 0;
  return (request, response) => {
    const answer = answers[Math.min(next, answers.length - 1)];
    next += 1;
    return answer?.(request, response);
  };
}

async function metricsText(url: string): Promise<string> {
  return (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(5_000) })).text();
}

/** The value of one metric line (`name{labels}`) in the relay's /metrics; 0 when absent. */
async function metric(url: string, line: string): Promise<number> {
  const found = (await metricsText(url)).split('\n').find((text) => text.startsWith(`${line} `));
  return found === undefined ? 0 : Number(found.slice(line.length + 1));
}

async function readiness(
  url: string,
): Promise<{ status: number; body: { breakers?: { upstreams?: Record<string, { state: string }> } } }> {
  const response = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(5_000) });
  return {
    status: response.status,
    body: (await response.json()) as { breakers?: { upstreams?: Record<string, { state: string }> } },
  };
}

describe('the relay retries before the first byte, only when allowed', () => {
  let openai: FakeUpstream;
  let relay: RunningRelay;

  beforeAll(async () => {
    openai = await FakeUpstream.start();
    // Breakers off: this block counts retries; the breaker has its own block below.
    relay = await startRelay({
      OPENAI_API_BASE: openai.url,
      UPSTREAM_BREAKER_FAILURES: '0',
      UPSTREAM_HEADERS_TIMEOUT_MS: '300',
    });
  });

  afterAll(async () => {
    await relay.app.close();
    await openai.close();
  });

  it('should retry a 503 once and give the client the 200 that followed: the fake saw 2 attempts', async () => {
    openai.on('POST', '/v1/once-503', inTurn(openAiError(503, 'overloaded', 'server_error'), fakeChatCompletions));
    const answer = await post(relay.url, '/openai/v1/once-503');
    expect(answer.status).toBe(200);
    expect(answer.text).toContain('chat.completion');
    const attempts = arrived(openai, '/v1/once-503');
    expect(attempts).toHaveLength(2);
    expect(attempts[1]?.bodySha256).toBe(attempts[0]?.bodySha256);
    await expect(metric(relay.url, 'upstream_retries_total{upstream="openai",reason="status_5xx"}')).resolves.toBe(1);
  });

  it.each([400, 401, 403, 404, 413])('should never retry a %i: the fake saw exactly 1 attempt', async (status) => {
    const path = `/v1/refused-${status}`;
    openai.on('POST', path, openAiError(status, `refused with ${status}`, 'invalid_request_error'));
    const answer = await post(relay.url, `/openai${path}`);
    expect(answer.status).toBe(status);
    expect(answer.text).toContain(`refused with ${status}`);
    expect(arrived(openai, path)).toHaveLength(1);
  });

  it('should retry a 429 after the Retry-After it asked for, when that is short', async () => {
    openai.on(
      'POST',
      '/v1/busy-short',
      inTurn(openAiError(429, 'busy', 'requests', { 'retry-after': '0' }), fakeChatCompletions),
    );
    const answer = await post(relay.url, '/openai/v1/busy-short');
    expect(answer.status).toBe(200);
    expect(arrived(openai, '/v1/busy-short')).toHaveLength(2);
  });

  it('should give the client a 429 whose Retry-After is longer than it waits, with that Retry-After, after 1 attempt', async () => {
    openai.on('POST', '/v1/busy-long', openAiError(429, 'busy', 'requests', { 'retry-after': '30' }));
    const answer = await post(relay.url, '/openai/v1/busy-long');
    expect(answer.status).toBe(429);
    expect(answer.headers.get('retry-after')).toBe('30');
    expect(arrived(openai, '/v1/busy-long')).toHaveLength(1);
  });

  it('should give up after UPSTREAM_RETRIES retries and give the client the last answer', async () => {
    openai.on('POST', '/v1/always-502', openAiError(502, 'bad gateway', 'server_error'));
    const answer = await post(relay.url, '/openai/v1/always-502');
    expect(answer.status).toBe(502);
    expect(answer.text).toContain('bad gateway');
    expect(arrived(openai, '/v1/always-502')).toHaveLength(3);
  });

  it('should not retry a headers timeout (the upstream may be working on a paid request): 504 after 1 attempt', async () => {
    openai.on('POST', '/v1/slow', stall());
    const answer = await post(relay.url, '/openai/v1/slow');
    expect(answer.status).toBe(504);
    expect(answer.text).toContain('upstream_timeout');
    expect(arrived(openai, '/v1/slow')).toHaveLength(1);
  });

  it('should never retry a stream that failed after its first byte: 1 attempt, and the client gets an error frame', async () => {
    openai.on('POST', '/v1/cut', sse({ frames: [chunk('a'), chunk('b'), chunk('c')], resetAfter: 1 }));
    const answer = await post(relay.url, '/openai/v1/cut');
    expect(answer.status).toBe(200);
    expect(answer.text.startsWith(chunk('a'))).toBe(true);
    expect(answer.text).toContain('data: {"error":');
    expect(answer.text).toContain('upstream_connection_reset');
    expect(answer.text.endsWith('data: [DONE]\n\n')).toBe(true);
    expect(arrived(openai, '/v1/cut')).toHaveLength(1);
  });

  it('should relay through plain undici Agents, with no retry interceptor of the HTTP client', () => {
    const dispatchers = relay.app.get(RelayService).dispatchers;
    expect(dispatchers.direct).toBeInstanceOf(Agent);
    expect(dispatchers.direct.constructor).toBe(Agent);
  });
});

describe('the relay retries a connection reset before the answer only when the body can be sent again', () => {
  let raw: RawUpstream;
  const relays: RunningRelay[] = [];
  /** Each connection's script: the first `resets` connections are reset, the next ones answered. */
  let resets = 1;

  beforeAll(async () => {
    raw = await RawUpstream.start(async (socket: Socket) => {
      if (resets > 0) {
        resets -= 1;
        socket.destroy();
        return;
      }
      await writeRaw(socket, JSON_ANSWER);
    });
  });

  afterEach(async () => {
    await Promise.all(relays.splice(0).map((relay) => relay.app.close()));
  });

  afterAll(async () => {
    await raw.close();
  });

  async function relayTo(env: Record<string, string> = {}): Promise<RunningRelay> {
    const relay = await startRelay({ OPENAI_API_BASE: raw.url, UPSTREAM_BREAKER_FAILURES: '0', ...env });
    relays.push(relay);
    return relay;
  }

  it('should send a body read whole again after a reset, and give the client the answer: 2 attempts', async () => {
    const relay = await relayTo();
    resets = 1;
    const before = raw.heads.length;
    const answer = await post(relay.url, '/openai/v1/chat/completions');
    expect(answer.status).toBe(200);
    expect(answer.text).toBe('{"ok":true}');
    expect(raw.heads.length - before).toBe(2);
  });

  it('should make exactly 1 attempt when retries are off: the HTTP client does not retry by itself', async () => {
    const relay = await relayTo({ UPSTREAM_RETRIES: '0' });
    resets = 1;
    const before = raw.heads.length;
    const answer = await post(relay.url, '/openai/v1/chat/completions');
    expect(answer.status).toBe(502);
    expect(answer.text).toContain('upstream_connection_reset');
    expect(raw.heads.length - before).toBe(1);
  });

  /** The spool files this process still holds open, once the closes under way are done (bounded wait). */
  async function spoolFilesOpen(): Promise<number> {
    const count = (): number =>
      readdirSync('/proc/self/fd').filter((fd) => {
        try {
          return readlinkSync(`/proc/self/fd/${fd}`).includes('openai-proxy-body-');
        } catch {
          return false;
        }
      }).length;
    for (let attempt = 0; attempt < 50 && count() > 0; attempt += 1) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return count();
  }

  /** Posts `body` chunked (no Content-Length), as a client streaming an upload, and reads the answer. */
  async function postChunked(url: string, body: Uint8Array): Promise<{ status: number; text: string }> {
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(body);
        controller.close();
      },
    });
    const response = await fetch(`${url}/openai/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: stream,
      duplex: 'half',
      signal: AbortSignal.timeout(10_000),
    });
    return { status: response.status, text: await response.text() };
  }

  it('should send a small chunked upload again after a reset: it is read whole first, 2 attempts', async () => {
    const relay = await relayTo();
    resets = 1;
    const before = raw.heads.length;
    const answer = await postChunked(relay.url, new TextEncoder().encode(CHAT_BODY));
    expect(answer.status).toBe(200);
    expect(answer.text).toBe('{"ok":true}');
    expect(raw.heads.length - before).toBe(2);
  });

  it('should never send a body read back from its spool file again: a large chunked upload reset is 1 attempt', async () => {
    const relay = await relayTo();
    resets = 1;
    const before = raw.heads.length;
    // Over WHOLE_BODY_MAX_BYTES (64 KiB): spooled to a file and streamed from it, once.
    const answer = await postChunked(relay.url, new Uint8Array(200_000).fill(0x61));
    expect(answer.status).toBe(502);
    expect(answer.text).toContain('upstream_connection_reset');
    // The same upload kept in memory would have been sent again, and answered 200 (the test before).
    expect(raw.heads.length - before).toBe(1);
    // The spool file's handle went with the exchange (the relay runs in this process).
    await expect(spoolFilesOpen()).resolves.toBe(0);
  });
});

describe('the relay never sends a request again after a reset that came once it was being worked on', () => {
  let openai: FakeUpstream;
  let relay: RunningRelay;

  beforeAll(async () => {
    openai = await FakeUpstream.start();
    relay = await startRelay({ OPENAI_API_BASE: openai.url, UPSTREAM_BREAKER_FAILURES: '0' });
  });

  afterAll(async () => {
    await relay.app.close();
    await openai.close();
  });

  /** Sends a TCP RST instead of an answer. */
  const rst: FakeHandler = (_request, response) => {
    response.socket?.resetAndDestroy();
  };

  it.each([
    ['a TCP RST', 'rst', rst],
    ['a close', 'close', reset()],
  ])(
    'should answer 502 upstream_connection_reset after 1 attempt when the whole request was read and %s came 1.5 s later',
    async (_how, name, hangUp) => {
      const path = `/v1/late-${name}`;
      openai.on('POST', path, delayed(LATE_RESET_MS, hangUp));
      const answer = await post(relay.url, `/openai${path}`);
      expect(answer.status).toBe(502);
      expect(JSON.parse(answer.text)).toMatchObject({ error: { code: 'upstream_connection_reset' } });
      expect(arrived(openai, path)).toHaveLength(1);
      expect(arrived(openai, path)[0]?.body.toString('utf8')).toBe(CHAT_BODY);
      // It tells its caller (the gateway) not to send it again either: no other key, no fallback model.
      expect(answer.headers.get('x-openai-proxy-not-resendable')).toBe('reset-after-send');
      // And a client's SDK, which would retry a 502 twice by default.
      expect(answer.headers.get('x-should-retry')).toBe('false');
    },
  );
});

describe('the relay retry budget when the upstream fails completely', () => {
  let openai: FakeUpstream;
  let relay: RunningRelay;

  beforeAll(async () => {
    openai = await FakeUpstream.start();
    relay = await startRelay({ OPENAI_API_BASE: openai.url, UPSTREAM_BREAKER_FAILURES: '0' });
  });

  afterAll(async () => {
    await relay.app.close();
    await openai.close();
  });

  it('should keep the attempts of 50 sequential requests within 50 x 1.2 + 3, and count the retries it did not make', async () => {
    openai.on('POST', CHAT, openAiError(503, 'down', 'server_error'));
    for (let request = 0; request < 50; request += 1) {
      const answer = await post(relay.url, '/openai/v1/chat/completions');
      expect(answer.status).toBe(503);
    }
    const attempts = arrived(openai, CHAT).length;
    expect(attempts).toBeGreaterThan(50);
    expect(attempts).toBeLessThanOrEqual(50 * 1.2 + 3);
    await expect(metric(relay.url, 'upstream_retries_total{upstream="openai",reason="status_5xx"}')).resolves.toBe(
      attempts - 50,
    );
    await expect(
      metric(relay.url, 'upstream_retry_budget_exhausted_total{upstream="openai"}'),
    ).resolves.toBeGreaterThan(0);
  });
});

describe('the circuit breaker of the relay upstream', () => {
  let openai: FakeUpstream;
  let relay: RunningRelay;

  beforeAll(async () => {
    openai = await FakeUpstream.start();
    relay = await startRelay({
      OPENAI_API_BASE: openai.url,
      UPSTREAM_RETRIES: '0',
      UPSTREAM_BREAKER_FAILURES: '3',
      UPSTREAM_BREAKER_OPEN_MS: '400',
    });
  });

  afterAll(async () => {
    await relay.app.close();
    await openai.close();
  });

  /** Asks until an answer other than the open circuit's comes (bounded); that answer. */
  async function untilProbed(): Promise<{ status: number; text: string }> {
    const deadline = Date.now() + PROBE_WITHIN_MS;
    while (Date.now() < deadline) {
      const answer = await post(relay.url, '/openai/v1/models');
      if (!answer.text.includes('is not called for now')) {
        return answer;
      }
      await sleep(50);
    }
    throw new Error(`no probe within ${PROBE_WITHIN_MS} ms`);
  }

  it('should open after 3 failures in a row, fail at once while open, let one probe through and close on its answer', async () => {
    openai.on('POST', '/v1/models', openAiError(503, 'down', 'server_error'));
    for (let failure = 0; failure < 3; failure += 1) {
      expect((await post(relay.url, '/openai/v1/models')).status).toBe(503);
    }
    const refused = await post(relay.url, '/openai/v1/models');
    expect(refused.status).toBe(503);
    expect(JSON.parse(refused.text)).toMatchObject({ error: { code: 'upstream_unavailable' } });
    expect(refused.text).toContain('openai');
    expect(refused.text).not.toContain('sk-test');
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(arrived(openai, '/v1/models')).toHaveLength(3);

    const ready = await readiness(relay.url);
    expect(ready.status).toBe(200);
    expect(ready.body.breakers?.upstreams?.['openai']).toMatchObject({ state: 'open' });
    await expect(metric(relay.url, 'upstream_circuit_state{upstream="openai"}')).resolves.toBe(2);

    // The probe fails: the circuit opens again, and the fake sees nothing more until the next probe.
    const failedProbe = await untilProbed();
    expect(failedProbe.status).toBe(503);
    expect(arrived(openai, '/v1/models')).toHaveLength(4);
    expect((await post(relay.url, '/openai/v1/models')).text).toContain('is not called for now');
    expect(arrived(openai, '/v1/models')).toHaveLength(4);

    openai.on('POST', '/v1/models', json(200, { object: 'list', data: [] }));
    const probe = await untilProbed();
    expect(probe.status).toBe(200);
    expect(arrived(openai, '/v1/models')).toHaveLength(5);
    expect((await post(relay.url, '/openai/v1/models')).status).toBe(200);
    expect((await readiness(relay.url)).body.breakers?.upstreams?.['openai']).toEqual({ state: 'closed' });
    await expect(metric(relay.url, 'upstream_circuit_state{upstream="openai"}')).resolves.toBe(0);
  });

  it('should not count a 4xx against the circuit', async () => {
    openai.on('POST', '/v1/bad', openAiError(400, 'bad request', 'invalid_request_error'));
    for (let request = 0; request < 5; request += 1) {
      expect((await post(relay.url, '/openai/v1/bad')).status).toBe(400);
    }
    expect(arrived(openai, '/v1/bad')).toHaveLength(5);
    expect((await readiness(relay.url)).body.breakers?.upstreams?.['openai']).toEqual({ state: 'closed' });
  });

  it("should keep the cost query's billing calls on a circuit of their own: their failures never open the relayed traffic's", async () => {
    const before = await readiness(relay.url);
    expect(before.body.breakers?.upstreams).toMatchObject({
      openai: { state: 'closed' },
      'openai/billing': { state: 'closed' },
    });
    openai.on('GET', '/v1/dashboard/billing/subscription', openAiError(500, 'down', 'server_error'));
    openai.on('GET', '/v1/dashboard/billing/usage', openAiError(500, 'down', 'server_error'));
    // One month: two calls a query (the subscription and one usage chunk); three failures in a row open it.
    const statuses: number[] = [];
    for (let query = 0; query < 6 && statuses.at(-1) !== 503; query += 1) {
      const answer = await fetch(
        `${relay.url}/openai/billing/credit_grants?start_date=2024-01-01&end_date=2024-01-31`,
        {
          headers: { authorization: 'Bearer sk-test-0123456789' },
          signal: AbortSignal.timeout(10_000),
        },
      );
      statuses.push(answer.status);
      await answer.text();
    }
    expect(statuses.at(-1)).toBe(503);
    expect(statuses.slice(0, -1).every((status) => status === 500)).toBe(true);
    const after = await readiness(relay.url);
    expect(after.body.breakers?.upstreams?.['openai/billing']).toMatchObject({ state: 'open' });
    expect(after.body.breakers?.upstreams?.['openai']).toEqual({ state: 'closed' });

    openai.on('POST', CHAT, fakeChatCompletions);
    const chat = await post(relay.url, `/openai${CHAT}`);
    expect(chat.status).toBe(200);
    expect(chat.text).toContain('chat.completion');
    expect(arrived(openai, CHAT)).toHaveLength(1);
  });
});
