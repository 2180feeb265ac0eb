import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { TeamState } from '@openai-proxy/gateway-feature-team';
import { fakeChatCompletions, openAiError, startFakeOpenAi, type FakeUpstream } from '@openai-proxy/testing-fakes';
import { type Stack, startStack } from './support/stack';
import { askWithHourCacheWrites, createGatewayKey, keyUsage } from './support/team';

const POOL = ['sk-pool-first-0123456789', 'sk-pool-second-0123456789'];
const ANTHROPIC_KEY = 'sk-ant-api03-gateway-held-key';
const GEMINI_KEY = 'AIzaGatewayHeldKey0123456789';
const ADMIN_TOKEN = 'admin-token-0123456789abcdef';

/** The rows the ledger holds for one key, after writing what it queued. */
async function rowsOf(stack: Stack, keyId: string): Promise<number> {
  return (await keyUsage(stack.gateway, keyId)).total.requests;
}

describe('team mode data plane (GATEWAY_KEYS=required)', () => {
  let deepseek: FakeUpstream;
  let stack: Stack;

  beforeAll(async () => {
    deepseek = await startFakeOpenAi();
    const providers = { OPENAI_COMPATIBLE_PROVIDERS: `deepseek=${deepseek.url}` };
    stack = await startStack({
      relayEnv: providers,
      gatewayEnv: {
        ...providers,
        GATEWAY_KEYS: 'required',
        GATEWAY_ADMIN_TOKEN: ADMIN_TOKEN,
        DATABASE_URL: 'sqlite::memory:',
        OPENAI_API_KEY: POOL.join(','),
        ANTHROPIC_API_KEY: ANTHROPIC_KEY,
        GEMINI_API_KEY: GEMINI_KEY,
      },
    });
  });

  afterAll(async () => {
    await stack.close();
    await deepseek.close();
  });

  afterEach(() => {
    stack.openai.on('POST', '/v1/chat/completions', fakeChatCompletions);
  });

  function member(key: string): OpenAI {
    return new OpenAI({ apiKey: key, baseURL: `${stack.gatewayUrl}/v1`, maxRetries: 0, timeout: 10_000 });
  }

  it('should route gpt-* to OpenAI with a pool key, never the gateway key, and record the usage OpenAI reported', async () => {
    const { key, id } = await createGatewayKey(stack.gateway);
    const completion = await member(key).chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'ping' }],
    });
    expect(completion.choices[0]?.message.content).toBe('Hello from the fake OpenAI upstream. You said: ping');
    const arrived = stack.openai.lastRequest('/v1/chat/completions');
    expect(POOL.map((pooled) => `Bearer ${pooled}`)).toContain(arrived?.headers.authorization);
    expect(JSON.stringify(arrived?.headers)).not.toContain(key);
    const usage = await keyUsage(stack.gateway, id, 'model');
    expect(usage.data).toEqual([
      expect.objectContaining({ group: 'gpt-4o-mini', requests: 1, promptTokens: 9, completionTokens: 7 }),
    ]);
    expect(usage.total.costUsd).toBeGreaterThan(0);
  });

  it('should send a /v1 body it read under another Content-Type on as application/json, with the held key', async () => {
    const { key } = await createGatewayKey(stack.gateway);
    const answer = await fetch(`${stack.gatewayUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'text/plain;charset=UTF-8' },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'typed' }] }),
    });
    expect(answer.status).toBe(200);
    await answer.text();
    const arrived = stack.openai.lastRequest('/v1/chat/completions');
    expect(arrived?.headers['content-type']).toBe('application/json');
    expect(POOL.map((pooled) => `Bearer ${pooled}`)).toContain(arrived?.headers.authorization);
  });

  it('should ask a stream for its usage, keep the usage chunk from a client that did not ask, and bill it', async () => {
    const { key, id } = await createGatewayKey(stack.gateway);
    const stream = await member(key).chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'stream' }],
      stream: true,
    });
    const chunks = [];
    for await (const chunk of stream) {
      chunks.push(chunk);
    }
    expect(chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('')).toBe(
      'Hello from the fake OpenAI upstream. You said: stream',
    );
    expect(chunks.some((chunk) => chunk.usage !== undefined && chunk.usage !== null)).toBe(false);
    const sent = JSON.parse(stack.openai.lastRequest('/v1/chat/completions')?.body.toString('utf8') ?? '{}');
    expect(sent.stream_options).toEqual({ include_usage: true });
    const usage = await keyUsage(stack.gateway, id);
    expect(usage.total).toMatchObject({ requests: 1, promptTokens: 9, completionTokens: 7 });
  });

  it('should give the usage chunk to a client that asked for it', async () => {
    const { key } = await createGatewayKey(stack.gateway);
    const stream = await member(key).chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'usage please' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let usage: OpenAI.CompletionUsage | undefined | null;
    for await (const chunk of stream) {
      usage = chunk.usage ?? usage;
    }
    expect(usage).toMatchObject({ prompt_tokens: 9, completion_tokens: 7 });
  });

  it('should route claude-* and gemini-* to their bridges with the keys the gateway holds', async () => {
    const { key } = await createGatewayKey(stack.gateway);
    const claude = await member(key).chat.completions.create({
      model: 'claude-sonnet-4-6',
      messages: [{ role: 'user', content: 'hi claude' }],
    });
    expect(claude.choices[0]?.message.content).toContain('hi claude');
    expect(stack.anthropic.lastRequest('/v1/messages')?.headers['x-api-key']).toBe(ANTHROPIC_KEY);
    const gemini = await member(key).chat.completions.create({
      model: 'gemini-2.5-flash',
      messages: [{ role: 'user', content: 'hi gemini' }],
    });
    expect(gemini.choices[0]?.message.content).toContain('hi gemini');
    expect(stack.gemini.lastRequest('/v1beta/models/gemini-2.5-flash')?.headers['x-goog-api-key']).toBe(GEMINI_KEY);
  });

  it('should send <name>/<model> to the configured provider as <model>, and refuse when the gateway holds no key for it', async () => {
    const { key } = await createGatewayKey(stack.gateway);
    await expect(
      member(key).chat.completions.create({
        model: 'deepseek/deepseek-chat',
        messages: [{ role: 'user', content: 'x' }],
      }),
    ).rejects.toMatchObject({ status: 503 });
    expect(deepseek.requests).toHaveLength(0);
  });

  it('should take Claude Code style requests on /anthropic with a gateway key and attach the held key', async () => {
    const { key, id } = await createGatewayKey(stack.gateway);
    const client = new Anthropic({ apiKey: key, baseURL: `${stack.gatewayUrl}/anthropic`, maxRetries: 0 });
    const message = await client.messages.create({
      model: 'claude-sonnet-4-6',
      max_tokens: 64,
      messages: [{ role: 'user', content: 'native' }],
    });
    expect(message.content[0]).toMatchObject({ type: 'text' });
    const arrived = stack.anthropic.lastRequest('/v1/messages');
    expect(arrived?.headers['x-api-key']).toBe(ANTHROPIC_KEY);
    expect(JSON.stringify(arrived?.headers)).not.toContain(key);
    const usage = await keyUsage(stack.gateway, id);
    // The fake reports 11 input, 2 cache-creation and 3 cache-read tokens: all are prompt tokens.
    expect(usage.total).toMatchObject({ requests: 1, promptTokens: 16 });
  });

  // Regressions: the claude-bridge did not pass Anthropic's cache reads on as OpenAI's cached_tokens, so through
  // /v1 they were billed at the full input price while /anthropic billed them at the cached one; and cache writes
  // were billed at the input price everywhere (Anthropic bills them at 1.25 times it).
  it('should bill the cache reads and writes of one Anthropic answer alike through /v1, streamed or not, and /anthropic', async () => {
    const viaV1 = await createGatewayKey(stack.gateway);
    const viaV1Stream = await createGatewayKey(stack.gateway);
    const viaNative = await createGatewayKey(stack.gateway);
    await member(viaV1.key).chat.completions.create({
      model: 'claude-sonnet-4-6',
      messages: [{ role: 'user', content: 'cached' }],
    });
    const stream = await member(viaV1Stream.key).chat.completions.create({
      model: 'claude-sonnet-4-6',
      stream: true,
      messages: [{ role: 'user', content: 'cached' }],
    });
    for await (const chunk of stream) {
      expect(chunk.object).toBe('chat.completion.chunk');
    }
    const native = new Anthropic({ apiKey: viaNative.key, baseURL: `${stack.gatewayUrl}/anthropic`, maxRetries: 0 });
    await native.messages.create({
      model: 'claude-sonnet-4-6',
      max_tokens: 64,
      messages: [{ role: 'user', content: 'cached' }],
    });
    // The fake reports 11 input tokens, 2 written to the cache, 3 read from it and 7 output tokens; claude-sonnet-4-6
    // costs $3, $3.75 (cache writes), $0.30 (cache reads) and $15 per million: 146.4 micro-dollars, stored as 146
    // (at the input price the writes made 144.9, stored as 145).
    const expectedUsd = (11 * 3 + 2 * 3.75 + 3 * 0.3 + 7 * 15) / 1_000_000;
    for (const { id } of [viaV1, viaV1Stream, viaNative]) {
      const usage = await keyUsage(stack.gateway, id);
      expect(usage.total).toMatchObject({ requests: 1, promptTokens: 16, completionTokens: 7 });
      expect(usage.total.costUsd).toBeCloseTo(expectedUsd, 6);
      expect(Math.round(usage.total.costUsd * 1_000_000)).toBe(146);
    }
  });

  it("should bill an Anthropic answer's 1-hour cache writes at their own price through /anthropic", async () => {
    const { key, id } = await createGatewayKey(stack.gateway);
    await askWithHourCacheWrites(stack, key, 0);
    // claude-sonnet-4-6: $3 input, $3.75 5-minute writes, $6 1-hour writes, $15 output per million (at the
    // 5-minute price the hour's writes made 4,080 micro-dollars).
    const usage = await keyUsage(stack.gateway, id);
    expect(usage.total).toMatchObject({ requests: 1, promptTokens: 1010, completionTokens: 20 });
    expect(Math.round(usage.total.costUsd * 1_000_000)).toBe(10 * 3 + 200 * 3.75 + 800 * 6 + 20 * 15);
  });

  it('should refuse provider keys and requests without a key with 401 when gateway keys are required', async () => {
    await expect(
      member('sk-proj-a-provider-key').chat.completions.create({ model: 'gpt-4o-mini', messages: [] }),
    ).rejects.toMatchObject({ status: 401 });
    const native = await fetch(`${stack.gatewayUrl}/openai/v1/models`, { headers: { authorization: 'Bearer sk-x' } });
    expect(native.status).toBe(401);
    await expect(native.json()).resolves.toMatchObject({ error: { code: 'invalid_api_key' } });
  });

  it('should answer unknown, revoked and expired keys 401, other models 403 and unknown models 404', async () => {
    const unknownKey = `gk-${'x'.repeat(43)}`;
    await expect(
      member(unknownKey).chat.completions.create({ model: 'gpt-4o-mini', messages: [] }),
    ).rejects.toMatchObject({ status: 401 });
    const revoked = await createGatewayKey(stack.gateway);
    await stack.gateway.get(TeamState).keys.revoke(revoked.id, new Date());
    await expect(
      member(revoked.key).chat.completions.create({ model: 'gpt-4o-mini', messages: [] }),
    ).rejects.toMatchObject({ status: 401, code: 'invalid_api_key' });
    const expired = await createGatewayKey(stack.gateway, { expiresAt: new Date(Date.now() - 1000) });
    await expect(
      member(expired.key).chat.completions.create({ model: 'gpt-4o-mini', messages: [] }),
    ).rejects.toMatchObject({ status: 401 });
    const limited = await createGatewayKey(stack.gateway, { models: ['gpt-*'] });
    await expect(
      member(limited.key).chat.completions.create({ model: 'claude-sonnet-4-6', messages: [] }),
    ).rejects.toMatchObject({ status: 403, code: 'model_not_allowed' });
    await expect(
      member(limited.key).chat.completions.create({ model: 'no-such-model', messages: [] }),
    ).rejects.toMatchObject({ status: 404, code: 'model_not_found' });
  });

  it('should refuse the request past the key rpm with 429, Retry-After and the x-ratelimit headers', async () => {
    const { key } = await createGatewayKey(stack.gateway, { rpm: 2 });
    const client = member(key);
    const first = await client.chat.completions
      .create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'a' }] })
      .withResponse();
    expect(first.response.headers.get('x-ratelimit-limit-requests')).toBe('2');
    expect(first.response.headers.get('x-ratelimit-remaining-requests')).toBe('1');
    await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'b' }] });
    const refused = await fetch(`${stack.gatewayUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'c' }] }),
    });
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(refused.headers.get('x-ratelimit-remaining-requests')).toBe('0');
    await expect(refused.json()).resolves.toMatchObject({ error: { code: 'rate_limit_exceeded' } });
  });

  it('should fail over to the next pool key when the provider refuses one with 429 before the first byte', async () => {
    const { key, id } = await createGatewayKey(stack.gateway);
    const before = await rowsOf(stack, id);
    const seen = stack.openai.requests.length;
    const refused = openAiError(429, 'Rate limit reached for requests', 'requests');
    stack.openai.on('POST', '/v1/chat/completions', (request, response) =>
      request.headers.authorization === `Bearer ${POOL[0]}`
        ? refused(request, response)
        : fakeChatCompletions(request, response),
    );
    for (let attempt = 0; attempt < 2; attempt += 1) {
      const completion = await member(key).chat.completions.create({
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: `failover ${attempt}` }],
      });
      expect(completion.choices[0]?.message.content).toContain(`failover ${attempt}`);
    }
    expect(await rowsOf(stack, id)).toBe(before + 2);
    // In turn, one of the two requests went to the first key first: refused, it rests, and the second key served both.
    const keysUsed = stack.openai.requests.slice(seen).map((request) => request.headers.authorization);
    expect(keysUsed.filter((used) => used === `Bearer ${POOL[0]}`)).toHaveLength(1);
    expect(keysUsed.filter((used) => used === `Bearer ${POOL[1]}`)).toHaveLength(2);
  });
});

