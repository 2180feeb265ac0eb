import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  billingSubscriptionSchema,
  billingUsageSchema,
  createdKeyAnswerSchema,
  modelListAnswerSchema,
  usageAnswerSchema,
} from '@openai-proxy/gateway-feature-team';
import {
  FAKE_OPENAI_MODELS,
  type FakeUpstream,
  FaultUpstream,
  jsonAnswer,
  startFakeOpenAi,
} from '@openai-proxy/testing-fakes';
import { ADMIN_TOKEN, type JsonAnswer, callJson, errorOf, eventually, teamClient } from './support/admin-api';
import { type Stack, startStack } from './support/stack';
import { type GatewayReplica, createGatewayKey, startGatewayReplica } from './support/team';

const OPENAI_TEAM_KEY = 'sk-team-openai-0123456789';
const MIRROR_TEAM_KEY = 'sk-team-mirror-0123456789';
const ALICE_EXPIRES_AT = '2031-01-01T00:00:00Z';
/** The fake OpenAI's usage for one chat completion, and its cost in whole micro-dollars as the ledger keeps it. */
const ONE_CHAT = { requests: 1, prompt_tokens: 9, completion_tokens: 7 };
const MINI_COST_USD = 0.000006;
const GPT_4O_COST_USD = 0.000093;
const DAY_SECONDS = 86_400;

function today(): string {
  return new Date().toISOString().slice(0, 10);
}

function midnightSeconds(day: string): number {
  return Date.parse(`${day}T00:00:00Z`) / 1000;
}

function dayBefore(day: string, days: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) - days * DAY_SECONDS * 1000).toISOString().slice(0, 10);
}

/**
 * Team mode with a config file: an alias (`fast` → openai's gpt-4o-mini) and an OpenAI-compatible provider
 * (`mirror`, a second fake OpenAI, declaring `whisper-*`). The gateway holds keys for openai, anthropic, mirror,
 * and a Gemini key the upstream refuses.
 */
