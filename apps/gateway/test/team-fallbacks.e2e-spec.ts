import OpenAI from 'openai';
import {
  type FakeHandler,
  type FakeUpstream,
  type TestPostgresDatabase,
  anthropicError,
  anthropicMessageStartFrame,
  anthropicTextBlockStartFrame,
  anthropicTextDeltaFrame,
  createTestPostgresDatabase,
  delayed,
  freeLoopbackPort,
  openAiChatFrames,
  openAiError,
  reset,
  sse,
  streamedText,
} from '@openai-proxy/testing-fakes';
import { PROMPT_USAGE_EVENT } from '@openai-proxy/util-sse';
import type { StackOptions } from './support/stack';
import {
  FAKE_CHAT_PATH,
  FALLBACK_TEAM_KEYS,
  type FallbackTeam,
  type LedgerRow,
  chatBody,
  createGatewayKey,
  ledgerRowsOnce,
  postChat,
  readAnswer,
  startFallbackTeam,
} from './support/team';

/** Where the fake Anthropic takes Messages calls (the claude-bridge translates chat to them). */
const ANTHROPIC_MESSAGES = '/v1/messages';
/** The answer's header naming the provider and model the gateway sent the request to last. */
const MODEL_HEADER = 'x-openai-proxy-model';
/** USD per million tokens: mirror-large is priced apart from gpt-4o, so a row's cost says whose price it took. */
const MIRROR_INPUT_PRICE = 1000;
const MIRROR_OUTPUT_PRICE = 2000;

/**
 * The routes under test: `smart` is gpt-4o, then mirror-large (an OpenAI-compatible provider through the relay),
 * then claude-sonnet-4-6 (through the claude-bridge); `careful` is gpt-4o then claude-sonnet-4-6; `resilient`
 * is claude-sonnet-4-6 then gpt-4o-mini; `thrifty` is gpt-4o then gpt-4o-mini (one provider, one upstream).
 */
const ROUTES = [
  'models:',
  '  - { name: smart, provider: openai, model: gpt-4o, fallbacks: [mirror-large, claude-sonnet-4-6] }',
  '  - { name: careful, provider: openai, model: gpt-4o, fallbacks: [claude-sonnet-4-6] }',
  '  - { name: resilient, provider: anthropic, model: claude-sonnet-4-6, fallbacks: [gpt-4o-mini] }',
  '  - { name: thrifty, provider: openai, model: gpt-4o, fallbacks: [gpt-4o-mini] }',
  'prices:',
  '  gpt-4o: { input: 10, output: 20 }',
  `  mirror-large: { input: ${MIRROR_INPUT_PRICE}, output: ${MIRROR_OUTPUT_PRICE} }`,
  '  claude-sonnet-4-6: { input: 30, output: 40 }',
].join('\n');

/** The services' own breakers are off unless a test turns one on: each fake's count is then what the gateway made. */
const NO_SERVICE_BREAKERS: StackOptions = {
  relayEnv: { UPSTREAM_BREAKER_FAILURES: '0' },
  claudeEnv: { UPSTREAM_BREAKER_FAILURES: '0' },
};

/** Past the reset retry window (1 s): a reset this late may come after the provider did the work, and billed it. */
const LATE_RESET_MS = 1_500;

/** The row every fallback to mirror-large leaves. */
const MIRROR_ROW: Partial<LedgerRow> = {
  provider: 'mirror',
  modelRequested: 'smart',
  modelServed: 'mirror-large',
  route: '/v1/chat/completions',
};

function attempts(fake: FakeUpstream, path = FAKE_CHAT_PATH): number {
  return fake.requests.filter((request) => request.url === path).length;
}

/** The JSON body of the last request the fake got on `path`. */
function lastBody(fake: FakeUpstream, path = FAKE_CHAT_PATH): Record<string, unknown> {
  return JSON.parse(fake.lastRequest(path)?.body.toString('utf8') ?? '{}') as Record<string, unknown>;
}

