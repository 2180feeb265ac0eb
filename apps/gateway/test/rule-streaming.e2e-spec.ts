import { constants, gunzipSync } from 'node:zlib';
import {
  type AnswerCut,
  type AnswerOptions,
  type FaultPlan,
  type FaultRecord,
  anthropicStreamError,
  errorAfter,
  jsonAnswer,
  streamAnswer,
} from '@openai-proxy/testing-fakes';
import {
  CLIENT_ANTHROPIC_KEY,
  type FaultStack,
  STREAM_ROUTE_NAMES,
  type StreamRoute,
  type StreamRouteName,
  chatHeaders,
  chatRequestBody,
  framesThrough,
  recordWith,
  recordsWith,
  routeNamed,
  startFaultStack,
} from './support/fault-stack';
import {
  ClientCall,
  type ClientExchange,
  type StreamEnding,
  exchange,
  sseData,
  streamEnding,
  streamedText,
} from './support/stream-client';

// The streaming rules of the data plane, each proven through the whole product: a client calls the gateway, which
// relays to the openai-relay (or reaches a bridge that translates), which calls a fault upstream the test scripts.
// Every test checks what the client saw and what the fake saw.

/** The relay's and the bridges' idle budget between two body reads of an upstream answer. */
const IDLE_TIMEOUT_MS = 400;
const FIRST_WORD = 'Hel';
const WORDS = [FIRST_WORD, 'lo', ' world'];
const CLAUDE_WEB_ORG = 'dca2a902-a463-41f0-88cb-b047deb40178';
const CLAUDE_WEB_SESSION = 'sk-ant-sid01-fault-session';
const BARD_COOKIES = '__Secure-1PSID=g.a000faultPSID;__Secure-1PSIDTS=sidts-faultTS';

let faults: FaultStack;

beforeAll(async () => {
  const idle = { UPSTREAM_IDLE_TIMEOUT_MS: String(IDLE_TIMEOUT_MS) };
  faults = await startFaultStack({ relayEnv: idle, claudeEnv: idle, bardEnv: idle });
});

afterAll(async () => {
  await faults.close();
});

function route(name: StreamRouteName): StreamRoute {
  return routeNamed(faults.routes, name);
}

/** Streams a chat completion carrying `marker` on `route`, the upstream answering with `plan`; reads it whole. */
async function streamThrough(
  chat: StreamRoute,
  marker: string,
  plan: FaultPlan,
  headers: Record<string, string> = {},
): Promise<ClientExchange> {
  chat.upstream.next(plan);
  return exchange(`${faults.stack.gatewayUrl}${chat.path}`, {
    headers: chatHeaders(chat, headers),
    body: chatRequestBody(chat, marker),
  });
}

/** The frames up to the first word's: a cut there leaves one word delivered. */
function afterFirstWord(frames: readonly string[]): number {
  return framesThrough(frames, FIRST_WORD);
}

/** Whether the upstream call asked for a stream: `"stream": true` in the body, or Gemini's streaming method. */
function askedToStream(record: FaultRecord): boolean {
  return (
    record.request.url.includes(':streamGenerateContent') || /"stream":\s*true/.test(record.request.body.toString())
  );
}

/** Expects the client's stream to end with an OpenAI error frame then `data: [DONE]`, the first word delivered. */
function expectFailedEnd(client: ClientExchange): StreamEnding {
  const ending = streamEnding(client.text);
  expect([client.status, client.failure]).toEqual([200, undefined]);
  expect(ending.endsWithDone).toBe(true);
  expect(ending.finalError).toBeDefined();
  expect(streamedText(sseData(client.text))).toContain(FIRST_WORD);
  return ending;
}

