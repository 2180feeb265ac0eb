import { createHash, randomBytes } from 'node:crypto';
import { MAX_ANSWER_BYTES } from '@openai-proxy/data-access-upstream';
import { type AnswerPlan, type FaultUpstream, jsonAnswer } from '@openai-proxy/testing-fakes';
import { z } from 'zod';
import {
  CLIENT_ANTHROPIC_KEY,
  CLIENT_GEMINI_KEY,
  type FaultStack,
  type StreamRouteName,
  chatHeaders,
  recordWith,
  recordsWith,
  routeNamed,
  startFaultStack,
} from './support/fault-stack';
import { urlOf } from './support/stack';
import { type ClientExchange, exchange } from './support/stream-client';

// The body rules, proven through the whole product (client → gateway → relay or bridge → fault upstream): a large
// base64 body arrives whole and unchanged, one over the limit is refused with 413 before any upstream contact,
// and a body that cannot be read is a 400 invalid_request_error that tells nothing of our insides.

const MIB = 1024 * 1024;
/** Every service's body limit in this test (MAX_JSON_BODY_BYTES and MAX_RELAY_BODY_BYTES): 10 MiB. */
const BODY_LIMIT = 10 * MIB;
/** 6.75 MiB of image bytes: a base64 string of 9 MiB, the size of a large base64 image. */
const IMAGE = randomBytes((9 * MIB * 3) / 4);
const IMAGE_BASE64 = IMAGE.toString('base64');
const sha256 = (text: string | Buffer): string => createHash('sha256').update(text).digest('hex');

let faults: FaultStack;

beforeAll(async () => {
  const limits = { MAX_JSON_BODY_BYTES: String(BODY_LIMIT), MAX_RELAY_BODY_BYTES: String(BODY_LIMIT) };
  // The gateway's hop to each service keeps its default limit: each service's own limit is what refuses.
  faults = await startFaultStack({
    relayEnv: limits,
    gatewayEnv: { MAX_JSON_BODY_BYTES: String(BODY_LIMIT) },
    claudeEnv: limits,
    bardEnv: limits,
  });
});

afterAll(async () => {
  await faults.close();
});

/** A route a body is sent on, the fake it ends at, and how that fake's request shows the image. */
interface BodyRoute {
  name: string;
  path: string;
  headers(): Record<string, string>;
  upstream(): FaultUpstream;
  /** The provider's answer, so that a translating route completes. */
  answer(): unknown;
  /** `relay`: the body streams on as it comes; `json`: the service reads it whole first (team `/v1`, a bridge). */
  reads: 'relay' | 'json';
  /** The request body carrying `marker` and the base64 image `data`. */
  body(marker: string, data: string): string;
  /** Relays send the body on as it came; bridges translate it, and the image's base64 must arrive unchanged. */
  imageAsArrived?(body: Buffer): string | undefined;
}

const openAiChat =
  (model: string) =>
  (marker: string, data: string): string =>
    JSON.stringify({
      model,
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: marker },
            { type: 'image_url', image_url: { url: `data:image/png;base64,${data}` } },
          ],
        },
      ],
    });

const anthropicRequestSchema = z.object({
  messages: z.array(
    z.object({
      content: z.array(z.object({ type: z.string(), source: z.object({ data: z.string() }).optional() })),
    }),
  ),
});
const geminiRequestSchema = z.object({
  contents: z.array(z.object({ parts: z.array(z.object({ inlineData: z.object({ data: z.string() }).optional() })) })),
});

function chatRouteHeaders(name: StreamRouteName): () => Record<string, string> {
  return () => chatHeaders(routeNamed(faults.routes, name));
}

/** The plain JSON answer of the provider behind the chat route `name`. */
function providerAnswer(name: StreamRouteName): () => unknown {
  return () => routeNamed(faults.routes, name).answers.answer('seen');
}

