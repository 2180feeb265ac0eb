import OpenAI from 'openai';
import {
  type FakeHandler,
  type FakeUpstream,
  RawUpstream,
  type RecordedRequest,
  delayed,
  fakeChatCompletions,
  openAiError,
  reset,
  sse,
} from '@openai-proxy/testing-fakes';
import { type Stack, startStack } from './support/stack';
import { createGatewayKey } from './support/team';

const CHAT = '/v1/chat/completions';
const CHAT_BODY = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
const POOL = ['sk-pool-a-0123456789', 'sk-pool-b-0123456789'];
/** Past the reset retry window (1 s): a reset this late may come after the provider did the work, and billed it. */
const LATE_RESET_MS = 1_500;

const chunk = (content: string): string =>
  `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { content }, finish_reason: null }] })}\n\n`;

interface Answer {
  status: number;
  text: string;
  headers: Headers;
}

async function post(url: string, authorization = 'Bearer sk-test-0123456789'): Promise<Answer> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization },
    body: CHAT_BODY,
    signal: AbortSignal.timeout(10_000),
  });
  return { status: response.status, text: await response.text(), headers: response.headers };
}

function attempts(fake: FakeUpstream, path = CHAT): RecordedRequest[] {
  return fake.requests.filter((request) => request.url === path);
}

/** Answers with each handler in turn, the last one from then on. */
function inTurn(...answers: FakeHandler[]): FakeHandler {
  let next = 0;
  return (request, response) => {
    const answer = answers[Math.min(next, answers.length - 1)];
    next += 1;
    return answer?.(request, response);
  };
}

/** The value of one metric line (`name{labels}`) in a service's /metrics; 0 when absent. */
async function metric(url: string, line: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(5_000) })).text();
  const found = text.split('\n').find((candidate) => candidate.startsWith(`${line} `));
  return found === undefined ? 0 : Number(found.slice(line.length + 1));
}

interface Readiness {
  status: string;
  breakers?: Record<string, Record<string, { state: string }>>;
}

async function readiness(url: string): Promise<{ status: number; body: Readiness; text: string }> {
  const response = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(5_000) });
  const text = await response.text();
  return { status: response.status, body: JSON.parse(text) as Readiness, text };
}

describe('retries through the gateway and the relay', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack({ relayEnv: { UPSTREAM_BREAKER_FAILURES: '0' } });
  });

  afterAll(async () => {
    await stack.close();
  });

  afterEach(() => {
    stack.openai.on('POST', CHAT, fakeChatCompletions);
  });

  it('should retry a 503 once in the relay and give the client the 200: the fake saw 2, the gateway retried nothing', async () => {
    const seen = attempts(stack.openai).length;
    stack.openai.on('POST', CHAT, inTurn(openAiError(503, 'overloaded', 'server_error'), fakeChatCompletions));
    const answer = await post(`${stack.gatewayUrl}/openai${CHAT}`);
    expect(answer.status).toBe(200);
    expect(answer.text).toContain('chat.completion');
    expect(attempts(stack.openai).length - seen).toBe(2);
    await expect(metric(stack.relayUrl, 'upstream_retries_total{upstream="openai",reason="status_5xx"}')).resolves.toBe(
      1,
    );
    await expect(
      metric(stack.gatewayUrl, 'upstream_retries_total{upstream="openai-relay",reason="status_5xx"}'),
    ).resolves.toBe(0);
  });

  it.each([400, 401, 403, 404, 413])(
    'should never retry a %i on either hop: the fake saw exactly 1',
    async (status) => {
      const seen = attempts(stack.openai).length;
      stack.openai.on('POST', CHAT, openAiError(status, `refused with ${status}`, 'invalid_request_error'));
      const answer = await post(`${stack.gatewayUrl}/openai${CHAT}`);
      expect(answer.status).toBe(status);
      expect(attempts(stack.openai).length - seen).toBe(1);
    },
  );

  it('should never send a request again, on either hop, after the provider read it whole and reset 1.5 s later: the fake saw 1', async () => {
    const seen = attempts(stack.openai).length;
    stack.openai.on('POST', CHAT, delayed(LATE_RESET_MS, reset()));
    const answer = await post(`${stack.gatewayUrl}/openai${CHAT}`);
    expect(answer.status).toBe(502);
    expect(JSON.parse(answer.text)).toMatchObject({ error: { code: 'upstream_connection_reset' } });
    expect(attempts(stack.openai).length - seen).toBe(1);
  }, 15_000);

  // Regression: the official SDKs retry any 5xx twice by default, so a client sent the late-reset request (which
  // the provider may have worked on, and billed) twice more; the answer now says x-should-retry: false.
  it('should keep the official OpenAI SDK, at its default retries, from sending a late-reset request again: the fake saw 1', async () => {
    const seen = attempts(stack.openai).length;
    stack.openai.on('POST', CHAT, delayed(LATE_RESET_MS, reset()));
    const client = new OpenAI({ apiKey: 'sk-test-0123456789', baseURL: `${stack.gatewayUrl}/openai/v1` });
    const failure: unknown = await client.chat.completions
      .create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] })
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(OpenAI.APIError);
    expect(failure).toMatchObject({ status: 502, code: 'upstream_connection_reset' });
    expect((failure as InstanceType<typeof OpenAI.APIError>).headers?.get('x-should-retry')).toBe('false');
    expect(attempts(stack.openai).length - seen).toBe(1);
  }, 20_000);

  it('should never retry a stream cut after its first byte: the fake saw 1, the client an error frame', async () => {
    const seen = attempts(stack.openai).length;
    stack.openai.on('POST', CHAT, sse({ frames: [chunk('a'), chunk('b'), chunk('c')], resetAfter: 1 }));
    const answer = await post(`${stack.gatewayUrl}/openai${CHAT}`);
    expect(answer.status).toBe(200);
    expect(answer.text.startsWith(chunk('a'))).toBe(true);
    expect(answer.text).toContain('"code":"upstream_connection_reset"');
    expect(answer.text.endsWith('data: [DONE]\n\n')).toBe(true);
    expect(attempts(stack.openai).length - seen).toBe(1);
  });
});