describe('a gateway key’s usage, balance and models (GATEWAY_KEYS=optional, SQLite file)', () => {
  let folder: string;
  let mirror: FakeUpstream;
  let stack: Stack;
  let alice: { id: string; key: string };
  let bob: { id: string; key: string };

  const get = (path: string, token: string | null): Promise<JsonAnswer> =>
    callJson(stack.gatewayUrl, 'GET', path, { token });

  async function createKey(body: Record<string, unknown>): Promise<{ id: string; key: string }> {
    const answer = await callJson(stack.gatewayUrl, 'POST', '/admin/keys', { token: ADMIN_TOKEN, body });
    return createdKeyAnswerSchema.parse(answer.body);
  }

  beforeAll(async () => {
    folder = mkdtempSync(join(tmpdir(), 'team-usage-'));
    mirror = await startFakeOpenAi();
    const configPath = join(folder, 'gateway.yaml');
    writeFileSync(
      configPath,
      [
        'providers:',
        `  mirror: { type: openai-compatible, base_url: ${mirror.url}, models: ["whisper-*"], api_keys: [env:MIRROR_API_KEY] }`,
        'models:',
        '  - { name: fast, provider: openai, model: gpt-4o-mini }',
      ].join('\n'),
    );
    stack = await startStack({
      relayEnv: { GATEWAY_CONFIG: configPath },
      gatewayEnv: {
        GATEWAY_KEYS: 'optional',
        GATEWAY_ADMIN_TOKEN: ADMIN_TOKEN,
        GATEWAY_CONFIG: configPath,
        DATABASE_URL: `sqlite:${join(folder, 'gateway.db')}`,
        OPENAI_API_KEY: OPENAI_TEAM_KEY,
        ANTHROPIC_API_KEY: 'sk-ant-api03-team-0123456789',
        GEMINI_API_KEY: 'refused-gemini-key-0123456789',
        MIRROR_API_KEY: MIRROR_TEAM_KEY,
      },
    });
    alice = await createKey({ name: 'alice', models: ['gpt-*'], budget_usd: 20, expires_at: ALICE_EXPIRES_AT });
    bob = await createKey({ name: 'bob' });
  });

  afterAll(async () => {
    await stack?.close();
    await mirror?.close();
    rmSync(folder, { recursive: true, force: true });
  });

  describe('usage and billing after a few requests', () => {
    beforeAll(async () => {
      const aliceClient = teamClient(stack.gatewayUrl, alice.key);
      await aliceClient.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'a' }] });
      await aliceClient.chat.completions.create({ model: 'fast', messages: [{ role: 'user', content: 'b' }] });
      const stream = await aliceClient.chat.completions.create({
        model: 'gpt-4o',
        messages: [{ role: 'user', content: 'c' }],
        stream: true,
      });
      let chunks = 0;
      for await (const chunk of stream) {
        chunks += chunk.choices.length;
      }
      expect(chunks).toBeGreaterThan(0);
      await teamClient(stack.gatewayUrl, bob.key).chat.completions.create({
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: 'd' }],
      });
    });

    it('should answer the calling key’s usage by model, the model as the client named it, and no other key’s', async () => {
      const answer = await eventually(
        () => get('/v1/usage?group_by=model', alice.key),
        (usage) => usageAnswerSchema.parse(usage.body).total.requests === 3,
      );
      expect(answer.status).toBe(200);
      expect(usageAnswerSchema.parse(answer.body)).toEqual({
        object: 'list',
        start_date: `${today().slice(0, 7)}-01`,
        end_date: today(),
        group_by: 'model',
        data: [
          { group: 'fast', ...ONE_CHAT, cost_usd: MINI_COST_USD },
          { group: 'gpt-4o', ...ONE_CHAT, cost_usd: GPT_4O_COST_USD },
          { group: 'gpt-4o-mini', ...ONE_CHAT, cost_usd: MINI_COST_USD },
        ],
        total: { requests: 3, prompt_tokens: 27, completion_tokens: 21, cost_usd: 0.000105 },
      });
    });

    it('should answer the key itself for group_by=key and today for the default grouping', async () => {
      const byKey = usageAnswerSchema.parse((await get('/v1/usage?group_by=key', alice.key)).body);
      expect(byKey.data).toEqual([
        { group: alice.id, name: 'alice', requests: 3, prompt_tokens: 27, completion_tokens: 21, cost_usd: 0.000105 },
      ]);
      const byDay = usageAnswerSchema.parse((await get(`/v1/usage?start_date=${today()}`, bob.key)).body);
      expect(byDay).toEqual({
        object: 'list',
        start_date: today(),
        end_date: today(),
        group_by: 'day',
        data: [{ group: today(), ...ONE_CHAT, cost_usd: MINI_COST_USD }],
        total: { ...ONE_CHAT, cost_usd: MINI_COST_USD },
      });
    });

    it.each(['/dashboard/billing/subscription', '/v1/dashboard/billing/subscription'])(
      'should answer %s from the key’s budget and expiry',
      async (path) => {
        const forAlice = await get(path, alice.key);
        expect(forAlice.status).toBe(200);
        expect(billingSubscriptionSchema.parse(forAlice.body)).toEqual({
          object: 'billing_subscription',
          has_payment_method: true,
          soft_limit_usd: 20,
          hard_limit_usd: 20,
          system_hard_limit_usd: 20,
          access_until: Date.parse(ALICE_EXPIRES_AT) / 1000,
        });
        expect(billingSubscriptionSchema.parse((await get(path, bob.key)).body)).toEqual({
          object: 'billing_subscription',
          has_payment_method: true,
          soft_limit_usd: 100_000_000,
          hard_limit_usd: 100_000_000,
          system_hard_limit_usd: 100_000_000,
          access_until: 0,
        });
      },
    );

    it.each(['/dashboard/billing/usage', '/v1/dashboard/billing/usage'])(
      'should answer %s per day and model in US cents',
      async (path) => {
        const start = dayBefore(today(), 2);
        const answer = await eventually(
          () => get(`${path}?start_date=${start}&end_date=${today()}`, alice.key),
          (usage) => billingUsageSchema.parse(usage.body).total_usage > 0.01,
        );
        expect(answer.status).toBe(200);
        expect(billingUsageSchema.parse(answer.body)).toEqual({
          object: 'list',
          total_usage: 0.0105,
          daily_costs: [
            { timestamp: midnightSeconds(start), line_items: [] },
            { timestamp: midnightSeconds(dayBefore(today(), 1)), line_items: [] },
            {
              timestamp: midnightSeconds(today()),
              line_items: [
                { name: 'fast', cost: 0.0006 },
                { name: 'gpt-4o', cost: 0.0093 },
                { name: 'gpt-4o-mini', cost: 0.0006 },
              ],
            },
          ],
        });
      },
    );

    it('should answer 400 naming the field for a bad usage or billing query', async () => {
      expect(errorOf(await get('/v1/usage?group_by=week', alice.key))).toEqual({
        status: 400,
        code: 'invalid_request',
        param: 'group_by',
        message: 'group_by must be key, model or day',
      });
      expect(errorOf(await get('/dashboard/billing/usage?start_date=2026-13-01', alice.key))).toEqual({
        status: 400,
        code: 'invalid_request',
        param: 'start_date',
        message: 'start_date must be a date YYYY-MM-DD',
      });
    });
  });

  it('should count the calling key’s rows still queued for the next batch', async () => {
    const carol = await createKey({ name: 'carol' });
    await teamClient(stack.gatewayUrl, carol.key).chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'queued' }],
    });
    // spent_usd counts queued rows: once it shows the request, the row is recorded (perhaps not yet written).
    await eventually(
      () => callJson(stack.gatewayUrl, 'GET', `/admin/keys/${carol.id}`, { token: ADMIN_TOKEN }),
      (answer) => (answer.body as { spent_usd?: number }).spent_usd === MINI_COST_USD,
    );
    const [usage, billing] = await Promise.all([
      get('/v1/usage', carol.key),
      get(`/dashboard/billing/usage?start_date=${today()}&end_date=${today()}`, carol.key),
    ]);
    expect(usageAnswerSchema.parse(usage.body).total).toEqual({ ...ONE_CHAT, cost_usd: MINI_COST_USD });
    expect(billingUsageSchema.parse(billing.body).total_usage).toBe(0.0006);
  });

  it.each([
    ['/v1/usage'],
    ['/dashboard/billing/subscription'],
    ['/v1/dashboard/billing/subscription'],
    ['/dashboard/billing/usage'],
    ['/v1/dashboard/billing/usage'],
  ])('should answer %s 401 without a gateway key, with a provider key, or with an unknown one', async (path) => {
    for (const token of [null, 'sk-client-0123456789', `gk-${'A'.repeat(43)}`]) {
      expect({ token, ...errorOf(await get(path, token)) }).toMatchObject({
        token,
        status: 401,
        code: 'invalid_api_key',
      });
    }
  });

  describe('GET /v1/models', () => {
    it('should list what a key limited to gpt-* may use: the alias to a gpt model and every gpt model, under its routed id', async () => {
      const answer = await get('/v1/models', alice.key);
      expect(answer.status).toBe(200);
      const list = modelListAnswerSchema.parse(answer.body);
      expect(list.data.map((model) => model.id)).toEqual([
        'fast',
        'gpt-4o-mini',
        'gpt-4o',
        'mirror/gpt-4o-mini',
        'mirror/gpt-4o',
      ]);
      expect(list.data[0]).toEqual({ id: 'fast', object: 'model', created: 0, owned_by: 'openai' });
      expect(list.data[1]).toEqual({ id: 'gpt-4o-mini', object: 'model', created: 1_700_000_000, owned_by: 'openai' });
    });

    it('should list every provider the gateway holds a working key for, and leave out the one that fails', async () => {
      const from = stack.logs.lines.length;
      const list = modelListAnswerSchema.parse((await get('/v1/models', bob.key)).body);
      expect(list.data.map((model) => model.id)).toEqual([
        'fast',
        ...FAKE_OPENAI_MODELS.filter((id) => id !== 'whisper-1'),
        // whisper-* routes to mirror: openai's own is reached by its prefix.
        'openai/whisper-1',
        'claude-sonnet-4-6',
        'claude-haiku-4-5',
        'mirror/gpt-4o-mini',
        'mirror/gpt-4o',
        'mirror/text-embedding-3-small',
        'whisper-1',
      ]);
      expect(list.data.find((model) => model.id === 'claude-haiku-4-5')?.owned_by).toBe('anthropic');
      expect(await stack.logs.waitFor('/v1/models: gemini left out', { from })).toBe(true);
      expect(stack.openai.lastRequest('/v1/models')?.headers.authorization).toBe(`Bearer ${OPENAI_TEAM_KEY}`);
      expect(mirror.lastRequest('/v1/models')?.headers.authorization).toBe(`Bearer ${MIRROR_TEAM_KEY}`);
    });

    // Regression: the listing counted against no limit and carried no x-ratelimit-* headers, while it asks every
    // provider for its list each time.
    it("should count a listing as one request against the key's rpm, with the x-ratelimit headers", async () => {
      const limited = await createKey({ name: 'lister', rpm: 2 });
      const answers = [];
      for (let call = 0; call < 3; call += 1) {
        answers.push(await get('/v1/models', limited.key));
      }
      expect(
        answers.map((answer) => ({
          status: answer.status,
          limit: answer.headers.get('x-ratelimit-limit-requests'),
          remaining: answer.headers.get('x-ratelimit-remaining-requests'),
          code: errorOf(answer).code,
        })),
      ).toEqual([
        { status: 200, limit: '2', remaining: '1', code: undefined },
        { status: 200, limit: '2', remaining: '0', code: undefined },
        { status: 429, limit: '2', remaining: '0', code: 'rate_limit_exceeded' },
      ]);
    });

    it('should serve a listed id on the team endpoint', async () => {
      const completion = await teamClient(stack.gatewayUrl, alice.key).chat.completions.create({
        model: 'mirror/gpt-4o',
        messages: [{ role: 'user', content: 'routed' }],
      });
      expect(completion.choices[0]?.message.content).toContain('You said: routed');
      expect(mirror.lastRequest('/v1/chat/completions')?.headers.authorization).toBe(`Bearer ${MIRROR_TEAM_KEY}`);
    });

    it('should relay the list to OpenAI with the client’s own key when it brings no gateway key', async () => {
      const answer = await get('/v1/models', 'sk-client-0123456789');
      expect(answer.status).toBe(200);
      expect(modelListAnswerSchema.parse(answer.body).data.map((model) => model.id)).toEqual(FAKE_OPENAI_MODELS);
      expect(stack.openai.lastRequest('/v1/models')?.headers.authorization).toBe('Bearer sk-client-0123456789');
    });
  });
});

