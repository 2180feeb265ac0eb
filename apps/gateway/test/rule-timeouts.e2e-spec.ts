import { type FaultPlan, jsonAnswer, streamAnswer } from '@openai-proxy/testing-fakes';
import { z } from 'zod';
import {
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
  startChat,
  startFaultStack,
} from './support/fault-stack';
import { ClientCall, exchange, sseData, streamEnding, streamedText } from './support/stream-client';

// The timeout rules, proven through the whole product (client → gateway → relay or bridge → fault upstream): an
// upstream that goes quiet mid-stream or never answers is given up at the configured time, the client gets an
// OpenAI error (an error frame after the first byte, a 504 before it), and the upstream's socket is closed.

/** The relay's and the bridges' budgets under test; the gateway keeps its defaults (its hop never stalls). */
const IDLE_TIMEOUT_MS = 1_000;
const HEADERS_TIMEOUT_MS = 1_000;
/**
 * undici runs these budgets on its coarse clock, which moves in 499 ms steps and credits a new timer with the
 * step it waited for: a 1000 ms budget fires between 998 and 1497 ms after it started (then later on a loaded
 * machine), never more than 2 ms early.
 */
const TIMER_EARLY_MS = 2;
const SLACK_MS = 1_000;
const FIRST_WORD = 'Hel';
const WORDS = [FIRST_WORD, 'lo', ' world'];

let faults: FaultStack;

beforeAll(async () => {
  const budgets = {
    UPSTREAM_IDLE_TIMEOUT_MS: String(IDLE_TIMEOUT_MS),
    UPSTREAM_HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS),
  };
  faults = await startFaultStack({ relayEnv: budgets, claudeEnv: budgets, bardEnv: budgets });
});

afterAll(async () => {
  await faults.close();
});

function route(name: StreamRouteName): StreamRoute {
  return routeNamed(faults.routes, name);
}

/** Expects `elapsed` to be the budget `budgetMs`, as undici's clock keeps it. */
function expectBudget(elapsed: number, budgetMs: number): void {
  expect(elapsed).toBeGreaterThanOrEqual(budgetMs - TIMER_EARLY_MS);
  expect(elapsed).toBeLessThanOrEqual(budgetMs + SLACK_MS);
}

describe('rule: an upstream idle past UPSTREAM_IDLE_TIMEOUT_MS mid-stream ends the stream with an error frame', () => {
  it.each(STREAM_ROUTE_NAMES)(
    'should send the upstream_timeout error frame at the idle budget and close the upstream socket, on %s',
    async (name) => {
      const chat = route(name);
      const frames = chat.answers.complete(WORDS);
      const afterWrites = framesThrough(frames, FIRST_WORD);
      const marker = `idle-${name}`;
      // Read the moment the fake wrote its last bytes: the idle budget runs from there.
      const lastWriteAt = chat.upstream.waitFor(
        () => {
          const writes = chat.upstream.records.find((record) => record.request.body.includes(marker))?.writes;
          return writes?.length === afterWrites ? Date.now() : undefined;
        },
        5_000,
        'the last write before the stall',
      );
      const call = startChat(faults, chat, marker, streamAnswer(frames, { cut: { afterWrites, how: 'stall' } }));
      const errorAt = call.textSoFar('"error"').then(() => Date.now());
      const client = await call.done;
      const wroteAt = await lastWriteAt;
      expectBudget((await errorAt) - wroteAt, IDLE_TIMEOUT_MS);
      const ending = streamEnding(client.text);
      expect([client.status, client.failure, ending.endsWithDone]).toEqual([200, undefined, true]);
      expect(ending.finalError?.code).toBe('upstream_timeout');
      expect(streamedText(sseData(client.text))).toBe(FIRST_WORD);

      const record = await recordWith(chat.upstream, marker);
      const closedAt = await chat.upstream.waitForSocketClose(record);
      expectBudget(closedAt - wroteAt, IDLE_TIMEOUT_MS);
      expect(record.request.closedEarly).toBe(true);
      expect(record.writes).toHaveLength(afterWrites);
      expect(recordsWith(chat.upstream, marker)).toHaveLength(1);
    },
  );
});