/** The value of one metric line (`name{labels}`) in the gateway's /metrics; 0 when absent. */
async function metric(url: string, line: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(5_000) })).text();
  const found = text.split('\n').find((candidate) => candidate.startsWith(`${line} `));
  return found === undefined ? 0 : Number(found.slice(line.length + 1));
}

describe('model fallbacks in team mode (a fake per provider)', () => {
  let database: TestPostgresDatabase;
  let team: FallbackTeam | undefined;

  beforeAll(async () => {
    database = await createTestPostgresDatabase();
  });

  afterEach(async () => {
    await team?.close();
    team = undefined;
  });

  afterAll(async () => {
    await database.drop();
  });

  /** A team of its own for one test: fresh fakes, budgets and breakers. */
  async function startTeam(stack: StackOptions = NO_SERVICE_BREAKERS): Promise<FallbackTeam> {
    team = await startFallbackTeam({ databaseUrl: database.url, routes: ROUTES, stack });
    return team;
  }

  function member(started: FallbackTeam, key: string): OpenAI {
    return new OpenAI({ apiKey: key, baseURL: `${started.stack.gatewayUrl}/v1`, maxRetries: 0, timeout: 10_000 });
  }

  /** The one row a new key's single request left. */
  async function onlyRow(started: FallbackTeam, keyId: string): Promise<LedgerRow | undefined> {
    const rows = await ledgerRowsOnce(started.stack.gateway, database.url, keyId, 1);
    expect(rows).toHaveLength(1);
    return rows[0];
  }

  it('should serve from the fallback when the first model answers 503 on each key, the ledger naming the fallback', async () => {
    const started = await startTeam();
    started.stack.openai.on('POST', FAKE_CHAT_PATH, openAiError(503, 'gpt-4o is overloaded', 'server_error'));
    const { key, id } = await createGatewayKey(started.stack.gateway);
    const { data, response } = await member(started, key)
      .chat.completions.create({ model: 'smart', messages: [{ role: 'user', content: 'fall back' }] })
      .withResponse();
    expect(data.choices[0]?.message.content).toBe('Hello from the fake OpenAI upstream. You said: fall back');
    // The answer's model is the provider's own word, not the alias or the first model.
    expect(data.model).toBe('mirror-large');
    expect(response.headers.get(MODEL_HEADER)).toBe('mirror/mirror-large');
    // A 5xx is tried on one other key of the first model's pool, then the fallback once.
    expect(attempts(started.stack.openai)).toBe(2);
    expect(attempts(started.mirror)).toBe(1);
    expect(lastBody(started.stack.openai)['model']).toBe('gpt-4o');
    expect(lastBody(started.mirror)).toEqual({
      model: 'mirror-large',
      messages: [{ role: 'user', content: 'fall back' }],
    });
    expect(started.mirror.lastRequest(FAKE_CHAT_PATH)?.headers.authorization).toBe(
      `Bearer ${FALLBACK_TEAM_KEYS.mirror}`,
    );
    const row = await onlyRow(started, id);
    expect(row).toMatchObject({ ...MIRROR_ROW, status: 200, outcome: 'completed', promptSource: 'provider' });
    // Settled on the price of the model that served, not of the one asked first.
    expect(row?.costMicroUsd).toBe(
      (row?.promptTokens ?? 0) * MIRROR_INPUT_PRICE + (row?.completionTokens ?? 0) * MIRROR_OUTPUT_PRICE,
    );
    await expect(
      metric(started.stack.gatewayUrl, 'upstream_retries_total{upstream="openai-relay",reason="model_fallback"}'),
    ).resolves.toBe(1);
  });

  it('should reserve at the dearest of a route and its fallbacks: a budget only the first model fits is refused before any call', async () => {
    const started = await startTeam();
    // 100 completion tokens at mirror-large's $2000 per million are $0.20; at gpt-4o's $20, $0.002.
    const budgetUsd = 0.05;
    const { key } = await createGatewayKey(started.stack.gateway, { budgetUsd });
    const dear = await readAnswer(
      await postChat(started.stack.gatewayUrl, key, chatBody('a dear route', { model: 'smart', max_tokens: 100 })),
    );
    expect(dear).toMatchObject({ status: 429, errorCode: 'insufficient_quota' });
    expect(dear.body).toContain("more than the key's whole budget");
    expect(attempts(started.stack.openai)).toBe(0);
    expect(attempts(started.mirror)).toBe(0);
    // The same request on a route whose models all fit the budget is served.
    const cheap = await readAnswer(
      await postChat(started.stack.gatewayUrl, key, chatBody('a cheap route', { model: 'thrifty', max_tokens: 100 })),
    );
    expect(cheap.status).toBe(200);
    expect(attempts(started.stack.openai)).toBe(1);
  });

  it('should stream from the fallback when every key of the first model gets 429, usage asked as for the first', async () => {
    const started = await startTeam();
    started.stack.openai.on('POST', FAKE_CHAT_PATH, openAiError(429, 'Rate limit reached', 'requests'));
    const { key, id } = await createGatewayKey(started.stack.gateway);
    const stream = await member(started, key).chat.completions.create({
      model: 'smart',
      messages: [{ role: 'user', content: 'stream on' }],
      stream: true,
    });
    expect(await streamedText(stream)).toBe('Hello from the fake OpenAI upstream. You said: stream on');
    expect(attempts(started.stack.openai)).toBe(FALLBACK_TEAM_KEYS.openai.length);
    expect(attempts(started.mirror)).toBe(1);
    expect(lastBody(started.mirror)).toMatchObject({
      model: 'mirror-large',
      stream: true,
      stream_options: { include_usage: true },
    });
    expect(await onlyRow(started, id)).toMatchObject({
      ...MIRROR_ROW,
      status: 200,
      outcome: 'completed',
      promptTokens: 9,
      promptSource: 'provider',
    });
  });

  it('should fall back when the first model resets the connection before answering', async () => {
    // The relay's own retries of a reset are off: each attempt the fake sees is one the gateway made.
    const started = await startTeam({
      ...NO_SERVICE_BREAKERS,
      relayEnv: { UPSTREAM_BREAKER_FAILURES: '0', UPSTREAM_RETRIES: '0' },
    });
    started.stack.openai.on('POST', FAKE_CHAT_PATH, reset());
    const { key, id } = await createGatewayKey(started.stack.gateway);
    const answer = await readAnswer(
      await postChat(started.stack.gatewayUrl, key, chatBody('reset', { model: 'smart' })),
    );
    expect(answer.status).toBe(200);
    expect(answer.body).toContain('You said: reset');
    expect(attempts(started.stack.openai)).toBe(FALLBACK_TEAM_KEYS.openai.length);
    expect(attempts(started.mirror)).toBe(1);
    expect(await onlyRow(started, id)).toMatchObject({ ...MIRROR_ROW, status: 200, outcome: 'completed' });
  });

  it('should never fall back when the first model read the request whole and reset 1.5 s later: 502, the fallbacks saw nothing', async () => {
    const started = await startTeam();
    started.stack.openai.on('POST', FAKE_CHAT_PATH, delayed(LATE_RESET_MS, reset()));
    const { key, id } = await createGatewayKey(started.stack.gateway);
    const answer = await readAnswer(
      await postChat(started.stack.gatewayUrl, key, chatBody('late reset', { model: 'smart' })),
    );
    expect([answer.status, answer.errorCode]).toEqual([502, 'upstream_connection_reset']);
    // The provider may have run it (and billed it): no other key, no fallback model gets it again.
    expect(attempts(started.stack.openai)).toBe(1);
    expect(attempts(started.mirror)).toBe(0);
    expect(attempts(started.stack.anthropic, ANTHROPIC_MESSAGES)).toBe(0);
    expect(await onlyRow(started, id)).toMatchObject({ provider: 'openai', modelServed: 'gpt-4o', status: 502 });
  }, 15_000);

  it('should end a stream the first model cut after its first chunks with an error frame, never replayed on a fallback', async () => {
    const started = await startTeam();
    started.stack.openai.on(
      'POST',
      FAKE_CHAT_PATH,
      sse({ frames: openAiChatFrames(['one', ' two', ' three'], 'gpt-4o'), resetAfter: 3 }),
    );
    const { key, id } = await createGatewayKey(started.stack.gateway);
    const answer = await readAnswer(
      await postChat(started.stack.gatewayUrl, key, chatBody('cut', { model: 'smart', stream: true })),
    );
    expect(answer.status).toBe(200);
    expect(answer.body).toContain('"content":" two"');
    expect(answer.body).toContain('upstream_connection_reset');
    expect(answer.body).not.toContain('You said');
    expect(attempts(started.stack.openai)).toBe(1);
    expect(attempts(started.mirror)).toBe(0);
    expect(attempts(started.stack.anthropic, ANTHROPIC_MESSAGES)).toBe(0);
    expect(await onlyRow(started, id)).toMatchObject({ provider: 'openai', modelServed: 'gpt-4o', outcome: 'failed' });
  });

  it.each([false, true])(
    'should answer a 400 of the first model as it came, never trying a fallback (stream: %s)',
    async (stream) => {
      const started = await startTeam();
      started.stack.openai.on(
        'POST',
        FAKE_CHAT_PATH,
        openAiError(400, "Invalid value for 'temperature'", 'invalid_request_error'),
      );
      const { key } = await createGatewayKey(started.stack.gateway);
      const answer = await readAnswer(
        await postChat(started.stack.gatewayUrl, key, chatBody('bad', { model: 'smart', stream })),
      );
      expect(answer.status).toBe(400);
      expect(JSON.parse(answer.body)).toMatchObject({
        error: { message: "Invalid value for 'temperature'", type: 'invalid_request_error' },
      });
      expect(attempts(started.stack.openai)).toBe(1);
      expect(attempts(started.mirror)).toBe(0);
      expect(attempts(started.stack.anthropic, ANTHROPIC_MESSAGES)).toBe(0);
    },
  );

  it('should skip a fallback the gateway key may not use and serve from the next one', async () => {
    const started = await startTeam();
    started.stack.openai.on('POST', FAKE_CHAT_PATH, openAiError(503, 'gpt-4o is overloaded', 'server_error'));
    const { key, id } = await createGatewayKey(started.stack.gateway, { models: ['smart', 'claude-sonnet-4-6'] });
    const completion = await member(started, key).chat.completions.create({
      model: 'smart',
      messages: [{ role: 'user', content: 'skip mirror' }],
    });
    expect(completion.choices[0]?.message.content).toBe(
      'Hello from the fake Anthropic upstream. You said: skip mirror',
    );
    expect(attempts(started.mirror)).toBe(0);
    expect(attempts(started.stack.anthropic, ANTHROPIC_MESSAGES)).toBe(1);
    expect(await onlyRow(started, id)).toMatchObject({
      provider: 'anthropic',
      modelRequested: 'smart',
      modelServed: 'claude-sonnet-4-6',
      status: 200,
    });
  });

  it.each([false, true])(
    "should answer the last fallback's failure, status and envelope, when every model fails (stream: %s)",
    async (stream) => {
      const started = await startTeam();
      started.stack.openai.on('POST', FAKE_CHAT_PATH, openAiError(500, 'gpt-4o is down', 'server_error'));
      started.mirror.on('POST', FAKE_CHAT_PATH, openAiError(502, 'mirror is down', 'server_error'));
      const limited: FakeHandler = anthropicError(429, 'rate_limit_error', 'Claude is busy', { 'retry-after': '30' });
      started.stack.anthropic.on('POST', ANTHROPIC_MESSAGES, limited);
      const { key, id } = await createGatewayKey(started.stack.gateway);
      const response = await postChat(started.stack.gatewayUrl, key, chatBody('all down', { model: 'smart', stream }));
      const answer = await readAnswer(response);
      expect(answer.status).toBe(429);
      expect(response.headers.get('content-type')).toContain('application/json');
      expect(response.headers.get('retry-after')).toBe('30');
      expect(response.headers.get(MODEL_HEADER)).toBe('anthropic/claude-sonnet-4-6');
      expect(JSON.parse(answer.body)).toMatchObject({ error: { message: expect.stringContaining('Claude is busy') } });
      expect(attempts(started.stack.openai)).toBe(2);
      expect(attempts(started.mirror)).toBe(1);
      expect(attempts(started.stack.anthropic, ANTHROPIC_MESSAGES)).toBe(1);
      expect(await onlyRow(started, id)).toMatchObject({
        provider: 'anthropic',
        modelServed: 'claude-sonnet-4-6',
        status: 429,
        outcome: 'failed',
      });
    },
  );

  it('should stream an Anthropic fallback translated by the claude-bridge after the OpenAI model failed', async () => {
    const started = await startTeam();
    started.stack.openai.on('POST', FAKE_CHAT_PATH, openAiError(503, 'gpt-4o is overloaded', 'server_error'));
    const { key, id } = await createGatewayKey(started.stack.gateway);
    const stream = await member(started, key).chat.completions.create({
      model: 'careful',
      messages: [{ role: 'user', content: 'translate me' }],
      stream: true,
    });
    expect(await streamedText(stream)).toBe('Hello from the fake Anthropic upstream. You said: translate me');
    const sent = started.stack.anthropic.lastRequest(ANTHROPIC_MESSAGES);
    expect(sent?.headers['x-api-key']).toBe(FALLBACK_TEAM_KEYS.anthropic);
    expect(lastBody(started.stack.anthropic, ANTHROPIC_MESSAGES)).toMatchObject({
      model: 'claude-sonnet-4-6',
      stream: true,
      messages: [{ role: 'user', content: [{ type: 'text', text: 'translate me' }] }],
    });
    expect(await onlyRow(started, id)).toMatchObject({
      provider: 'anthropic',
      modelRequested: 'careful',
      modelServed: 'claude-sonnet-4-6',
      status: 200,
      outcome: 'completed',
      promptSource: 'provider',
    });
  });

  it("should record Anthropic's prompt counts for a fallback stream Anthropic cut, its early-count event kept from the client", async () => {
    const started = await startTeam();
    started.stack.openai.on('POST', FAKE_CHAT_PATH, openAiError(503, 'gpt-4o is overloaded', 'server_error'));
    started.stack.anthropic.on(
      'POST',
      ANTHROPIC_MESSAGES,
      sse({
        frames: [
          anthropicMessageStartFrame('msg_fallback_cut', 'claude-sonnet-4-6', { input_tokens: 700, output_tokens: 1 }),
          anthropicTextBlockStartFrame(),
          anthropicTextDeltaFrame('Cut short'),
        ],
        resetAfter: 3,
      }),
    );
    const { key, id } = await createGatewayKey(started.stack.gateway);
    const answer = await readAnswer(
      await postChat(started.stack.gatewayUrl, key, {
        ...chatBody('fallback cut', { stream: true }),
        model: 'careful',
      }),
    );
    expect(answer.status).toBe(200);
    expect(answer.body).toContain('Cut short');
    expect(answer.body).not.toContain(PROMPT_USAGE_EVENT);
    expect(await onlyRow(started, id)).toMatchObject({
      provider: 'anthropic',
      modelServed: 'claude-sonnet-4-6',
      promptTokens: 700,
      promptSource: 'provider',
      completionSource: 'estimated',
      outcome: 'failed',
    });
  });

  it("should fall back while the first model's circuit is open at the relay (503 upstream_unavailable), its fake seeing nothing more", async () => {
    const started = await startTeam({ ...NO_SERVICE_BREAKERS, relayEnv: { UPSTREAM_BREAKER_FAILURES: '1' } });
    started.stack.openai.on('POST', FAKE_CHAT_PATH, openAiError(503, 'gpt-4o is overloaded', 'server_error'));
    const { key, id } = await createGatewayKey(started.stack.gateway);
    for (const content of ['opens the circuit', 'circuit open']) {
      const answer = await readAnswer(
        await postChat(started.stack.gatewayUrl, key, chatBody(content, { model: 'smart' })),
      );
      expect(answer.status).toBe(200);
      expect(answer.body).toContain(`You said: ${content}`);
    }
    // The first 503 opened the circuit: no later call of either request reached the fake OpenAI.
    expect(attempts(started.stack.openai)).toBe(1);
    expect(attempts(started.mirror)).toBe(2);
    const rows = await ledgerRowsOnce(started.stack.gateway, database.url, id, 2);
    expect(rows).toEqual([expect.objectContaining(MIRROR_ROW), expect.objectContaining(MIRROR_ROW)]);
  });

  it("should fall back when the first model's service cannot be reached, and at once once the gateway's circuit for it opened", async () => {
    const deadBridge = `http://127.0.0.1:${await freeLoopbackPort()}`;
    const started = await startTeam({
      ...NO_SERVICE_BREAKERS,
      gatewayEnv: { CLAUDE_BRIDGE_URL: deadBridge, UPSTREAM_BREAKER_FAILURES: '1' },
    });
    const { key, id } = await createGatewayKey(started.stack.gateway);
    for (const content of ['bridge down', 'circuit open']) {
      const answer = await readAnswer(
        await postChat(started.stack.gatewayUrl, key, chatBody(content, { model: 'resilient' })),
      );
      expect(answer.status).toBe(200);
      expect(answer.body).toContain(`You said: ${content}`);
    }
    expect(attempts(started.stack.anthropic, ANTHROPIC_MESSAGES)).toBe(0);
    expect(attempts(started.stack.openai)).toBe(2);
    const rows = await ledgerRowsOnce(started.stack.gateway, database.url, id, 2);
    expect(rows.map((row) => [row.provider, row.modelRequested, row.modelServed, row.status])).toEqual([
      ['openai', 'resilient', 'gpt-4o-mini', 200],
      ['openai', 'resilient', 'gpt-4o-mini', 200],
    ]);
    const readyz = await fetch(`${started.stack.gatewayUrl}/readyz`, { signal: AbortSignal.timeout(5_000) });
    const ready = (await readyz.json()) as {
      breakers?: { upstreams?: Record<string, { state: string }> };
    };
    expect(ready.breakers?.upstreams?.['claude-bridge']?.state).toBe('open');
  });

  it("should pay a fallback served by the first model's own upstream from its budget: a full outage stays within 1.2 attempts per request", async () => {
    const started = await startTeam();
    started.stack.openai.on('POST', FAKE_CHAT_PATH, openAiError(503, 'openai is down', 'server_error'));
    const { key } = await createGatewayKey(started.stack.gateway);
    const requests = 30;
    for (let request = 0; request < requests; request += 1) {
      const answer = await readAnswer(
        await postChat(started.stack.gatewayUrl, key, chatBody(`outage ${request}`, { model: 'thrifty' })),
      );
      expect(answer.status).toBe(503);
    }
    // gpt-4o and gpt-4o-mini are one upstream: moving from one to the other is a retry there, never a first attempt.
    const made = attempts(started.stack.openai);
    expect(made).toBeGreaterThan(requests);
    expect(made).toBeLessThanOrEqual(requests * 1.2 + 3);
  }, 30_000);

  it("should fall back even once the first model's retry budget is spent, no longer trying its other keys", async () => {
    const started = await startTeam({ ...NO_SERVICE_BREAKERS, gatewayEnv: { UPSTREAM_RETRY_BUDGET_PERCENT: '0' } });
    started.stack.openai.on('POST', FAKE_CHAT_PATH, openAiError(503, 'gpt-4o is overloaded', 'server_error'));
    const { key } = await createGatewayKey(started.stack.gateway);
    // At 0% the budget holds its floor of three retries: the first three requests try the other OpenAI key, the
    // fourth goes from its first key's 503 straight to the fallback. A fallback is never paid from that budget.
    for (const content of ['first', 'second', 'third', 'fourth']) {
      const answer = await readAnswer(
        await postChat(started.stack.gatewayUrl, key, chatBody(content, { model: 'smart' })),
      );
      expect(answer.status).toBe(200);
      expect(answer.body).toContain(`You said: ${content}`);
    }
    expect(attempts(started.stack.openai)).toBe(7);
    expect(attempts(started.mirror)).toBe(4);
  });
});
