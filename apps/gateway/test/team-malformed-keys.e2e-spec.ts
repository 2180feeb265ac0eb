import { type Stack, startStack } from './support/stack';

/** Credentials that claim to be gateway keys (they start with `gk-`) but are not shaped like one. */
const MALFORMED_KEYS = ['gk-', 'gk-short', `gk-${'a'.repeat(31)}`, `gk-${'a'.repeat(43)}!`, 'gk-with space'];

/** One route a client's credential may stand on, where it is put, and the provider fake the route ends at. */
interface KeyedRoute {
  name: string;
  path: string;
  headers: (key: string) => Record<string, string>;
  body: unknown;
  upstream: (stack: Stack) => Stack['openai'];
}

const CHAT = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] };

const ROUTES: readonly KeyedRoute[] = [
  {
    name: '/openai (Authorization: Bearer)',
    path: '/openai/v1/chat/completions',
    headers: (key) => ({ authorization: `Bearer ${key}` }),
    body: CHAT,
    upstream: (stack) => stack.openai,
  },
  {
    name: '/openai (Authorization without a scheme)',
    path: '/openai/v1/chat/completions',
    headers: (key) => ({ authorization: key }),
    body: CHAT,
    upstream: (stack) => stack.openai,
  },
  {
    name: '/anthropic (x-api-key)',
    path: '/anthropic/v1/messages',
    headers: (key) => ({ 'x-api-key': key, 'anthropic-version': '2023-06-01' }),
    body: { model: 'claude-sonnet-4-6', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] },
    upstream: (stack) => stack.anthropic,
  },
  {
    name: '/v1 (Authorization: Bearer)',
    path: '/v1/chat/completions',
    headers: (key) => ({ authorization: `Bearer ${key}` }),
    body: CHAT,
    upstream: (stack) => stack.openai,
  },
];

/** Every request the stack's provider fakes recorded. */
function providerRequests(stack: Stack): number {
  return stack.openai.requests.length + stack.anthropic.requests.length + stack.gemini.requests.length;
}

describe('team mode (GATEWAY_KEYS=optional): a credential that starts with gk- is never sent to a provider', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack({
      gatewayEnv: {
        GATEWAY_KEYS: 'optional',
        DATABASE_URL: 'sqlite::memory:',
        OPENAI_API_KEY: 'sk-pool-malformed-0123456789',
        ANTHROPIC_API_KEY: 'sk-ant-api03-pool-malformed-key',
      },
    });
  });

  afterAll(() => stack.close());

  describe.each(ROUTES.map((route) => [route.name, route] as const))('on %s', (_name, route) => {
    it.each(MALFORMED_KEYS)('should answer 401 invalid_api_key for %j, the provider seeing nothing', async (key) => {
      const before = providerRequests(stack);
      const response = await fetch(`${stack.gatewayUrl}${route.path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...route.headers(key) },
        body: JSON.stringify(route.body),
      });
      const text = await response.text();
      expect(response.status).toBe(401);
      expect(JSON.parse(text)).toEqual({
        error: {
          message: 'Incorrect gateway key provided',
          type: 'authentication_error',
          param: null,
          code: 'invalid_api_key',
        },
      });
      expect(providerRequests(stack)).toBe(before);
      expect(JSON.stringify(route.upstream(stack).requests.map((request) => request.headers))).not.toContain('gk-');
    });
  });

  it('should answer 401 for a malformed gateway key in ?key= on /gemini, the provider seeing nothing', async () => {
    const before = providerRequests(stack);
    const response = await fetch(`${stack.gatewayUrl}/gemini/v1beta/models?key=gk-short`);
    expect(response.status).toBe(401);
    await expect(response.json()).resolves.toMatchObject({ error: { code: 'invalid_api_key' } });
    expect(providerRequests(stack)).toBe(before);
  });

  it('should still send a provider key that is no gateway key on as the client sent it', async () => {
    const response = await fetch(`${stack.gatewayUrl}/openai/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer sk-client-own-0123456789' },
      body: JSON.stringify(CHAT),
    });
    expect(response.status).toBe(200);
    expect(stack.openai.lastRequest('/v1/chat/completions')?.headers.authorization).toBe(
      'Bearer sk-client-own-0123456789',
    );
  });
});