const BODY_ROUTES: BodyRoute[] = [
  {
    name: 'relay /openai',
    path: '/openai/v1/chat/completions',
    headers: chatRouteHeaders('relay /openai'),
    upstream: () => faults.openai,
    answer: providerAnswer('relay /openai'),
    reads: 'relay',
    body: openAiChat('gpt-4o-mini'),
  },
  {
    name: 'team /v1',
    path: '/v1/chat/completions',
    headers: chatRouteHeaders('team /v1'),
    upstream: () => faults.openai,
    answer: providerAnswer('team /v1'),
    reads: 'json',
    body: openAiChat('gpt-4o-mini'),
  },
  {
    name: 'claude-bridge relay /anthropic',
    path: '/anthropic/v1/messages',
    headers: () => ({ 'x-api-key': CLIENT_ANTHROPIC_KEY, 'content-type': 'application/json' }),
    upstream: () => faults.anthropic,
    answer: providerAnswer('claude-bridge /claude/v1'),
    reads: 'relay',
    body: (marker, data) =>
      JSON.stringify({
        model: 'claude-sonnet-4-6',
        max_tokens: 16,
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: marker },
              { type: 'image', source: { type: 'base64', media_type: 'image/png', data } },
            ],
          },
        ],
      }),
  },
  {
    name: 'bard-bridge relay /gemini',
    path: '/gemini/v1beta/models/gemini-2.5-flash:generateContent',
    headers: () => ({ 'x-goog-api-key': CLIENT_GEMINI_KEY, 'content-type': 'application/json' }),
    upstream: () => faults.gemini,
    answer: providerAnswer('bard-bridge /google/v1'),
    reads: 'relay',
    body: (marker, data) =>
      JSON.stringify({
        contents: [{ role: 'user', parts: [{ text: marker }, { inlineData: { mimeType: 'image/png', data } }] }],
      }),
  },
  {
    name: 'claude-bridge /claude/v1',
    path: '/claude/v1/chat/completions',
    headers: chatRouteHeaders('claude-bridge /claude/v1'),
    upstream: () => faults.anthropic,
    answer: providerAnswer('claude-bridge /claude/v1'),
    reads: 'json',
    body: openAiChat('claude-sonnet-4-6'),
    imageAsArrived: (body) =>
      anthropicRequestSchema
        .parse(JSON.parse(body.toString('utf8')))
        .messages.flatMap((message) => message.content)
        .find((part) => part.type === 'image')?.source?.data,
  },
  {
    name: 'bard-bridge /google/v1',
    path: '/google/v1/chat/completions',
    headers: chatRouteHeaders('bard-bridge /google/v1'),
    upstream: () => faults.gemini,
    answer: providerAnswer('bard-bridge /google/v1'),
    reads: 'json',
    body: openAiChat('gemini-2.5-flash'),
    imageAsArrived: (body) =>
      geminiRequestSchema
        .parse(JSON.parse(body.toString('utf8')))
        .contents.flatMap((content) => content.parts)
        .find((part) => part.inlineData !== undefined)?.inlineData?.data,
  },
];

/**
 * The requests that reached every fake so far, their body finished or not: a refused body must leave this
 * unchanged (a request cut halfway through its body is contact too).
 */
function upstreamCalls(): number[] {
  return [faults.openai, faults.anthropic, faults.gemini].map((upstream) => upstream.arrivals);
}

const errorEnvelopeSchema = z
  .object({
    error: z
      .object({ message: z.string(), type: z.string(), param: z.string().nullable(), code: z.string().nullable() })
      .strict(),
  })
  .strict();

/** The OpenAI error envelope of an answer; throws (failing the test) when the body is anything else. */
function errorOf(client: ClientExchange): z.output<typeof errorEnvelopeSchema>['error'] {
  expect(client.headers['content-type']).toMatch(/^application\/json/);
  return errorEnvelopeSchema.parse(JSON.parse(client.text)).error;
}

