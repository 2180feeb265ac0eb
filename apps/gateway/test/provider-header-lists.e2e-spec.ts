import type { FakeUpstream, RecordedRequest } from '@openai-proxy/testing-fakes';
import { type Stack, startStack } from './support/stack';
import { type ClientRequestInit, exchange } from './support/stream-client';

// The translating bridges build each provider's headers from a fixed list (docs/provider-mapping.md and
// docs/legacy-routes.md), so whatever else a client sends neither leaks to the provider nor confuses it. Proven
// through the whole product: a client sends the gateway its credential and a heap of stray headers, and the fake
// provider behind the bridge sees exactly the list, plus what HTTP itself needs (host, connection, body framing).

const GEMINI_KEY = 'AIzaHeaderListKey0123456789';
const CLAUDE_WEB_ORG = 'dca2a902-a463-41f0-88cb-b047deb40178';
const FIREFOX = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0';
const CHROME = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36';

/** Headers no provider list has, each of a kind a client (or a proxy before us) really sends. */
const STRAY_HEADERS: Readonly<Record<string, string>> = {
  'x-stray': 'stray-value',
  'user-agent': 'stray-agent/1.0',
  'accept-language': 'fr-FR',
  origin: 'https://stray.example',
  referer: 'https://stray.example/page',
  'x-api-key': 'sk-ant-api03-stray-key',
  'anthropic-beta': 'stray-beta',
  'anthropic-version': '2023-06-01',
  'openai-organization': 'org-stray',
  'x-forwarded-for': '203.0.113.9',
  forwarded: 'for=203.0.113.9',
  'x-openai-proxy-stray': 'internal',
};

let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
});

afterAll(async () => {
  await stack.close();
});

/** Sends `init` to the gateway at `path` with the stray headers too; expects a 200. */
async function callWithStrays(path: string, init: ClientRequestInit): Promise<void> {
  const client = await exchange(`${stack.gatewayUrl}${path}`, {
    ...init,
    headers: { ...STRAY_HEADERS, ...init.headers },
  });
  expect(client.status).toBe(200);
}

/**
 * Expects `arrived` to carry exactly `listed` and what HTTP needs: the fake's own host, a kept-alive connection,
 * and a Content-Length matching the body when there is one.
 */
function expectExactly(fake: FakeUpstream, arrived: RecordedRequest, listed: Record<string, string>): void {
  const framing = arrived.body.length > 0 ? { 'content-length': String(arrived.body.length) } : {};
  expect(arrived.headers).toEqual({
    host: new URL(fake.url).host,
    connection: 'keep-alive',
    ...listed,
    ...framing,
  });
}

describe('rule: the Gemini API gets its fixed header list only', () => {
  /** One Gemini call a client's request causes, and the path it arrives at. */
  const GEMINI_CALLS: Array<[string, string, (marker: string) => ClientRequestInit, RegExp, string]> = [
    [
      'a chat completion',
      '/google/v1/chat/completions',
      (marker) => ({
        body: JSON.stringify({ model: 'gemini-2.5-flash', messages: [{ role: 'user', content: marker }] }),
      }),
      /^\/v1beta\/models\/gemini-2\.5-flash:generateContent$/,
      'application/json',
    ],
    [
      'a streamed chat completion',
      '/google/v1/chat/completions',
      (marker) => ({
        body: JSON.stringify({
          model: 'gemini-2.5-flash',
          stream: true,
          messages: [{ role: 'user', content: marker }],
        }),
      }),
      /^\/v1beta\/models\/gemini-2\.5-flash:streamGenerateContent\?alt=sse$/,
      'text/event-stream',
    ],
  ];

  it.each(GEMINI_CALLS)(
    'should send Gemini only its key, accept and accept-encoding for %s, a stray cookie and the rest dropped',
    async (_, path, init, upstreamPath, accept) => {
      const marker = `gemini-list-${accept}`;
      await callWithStrays(path, {
        ...init(marker),
        headers: {
          authorization: `Bearer ${GEMINI_KEY}`,
          cookie: 'SID=stray-google-cookie',
          'content-type': 'application/json',
        },
      });
      const arrived = await stack.gemini.waitForRequest((request) => request.body.includes(marker));
      expect(arrived.url).toMatch(upstreamPath);
      expectExactly(stack.gemini, arrived, {
        'x-goog-api-key': GEMINI_KEY,
        accept,
        'accept-encoding': 'identity',
        'content-type': 'application/json',
      });
    },
  );

  it('should send Gemini only its key, accept and accept-encoding for the model list, a stray cookie dropped', async () => {
    const before = stack.gemini.requests.length;
    await callWithStrays('/google/v1/models', {
      headers: { authorization: `Bearer ${GEMINI_KEY}`, cookie: 'SID=stray-google-cookie' },
    });
    const arrived = await stack.gemini.waitForRequest(
      (request) => stack.gemini.requests.indexOf(request) >= before && request.url.startsWith('/v1beta/models?'),
    );
    expectExactly(stack.gemini, arrived, {
      'x-goog-api-key': GEMINI_KEY,
      accept: 'application/json',
      'accept-encoding': 'identity',
    });
  });
});

