import {
  createdKeyAnswerSchema,
  gatewayKeyAnswerSchema,
  keyListAnswerSchema,
  usageAnswerSchema,
} from '@openai-proxy/gateway-feature-team';
import { type TestPostgresDatabase, createTestPostgresDatabase } from '@openai-proxy/testing-fakes';
import { ADMIN_TOKEN, type JsonAnswer, callJson, errorOf, eventually, teamClient } from './support/admin-api';
import { type Env, type Stack, startStack } from './support/stack';
import { type GatewayReplica, pollFor, startGatewayReplica } from './support/team';

const OPENAI_TEAM_KEY = 'sk-team-openai-0123456789';
const TEAM_ENV: Env = { GATEWAY_KEYS: 'required', GATEWAY_ADMIN_TOKEN: ADMIN_TOKEN, OPENAI_API_KEY: OPENAI_TEAM_KEY };
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
/** The fake OpenAI's usage for one chat completion: 9 prompt tokens, 7 completion tokens. */
const FAKE_PROMPT_TOKENS = 9;
const FAKE_COMPLETION_TOKENS = 7;
/** gpt-4o-mini at 0.15 / 0.60 USD per million: 5.55 micro-USD, kept in whole micro-dollars: 6 per request. */
const MINI_REQUEST_MICRO_USD = 6;
/** A replica trusts a key record it read for a second (KEY_RECORD_TTL_MS); the rest is slack for a loaded machine. */
const CHANGED_ELSEWHERE_WITHIN_MS = 1_500;

/** Every route of the admin API, with an id where it takes one. */
const ADMIN_ROUTES = [
  ['GET', '/admin/keys'],
  ['POST', '/admin/keys'],
  ['GET', '/admin/keys/key_x'],
  ['PATCH', '/admin/keys/key_x'],
  ['DELETE', '/admin/keys/key_x'],
  ['GET', '/admin/usage'],
] as const;

interface CreatedKey {
  id: string;
  key: string;
}

function createdOf(answer: JsonAnswer): CreatedKey {
  expect(answer.status).toBe(201);
  return createdKeyAnswerSchema.parse(answer.body);
}

/** A chat completion with a gateway key on the team endpoint, as its status and error code (fetch, not the SDK). */
async function chatStatus(gatewayUrl: string, key: string): Promise<{ status: number; code: unknown }> {
  const answer = await callJson(gatewayUrl, 'POST', '/v1/chat/completions', {
    token: key,
    body: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'ping' }] },
  });
  return { status: answer.status, code: errorOf(answer).code };
}

/** The first chat status on `gatewayUrl` other than `status`, polled for CHANGED_ELSEWHERE_WITHIN_MS; else the last. */
async function chatStatusOtherThan(
  gatewayUrl: string,
  key: string,
  status: number,
): Promise<{ status: number; code: unknown } | undefined> {
  let last: { status: number; code: unknown } | undefined;
  const changed = await pollFor(async () => {
    last = await chatStatus(gatewayUrl, key);
    return last.status === status ? undefined : last;
  }, CHANGED_ELSEWHERE_WITHIN_MS);
  return changed ?? last;
}

function today(): string {
  return new Date().toISOString().slice(0, 10);
}