/** Expects a body a client gets to tell nothing of our insides: no stack frame, file path or module. */
function expectNoInternals(text: string): void {
  expect(text).not.toMatch(/\/work\/|\/app\/|node_modules|\.[cm]?[jt]s:\d|\bat [\w$.<>]+ \(|\n\s+at |node:internal/);
}

describe('rule: a large base64 body arrives whole and unchanged', () => {
  it.each(BODY_ROUTES.map((route) => [route.name, route] as const))(
    'should bring a 9 MiB base64 image body to the upstream byte for byte on %s',
    async (_, route) => {
      const marker = `large-${route.name}`;
      const body = route.body(marker, IMAGE_BASE64);
      expect(Buffer.byteLength(body)).toBeGreaterThan(9 * MIB);
      route.upstream().next(jsonAnswer(200, route.answer()));
      const client = await exchange(`${faults.stack.gatewayUrl}${route.path}`, {
        headers: route.headers(),
        body,
        withinMs: 20_000,
      });
      expect(client.status).toBe(200);
      const record = await recordWith(route.upstream(), marker);
      if (route.imageAsArrived === undefined) {
        expect(record.bodyBytes).toBe(Buffer.byteLength(body));
        expect(record.request.bodySha256).toBe(sha256(body));
      } else {
        expect(sha256(Buffer.from(route.imageAsArrived(record.request.body) ?? '', 'base64'))).toBe(sha256(IMAGE));
      }
      expect(recordsWith(route.upstream(), marker)).toHaveLength(1);
    },
    20_000,
  );
});

/**
 * The relay routes' services themselves, called directly: behind the gateway a chunked body reaches them with the
 * Content-Length the gateway's own spool gave it, so only a direct call reads it through the service's spool.
 */
const SERVICE_RELAY_ROUTES: Array<[string, () => string, BodyRoute]> = BODY_ROUTES.filter(
  (route) => route.reads === 'relay',
).map((route) => {
  const service = (): string => {
    const [claude, bard] = faults.stack.bridges;
    const app = route.path.startsWith('/anthropic') ? claude : route.path.startsWith('/gemini') ? bard : undefined;
    return app === undefined ? faults.stack.relayUrl : urlOf(app);
  };
  return [route.name, service, route];
});

describe("rule: each service's own relay reads a chunked body to its end before any upstream contact", () => {
  const OVERSIZE = 'x'.repeat(BODY_LIMIT + 64 * 1024);

  /** Each relay route through the gateway (whose spool reads the body), and from its own service directly. */
  const CHUNKED_TARGETS: Array<[string, () => string, BodyRoute]> = [
    ...SERVICE_RELAY_ROUTES.map(([name, , route]): [string, () => string, BodyRoute] => [
      `the gateway, ${name}`,
      () => faults.stack.gatewayUrl,
      route,
    ]),
    ...SERVICE_RELAY_ROUTES.map(([name, service, route]): [string, () => string, BodyRoute] => [
      `the service of ${name}`,
      service,
      route,
    ]),
  ];

  it.each(CHUNKED_TARGETS)(
    'should bring a 9 MiB chunked body to the upstream byte for byte, its length declared, once, from %s',
    async (target, base, route) => {
      const marker = `large-chunked-${target}`;
      const body = route.body(marker, IMAGE_BASE64);
      route.upstream().next(jsonAnswer(200, route.answer()));
      const client = await exchange(`${base()}${route.path}`, {
        headers: route.headers(),
        body,
        chunked: true,
        withinMs: 20_000,
      });
      expect(client.status).toBe(200);
      const record = await recordWith(route.upstream(), marker);
      expect(record.request.bodySha256).toBe(sha256(body));
      expect(record.request.headers['content-length']).toBe(String(Buffer.byteLength(body)));
      expect(record.request.headers['transfer-encoding']).toBeUndefined();
      expect(recordsWith(route.upstream(), marker)).toHaveLength(1);
    },
    20_000,
  );

  it.each(SERVICE_RELAY_ROUTES)(
    'should refuse a chunked body over the limit with 413, no upstream called, from the service of %s',
    async (_, service, route) => {
      const before = upstreamCalls();
      const client = await exchange(`${service()}${route.path}`, {
        headers: route.headers(),
        body: route.body(`direct-oversize-chunked-${route.name}`, OVERSIZE),
        chunked: true,
      });
      expect(client.status).toBe(413);
      expect(errorOf(client)).toMatchObject({ type: 'invalid_request_error', code: 'payload_too_large' });
      expect(upstreamCalls()).toEqual(before);
    },
  );
});

describe('rule: a body over the limit is a 413 OpenAI error before any upstream contact', () => {
  const OVERSIZE = 'x'.repeat(BODY_LIMIT + 64 * 1024);

  it.each(BODY_ROUTES.map((route) => [route.name, route] as const))(
    'should refuse a declared body over the limit with 413 payload_too_large, no upstream called, on %s',
    async (_, route) => {
      const before = upstreamCalls();
      const client = await exchange(`${faults.stack.gatewayUrl}${route.path}`, {
        headers: route.headers(),
        body: route.body(`oversize-${route.name}`, OVERSIZE),
      });
      expect(client.status).toBe(413);
      expect(errorOf(client)).toMatchObject({ type: 'invalid_request_error', code: 'payload_too_large' });
      expectNoInternals(client.text);
      expect(upstreamCalls()).toEqual(before);
    },
  );

  // A body of unknown length is read to its end first: a JSON route parses it, a relay spools it (request-spool.ts).
  it.each(BODY_ROUTES.map((route) => [route.name, route] as const))(
    'should refuse a chunked body that grows over the limit with 413, no upstream called, on %s',
    async (_, route) => {
      const before = upstreamCalls();
      const client = await exchange(`${faults.stack.gatewayUrl}${route.path}`, {
        headers: route.headers(),
        body: route.body(`oversize-chunked-${route.name}`, OVERSIZE),
        chunked: true,
      });
      expect(client.status).toBe(413);
      expect(errorOf(client)).toMatchObject({ type: 'invalid_request_error', code: 'payload_too_large' });
      expect(upstreamCalls()).toEqual(before);
    },
  );
});

describe('rule: a body that cannot be read is a 400 invalid_request_error, naming the field, with no internals', () => {
  /** The routes that read the JSON themselves: the gateway's team `/v1` and the translating bridges. */
  const JSON_ROUTES: StreamRouteName[] = ['team /v1', 'claude-bridge /claude/v1', 'bard-bridge /google/v1'];
  /** The bridges validate a chat request field by field; team `/v1` sends an OpenAI model's request on to OpenAI. */
  const TRANSLATING_ROUTES: StreamRouteName[] = ['claude-bridge /claude/v1', 'bard-bridge /google/v1'];

  /** Sends `body` with `headers` on the route, and expects a 400 invalid_request_error that reached no upstream. */
  async function expectRefused(
    name: StreamRouteName,
    body: string,
    headers: Record<string, string> = {},
  ): Promise<z.output<typeof errorEnvelopeSchema>['error']> {
    const chat = routeNamed(faults.routes, name);
    const before = upstreamCalls();
    const client = await exchange(`${faults.stack.gatewayUrl}${chat.path}`, {
      headers: chatHeaders(chat, headers),
      body,
    });
    expect(client.status).toBe(400);
    const error = errorOf(client);
    expect(error.type).toBe('invalid_request_error');
    expectNoInternals(client.text);
    expect(upstreamCalls()).toEqual(before);
    return error;
  }

  it.each(JSON_ROUTES)('should refuse malformed JSON with 400 and no internals, on %s', async (name) => {
    const error = await expectRefused(name, '{"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"');
    expect(error.code).toBe('invalid_request');
  });

  it.each(
    JSON_ROUTES.flatMap((name): Array<[StreamRouteName, string, string]> => [
      [name, 'text/plain', 'hello there'],
      [name, 'application/x-www-form-urlencoded', 'model=gpt-4o-mini&messages=hi'],
    ]),
  )(
    'should refuse a body that is not JSON under a wrong content type with 400, on %s (%s)',
    async (name, type, body) => {
      await expectRefused(name, body, { 'content-type': type });
    },
  );

  it.each(JSON_ROUTES)('should refuse a body that is a JSON array, not an object, with 400, on %s', async (name) => {
    await expectRefused(name, '[{"role":"user","content":"hi"}]');
  });

  it.each(
    TRANSLATING_ROUTES.flatMap((name): Array<[StreamRouteName, string, string, Record<string, unknown>]> => [
      [name, 'no messages', 'messages', { model: routeModel(name) }],
      [name, 'no model', 'model', { messages: [{ role: 'user', content: 'hi' }] }],
      [name, 'messages not an array', 'messages', { model: routeModel(name), messages: 'hi' }],
    ]),
  )('should refuse a missing or mistyped field with 400 naming it, on %s (%s)', async (name, _, field, body) => {
    const error = await expectRefused(name, JSON.stringify(body));
    expect(error.param).toBe(field);
  });

  // Team /v1 routes by model, so it reads the model itself: a missing one is OpenAI's 400, an unknown one a 404.
  const MESSAGES = [{ role: 'user', content: 'hi' }];
  it.each([
    ['/v1/chat/completions', 'no model', { messages: MESSAGES }, 'model is required'],
    ['/v1/chat/completions', 'an empty model', { model: '', messages: MESSAGES }, 'model is required'],
    ['/v1/chat/completions', 'a number for model', { model: 42, messages: MESSAGES }, 'model must be a string'],
    ['/v1/embeddings', 'no model', { input: 'hi' }, 'model is required'],
    ['/v1/embeddings', 'a list for model', { model: ['gpt-4o-mini'], input: 'hi' }, 'model must be a string'],
  ])(
    'should refuse %s with %s as a 400 invalid_request_error naming model, no upstream called, on team /v1',
    async (path, _, body, message) => {
      const before = upstreamCalls();
      const client = await exchange(`${faults.stack.gatewayUrl}${path}`, {
        headers: chatHeaders(routeNamed(faults.routes, 'team /v1')),
        body: JSON.stringify(body),
      });
      expect(client.status).toBe(400);
      expect(errorOf(client)).toEqual({
        type: 'invalid_request_error',
        code: 'invalid_request',
        param: 'model',
        message,
      });
      expect(upstreamCalls()).toEqual(before);
    },
  );

  it('should still answer an unknown model name with 404 model_not_found on team /v1', async () => {
    const before = upstreamCalls();
    const client = await exchange(`${faults.stack.gatewayUrl}/v1/chat/completions`, {
      headers: chatHeaders(routeNamed(faults.routes, 'team /v1')),
      body: JSON.stringify({ model: 'no-such-model', messages: MESSAGES }),
    });
    expect(client.status).toBe(404);
    expect(errorOf(client)).toMatchObject({ code: 'model_not_found', param: 'model' });
    expect(upstreamCalls()).toEqual(before);
  });
});

function routeModel(name: StreamRouteName): string {
  return name === 'claude-bridge /claude/v1' ? 'claude-sonnet-4-6' : 'gemini-2.5-flash';
}

describe('rule: a provider answer read whole is capped at 64 MiB, past it a 502', () => {
  /** One write of the oversize answer: 1 MiB of its one string's characters. */
  const PAD = 'a'.repeat(MIB);
  /**
   * Pieces enough to pass the cap by 16 MiB, between the start and the end of a JSON object: more than the
   * sockets' buffers hold, so a reader that stops at the cap leaves the rest unsent.
   */
  const PAD_PIECES = MAX_ANSWER_BYTES / MIB + 16;

  /** A 200 JSON answer (chunked, as a provider streams a large body) one piece over the cap. */
  function oversizeAnswer(): AnswerPlan {
    return {
      kind: 'answer',
      status: 200,
      headers: { 'content-type': 'application/json' },
      body: ['{"pad":"', ...Array.from({ length: PAD_PIECES }, () => PAD), '"}'],
    };
  }

  it.each<StreamRouteName>(['claude-bridge /claude/v1', 'bard-bridge /google/v1'])(
    'should answer 502 upstream_bad_response and stop reading when a provider answer that does not stream passes 64 MiB, on %s',
    async (name) => {
      expect(MAX_ANSWER_BYTES).toBe(64 * MIB);
      const chat = routeNamed(faults.routes, name);
      const marker = `oversize-answer-${name}`;
      chat.upstream.next(oversizeAnswer());
      const client = await exchange(`${faults.stack.gatewayUrl}${chat.path}`, {
        headers: chatHeaders(chat),
        body: JSON.stringify({ model: chat.model, messages: [{ role: 'user', content: marker }] }),
        withinMs: 20_000,
      });
      expect(client.status).toBe(502);
      expect(errorOf(client)).toMatchObject({ code: 'upstream_bad_response', message: 'Provider answer is too large' });
      expectNoInternals(client.text);
      const record = await recordWith(chat.upstream, marker);
      await chat.upstream.waitForSocketClose(record);
      // The bridge stopped reading once past the cap and closed the connection: the rest was never sent.
      expect(record.request.closedEarly).toBe(true);
      const sent = record.writes.reduce((sum, bytes) => sum + bytes, 0);
      expect(sent).toBeGreaterThan(MAX_ANSWER_BYTES);
      expect(record.writes.length).toBeLessThan(PAD_PIECES + 2);
      expect(sent).toBeLessThan(MAX_ANSWER_BYTES + 16 * MIB);
      expect(recordsWith(chat.upstream, marker)).toHaveLength(1);
    },
    20_000,
  );
});