describe("rule: Bard gets its fixed header list only, its two cookies rebuilt from the client's", () => {
  it.each<[string, (request: RecordedRequest) => boolean, Record<string, string>]>([
    ['page', (request) => request.url === '/app', { accept: 'text/html' }],
    [
      'StreamGenerate',
      (request) => request.url.includes('/StreamGenerate?'),
      { accept: '*/*', 'content-type': 'application/x-www-form-urlencoded;charset=UTF-8' },
    ],
  ])(
    'should send Bard only its cookies, a browser agent, accept and accept-encoding on its %s call, a stray authorization and cookie dropped',
    async (call, isCall, extra) => {
      const psid = `g.a000list${call}`;
      await callWithStrays('/google/bard', {
        headers: {
          authorization: 'Bearer sk-stray-bard-0123456789',
          cookie: `other=stray; __Secure-1PSID=${psid};__Secure-1PSIDTS=sidts-list; NID=stray`,
          'content-type': 'application/json',
        },
        body: JSON.stringify({ prompt: `header list ${call}` }),
      });
      const arrived = await stack.bardWeb.waitForRequest(
        (request) => isCall(request) && String(request.headers.cookie).includes(psid),
      );
      expectExactly(stack.bardWeb, arrived, {
        cookie: `__Secure-1PSID=${psid}; __Secure-1PSIDTS=sidts-list`,
        'user-agent': FIREFOX,
        'accept-encoding': 'identity',
        ...extra,
      });
    },
  );
});

describe("rule: claude.ai gets its fixed header list only, its session cookie built from the client's key", () => {
  /** The claude.ai calls of one OpenAI-style chat: the conversation made for it, the message, and its delete. */
  const CHAT_CALLS: Array<[string, string, RegExp, Record<string, string>]> = [
    [
      'conversation creation',
      'POST',
      /^\/organizations\/[^/]+\/chat_conversations$/,
      { accept: 'application/json', 'content-type': 'application/json' },
    ],
    [
      'append_message',
      'POST',
      /^\/append_message$/,
      { accept: 'text/event-stream', 'content-type': 'application/json' },
    ],
    [
      'conversation delete',
      'DELETE',
      /^\/organizations\/[^/]+\/chat_conversations\/[^/]+$/,
      { accept: 'application/json' },
    ],
  ];

  it.each(CHAT_CALLS)(
    'should send claude.ai only its session cookie, a browser agent, accept and accept-encoding on its %s call, strays dropped',
    async (call, method, upstreamPath, extra) => {
      const session = `sk-ant-sid01-list-${call.replace(/\W/g, '-')}`;
      await callWithStrays(`/claude/${CLAUDE_WEB_ORG}/v1/chat/completions`, {
        headers: { authorization: `Bearer ${session}`, cookie: 'other=stray', 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'claude-2.1', messages: [{ role: 'user', content: `header list ${call}` }] }),
      });
      // The delete runs once the answer ended: the wait covers it.
      const arrived = await stack.claudeWeb.fake.waitForRequest(
        (request) =>
          request.method === method &&
          upstreamPath.test(request.url) &&
          String(request.headers.cookie).includes(session),
      );
      expectExactly(stack.claudeWeb.fake, arrived, {
        cookie: `sessionKey=${session}`,
        'user-agent': CHROME,
        'accept-encoding': 'identity',
        ...extra,
      });
    },
  );

  it('should send claude.ai only its session cookie, a browser agent, accept and accept-encoding on the conversation list route, strays dropped', async () => {
    const session = 'sk-ant-sid01-list-conversations';
    await callWithStrays(`/claude/organizations/${CLAUDE_WEB_ORG}/chat_conversations`, {
      headers: { authorization: 'Bearer sk-stray-0123456789', cookie: `other=stray; sessionKey=${session}; cf=stray` },
    });
    const arrived = await stack.claudeWeb.fake.waitForRequest(
      (request) => request.method === 'GET' && String(request.headers.cookie).includes(session),
    );
    expectExactly(stack.claudeWeb.fake, arrived, {
      cookie: `sessionKey=${session}`,
      accept: 'application/json',
      'user-agent': CHROME,
      'accept-encoding': 'identity',
    });
  });
});