describe('rule: an answer that is not a stream, idle past UPSTREAM_IDLE_TIMEOUT_MS after its headers, is cut', () => {
  /** Waits for the moment the fake wrote the `writes`th piece of the request carrying `marker`: the budget runs from there. */
  function wroteAt(chat: StreamRoute, marker: string, writes: number): Promise<number> {
    return chat.upstream.waitFor(
      () => {
        const record = chat.upstream.records.find((candidate) => candidate.request.body.includes(marker));
        return record?.writes.length === writes ? Date.now() : undefined;
      },
      5_000,
      'the last write before the stall',
    );
  }

  /**
   * A JSON answer whose first half is written, the rest held back until the client goes; chunked, or with its
   * exact `Content-Length` (`exact`).
   */
  function halfAnswer(chat: StreamRoute, framing: 'chunked' | 'exact' = 'exact'): { plan: FaultPlan; whole: string } {
    const whole = JSON.stringify(chat.answers.answer(WORDS.join('')));
    const plan = jsonAnswer(200, chat.answers.answer(WORDS.join('')), {
      contentLength: framing === 'exact' ? 'exact' : undefined,
      splitAt: [Math.floor(Buffer.byteLength(whole) / 2)],
      cut: { afterWrites: 1, how: 'stall' },
    });
    return { plan, whole };
  }

  /** Starts a chat carrying `marker` on `chat` that does not stream, its upstream answering with `plan`. */
  function startWholeChat(chat: StreamRoute, marker: string, plan: FaultPlan): ClientCall {
    chat.upstream.next(plan);
    return new ClientCall(`${faults.stack.gatewayUrl}${chat.path}`, {
      headers: chatHeaders(chat),
      body: JSON.stringify({ model: chat.model, messages: [{ role: 'user', content: marker }] }),
    });
  }

  it.each<[StreamRouteName, 'chunked' | 'exact']>([
    ['relay /openai', 'chunked'],
    ['relay /openai', 'exact'],
    ['team /v1', 'chunked'],
    ['team /v1', 'exact'],
  ])(
    'should cut a relayed JSON body that stalls halfway at the idle budget, never completing it, and close the upstream socket, on %s (%s length)',
    async (name, framing) => {
      const chat = route(name);
      const marker = `idle-body-${framing}-${name}`;
      const lastWriteAt = wroteAt(chat, marker, 1);
      const { plan, whole } = halfAnswer(chat, framing);
      const client = await startWholeChat(chat, marker, plan).done;
      const wrote = await lastWriteAt;
      // The head and the first half went on as they came; the rest never came, and the client's answer was cut.
      expect(client.status).toBe(200);
      expect(client.headers['content-length']).toBe(framing === 'exact' ? String(Buffer.byteLength(whole)) : undefined);
      expect(client.failure).toBe('the connection closed before the answer ended');
      expect(client.text.length).toBeGreaterThan(0);
      expect(client.text.length).toBeLessThan(whole.length);
      expect(whole.startsWith(client.text)).toBe(true);
      expect(client.text).not.toContain('"error"');
      expectBudget(client.endedAt - wrote, IDLE_TIMEOUT_MS);

      const record = await recordWith(chat.upstream, marker);
      const closedAt = await chat.upstream.waitForSocketClose(record);
      expectBudget(closedAt - wrote, IDLE_TIMEOUT_MS);
      expect(record.request.closedEarly).toBe(true);
      expect(recordsWith(chat.upstream, marker)).toHaveLength(1);
    },
  );

  it.each<StreamRouteName>(['claude-bridge /claude/v1', 'bard-bridge /google/v1'])(
    'should answer 504 upstream_timeout at the idle budget when a provider answer read whole stalls halfway, on %s',
    async (name) => {
      // A bridge reads the answer whole before it writes a byte: nothing went to the client, so it gets a 504.
      const chat = route(name);
      const marker = `idle-whole-${name}`;
      const lastWriteAt = wroteAt(chat, marker, 1);
      const client = await startWholeChat(chat, marker, halfAnswer(chat).plan).done;
      const wrote = await lastWriteAt;
      expect([client.status, client.failure]).toEqual([504, undefined]);
      expect(JSON.parse(client.text)).toMatchObject({ error: { code: 'upstream_timeout' } });
      expectBudget((client.headersAt ?? Infinity) - wrote, IDLE_TIMEOUT_MS);

      const record = await recordWith(chat.upstream, marker);
      await chat.upstream.waitForSocketClose(record);
      expect(record.request.closedEarly).toBe(true);
      expect(recordsWith(chat.upstream, marker)).toHaveLength(1);
    },
  );
});