describe('rule: after the first byte, a failure ends the stream with an error frame then [DONE]', () => {
  describe.each(STREAM_ROUTE_NAMES)('%s', (name) => {
    it('should end a complete stream cleanly with [DONE], every word delivered and no error frame', async () => {
      const chat = route(name);
      const frames = chat.answers.complete(WORDS);
      const client = await streamThrough(chat, `clean-${name}`, streamAnswer(frames));
      const data = sseData(client.text);
      expect([client.status, client.failure]).toEqual([200, undefined]);
      expect(streamedText(data)).toBe(WORDS.join(''));
      expect(streamEnding(client.text)).toEqual({ endsWithDone: true, finalError: undefined, errors: [] });
      const record = await recordWith(chat.upstream, `clean-${name}`);
      expect(record.request.url.startsWith(chat.upstreamPath)).toBe(true);
      expect(askedToStream(record)).toBe(true);
      expect(record.writes).toHaveLength(frames.length);
      expect(record.request.closedEarly).toBe(false);
    });

    it.each<[string, AnswerCut['how']]>([
      ['a clean close before the terminator', 'close'],
      ['a connection reset', 'reset'],
      ['an idle stall', 'stall'],
    ])('should end a stream cut by %s with an error frame then [DONE], never a clean end', async (_, how) => {
      const chat = route(name);
      const frames = chat.answers.complete(WORDS);
      const afterWrites = how === 'close' ? frames.length - 1 : afterFirstWord(frames);
      const marker = `cut-${how}-${name}`;
      const client = await streamThrough(chat, marker, streamAnswer(frames, { cut: { afterWrites, how } }));
      const code = expectFailedEnd(client).finalError?.code;
      const record = await recordWith(chat.upstream, marker);
      expect(record.writes).toHaveLength(afterWrites);
      expect(recordsWith(chat.upstream, marker)).toHaveLength(1);
      if (how === 'close') {
        // The answer ended as HTTP allows: its connection may stay in the pool, the stream still lost its end.
        expect(record.request.closedEarly).toBe(false);
        return;
      }
      const closedAt = await chat.upstream.waitForSocketClose(record);
      expect(closedAt).toBeLessThanOrEqual(client.endedAt + 1_000);
      expect(code).toBe(how === 'stall' ? 'upstream_timeout' : 'upstream_connection_reset');
      expect(record.request.closedEarly).toBe(true);
    });

    it('should end a stream whose provider sent an error mid-stream with that one error frame then [DONE]', async () => {
      const chat = route(name);
      const frames = chat.answers.complete(WORDS);
      const errorFrame = chat.answers.error('the model fell over');
      const sent = errorAfter(frames, afterFirstWord(frames), errorFrame);
      const marker = `provider-error-${name}`;
      const client = await streamThrough(chat, marker, streamAnswer(sent));
      const { errors } = expectFailedEnd(client);
      // The provider's error frame was the stream's end: no second one of ours follows it.
      expect(errors).toHaveLength(1);
      expect(errors[0]?.message).toContain('the model fell over');
      const record = await recordWith(chat.upstream, marker);
      expect(record.writes).toHaveLength(sent.length);
      expect(recordsWith(chat.upstream, marker)).toHaveLength(1);
    });
  });
});