describe('the retry budget through the gateway when the upstream fails completely', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack({ relayEnv: { UPSTREAM_BREAKER_FAILURES: '0' } });
  });

  afterAll(async () => {
    await stack.close();
  });

  it('should keep the attempts of 50 sequential requests within 50 x 1.2 + 3 across both hops', async () => {
    stack.openai.on('POST', CHAT, openAiError(503, 'down', 'server_error'));
    for (let request = 0; request < 50; request += 1) {
      expect((await post(`${stack.gatewayUrl}/openai${CHAT}`)).status).toBe(503);
    }
    const made = attempts(stack.openai).length;
    expect(made).toBeGreaterThan(50);
    expect(made).toBeLessThanOrEqual(50 * 1.2 + 3);
    await expect(
      metric(stack.relayUrl, 'upstream_retry_budget_exhausted_total{upstream="openai"}'),
    ).resolves.toBeGreaterThan(0);
  });
});

describe('the gateway circuit breaker of a service that does not answer', () => {
  let stack: Stack;
  let relay: RawUpstream;

  beforeAll(async () => {
    // A relay that takes each connection and drops it before any answer.
    relay = await RawUpstream.start((socket) => {
      socket.destroy();
    });
    stack = await startStack({
      gatewayEnv: {
        OPENAI_RELAY_URL: relay.url,
        UPSTREAM_RETRIES: '0',
        UPSTREAM_BREAKER_FAILURES: '2',
        UPSTREAM_BREAKER_OPEN_MS: '60000',
      },
    });
  });

  afterAll(async () => {
    await stack.close();
    await relay.close();
  });

  it('should open after 2 failures in a row, then answer 503 naming the service without contacting it', async () => {
    for (let failure = 0; failure < 2; failure += 1) {
      expect((await post(`${stack.gatewayUrl}/openai${CHAT}`)).status).toBe(502);
    }
    expect(relay.heads).toHaveLength(2);
    const refused = await post(`${stack.gatewayUrl}/openai${CHAT}`);
    expect(refused.status).toBe(503);
    expect(JSON.parse(refused.text)).toMatchObject({ error: { code: 'upstream_unavailable' } });
    expect(refused.text).toContain('openai-relay');
    expect(refused.text).not.toContain('sk-test');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(relay.heads).toHaveLength(2);
    const ready = await readiness(stack.gatewayUrl);
    expect(ready.body.breakers?.['upstreams']?.['openai-relay']).toMatchObject({ state: 'open' });
    expect(ready.body.breakers?.['upstreams']?.['claude-bridge']).toEqual({ state: 'closed' });
    await expect(metric(stack.gatewayUrl, 'upstream_circuit_state{upstream="openai-relay"}')).resolves.toBe(2);
  });
});

describe('the gateway hop to a service that resets once it has the whole request', () => {
  let stack: Stack;
  let relay: RawUpstream;
  const timers = new Set<NodeJS.Timeout>();

  beforeAll(async () => {
    // A relay that reads the request (a body of a known length, small enough to come with its head), works on it
    // past the reset window, then resets: it may have sent it to the provider by then.
    relay = await RawUpstream.start((socket) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        socket.resetAndDestroy();
      }, LATE_RESET_MS);
      timers.add(timer);
    });
    stack = await startStack({ gatewayEnv: { OPENAI_RELAY_URL: relay.url, UPSTREAM_BREAKER_FAILURES: '0' } });
  });

  afterAll(async () => {
    for (const timer of timers) {
      clearTimeout(timer);
    }
    await stack.close();
    await relay.close();
  });

  it('should answer 502 upstream_connection_reset naming the service after 1 attempt, never sending it again', async () => {
    const answer = await post(`${stack.gatewayUrl}/openai${CHAT}`);
    expect(answer.status).toBe(502);
    expect(JSON.parse(answer.text)).toMatchObject({ error: { code: 'upstream_connection_reset' } });
    expect(answer.text).toContain('openai-relay');
    expect(answer.headers.get('x-should-retry')).toBe('false');
    expect(relay.heads).toHaveLength(1);
  }, 15_000);
});