describe('team mode data plane: what a gateway key may not do', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack({
      gatewayEnv: {
        GATEWAY_KEYS: 'optional',
        DATABASE_URL: 'sqlite::memory:',
        OPENAI_API_KEY: POOL[0] ?? '',
        GEMINI_API_KEY: GEMINI_KEY,
      },
    });
  });

  afterAll(async () => {
    await stack.close();
  });

  afterEach(() => {
    stack.openai.on('POST', '/v1/chat/completions', fakeChatCompletions);
  });

  async function limitedKey(models: string[], rpm: number | null = null): Promise<string> {
    return (await createGatewayKey(stack.gateway, { models, rpm })).key;
  }

  // Regression: the model was read only from Gemini's method paths, so a body's model went unchecked there.
  it("should check the model of a body on Gemini's OpenAI-compatible path against the key's list", async () => {
    const key = await limitedKey(['gemini-2.5-flash']);
    const refused = await fetch(`${stack.gatewayUrl}/gemini/v1beta/openai/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gemini-2.5-pro', messages: [{ role: 'user', content: 'x' }] }),
    });
    expect(refused.status).toBe(403);
    await expect(refused.json()).resolves.toMatchObject({ error: { code: 'model_not_allowed' } });
  });

  // Regression: a body the gateway cannot read (an upload) named no model, and so passed any model list.
  it('should refuse a key limited to some models a request with a body that names none it can read, and still let it list', async () => {
    const key = await limitedKey(['gpt-4o-mini']);
    const form = new FormData();
    form.append('model', 'gpt-4o-transcribe');
    form.append('file', new Blob([Buffer.from('RIFF')]), 'a.wav');
    const upload = await fetch(`${stack.gatewayUrl}/openai/v1/audio/transcriptions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}` },
      body: form,
    });
    expect(upload.status).toBe(403);
    const listing = await fetch(`${stack.gatewayUrl}/openai/v1/models`, {
      headers: { authorization: `Bearer ${key}` },
    });
    expect(listing.status).toBe(200);
  });

  // Regression: a bodiless POST (a cancel) names no model and was refused to a limited key.
  it('should let a key limited to some models make a POST without a body', async () => {
    const key = await limitedKey(['gpt-4o-mini']);
    const cancel = await fetch(`${stack.gatewayUrl}/openai/v1/batches/batch_1/cancel`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}` },
    });
    expect(cancel.status).not.toBe(403);
  });

  // Regression: on Gemini's own method paths the body's model stood in where the path named none.
  it("should not take a body's model on Gemini's own paths where the path names none", async () => {
    const key = await limitedKey(['gemini-2.5-flash']);
    const refused = await fetch(`${stack.gatewayUrl}/gemini/v1beta/tunedModels/mine:generateContent`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gemini-2.5-flash', contents: [] }),
    });
    expect(refused.status).toBe(403);
  });

  // Regression: a key subprotocol on a plain request was read as a gateway key, the held key attached, and the
  // header (the gateway key in it) sent on with it.
  it('should read the key subprotocol on WebSocket upgrades only', async () => {
    const key = await limitedKey([]);
    const before = stack.openai.requests.length;
    await fetch(`${stack.gatewayUrl}/openai/v1/models`, {
      headers: { 'sec-websocket-protocol': `openai-insecure-api-key.${key}` },
    });
    const arrived = stack.openai.requests.slice(before);
    expect(arrived.map((request) => request.headers.authorization)).toEqual([undefined]);
  });

  // Regression: a gateway key in Authorization on a claude.ai route went on to claude.ai as the session key.
  it('should refuse a gateway key in Authorization on the web-session routes and point to X-Gateway-Key', async () => {
    const key = await limitedKey([]);
    const before = stack.claudeWeb.fake.requests.length;
    const refused = await fetch(`${stack.gatewayUrl}/claude/append_message`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ organization_uuid: 'org', conversation_uuid: 'conv', text: 'hi' }),
    });
    expect(refused.status).toBe(401);
    await expect(refused.text()).resolves.toContain('X-Gateway-Key');
    expect(stack.claudeWeb.fake.requests.length).toBe(before);
  });

  // Regression: the provider's own x-ratelimit-* headers (its key's quota) replaced the gateway key's.
  it("should answer a gateway key with its own x-ratelimit headers, never the provider key's", async () => {
    const key = await limitedKey([], 5);
    stack.openai.on('POST', '/v1/chat/completions', (request, response) => {
      response.setHeader('x-ratelimit-limit-requests', '10000');
      response.setHeader('x-ratelimit-remaining-requests', '9999');
      return fakeChatCompletions(request, response);
    });
    const answer = await fetch(`${stack.gatewayUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'limits' }] }),
    });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('x-ratelimit-limit-requests')).toBe('5');
    expect(answer.headers.get('x-ratelimit-remaining-requests')).toBe('4');
    const own = await fetch(`${stack.gatewayUrl}/openai/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: 'Bearer sk-own-key-0123456789', 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'own limits' }] }),
    });
    expect(own.headers.get('x-ratelimit-limit-requests')).toBe('10000');
  });
});