describe("rule: a provider error frame is a relayed stream's end, followed by [DONE] and no error of ours", () => {
  /** Streams a request carrying `marker` through the transparent relay at `path`, the upstream sending `frames`. */
  async function relayThrough(
    upstream: FaultStack['openai'],
    path: string,
    headers: Record<string, string>,
    marker: string,
    frames: readonly string[],
  ): Promise<ClientExchange> {
    upstream.next(streamAnswer(frames));
    const client = await exchange(`${faults.stack.gatewayUrl}${path}`, {
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ model: 'a-model', stream: true, messages: [{ role: 'user', content: marker }] }),
    });
    expect(recordsWith(upstream, marker)).toHaveLength(1);
    return client;
  }

  const openAiError = route.bind(undefined, 'relay /openai');

  it('should add only [DONE] after an OpenAI error frame the upstream closed its stream on', async () => {
    const frames = openAiError().answers.complete(WORDS);
    const sent = errorAfter(frames, afterFirstWord(frames), openAiError().answers.error('the model fell over'));
    const client = await relayThrough(
      faults.openai,
      '/openai/v1/chat/completions',
      chatHeaders(openAiError()),
      'relayed-openai-error',
      sent,
    );
    expect([client.status, client.failure]).toEqual([200, undefined]);
    expect(client.text).toBe(`${sent.join('')}data: [DONE]\n\n`);
  });

  it("should send an OpenAI error frame and the upstream's own [DONE] after it unchanged", async () => {
    const frames = openAiError().answers.complete(WORDS);
    const sent = [
      ...errorAfter(frames, afterFirstWord(frames), openAiError().answers.error('the model fell over')),
      'data: [DONE]\n\n',
    ];
    const client = await relayThrough(
      faults.openai,
      '/openai/v1/chat/completions',
      chatHeaders(openAiError()),
      'relayed-openai-error-done',
      sent,
    );
    expect(client.text).toBe(sent.join(''));
  });

  it('should end an Anthropic stream on its error event, with no error frame of ours after it', async () => {
    const frames = route('claude-bridge /claude/v1').answers.complete(WORDS);
    const sent = errorAfter(
      frames,
      framesThrough(frames, FIRST_WORD),
      anthropicStreamError('overloaded_error', 'Overloaded'),
    );
    const client = await relayThrough(
      faults.anthropic,
      '/anthropic/v1/messages',
      { 'x-api-key': CLIENT_ANTHROPIC_KEY, 'anthropic-version': '2023-06-01' },
      'relayed-anthropic-error',
      sent,
    );
    expect([client.status, client.failure]).toEqual([200, undefined]);
    expect(client.text).toBe(sent.join(''));
  });
});