describe('rule: an upstream that sends no headers within UPSTREAM_HEADERS_TIMEOUT_MS gets a 504 upstream_timeout', () => {
  it.each(STREAM_ROUTE_NAMES)(
    'should answer 504 upstream_timeout at the headers budget, close the upstream socket and not retry, on %s',
    async (name) => {
      const chat = route(name);
      const marker = `headers-${name}`;
      const client = await startChat(faults, chat, marker, { kind: 'stall-headers' }).done;
      expect(client.status).toBe(504);
      expect(client.headers['content-type']).toMatch(/^application\/json/);
      expect(JSON.parse(client.text)).toMatchObject({ error: { code: 'upstream_timeout', type: 'timeout_error' } });
      expectBudget((client.headersAt ?? Infinity) - client.sentAt, HEADERS_TIMEOUT_MS);
      // Nor by the client's SDK, which would retry a 504 twice by default.
      expect(client.headers['x-should-retry']).toBe('false');

      const record = await recordWith(chat.upstream, marker);
      const closedAt = await chat.upstream.waitForSocketClose(record);
      expectBudget(closedAt - client.sentAt, HEADERS_TIMEOUT_MS);
      expect(record.headersSentAt).toBeUndefined();
      expect(record.request.closedEarly).toBe(true);
      // A slow upstream may be working on a paid request: a headers timeout is never sent again.
      expect(recordsWith(chat.upstream, marker)).toHaveLength(1);
    },
  );
});

describe('rule: an upstream keep-alive shorter than it advertises gives no client error', () => {
  /** The fakes close a connection idle this long, while their answers say `Keep-Alive: timeout=5`. */
  const KEEP_ALIVE_MS = 100;
  const REQUESTS = 30;
  let racing: FaultStack;

  beforeAll(async () => {
    racing = await startFaultStack({ upstreams: { keepAliveTimeoutMs: KEEP_ALIVE_MS } });
  });

  afterAll(async () => {
    await racing.close();
  });

  /** Streams one chat carrying `marker` on `chat` of the racing stack, the upstream sending a whole stream. */
  function completeChat(
    chat: StreamRoute,
    marker: string,
  ): Promise<ReturnType<typeof streamEnding> & { status: number }> {
    chat.upstream.next(streamAnswer(chat.answers.complete(WORDS)));
    return exchange(`${racing.stack.gatewayUrl}${chat.path}`, {
      headers: chatHeaders(chat),
      body: chatRequestBody(chat, marker),
    }).then((client) => ({ status: client.status, ...streamEnding(client.text) }));
  }

  it.each<StreamRouteName>(['relay /openai', 'claude-bridge /claude/v1'])(
    'should answer a request whose reused upstream connection was hung up on arrival, on %s',
    async (name) => {
      const chat = routeNamed(racing.routes, name);
      expect(await completeChat(chat, `warm-${name}`)).toMatchObject({ status: 200, endsWithDone: true, errors: [] });
      // At once, so the connection just used is reused; the fake hangs up on it as its keep-alive close would.
      chat.upstream.next({ kind: 'hang-up', how: 'close' });
      chat.upstream.next(streamAnswer(chat.answers.complete(WORDS)));
      const raced = await exchange(`${racing.stack.gatewayUrl}${chat.path}`, {
        headers: chatHeaders(chat),
        body: chatRequestBody(chat, `raced-${name}`),
      });
      expect({ status: raced.status, ...streamEnding(raced.text) }).toMatchObject({
        status: 200,
        endsWithDone: true,
        errors: [],
      });
      const attempts = recordsWith(chat.upstream, `raced-${name}`);
      expect(attempts.map((attempt) => attempt.requestOnConnection > 1)).toEqual([true, false]);
      expect(attempts.map((attempt) => attempt.headersSentAt !== undefined)).toEqual([false, true]);
    },
  );

  it.each<StreamRouteName>(['relay /openai', 'claude-bridge /claude/v1'])(
    `should answer ${REQUESTS} sequential streams spaced around the upstream's real keep-alive without an error, on %s`,
    async (name) => {
      const chat = routeNamed(racing.routes, name);
      const outcomes: Array<{ status: number; endsWithDone: boolean; errors: number }> = [];
      for (let index = 0; index < REQUESTS; index += 1) {
        const ending = await completeChat(chat, `spaced-${index}-${name}`);
        outcomes.push({ status: ending.status, endsWithDone: ending.endsWithDone, errors: ending.errors.length });
        // Gaps from 15 ms under the fake's keep-alive to 14 ms over it, 1 ms apart: some reuses meet its close.
        await new Promise((resolve) => setTimeout(resolve, KEEP_ALIVE_MS - 15 + index));
      }
      expect(
        outcomes.filter((outcome) => outcome.status !== 200 || !outcome.endsWithDone || outcome.errors > 0),
      ).toEqual([]);
      const served = Array.from({ length: REQUESTS }, (_, index) =>
        recordsWith(chat.upstream, `spaced-${index}-${name}`).filter((attempt) => attempt.headersSentAt !== undefined),
      );
      expect(served.map((attempts) => attempts.length)).toEqual(Array.from({ length: REQUESTS }, () => 1));
      // The short keep-alive did close connections under the client: the requests went over more than one.
      expect(new Set(served.flat().map((attempt) => attempt.connection)).size).toBeGreaterThan(1);
    },
    20_000,
  );
});

