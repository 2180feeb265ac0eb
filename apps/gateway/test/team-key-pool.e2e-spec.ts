import Anthropic from '@anthropic-ai/sdk';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import OpenAI from 'openai';
import {
  fakeAnthropicMessages,
  fakeChatCompletions,
  fakeGeminiGenerate,
  geminiBadKey,
  openAiError,
} from '@openai-proxy/testing-fakes';
import { type Stack, startStack } from './support/stack';
import { createGatewayKey } from './support/team';

const POOL = ['sk-pool-a-0123456789', 'sk-pool-b-0123456789', 'sk-pool-c-0123456789'];
const CHAT = '/v1/chat/completions';
/** The relay's headers budget in the three-key team: a call the fake never answers ends at it. */
const HEADERS_TIMEOUT_MS = 700;
/** The whole pool of the one-key team. */
const ONE_KEY = 'sk-one-key-0123456789';

/** One gpt-4o-mini chat through the team endpoint of `stack` with the gateway key `key`. */
function postTeamChat(stack: Stack, key: string, content: string): Promise<Response> {
  return fetch(`${stack.gatewayUrl}${CHAT}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content }] }),
  });
}

describe('the provider key pool in team mode (three OpenAI keys)', () => {
  let stack: Stack;
  let key: string;

  beforeAll(async () => {
    stack = await startStack({
      gatewayEnv: { GATEWAY_KEYS: 'required', DATABASE_URL: 'sqlite::memory:', OPENAI_API_KEY: POOL.join(',') },
      relayEnv: { UPSTREAM_HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS) },
    });
    key = (await createGatewayKey(stack.gateway)).key;
  });

  afterAll(async () => {
    await stack.close();
  });

  afterEach(() => {
    stack.openai.on('POST', CHAT, fakeChatCompletions);
  });

  function chat(content: string): Promise<Response> {
    return postTeamChat(stack, key, content);
  }

  function attemptsSince(seen: number): number {
    return stack.openai.requests.slice(seen).filter((request) => request.url === CHAT).length;
  }

  it('should try every key the provider refuses with 429 before the first byte, and answer from the one that takes it', async () => {
    const busy = openAiError(429, 'Rate limit reached', 'requests');
    stack.openai.on('POST', CHAT, (request, response) =>
      request.headers.authorization === `Bearer ${POOL[2]}`
        ? fakeChatCompletions(request, response)
        : busy(request, response),
    );
    const seen = stack.openai.requests.length;
    const answer = await chat('three keys');
    expect(answer.status).toBe(200);
    await expect(answer.json()).resolves.toMatchObject({
      choices: [{ message: { content: expect.stringContaining('three keys') } }],
    });
    const attempts = stack.openai.requests.slice(seen).filter((request) => request.url === CHAT);
    // In turn from wherever the pool stood: the keys before the third one were refused, each tried once.
    expect(attempts.at(-1)?.headers.authorization).toBe(`Bearer ${POOL[2]}`);
    expect(new Set(attempts.map((attempt) => attempt.headers.authorization)).size).toBe(attempts.length);
  });

  it('should try a server error on one other key at most, then give the client that error', async () => {
    stack.openai.on('POST', CHAT, openAiError(500, 'The server had an error', 'server_error'));
    const seen = stack.openai.requests.length;
    const answer = await chat('outage');
    expect(answer.status).toBe(500);
    expect(attemptsSince(seen)).toBe(2);
  });

  it('should never send a call the provider took and did not answer in time to another key: 504, the fake saw 1', async () => {
    // The fake takes the request and never answers: it may be working on a slow, paid request.
    stack.openai.on('POST', CHAT, () => undefined);
    const seen = stack.openai.requests.length;
    const answer = await chat('slow and paid');
    expect(answer.status).toBe(504);
    await expect(answer.json()).resolves.toMatchObject({ error: { code: 'upstream_timeout' } });
    expect(answer.headers.get('x-openai-proxy-not-resendable')).toBeNull();
    expect(attemptsSince(seen)).toBe(1);
  });
});

describe('a provider key pool of one key in team mode', () => {
  let stack: Stack;
  let key: string;

  beforeAll(async () => {
    stack = await startStack({
      gatewayEnv: { GATEWAY_KEYS: 'required', DATABASE_URL: 'sqlite::memory:', OPENAI_API_KEY: ONE_KEY },
    });
    key = (await createGatewayKey(stack.gateway)).key;
  });

  afterAll(async () => {
    await stack.close();
  });

  afterEach(() => {
    stack.openai.on('POST', CHAT, fakeChatCompletions);
  });

  function chat(content: string): Promise<Response> {
    return postTeamChat(stack, key, content);
  }

  /** Answers the first chat with `refusal`, every later one as the fake OpenAI does. */
  function refuseOnce(refusal: ReturnType<typeof openAiError>): void {
    let refused = false;
    stack.openai.on('POST', CHAT, (request, response) => {
      const answer = refused ? fakeChatCompletions : refusal;
      refused = true;
      return answer(request, response);
    });
  }

  it.each([
    ['a 503', openAiError(503, 'overloaded', 'server_error')],
    ['a short 429', openAiError(429, 'Rate limit reached', 'requests', { 'retry-after': '0' })],
  ])(
    'should let the service retry %s on the one key, there being no other key to fail over to: the fake saw 2',
    async (_what, refusal) => {
      refuseOnce(refusal);
      const seen = stack.openai.requests.length;
      const answer = await chat('one key');
      expect(answer.status).toBe(200);
      await expect(answer.json()).resolves.toMatchObject({
        choices: [{ message: { content: expect.stringContaining('one key') } }],
      });
      const attempts = stack.openai.requests.slice(seen).filter((request) => request.url === CHAT);
      expect(attempts.map((attempt) => attempt.headers.authorization)).toEqual([
        `Bearer ${ONE_KEY}`,
        `Bearer ${ONE_KEY}`,
      ]);
    },
  );

  // Regression: a provider's error answer reached the member as it came, a quote of the held key in it too.
  it.each([
    ['as sent', (text: string) => ({ body: Buffer.from(text), encoding: undefined })],
    ['gzipped', (text: string) => ({ body: gzipSync(text), encoding: 'gzip' })],
    ['brotli-compressed', (text: string) => ({ body: brotliCompressSync(text), encoding: 'br' })],
  ])("should send the provider's error answer %s without the held key, the rest of it intact", async (_how, encode) => {
    stack.openai.on('POST', CHAT, (request, response) => {
      const text = JSON.stringify({
        error: {
          message: `Bad request made with ${String(request.headers.authorization)}`,
          type: 'invalid_request_error',
        },
      });
      const { body, encoding } = encode(text);
      response.writeHead(400, {
        'content-type': 'application/json',
        'x-request-id': 'req-kept',
        ...(encoding === undefined ? {} : { 'content-encoding': encoding }),
      });
      response.end(body);
    });
    const answer = await chat('scrubbed');
    expect(answer.status).toBe(400);
    expect(answer.headers.get('x-request-id')).toBe('req-kept');
    const text = await answer.text();
    expect(text).not.toContain(ONE_KEY);
    expect(JSON.parse(text)).toEqual({
      error: { message: 'Bad request made with Bearer [REDACTED]', type: 'invalid_request_error' },
    });
  });

  // Regression: the provider's 401 went to the member as it came: an `invalid_api_key` the SDK read as the gateway
  // key being wrong, with the provider's message quoting the key the gateway holds. Last here: the key then rests.
  it("should answer the provider's refusal of the held key 502 provider_key_refused, quoting no key, and not retried by the SDK", async () => {
    stack.openai.on('POST', CHAT, (request, response) =>
      openAiError(
        401,
        `Incorrect API key provided: ${request.headers.authorization}`,
        'invalid_request_error',
      )(request, response),
    );
    const client = new OpenAI({ apiKey: key, baseURL: `${stack.gatewayUrl}/v1`, maxRetries: 2 });
    const seen = stack.openai.requests.length;
    const outcome = await client.chat.completions
      .create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'refused' }] })
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    expect(outcome).toBeInstanceOf(OpenAI.APIError);
    const refused = outcome as InstanceType<typeof OpenAI.APIError>;
    expect(refused).toMatchObject({ status: 502, code: 'provider_key_refused', type: 'server_error' });
    expect(refused.headers?.get('x-should-retry')).toBe('false');
    expect(JSON.stringify(refused.error)).not.toContain(ONE_KEY);
    expect(refused.message).toContain('Your gateway key is valid');
    expect(stack.openai.requests.slice(seen).filter((request) => request.url === CHAT)).toHaveLength(1);
  });
});

describe('the provider key pool in team mode (an Anthropic API key and an OAuth token)', () => {
  /** Each goes in its own header: the API key in x-api-key, the token as Authorization: Bearer. */
  const API_KEY = 'sk-ant-api03-pool-mixed-first';
  const OAUTH_TOKEN = 'sk-ant-oat01-pool-mixed-second';
  const MESSAGES = '/v1/messages';
  let stack: Stack;
  let key: string;

  beforeAll(async () => {
    stack = await startStack({
      gatewayEnv: {
        GATEWAY_KEYS: 'required',
        DATABASE_URL: 'sqlite::memory:',
        ANTHROPIC_API_KEY: `${API_KEY},${OAUTH_TOKEN}`,
      },
    });
    key = (await createGatewayKey(stack.gateway)).key;
  });

  afterAll(async () => {
    await stack.close();
  });

  it('should send the next key alone after a refusal, never the refused key left in its other header', async () => {
    let refused = false;
    stack.anthropic.on('POST', MESSAGES, (request, response) => {
      if (refused) {
        return fakeAnthropicMessages(request, response);
      }
      refused = true;
      response.writeHead(429, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ type: 'error', error: { type: 'rate_limit_error', message: 'busy' } }));
    });
    const seen = stack.anthropic.requests.length;
    const answer = await fetch(`${stack.gatewayUrl}/anthropic${MESSAGES}`, {
      method: 'POST',
      headers: {
        'x-api-key': key,
        'anthropic-version': '2023-06-01',
        // Anthropic takes an OAuth token only with an oauth beta (the fake too); an API key ignores it.
        'anthropic-beta': 'oauth-2025-04-20',
        'content-type': 'application/json',
      },
      body: JSON.stringify({ model: 'claude-sonnet-4-6', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect({ status: answer.status, body: await answer.text() }).toMatchObject({ status: 200 });
    const attempts = stack.anthropic.requests.slice(seen).filter((request) => request.url === MESSAGES);
    expect(attempts).toHaveLength(2);
    const credentials = attempts.map((attempt) => ({
      apiKey: attempt.headers['x-api-key'],
      authorization: attempt.headers.authorization,
    }));
    // The pool starts wherever it stands; each attempt carries its own key in its own header, and only that.
    expect(credentials).toEqual(
      expect.arrayContaining([
        { apiKey: API_KEY, authorization: undefined },
        { apiKey: undefined, authorization: `Bearer ${OAUTH_TOKEN}` },
      ]),
    );
  });

  // Last here: both keys then rest.
  it('should answer 502 provider_key_refused to the Anthropic SDK when every held key is refused, quoting none', async () => {
    stack.anthropic.on('POST', MESSAGES, (request, response) => {
      const held = String(request.headers['x-api-key'] ?? request.headers.authorization);
      response.writeHead(401, { 'content-type': 'application/json' });
      response.end(
        JSON.stringify({ type: 'error', error: { type: 'authentication_error', message: `invalid key ${held}` } }),
      );
    });
    const client = new Anthropic({
      apiKey: key,
      baseURL: `${stack.gatewayUrl}/anthropic`,
      maxRetries: 2,
      defaultHeaders: { 'anthropic-beta': 'oauth-2025-04-20' },
    });
    const seen = stack.anthropic.requests.length;
    const outcome = await client.messages
      .create({ model: 'claude-sonnet-4-6', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] })
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    expect(outcome).toBeInstanceOf(Anthropic.APIError);
    const refused = outcome as InstanceType<typeof Anthropic.APIError>;
    expect(refused.status).toBe(502);
    expect(refused.error).toMatchObject({ error: { code: 'provider_key_refused' } });
    const said = JSON.stringify(refused.error);
    expect([API_KEY, OAUTH_TOKEN].filter((held) => said.includes(held))).toEqual([]);
    // Each key once, and no SDK retry.
    expect(stack.anthropic.requests.slice(seen).filter((request) => request.url === MESSAGES)).toHaveLength(2);
  });
});

describe('a Gemini key pool in team mode (a revoked key and a good one)', () => {
  const REVOKED = 'AIzaRevoked-0123456789';
  const GOOD = 'AIzaGood-0123456789';
  let stack: Stack;
  let key: string;

  beforeAll(async () => {
    stack = await startStack({
      gatewayEnv: { GATEWAY_KEYS: 'required', DATABASE_URL: 'sqlite::memory:', GEMINI_API_KEY: `${REVOKED},${GOOD}` },
    });
    key = (await createGatewayKey(stack.gateway)).key;
    // Gemini answers a revoked key 400 INVALID_ARGUMENT with the reason API_KEY_INVALID.
    stack.gemini.on('POST', /:generateContent$/, (request, response) =>
      request.headers['x-goog-api-key'] === REVOKED
        ? geminiBadKey(request, response)
        : fakeGeminiGenerate(request, response),
    );
  });

  afterAll(async () => {
    await stack.close();
  });

  it('should rest the revoked key and answer every member from the good one (regression: its 400 reached the member)', async () => {
    const client = new OpenAI({ apiKey: key, baseURL: `${stack.gatewayUrl}/v1`, maxRetries: 0, timeout: 10_000 });
    for (const content of ['one', 'two', 'three', 'four']) {
      const answer = await client.chat.completions.create({
        model: 'gemini-2.5-flash',
        messages: [{ role: 'user', content }],
      });
      expect(answer.choices[0]?.message.content).toContain(content);
    }
    const sent = stack.gemini.requests
      .filter((request) => request.url.includes(':generateContent'))
      .map((request) => request.headers['x-goog-api-key']);
    expect(sent.filter((sentKey) => sentKey === GOOD)).toHaveLength(4);
    expect(sent.filter((sentKey) => sentKey === REVOKED).length).toBeLessThanOrEqual(1);
  });
});