describe('rule: an event stream goes out unbuffered, uncompressed and untransformed', () => {
  it.each(STREAM_ROUTE_NAMES)(
    'should bring each word to the client while the upstream still holds the next one on %s',
    async (name) => {
      const chat = route(name);
      const frames = chat.answers.complete(WORDS);
      const afterWrites = afterFirstWord(frames);
      chat.upstream.next(streamAnswer(frames, { cut: { afterWrites, how: 'stall' } }));
      const call = new ClientCall(`${faults.stack.gatewayUrl}${chat.path}`, {
        headers: chatHeaders(chat),
        body: chatRequestBody(chat, `unbuffered-${name}`),
      });
      const soFar = await call.textSoFar(FIRST_WORD);
      const record = await recordWith(chat.upstream, `unbuffered-${name}`);
      // The word came while the upstream held the rest back: nothing on the way waited for more bytes or the end.
      expect(soFar).toBeDefined();
      expect(soFar).not.toContain('"error"');
      expect(record.writes).toHaveLength(afterWrites);
      expect(record.socketClosedAt).toBeUndefined();
      expect(streamedText(sseData((await call.done).text))).toBe(FIRST_WORD);
    },
  );

  it.each(STREAM_ROUTE_NAMES)(
    'should send text/event-stream, Cache-Control no-cache no-transform and X-Accel-Buffering no on %s',
    async (name) => {
      const chat = route(name);
      const client = await streamThrough(chat, `headers-${name}`, streamAnswer(chat.answers.complete(WORDS)), {
        'accept-encoding': 'gzip, deflate, br',
      });
      expect(client.status).toBe(200);
      expect(client.headers['content-type']).toMatch(/^text\/event-stream/);
      const cacheControl = String(client.headers['cache-control']).split(/,\s*/);
      expect(cacheControl).toEqual(expect.arrayContaining(['no-cache', 'no-transform']));
      expect(client.headers['x-accel-buffering']).toBe('no');
      expect(client.headers['content-encoding']).toBeUndefined();
      expect(client.headers['content-length']).toBeUndefined();
      expect(streamedText(sseData(client.text))).toBe(WORDS.join(''));
      const record = await recordWith(chat.upstream, `headers-${name}`);
      expect(record.writes).toHaveLength(chat.answers.complete(WORDS).length);
    },
  );

  it.each<StreamRouteName>(['claude-bridge /claude/v1', 'bard-bridge /google/v1'])(
    'should ask the provider for Accept-Encoding: identity on %s',
    async (name) => {
      const chat = route(name);
      await streamThrough(chat, `identity-${name}`, streamAnswer(chat.answers.complete(WORDS)), {
        'accept-encoding': 'gzip',
      });
      const record = await recordWith(chat.upstream, `identity-${name}`);
      expect(record.request.headers['accept-encoding']).toBe('identity');
    },
  );

  it('should ask claude.ai for Accept-Encoding: identity on a streamed claude.ai chat', async () => {
    const client = await exchange(`${faults.stack.gatewayUrl}/claude/${CLAUDE_WEB_ORG}/v1/chat/completions`, {
      headers: {
        authorization: `Bearer ${CLAUDE_WEB_SESSION}`,
        'content-type': 'application/json',
        'accept-encoding': 'gzip',
      },
      body: JSON.stringify({
        model: 'claude-2.1',
        stream: true,
        messages: [{ role: 'user', content: 'identity-web' }],
      }),
    });
    expect(client.status).toBe(200);
    expect(sseData(client.text).at(-1)).toBe('[DONE]');
    const call = await faults.stack.claudeWeb.fake.waitForRequest((request) => request.body.includes('identity-web'));
    expect(call.headers['accept-encoding']).toBe('identity');
  });

  it('should ask Bard for Accept-Encoding: identity on its streamed answer call', async () => {
    const client = await exchange(`${faults.stack.gatewayUrl}/google/bard`, {
      headers: { cookie: BARD_COOKIES, 'content-type': 'application/json', 'accept-encoding': 'gzip' },
      body: JSON.stringify({ prompt: 'identity-bard' }),
    });
    expect(client.status).toBe(200);
    const call = await faults.stack.bardWeb.waitForRequest((request) => request.body.includes('identity-bard'));
    expect(call.headers['accept-encoding']).toBe('identity');
  });

  it("should ask Bard for Accept-Encoding: identity on its page call, whatever the client's Accept-Encoding", async () => {
    // Cookies of their own: no earlier call left this pair's page tokens in the cache, so the page is called.
    const cookies = '__Secure-1PSID=g.a000identityPage;__Secure-1PSIDTS=sidts-identityPage';
    const client = await exchange(`${faults.stack.gatewayUrl}/google/bard`, {
      headers: { cookie: cookies, 'content-type': 'application/json', 'accept-encoding': 'gzip, br' },
      body: JSON.stringify({ prompt: 'identity-page' }),
    });
    expect(client.status).toBe(200);
    const page = await faults.stack.bardWeb.waitForRequest(
      (request) => request.url === '/app' && String(request.headers.cookie).includes('identityPage'),
    );
    expect(page.method).toBe('GET');
    expect(page.headers['accept-encoding']).toBe('identity');
  });

  it.each<[StreamRouteName, string, AnswerOptions]>([
    ['relay /openai', 'chunked', {}],
    ['relay /openai', 'with its exact Content-Length', { contentLength: 'exact' }],
    ['team /v1', 'chunked', {}],
    ['team /v1', 'with its exact Content-Length', { contentLength: 'exact' }],
  ])(
    'should bring a gzip event stream from the upstream to the client decodable and described truly, on %s (%s)',
    async (name, _, framing) => {
      const chat = route(name);
      const frames = chat.answers.complete(WORDS);
      const marker = `gzip-${name}-${framing.contentLength ?? 'chunked'}`;
      const client = await streamThrough(chat, marker, streamAnswer(frames, { gzip: true, ...framing }), {
        'accept-encoding': 'gzip',
      });
      expect([client.status, client.failure]).toEqual([200, undefined]);
      // The gzip bytes pass unchanged, so their Content-Encoding (and a length) still describe them.
      expect(client.headers['content-encoding']).toBe('gzip');
      const decoded = gunzipSync(client.bytes).toString('utf8');
      expect(streamedText(sseData(decoded))).toBe(WORDS.join(''));
      expect(streamEnding(decoded)).toEqual({ endsWithDone: true, finalError: undefined, errors: [] });
      expect(client.headers['content-length']).toBe(
        framing.contentLength === 'exact' ? String(client.bytes.length) : undefined,
      );
      const record = await recordWith(chat.upstream, marker);
      expect(record.writes).toHaveLength(frames.length);
      expect(client.bytes.length).toBe(record.writes.reduce((sum, bytes) => sum + bytes, 0));
    },
  );
});