describe('usage routes with GATEWAY_KEYS=off', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack();
  });

  afterAll(async () => {
    await stack.close();
  });

  it('should answer the usage and billing paths 404 as unknown routes', async () => {
    const unknown = await callJson(stack.gatewayUrl, 'GET', '/no-such-route', { token: null });
    for (const path of [
      '/v1/usage',
      '/dashboard/billing/subscription',
      '/v1/dashboard/billing/subscription',
      '/dashboard/billing/usage',
      '/v1/dashboard/billing/usage',
    ]) {
      const answer = await callJson(stack.gatewayUrl, 'GET', path, { token: `gk-${'A'.repeat(43)}` });
      expect({ path, status: answer.status, body: answer.body }).toEqual({ path, status: 404, body: unknown.body });
    }
  });

  it('should relay /v1/models to OpenAI with the client’s key', async () => {
    const answer = await callJson(stack.gatewayUrl, 'GET', '/v1/models', { token: 'sk-client-off-0123' });
    expect(answer.status).toBe(200);
    expect(modelListAnswerSchema.parse(answer.body).data.map((model) => model.id)).toEqual(FAKE_OPENAI_MODELS);
    expect(stack.openai.lastRequest('/v1/models')?.headers.authorization).toBe('Bearer sk-client-off-0123');
  });
});