describe('the admin API (team mode, SQLite)', () => {
  let stack: Stack;
  const admin = (method: string, path: string, options?: Parameters<typeof callJson>[3]): Promise<JsonAnswer> =>
    callJson(stack.gatewayUrl, method, path, options);

  beforeAll(async () => {
    stack = await startStack({ gatewayEnv: { ...TEAM_ENV, DATABASE_URL: 'sqlite::memory:' } });
  });

  afterAll(async () => {
    await stack.close();
  });

  describe('the admin token', () => {
    it.each([
      ['no Authorization header', null],
      ['a wrong token', 'admin-token-canary-5f1c9a7e3d2c'],
      ['the token with a character more', `${ADMIN_TOKEN}x`],
      ['an empty-looking token', '-'],
    ])('should answer 401 invalid_api_key with %s', async (_label, token) => {
      for (const [method, path] of ADMIN_ROUTES) {
        const answer = await admin(method, path, { token, body: method === 'POST' ? { name: 'x' } : undefined });
        expect({ method, path, ...errorOf(answer) }).toEqual({
          method,
          path,
          status: 401,
          code: 'invalid_api_key',
          param: null,
          message: 'The admin API needs the admin token: send Authorization: Bearer $GATEWAY_ADMIN_TOKEN',
        });
      }
    });

    it('should answer 401 before reading the body when the token is wrong', async () => {
      const answer = await admin('POST', '/admin/keys', { token: 'wrong-token-0123456789', rawBody: '{not json' });
      expect(errorOf(answer).status).toBe(401);
    });

    it('should refuse a gateway key as the admin token', async () => {
      const { key } = createdOf(await admin('POST', '/admin/keys', { body: { name: 'not-an-admin' } }));
      expect(errorOf(await admin('GET', '/admin/keys', { token: key })).status).toBe(401);
    });
  });

  describe('POST /admin/keys', () => {
    it('should answer 201 with the key once and every setting as sent', async () => {
      const before = Date.now();
      const answer = await admin('POST', '/admin/keys', {
        body: {
          name: 'alice',
          models: ['gpt-*', 'claude-sonnet-4-6'],
          rpm: 60,
          tpm: 100_000,
          budget_usd: 20,
          budget_period: 'total',
          expires_at: '2030-01-01T00:00:00+02:00',
        },
      });
      const created = createdKeyAnswerSchema.parse(answer.body);
      expect(answer.status).toBe(201);
      expect(answer.headers.get('cache-control')).toBe('no-store');
      expect(created).toEqual({
        object: 'gateway_key',
        id: expect.stringMatching(/^key_[A-Za-z0-9_-]{16}$/),
        key: expect.stringMatching(/^gk-[A-Za-z0-9_-]{43}$/),
        name: 'alice',
        models: ['gpt-*', 'claude-sonnet-4-6'],
        rpm: 60,
        tpm: 100_000,
        budget_usd: 20,
        budget_period: 'total',
        expires_at: '2029-12-31T22:00:00.000Z',
        created_at: expect.stringMatching(ISO_TIME),
      });
      expect(Date.parse(created.created_at)).toBeGreaterThanOrEqual(before - 1);
      expect(Date.parse(created.created_at)).toBeLessThanOrEqual(Date.now());
    });

    it('should give a key only a name no limit, every model and a monthly period', async () => {
      const created = createdKeyAnswerSchema.parse(
        (await admin('POST', '/admin/keys', { body: { name: 'bob' } })).body,
      );
      expect(created).toMatchObject({
        name: 'bob',
        models: [],
        rpm: null,
        tpm: null,
        budget_usd: null,
        budget_period: 'monthly',
        expires_at: null,
      });
    });

    it.each([
      [{}, 'name', 'name is required'],
      [{ name: '   ' }, 'name', 'name must not be empty'],
      [{ name: 'x', rpm: 0 }, 'rpm', 'rpm must be a positive integer or null'],
      [{ name: 'x', tpm: 1.5 }, 'tpm', 'tpm must be a positive integer or null'],
      [{ name: 'x', budget_usd: -1 }, 'budget_usd', 'budget_usd must be a number of USD, 0 or more, or null'],
      [{ name: 'x', budget_period: 'weekly' }, 'budget_period', 'budget_period must be "monthly" or "total"'],
      [{ name: 'x', models: ['gpt-*', 'a b'] }, 'models[1]', 'models[1] must be a model name, or a prefix and one "*"'],
      [{ name: 'x', colour: 'red' }, 'colour', 'colour is not a setting of a key'],
      [['alice'], 'body', 'The body must be a JSON object'],
    ])('should answer 400 naming the field for %j', async (body, param, message) => {
      expect(errorOf(await admin('POST', '/admin/keys', { body }))).toEqual({
        status: 400,
        code: 'invalid_request',
        param,
        message,
      });
    });

    it('should answer 400 when the body is not JSON', async () => {
      const answer = await admin('POST', '/admin/keys', { rawBody: '{"name": ' });
      expect(errorOf(answer)).toMatchObject({ status: 400, code: 'invalid_request' });
    });
  });

  describe('keys in use', () => {
    let carol: CreatedKey;

    beforeAll(async () => {
      carol = createdOf(
        await admin('POST', '/admin/keys', { body: { name: 'carol', models: ['gpt-*'], budget_usd: 5 } }),
      );
    });

    it('should list every key without its secret, with its prefix and what it spent', async () => {
      for (let request = 0; request < 3; request += 1) {
        await teamClient(stack.gatewayUrl, carol.key).chat.completions.create({
          model: 'gpt-4o-mini',
          messages: [{ role: 'user', content: `ping ${request}` }],
        });
      }
      const expectedSpent = (3 * MINI_REQUEST_MICRO_USD) / 1e6;
      const answer = await eventually(
        () => admin('GET', '/admin/keys'),
        (list) => keyListAnswerSchema.parse(list.body).data.some((key) => key.spent_usd === expectedSpent),
      );
      expect(answer.status).toBe(200);
      const list = keyListAnswerSchema.parse(answer.body);
      const listed = list.data.find((key) => key.id === carol.id);
      expect(listed).toEqual({
        object: 'gateway_key',
        id: carol.id,
        name: 'carol',
        key_prefix: carol.key.slice(0, 8),
        models: ['gpt-*'],
        rpm: null,
        tpm: null,
        budget_usd: 5,
        budget_period: 'monthly',
        expires_at: null,
        created_at: expect.stringMatching(ISO_TIME),
        revoked_at: null,
        spent_usd: expectedSpent,
      });
      expect(JSON.stringify(list)).not.toContain(carol.key);
      const createdTimes = list.data.map((key) => Date.parse(key.created_at));
      expect(createdTimes).toEqual([...createdTimes].sort((a, b) => a - b));
    });

    it('should answer one key as listed, and 404 for an unknown id', async () => {
      const answer = await admin('GET', `/admin/keys/${carol.id}`);
      expect(answer.status).toBe(200);
      expect(gatewayKeyAnswerSchema.parse(answer.body)).toMatchObject({ id: carol.id, name: 'carol' });
      expect(errorOf(await admin('GET', '/admin/keys/key_unknown0000000000'))).toEqual({
        status: 404,
        code: 'not_found',
        param: 'id',
        message: 'No gateway key has the id key_unknown0000000000',
      });
    });

    it('should change only the fields a PATCH sends, clear a limit with null, and refuse bad ones', async () => {
      const patched = await admin('PATCH', `/admin/keys/${carol.id}`, {
        body: { name: 'carol-2', rpm: 30, budget_usd: null, expires_at: '2031-06-01T00:00:00Z' },
      });
      expect(patched.status).toBe(200);
      expect(gatewayKeyAnswerSchema.parse(patched.body)).toMatchObject({
        id: carol.id,
        name: 'carol-2',
        models: ['gpt-*'],
        rpm: 30,
        tpm: null,
        budget_usd: null,
        expires_at: '2031-06-01T00:00:00.000Z',
        revoked_at: null,
      });
      expect(gatewayKeyAnswerSchema.parse((await admin('GET', `/admin/keys/${carol.id}`)).body).name).toBe('carol-2');
      expect(errorOf(await admin('PATCH', `/admin/keys/${carol.id}`, { body: { rpm: -3 } }))).toMatchObject({
        status: 400,
        param: 'rpm',
      });
      expect(errorOf(await admin('PATCH', `/admin/keys/${carol.id}`, { body: { key: 'gk-x' } }))).toMatchObject({
        status: 400,
        param: 'key',
      });
      expect(errorOf(await admin('PATCH', '/admin/keys/key_unknown0000000000', { body: { rpm: 3 } })).status).toBe(404);
    });

    it('should revoke a key: DELETE answers it with revoked_at, and the key gets 401 from then on', async () => {
      const dave = createdOf(await admin('POST', '/admin/keys', { body: { name: 'dave' } }));
      expect(await chatStatus(stack.gatewayUrl, dave.key)).toEqual({ status: 200, code: undefined });
      const before = Date.now();
      const revoked = await admin('DELETE', `/admin/keys/${dave.id}`);
      expect(revoked.status).toBe(200);
      const answer = gatewayKeyAnswerSchema.parse(revoked.body);
      expect(answer).toMatchObject({ id: dave.id, name: 'dave', revoked_at: expect.stringMatching(ISO_TIME) });
      expect(Date.parse(answer.revoked_at ?? '')).toBeGreaterThanOrEqual(before - 1);
      expect(await chatStatus(stack.gatewayUrl, dave.key)).toEqual({ status: 401, code: 'invalid_api_key' });
      const again = gatewayKeyAnswerSchema.parse((await admin('DELETE', `/admin/keys/${dave.id}`)).body);
      expect(again.revoked_at).toBe(answer.revoked_at);
      expect(errorOf(await admin('DELETE', '/admin/keys/key_unknown0000000000')).status).toBe(404);
    });
  });

  describe('GET /admin/usage', () => {
    let erin: CreatedKey;
    let frank: CreatedKey;

    beforeAll(async () => {
      erin = createdOf(await admin('POST', '/admin/keys', { body: { name: 'erin' } }));
      frank = createdOf(await admin('POST', '/admin/keys', { body: { name: 'frank' } }));
    });

    it('should answer every key by key, model and day with the fake upstream usage', async () => {
      const before = usageAnswerSchema.parse((await admin('GET', '/admin/usage?group_by=key')).body);
      const erinClient = teamClient(stack.gatewayUrl, erin.key);
      await erinClient.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'a' }] });
      const stream = await erinClient.chat.completions.create({
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: 'b' }],
        stream: true,
      });
      for await (const chunk of stream) {
        expect(chunk.usage ?? null).toBeNull();
      }
      await teamClient(stack.gatewayUrl, frank.key).chat.completions.create({
        model: 'gpt-4o',
        messages: [{ role: 'user', content: 'c' }],
      });
      const expectedRequests = before.total.requests + 3;
      const byKey = await eventually(
        async () => usageAnswerSchema.parse((await admin('GET', '/admin/usage?group_by=key')).body),
        (usage) => usage.total.requests === expectedRequests,
      );
      expect(byKey.group_by).toBe('key');
      expect(byKey.start_date).toBe(`${today().slice(0, 7)}-01`);
      expect(byKey.end_date).toBe(today());
      expect(byKey.data.find((row) => row.group === erin.id)).toEqual({
        group: erin.id,
        name: 'erin',
        requests: 2,
        prompt_tokens: 2 * FAKE_PROMPT_TOKENS,
        completion_tokens: 2 * FAKE_COMPLETION_TOKENS,
        cost_usd: (2 * MINI_REQUEST_MICRO_USD) / 1e6,
      });
      expect(byKey.data.find((row) => row.group === frank.id)).toEqual({
        group: frank.id,
        name: 'frank',
        requests: 1,
        prompt_tokens: FAKE_PROMPT_TOKENS,
        completion_tokens: FAKE_COMPLETION_TOKENS,
        // gpt-4o at 2.50 / 10 USD per million: 92.5 micro-USD, kept as 93.
        cost_usd: 0.000093,
      });
      const groups = byKey.data.map((row) => row.group);
      expect(groups).toEqual([...groups].sort());

      const byModel = usageAnswerSchema.parse((await admin('GET', '/admin/usage?group_by=model')).body);
      expect(byModel.data.map((row) => row.group)).toEqual(['gpt-4o', 'gpt-4o-mini']);
      expect(byModel.data.find((row) => row.group === 'gpt-4o')).toEqual({
        group: 'gpt-4o',
        requests: 1,
        prompt_tokens: FAKE_PROMPT_TOKENS,
        completion_tokens: FAKE_COMPLETION_TOKENS,
        cost_usd: 0.000093,
      });
      expect(byModel.total).toEqual(byKey.total);

      const byDay = usageAnswerSchema.parse((await admin('GET', `/admin/usage?start_date=${today()}`)).body);
      expect(byDay).toEqual({
        object: 'list',
        start_date: today(),
        end_date: today(),
        group_by: 'day',
        data: [{ group: today(), ...byKey.total }],
        total: byKey.total,
      });
    });

    it('should count the rows still queued for the next batch', async () => {
      const grace = createdOf(await admin('POST', '/admin/keys', { body: { name: 'grace' } }));
      await teamClient(stack.gatewayUrl, grace.key).chat.completions.create({
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: 'queued' }],
      });
      // spent_usd counts queued rows: once it shows the request, the row is recorded (perhaps not yet written).
      await eventually(
        () => admin('GET', `/admin/keys/${grace.id}`),
        (answer) => gatewayKeyAnswerSchema.parse(answer.body).spent_usd > 0,
      );
      const usage = usageAnswerSchema.parse((await admin('GET', '/admin/usage?group_by=key')).body);
      expect(usage.data.find((row) => row.group === grace.id)?.requests).toBe(1);
    });

    it('should answer nothing for days without requests', async () => {
      const usage = await admin('GET', '/admin/usage?start_date=2020-01-01&end_date=2020-01-31&group_by=model');
      expect(usage.body).toEqual({
        object: 'list',
        start_date: '2020-01-01',
        end_date: '2020-01-31',
        group_by: 'model',
        data: [],
        total: { requests: 0, prompt_tokens: 0, completion_tokens: 0, cost_usd: 0 },
      });
    });

    it.each([
      ['start_date=2026-02-30', 'start_date', 'start_date must be a date YYYY-MM-DD'],
      ['end_date=yesterday', 'end_date', 'end_date must be a date YYYY-MM-DD'],
      ['start_date=2026-03-02&end_date=2026-03-01', 'start_date', 'start_date must not be after end_date'],
      ['start_date=2024-01-01&end_date=2025-06-01', 'end_date', 'end_date must be at most 366 days after start_date'],
      ['group_by=provider', 'group_by', 'group_by must be key, model or day'],
    ])('should answer 400 for %s', async (query, param, message) => {
      expect(errorOf(await admin('GET', `/admin/usage?${query}`))).toEqual({
        status: 400,
        code: 'invalid_request',
        param,
        message,
      });
    });
  });

  it('should answer /v1/models 401 without a gateway key where one is required, and list for one', async () => {
    for (const token of [null, 'sk-client-0123456789', `gk-${'A'.repeat(43)}`]) {
      expect(errorOf(await callJson(stack.gatewayUrl, 'GET', '/v1/models', { token }))).toMatchObject({
        status: 401,
        code: 'invalid_api_key',
      });
    }
    const { key } = createdOf(await admin('POST', '/admin/keys', { body: { name: 'lister', models: ['gpt-4o*'] } }));
    const models = await callJson(stack.gatewayUrl, 'GET', '/v1/models', { token: key });
    expect(models.body).toEqual({
      object: 'list',
      data: [
        { id: 'gpt-4o-mini', object: 'model', created: 1_700_000_000, owned_by: 'openai' },
        { id: 'gpt-4o', object: 'model', created: 1_700_000_000, owned_by: 'openai' },
      ],
    });
  });

  it('should list the admin routes in /docs with the admin token as their security', async () => {
    const docs = await callJson(stack.gatewayUrl, 'GET', '/docs/openapi.json', { token: null });
    expect(docs.status).toBe(200);
    const paths = (docs.body as { paths: Record<string, Record<string, { security?: unknown }>> }).paths;
    expect(Object.keys(paths['/admin/keys'] ?? {}).sort()).toEqual(['get', 'post']);
    expect(Object.keys(paths['/admin/keys/{id}'] ?? {}).sort()).toEqual(['delete', 'get', 'patch']);
    expect(paths['/admin/usage']?.['get']?.security).toEqual([{ 'admin-token': [] }]);
  });

  it('should write neither the admin token nor a gateway key in any log line', async () => {
    const { key } = createdOf(await admin('POST', '/admin/keys', { body: { name: 'canary' } }));
    await chatStatus(stack.gatewayUrl, key);
    await admin('GET', '/admin/keys', { token: `${ADMIN_TOKEN}-wrong` });
    await admin('GET', '/admin/usage');
    // At debug the access log writes each request's headers, Authorization redacted.
    expect(await stack.logs.waitFor('/admin/usage')).toBe(true);
    expect(stack.logs.text).toMatch(/"authorization":"[^"]*\[REDACTED\]/i);
    expect(stack.logs.text).not.toContain(ADMIN_TOKEN);
    expect(stack.logs.text).not.toContain(key);
    expect(stack.logs.text).not.toContain(key.slice(3));
  });
});