describe('rule: a compressed relayed stream that breaks is cut, never given a frame of ours', () => {
  /** What a client's gzip decoder makes of bytes that may stop short: the text it got, and whether it was whole. */
  function decodeGzip(bytes: Buffer): { text: string; whole: boolean } {
    let whole = true;
    try {
      gunzipSync(bytes);
    } catch {
      whole = false;
    }
    return { text: gunzipSync(bytes, { finishFlush: constants.Z_SYNC_FLUSH }).toString('utf8'), whole };
  }

  it.each<[StreamRouteName, AnswerCut['how']]>([
    ['relay /openai', 'close'],
    ['relay /openai', 'reset'],
    ['team /v1', 'close'],
    ['team /v1', 'reset'],
  ])(
    'should bring a gzip event stream the upstream broke off to the client cut, its decoder seeing the truncation, on %s (%s)',
    async (name, how) => {
      const chat = route(name);
      const frames = chat.answers.complete(WORDS);
      const afterWrites = afterFirstWord(frames);
      const marker = `gzip-cut-${how}-${name}`;
      const client = await streamThrough(
        chat,
        marker,
        streamAnswer(frames, { gzip: true, cut: { afterWrites, how } }),
        {
          'accept-encoding': 'gzip',
        },
      );
      expect(client.status).toBe(200);
      expect(client.headers['content-encoding']).toBe('gzip');
      // A clean close ends the HTTP answer as the upstream ended it; a reset cuts the client's connection too.
      expect(client.failure === undefined).toBe(how === 'close');
      const record = await recordWith(chat.upstream, marker);
      expect(record.writes).toHaveLength(afterWrites);
      const sent = record.writes.reduce((sum, bytes) => sum + bytes, 0);
      // The upstream's gzip bytes and nothing of ours: no error frame (it would corrupt the gzip stream), no [DONE].
      expect(client.bytes.length).toBeLessThanOrEqual(sent);
      if (how === 'close') {
        expect(client.bytes.length).toBe(sent);
      }
      const decoded = decodeGzip(client.bytes);
      expect(decoded.whole).toBe(false);
      expect(streamedText(sseData(decoded.text))).toBe(FIRST_WORD);
      expect(decoded.text).not.toContain('"error"');
      expect(decoded.text).not.toContain('[DONE]');
      expect(recordsWith(chat.upstream, marker)).toHaveLength(1);
    },
  );
});

describe('rule: an upstream error before the first byte keeps its status and Retry-After, as JSON', () => {
  describe.each(STREAM_ROUTE_NAMES)('%s', (name) => {
    it.each([429, 503])(
      'should answer a streamed request the upstream refused with %i as JSON, Retry-After kept',
      async (status) => {
        const chat = route(name);
        const marker = `refused-${status}-${name}`;
        const client = await streamThrough(
          chat,
          marker,
          jsonAnswer(status, chat.answers.errorBody(status, 'come back later'), { headers: { 'retry-after': '7' } }),
        );
        expect(client.status).toBe(status);
        expect(client.headers['content-type']).toMatch(/^application\/json/);
        expect(client.headers['retry-after']).toBe('7');
        expect(JSON.parse(client.text)).toMatchObject({ error: { message: expect.any(String) } });
        expect(client.text).not.toContain('data:');
        const record = await recordWith(chat.upstream, marker);
        expect(askedToStream(record)).toBe(true);
        expect(record.headersSentAt).toBeDefined();
        // Asked to wait 7 s, longer than the retry layer waits for a retry: the answer went to the client at once.
        expect(recordsWith(chat.upstream, marker)).toHaveLength(1);
      },
    );
  });
});