describe('the key pool failover in team mode (two OpenAI keys)', () => {
  let stack: Stack;
  let key: string;

  beforeAll(async () => {
    stack = await startStack({
      gatewayEnv: { GATEWAY_KEYS: 'required', DATABASE_URL: 'sqlite::memory:', OPENAI_API_KEY: POOL.join(',') },
    });
    key = (await createGatewayKey(stack.gateway)).key;
  });

  afterAll(async () => {
    await stack.close();
  });

  afterEach(() => {
    stack.openai.on('POST', CHAT, fakeChatCompletions);
  });

  it('should move to the other key after a 401 as a retry of the gateway budget, without the relay retrying', async () => {
    stack.openai.on('POST', CHAT, (request, response) =>
      request.headers.authorization === `Bearer ${POOL[0]}`
        ? openAiError(401, 'Incorrect API key', 'invalid_request_error')(request, response)
        : fakeChatCompletions(request, response),
    );
    const seen = attempts(stack.openai).length;
    const failovers = await metric(
      stack.gatewayUrl,
      'upstream_retries_total{upstream="openai-relay",reason="key_failover"}',
    );
    const answer = await post(`${stack.gatewayUrl}${CHAT}`, `Bearer ${key}`);
    expect(answer.status).toBe(200);
    const made = attempts(stack.openai).slice(seen);
    expect(made.map((attempt) => attempt.headers.authorization).sort()).toEqual(
      POOL.map((pooled) => `Bearer ${pooled}`),
    );
    // The gateway's own marker never reaches the provider.
    expect(
      made.every((attempt) =>
        attempt.rawHeaderNames.every((name) => !name.toLowerCase().startsWith('x-openai-proxy-')),
      ),
    ).toBe(true);
    await expect(
      metric(stack.gatewayUrl, 'upstream_retries_total{upstream="openai-relay",reason="key_failover"}'),
    ).resolves.toBe(failovers + 1);
  });

  it('should try a 503 once per key, the relay answering it as it came (one retry layer): the fake saw 2', async () => {
    stack.openai.on('POST', CHAT, openAiError(503, 'overloaded', 'server_error'));
    const seen = attempts(stack.openai).length;
    const answer = await post(`${stack.gatewayUrl}${CHAT}`, `Bearer ${key}`);
    expect(answer.status).toBe(503);
    expect(attempts(stack.openai).length - seen).toBe(2);
    await expect(metric(stack.relayUrl, 'upstream_retries_total{upstream="openai",reason="status_5xx"}')).resolves.toBe(
      0,
    );
  });

  it('should never move to the other key after the provider read the request whole and reset 1.5 s later: the fake saw 1', async () => {
    stack.openai.on('POST', CHAT, delayed(LATE_RESET_MS, reset()));
    const seen = attempts(stack.openai).length;
    const answer = await post(`${stack.gatewayUrl}${CHAT}`, `Bearer ${key}`);
    expect(answer.status).toBe(502);
    expect(JSON.parse(answer.text)).toMatchObject({ error: { code: 'upstream_connection_reset' } });
    expect(attempts(stack.openai).length - seen).toBe(1);
  }, 15_000);

  it("should show each pooled key's breaker in /readyz by its place in the pool, never by any part of the key", async () => {
    const ready = await readiness(stack.gatewayUrl);
    expect(Object.keys(ready.body.breakers?.['keys'] ?? {})).toEqual(['openai#1', 'openai#2']);
    for (const pooled of POOL) {
      expect(ready.text).not.toContain(pooled.slice(0, 8));
      expect(ready.text).not.toContain(pooled.slice(-4));
    }
  });

  it("should show each pooled key's breaker in /metrics as provider_key_circuit_state, as /readyz has it, never any part of the key", async () => {
    // Both keys rested on the 503s above; no call comes between the two reads, so neither changes state.
    const ready = await readiness(stack.gatewayUrl);
    const text = await (await fetch(`${stack.gatewayUrl}/metrics`, { signal: AbortSignal.timeout(5_000) })).text();
    const gauge = { closed: 0, half_open: 1, open: 2 } as const;
    const views = Object.entries(ready.body.breakers?.['keys'] ?? {});
    expect(views.map(([name]) => name)).toEqual(['openai#1', 'openai#2']);
    for (const [name, view] of views) {
      const line = `provider_key_circuit_state{key="${name}"}`;
      expect(text.split('\n')).toContain(`${line} ${gauge[view.state as keyof typeof gauge]}`);
    }
    for (const pooled of POOL) {
      expect(text).not.toContain(pooled.slice(0, 8));
      expect(text).not.toContain(pooled.slice(-4));
    }
  });
});