describe('rule: a connection failure gives a 502 naming the upstream, never its credentials', () => {
  /** The upstream each route's error names. */
  const UPSTREAM_NAMES: Record<StreamRouteName, string> = {
    'relay /openai': 'openai',
    'team /v1': 'openai',
    'claude-bridge /claude/v1': 'anthropic',
    'bard-bridge /google/v1': 'gemini',
  };
  /** One call and its retries (UPSTREAM_RETRIES' default: 2). */
  const MAX_ATTEMPTS = 3;
  let failing: FaultStack;

  beforeAll(async () => {
    // No breakers: each route's answer is the failure itself, not a circuit another test opened.
    failing = await startFaultStack({ env: { UPSTREAM_BREAKER_FAILURES: '0' } });
    for (const upstream of [failing.openai, failing.anthropic, failing.gemini]) {
      upstream.otherwise({ kind: 'hang-up', how: 'reset' });
    }
  });

  afterAll(async () => {
    await failing.close();
  });

  it.each(STREAM_ROUTE_NAMES)(
    'should answer 502 upstream_connection_reset naming the upstream when every connection is reset, on %s',
    async (name) => {
      const chat = routeNamed(failing.routes, name);
      const marker = `reset-${name}`;
      const client = await exchange(`${failing.stack.gatewayUrl}${chat.path}`, {
        headers: chatHeaders(chat),
        body: chatRequestBody(chat, marker),
      });
      expect(client.status).toBe(502);
      const error = z
        .object({ error: z.object({ message: z.string(), code: z.string() }) })
        .parse(JSON.parse(client.text)).error;
      expect(error.code).toBe('upstream_connection_reset');
      expect(error.message).toContain(UPSTREAM_NAMES[name]);
      expect(client.text).not.toContain(chat.apiKey);
      expect(JSON.stringify(client.headers)).not.toContain(chat.apiKey);
      const attempts = recordsWith(chat.upstream, marker);
      expect(attempts.length).toBeGreaterThanOrEqual(1);
      expect(attempts.length).toBeLessThanOrEqual(MAX_ATTEMPTS);
      expect(attempts.every((attempt) => attempt.headersSentAt === undefined)).toBe(true);
    },
  );
});