describe('the admin API without GATEWAY_ADMIN_TOKEN', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack({
      gatewayEnv: { GATEWAY_KEYS: 'required', OPENAI_API_KEY: OPENAI_TEAM_KEY, DATABASE_URL: 'sqlite::memory:' },
    });
  });

  afterAll(async () => {
    await stack.close();
  });

  it('should answer every /admin path 404 as an unknown route, with or without a token', async () => {
    const unknown = await callJson(stack.gatewayUrl, 'GET', '/no-such-route', { token: null });
    expect(errorOf(unknown)).toMatchObject({ status: 404, code: 'not_found' });
    for (const [method, path] of [...ADMIN_ROUTES, ['GET', '/admin'] as const]) {
      for (const token of [null, ADMIN_TOKEN]) {
        const body = method === 'POST' || method === 'PATCH' ? { name: 'x' } : undefined;
        const answer = await callJson(stack.gatewayUrl, method, path, { token, body });
        expect({ method, path, status: answer.status, body: answer.body }).toEqual({
          method,
          path,
          status: 404,
          body: unknown.body,
        });
      }
    }
  });
});

describe('the admin API on two gateway replicas sharing one PostgreSQL database', () => {
  let database: TestPostgresDatabase;
  let stack: Stack;
  let replica: GatewayReplica;
  let replicaUrl: string;

  beforeAll(async () => {
    database = await createTestPostgresDatabase();
    const env = { ...TEAM_ENV, DATABASE_URL: database.url };
    stack = await startStack({ gatewayEnv: env });
    replica = await startGatewayReplica(stack, env);
    replicaUrl = replica.url;
  });

  afterAll(async () => {
    await replica?.close();
    await stack?.close();
    await database?.drop();
  });

  it('should see a key one replica creates on the other at once, its revocation at once on the replica that revoked it and within a second on the other', async () => {
    const created = createdOf(await callJson(stack.gatewayUrl, 'POST', '/admin/keys', { body: { name: 'shared' } }));
    expect(await chatStatus(replicaUrl, created.key)).toEqual({ status: 200, code: undefined });
    expect(await chatStatus(stack.gatewayUrl, created.key)).toEqual({ status: 200, code: undefined });
    const listed = keyListAnswerSchema.parse((await callJson(replicaUrl, 'GET', '/admin/keys')).body);
    expect(listed.data.map((key) => key.id)).toEqual([created.id]);

    const revoked = await callJson(stack.gatewayUrl, 'DELETE', `/admin/keys/${created.id}`);
    expect(revoked.status).toBe(200);
    expect(await chatStatus(stack.gatewayUrl, created.key)).toEqual({ status: 401, code: 'invalid_api_key' });
    expect(await chatStatusOtherThan(replicaUrl, created.key, 200)).toEqual({ status: 401, code: 'invalid_api_key' });
    const seen = gatewayKeyAnswerSchema.parse((await callJson(replicaUrl, 'GET', `/admin/keys/${created.id}`)).body);
    expect(seen.revoked_at).toBe(gatewayKeyAnswerSchema.parse(revoked.body).revoked_at);
  });

  it('should apply a budget raised through one replica there at once, and within a second on the other', async () => {
    const created = createdOf(
      await callJson(stack.gatewayUrl, 'POST', '/admin/keys', { body: { name: 'raised', budget_usd: 0 } }),
    );
    const spent = { status: 429, code: 'insufficient_quota' };
    expect(await chatStatus(stack.gatewayUrl, created.key)).toEqual(spent);
    expect(await chatStatus(replicaUrl, created.key)).toEqual(spent);

    const patched = await callJson(stack.gatewayUrl, 'PATCH', `/admin/keys/${created.id}`, { body: { budget_usd: 5 } });
    expect(patched.status).toBe(200);
    expect(await chatStatus(stack.gatewayUrl, created.key)).toEqual({ status: 200, code: undefined });
    expect(await chatStatusOtherThan(replicaUrl, created.key, 429)).toEqual({ status: 200, code: undefined });
  });

  it('should count on one replica the usage the other recorded', async () => {
    const created = createdOf(await callJson(replicaUrl, 'POST', '/admin/keys', { body: { name: 'metered' } }));
    await teamClient(replicaUrl, created.key).chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'hello' }],
    });
    const usage = await eventually(
      async () => {
        // The replica that served the request writes its queued rows when its admin API is asked.
        await callJson(replicaUrl, 'GET', '/admin/usage');
        return usageAnswerSchema.parse((await callJson(stack.gatewayUrl, 'GET', '/admin/usage?group_by=key')).body);
      },
      (answer) => answer.data.some((row) => row.group === created.id),
    );
    expect(usage.data.find((row) => row.group === created.id)).toEqual({
      group: created.id,
      name: 'metered',
      requests: 1,
      prompt_tokens: FAKE_PROMPT_TOKENS,
      completion_tokens: FAKE_COMPLETION_TOKENS,
      cost_usd: MINI_REQUEST_MICRO_USD / 1e6,
    });
  });
});