describe("the team model list's call to a service", () => {
  let stack: Stack;
  let relay: FaultUpstream;
  let gateway: GatewayReplica;
  let key: string;

  beforeAll(async () => {
    stack = await startStack();
    relay = await FaultUpstream.start();
    // The OpenAI relay this gateway calls is a fault upstream, which each test tells how to answer.
    gateway = await startGatewayReplica(stack, {
      OPENAI_RELAY_URL: relay.url,
      GATEWAY_KEYS: 'required',
      DATABASE_URL: 'sqlite::memory:',
      OPENAI_API_KEY: OPENAI_TEAM_KEY,
    });
    ({ key } = await createGatewayKey(gateway.app));
  });

  afterAll(async () => {
    await gateway.close();
    await stack.close();
    await relay.close();
  });

  it('should send it again when the service reset the connection on its arrival (a service restarting)', async () => {
    const listed = { id: 'gpt-after-reset', object: 'model', created: 1_700_000_000, owned_by: 'openai' };
    relay.next({ kind: 'hang-up', how: 'reset' }, jsonAnswer(200, { object: 'list', data: [listed] }));
    const seen = relay.records.length;
    const answer = await callJson(gateway.url, 'GET', '/v1/models', { token: key });
    expect(answer.status).toBe(200);
    expect(modelListAnswerSchema.parse(answer.body).data.map((model) => model.id)).toEqual(['gpt-after-reset']);
    const calls = relay.records.slice(seen);
    expect(calls.map((record) => [record.request.method, record.request.url])).toEqual([
      ['GET', '/openai/v1/models'],
      ['GET', '/openai/v1/models'],
    ]);
    expect(calls[1]?.request.headers.authorization).toBe(`Bearer ${OPENAI_TEAM_KEY}`);
  });

  it('should end the call as soon as the client leaves, not at the list budget', async () => {
    relay.next({ kind: 'stall-headers' });
    const seen = relay.records.length;
    const leaving = new AbortController();
    const asked = fetch(`${gateway.url}/v1/models`, {
      headers: { authorization: `Bearer ${key}` },
      signal: leaving.signal,
    }).catch((error: unknown) => error);
    const record = await relay.waitFor(() => relay.records[seen], 2_000, 'the list call');
    const leftAt = Date.now();
    leaving.abort();
    await asked;
    const closedAt = await relay.waitForSocketClose(record);
    // Well before MODEL_LIST_TIMEOUT_MS (5 s) would have ended it.
    expect(closedAt - leftAt).toBeLessThan(1_000);
    expect(relay.records).toHaveLength(seen + 1);
  });
});
