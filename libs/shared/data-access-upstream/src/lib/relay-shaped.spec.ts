import { type IncomingMessage, createServer } from 'node:http';
import { Agent } from 'undici';
import { ClientAddressService, MetricsService, ShutdownService } from '@openai-proxy/feature-platform';
import {
  CLOSE_DELIMITED_SSE_HEAD,
  FakeUpstream,
  RawUpstream,
  closeServer,
  leaveOnceSeen,
  listenOnLoopback,
  writeRaw,
} from '@openai-proxy/testing-fakes';
import type { PlatformSettings } from '@openai-proxy/util-config';
import { ErrorCode, type GatewayException } from '@openai-proxy/util-errors';
import type { SseEvent } from '@openai-proxy/util-sse';
import { answerError } from './__fixtures__/answer-error';
import { DEFAULT_RETRY_SETTINGS } from './__fixtures__/retry-settings';
import { forwardedRequestHeaders } from './forwarded-request';
import { RelayService } from './relay.service';
import type { RelayReport, RelayTarget, RelayWatcher, ShapedCall, ShapedCalls } from './relay.types';
import { NOT_RESENDABLE_HEADER, RETRY_BUDGET_FLOOR, type RetryBudget } from './retry-policy';

const SETTINGS: PlatformSettings = {
  serviceName: 'gateway',
  port: 0,
  logLevel: 'silent',
  heartbeatMs: 0,
  shutdownDrainMs: 1_000,
  maxJsonBodyBytes: 1024 * 1024,
  maxRelayBodyBytes: 1024 * 1024,
  maxSpoolBytes: 4 * 1024 * 1024,
  trustProxy: false,
  upstream: {
    connectTimeoutMs: 2_000,
    headersTimeoutMs: 2_000,
    idleTimeoutMs: 2_000,
    egressProxy: undefined,
    noProxy: undefined,
    retry: DEFAULT_RETRY_SETTINGS,
  },
};
const REPORT_WITHIN_MS = 3_000;
const CHAT = '/v1/chat/completions';
const TEXT_FRAME = 'data: {"choices":[{"delta":{"content":"he"}}]}\r\n\r\n';
const USAGE_FRAME = 'data: {"choices":[],"usage":{"total_tokens":7}}\r\n\r\n';
const DONE_FRAME = 'data: [DONE]\r\n\r\n';
/** Past the reset retry window (RESET_RETRY_WINDOW_MS): a reset this late may come after the work was done. */
const LATE_RESET_MS = 1_200;

/** The calls one request gets, made from that request (its forwarded headers). */
type CallPlan = (request: IncomingMessage) => ShapedCall[];

/** Takes retries until the budget refuses one (bounded); how many it gave. */
function drain(budget: RetryBudget): number {
  let given = 0;
  while (given < 100 && budget.tryRetry()) {
    given += 1;
  }
  return given;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A usage-only chunk: no choices, only usage (what `include_usage` adds when the client did not ask). */
function isUsageOnly(event: SseEvent): boolean {
  return event.data.startsWith('{"choices":[],"usage"');
}

/**
 * One shaped relay as a test sets it up: its target and calls, what the watcher decides, and what it saw.
 * It is the calls source and the watcher both.
 */
class Scenario implements ShapedCalls, RelayWatcher {
  readonly readsEvents: boolean | undefined;
  readonly asked: number[] = [];
  readonly events: SseEvent[] = [];
  readonly bytes: Buffer[] = [];
  /** The codes of the errors calls threw, as `failed` was told them. */
  readonly failures: string[] = [];
  readonly report: Promise<RelayReport>;
  nextCalls = 0;
  private calls: ShapedCall[] = [];
  private reported: (report: RelayReport) => void = () => undefined;

  constructor(
    readonly target: RelayTarget,
    private readonly plan: CallPlan,
    private readonly decide: {
      accept?: (status: number) => boolean;
      onEvent?: (event: SseEvent) => 'keep' | 'drop';
      readsEvents?: boolean;
      /** Whether to move on from a call that threw; never by default. */
      failed?: (error: GatewayException) => boolean;
    } = {},
  ) {
    this.readsEvents = decide.readsEvents;
    this.report = new Promise((resolve) => {
      this.reported = resolve;
    });
  }

  start(request: IncomingMessage): this {
    this.calls = this.plan(request);
    return this;
  }

  next(): ShapedCall | undefined {
    this.nextCalls += 1;
    return this.calls.shift();
  }

  failed(error: GatewayException): boolean {
    this.failures.push(error.code);
    return this.decide.failed?.(error) ?? false;
  }

  accept(status: number): boolean {
    this.asked.push(status);
    return (this.decide.accept ?? ((answered) => answered < 400))(status);
  }

  onEvent(event: SseEvent): 'keep' | 'drop' {
    this.events.push(event);
    return this.decide.onEvent?.(event) ?? 'keep';
  }

  onBytes(chunk: Buffer): void {
    this.bytes.push(chunk);
  }

  onEnd(report: RelayReport): void {
    this.reported(report);
  }

  /** The report, within a bounded wait. */
  async ended(): Promise<RelayReport> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`no report within ${REPORT_WITHIN_MS} ms`)), REPORT_WITHIN_MS);
    });
    try {
      return await Promise.race([this.report, late]);
    } finally {
      clearTimeout(timer);
    }
  }
}

describe('RelayService.relayShaped', () => {
  const addresses = new ClientAddressService(SETTINGS);
  const relay = new RelayService(SETTINGS, new MetricsService(), new ShutdownService(), addresses);
  let upstream: FakeUpstream;
  let scenario: Scenario | undefined;
  const front = createServer((request, response) => {
    if (scenario === undefined) {
      response.writeHead(500).end();
      return;
    }
    const shaped = scenario.start(request);
    relay.relayShaped(request, response, shaped.target, shaped, shaped).catch((error: unknown) => {
      answerError(response, error);
    });
  });
  let frontUrl = '';
  let target: RelayTarget;

  /** A call as team mode makes it: the forwarded headers with the provider key instead of the client's. */
  function withKey(request: IncomingMessage, key: string, body: ShapedCall['body'], path = CHAT): ShapedCall {
    const headers = { ...forwardedRequestHeaders(request, target, addresses), authorization: `Bearer ${key}` };
    return { path, headers, body };
  }

  function post(path: string, body: string, headers: Record<string, string> = {}): Promise<Response> {
    return fetch(`${frontUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
      signal: AbortSignal.timeout(5_000),
    });
  }

  beforeAll(async () => {
    upstream = await FakeUpstream.start();
    frontUrl = (await listenOnLoopback(front)).url;
    target = relay.target({ name: 'svc', baseUrl: upstream.url, kind: 'internal' });
  });

  afterEach(() => {
    scenario = undefined;
  });

  afterAll(async () => {
    await closeServer(front);
    await upstream.close();
    await relay.onModuleDestroy();
  });

  it('should send the rewritten body, the chosen headers and the chosen path upstream', async () => {
    const fake = upstream;
    fake.on('POST', CHAT, (_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end('{"ok":true}');
    });
    const rewritten = Buffer.from('{"model":"gpt-4o-mini","stream_options":{"include_usage":true}}');
    scenario = new Scenario(target, (request) => [withKey(request, 'sk-provider', rewritten)]);
    const answer = await post(`${CHAT}?key=gk-client`, '{"model":"team"}', { authorization: 'Bearer gk-client' });
    expect(answer.status).toBe(200);
    const arrived = fake.lastRequest(CHAT);
    expect(arrived?.url).toBe(CHAT);
    expect(arrived?.headers.authorization).toBe('Bearer sk-provider');
    expect(arrived?.headers['content-length']).toBe(String(rewritten.length));
    expect(arrived?.body.equals(rewritten)).toBe(true);
    expect(JSON.stringify(arrived?.headers)).not.toContain('gk-client');
  });

  it('should stream the client body unchanged and send its answer on even when refused (it cannot be sent again)', async () => {
    const fake = upstream;
    fake.on('POST', '/v1/files', (_request, response) => {
      response.writeHead(429, { 'content-type': 'application/json' });
      response.end('{"error":{"message":"slow down"}}');
    });
    const upload = Buffer.alloc(200_000, 'x');
    scenario = new Scenario(target, (request) => [
      withKey(request, 'sk-a', 'client', '/v1/files'),
      withKey(request, 'sk-b', 'client', '/v1/files'),
    ]);
    const answer = await post('/v1/files', upload.toString());
    expect(answer.status).toBe(429);
    expect(await answer.text()).toBe('{"error":{"message":"slow down"}}');
    expect(fake.lastRequest('/v1/files')?.body.equals(upload)).toBe(true);
    expect(scenario.asked).toEqual([429]);
    expect(scenario.nextCalls).toBe(1);
  });

  it('should try the next call after a refused answer, whose body is discarded and its connection reused', async () => {
    // One connection to an upstream of its own: the retry waits for it, and gets it only if the refused body was
    // read to its end (a destroyed body closes it, a body left unread holds it).
    const pool = await FakeUpstream.start();
    const oneConnection = new Agent({ connections: 1 });
    try {
      const ports: Array<number | undefined> = [];
      pool.on('POST', '/v1/pool', (request, response) => {
        ports.push(response.socket?.remotePort);
        if (request.headers.authorization === 'Bearer sk-a') {
          response.writeHead(429, { 'content-type': 'application/json', 'retry-after': '1' });
          response.end('{"error":{"message":"key a is out"}}');
          return;
        }
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end('{"answer":"from key b"}');
      });
      const body = Buffer.from('{"model":"m"}');
      const poolTarget = {
        ...relay.target({ name: 'pool', baseUrl: pool.url, kind: 'internal' }),
        dispatcher: oneConnection,
      };
      scenario = new Scenario(poolTarget, (request) => [
        withKey(request, 'sk-a', body, '/v1/pool'),
        withKey(request, 'sk-b', body, '/v1/pool'),
      ]);
      const answer = await post('/v1/pool', '{}');
      expect(answer.status).toBe(200);
      expect(await answer.text()).toBe('{"answer":"from key b"}');
      expect(scenario.asked).toEqual([429, 200]);
      expect(ports).toHaveLength(2);
      expect(ports[1]).toBe(ports[0]);
      expect(await scenario.ended()).toMatchObject({ status: 200, outcome: 'completed', clientLeft: false });
    } finally {
      await pool.close();
      await oneConnection.close();
    }
  });

  it('should send the last call refused answer on as it is, and report it failed', async () => {
    const fake = upstream;
    fake.on('POST', '/v1/spent', (request, response) => {
      response.writeHead(429, { 'content-type': 'application/json', 'retry-after': '7' });
      response.end(`{"error":{"message":"${request.headers.authorization === 'Bearer sk-a' ? 'a' : 'b'} is out"}}`);
    });
    const body = Buffer.from('{}');
    scenario = new Scenario(target, (request) => [
      withKey(request, 'sk-a', body, '/v1/spent'),
      withKey(request, 'sk-b', body, '/v1/spent'),
    ]);
    const answer = await post('/v1/spent', '{}');
    expect(answer.status).toBe(429);
    expect(answer.headers.get('retry-after')).toBe('7');
    expect(await answer.text()).toBe('{"error":{"message":"b is out"}}');
    expect(scenario.asked).toEqual([429, 429]);
    const report = await scenario.ended();
    expect(report).toMatchObject({ status: 429, outcome: 'failed', clientLeft: false });
    expect(report.firstByteMs).toEqual(expect.any(Number));
  });

  it('should pay nothing from the retry budget when no call is left after a refused answer', async () => {
    upstream.on('POST', '/v1/alone', (_request, response) => {
      response.writeHead(429, { 'content-type': 'application/json' });
      response.end('{"error":{"message":"out"}}');
    });
    const alone = relay.target({ name: 'alone', baseUrl: upstream.url, kind: 'internal' });
    scenario = new Scenario(alone, (request) => [withKey(request, 'sk-a', Buffer.from('{}'), '/v1/alone')], {
      accept: () => false,
    });
    const answer = await post('/v1/alone', '{}');
    expect(answer.status).toBe(429);
    expect(scenario.nextCalls).toBe(2);
    expect(drain(alone.guard.budget)).toBe(RETRY_BUDGET_FLOOR);
  });

  it('should never move on from an answer that says it must not be sent again, whatever accept says', async () => {
    upstream.on('POST', '/v1/ran', (_request, response) => {
      response.writeHead(502, { 'content-type': 'application/json', [NOT_RESENDABLE_HEADER]: 'reset-after-send' });
      response.end('{"error":{"message":"reset after the request went out"}}');
    });
    const body = Buffer.from('{}');
    scenario = new Scenario(
      target,
      (request) => [withKey(request, 'sk-a', body, '/v1/ran'), withKey(request, 'sk-b', body, '/v1/ran')],
      { accept: () => false },
    );
    const answer = await post('/v1/ran', '{}');
    expect(answer.status).toBe(502);
    expect(answer.headers.get(NOT_RESENDABLE_HEADER)).toBeNull();
    expect(scenario.nextCalls).toBe(1);
    expect(upstream.requests.filter((request) => request.url === '/v1/ran')).toHaveLength(1);
  });

  it('should leave out a dropped event whole while the watcher saw every event, frames split across reads', async () => {
    const fake = upstream;
    fake.on('POST', '/v1/stream', async (_request, response) => {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      for (const piece of [
        TEXT_FRAME.slice(0, 10),
        TEXT_FRAME.slice(10) + USAGE_FRAME.slice(0, 20),
        USAGE_FRAME.slice(20),
        DONE_FRAME,
      ]) {
        response.write(piece);
        await sleep(20);
      }
      response.end();
    });
    scenario = new Scenario(target, (request) => [withKey(request, 'sk-a', Buffer.from('{}'), '/v1/stream')], {
      onEvent: (event) => (isUsageOnly(event) ? 'drop' : 'keep'),
    });
    const answer = await post('/v1/stream', '{}');
    expect(await answer.text()).toBe(TEXT_FRAME + DONE_FRAME);
    expect(scenario.events.map((event) => event.data)).toEqual([
      '{"choices":[{"delta":{"content":"he"}}]}',
      '{"choices":[],"usage":{"total_tokens":7}}',
      '[DONE]',
    ]);
    const report = await scenario.ended();
    expect(report).toMatchObject({ status: 200, outcome: 'completed', clientLeft: false });
    expect(report.firstByteMs).toBeGreaterThanOrEqual(0);
    expect(report.error).toBeUndefined();
  });

  it('should pass an event stream on as its bytes came, split into no frames, for a watcher that reads no events', async () => {
    upstream.on('POST', '/v1/stream', async (_request, response) => {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      for (const piece of [TEXT_FRAME.slice(0, 10), TEXT_FRAME.slice(10) + USAGE_FRAME, DONE_FRAME]) {
        response.write(piece);
        await sleep(20);
      }
      response.end();
    });
    scenario = new Scenario(target, (request) => [withKey(request, 'sk-a', Buffer.from('{}'), '/v1/stream')], {
      readsEvents: false,
      onEvent: () => 'drop',
    });
    const answer = await post('/v1/stream', '{}');
    expect(await answer.text()).toBe(TEXT_FRAME + USAGE_FRAME + DONE_FRAME);
    expect(scenario.events).toEqual([]);
    expect(Buffer.concat(scenario.bytes).toString('utf8')).toBe(TEXT_FRAME + USAGE_FRAME + DONE_FRAME);
    await expect(scenario.ended()).resolves.toMatchObject({ status: 200, outcome: 'completed' });
  });

  it('should end a stream the upstream cut in the middle of a frame with an error frame instead of the unfinished frame, and report it failed', async () => {
    const raw = await RawUpstream.start(async (socket) => {
      await writeRaw(socket, `${CLOSE_DELIMITED_SSE_HEAD}data: {"n":1}\n\ndata: {"te`);
      socket.end();
    });
    try {
      const rawTarget = relay.target({ name: 'raw', baseUrl: raw.url, kind: 'internal' });
      scenario = new Scenario(rawTarget, (request) => [withKey(request, 'sk-a', Buffer.from('{}'))]);
      const text = await (await post(CHAT, '{}')).text();
      expect(text.startsWith('data: {"n":1}\n\ndata: {"error":')).toBe(true);
      expect(text).not.toContain('{"te');
      expect(text).toContain('"code":"upstream_connection_reset"');
      expect(text.endsWith('data: [DONE]\n\n')).toBe(true);
      const report = await scenario.ended();
      expect(report).toMatchObject({ status: 200, outcome: 'failed', clientLeft: false });
      expect(report.error?.code).toBe(ErrorCode.UpstreamConnectionReset);
      expect(report.firstByteMs).toEqual(expect.any(Number));
    } finally {
      await raw.close();
    }
  });

  it('should report a client that leaves in the middle of a stream as aborted, and close the upstream call', async () => {
    const fake = upstream;
    fake.on('POST', '/v1/stalled', (_request, response) => {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      response.write('data: {"n":1}\n\n');
    });
    scenario = new Scenario(target, (request) => [withKey(request, 'sk-a', Buffer.from('{}'), '/v1/stalled')]);
    const seen = await leaveOnceSeen(
      frontUrl,
      { method: 'POST', path: '/v1/stalled', headers: { 'content-type': 'application/json' }, body: '{}' },
      (text) => text.includes('"n":1'),
    );
    expect(seen).toBe('data: {"n":1}\n\n');
    const report = await scenario.ended();
    expect(report).toMatchObject({ status: 200, outcome: 'aborted', clientLeft: true });
    expect(report.firstByteMs).toEqual(expect.any(Number));
    const arrived = fake.lastRequest('/v1/stalled');
    expect(arrived).toBeDefined();
    if (arrived !== undefined) {
      await fake.waitForClose(arrived);
    }
  });

  it('should show every byte of a JSON answer to onBytes, whole, and report it completed', async () => {
    const fake = upstream;
    const json = JSON.stringify({ id: 'x', filler: 'y'.repeat(300_000), usage: { total_tokens: 3 } });
    fake.on('POST', '/v1/big', (_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(json);
    });
    scenario = new Scenario(target, (request) => [withKey(request, 'sk-a', Buffer.from('{}'), '/v1/big')]);
    const text = await (await post('/v1/big', '{}')).text();
    expect(text).toBe(json);
    expect(scenario.bytes.length).toBeGreaterThan(1);
    expect(Buffer.concat(scenario.bytes).toString()).toBe(json);
    expect(await scenario.ended()).toMatchObject({ status: 200, outcome: 'completed' });
  });

  it('should answer an upstream it cannot reach as an OpenAI error, and report that status failed', async () => {
    const down = createServer();
    const downUrl = (await listenOnLoopback(down)).url;
    await closeServer(down);
    const downTarget = relay.target({ name: 'down', baseUrl: downUrl, kind: 'internal' });
    scenario = new Scenario(downTarget, (request) => [withKey(request, 'sk-a', Buffer.from('{}'))]);
    const answer = await post(CHAT, '{}');
    const body = (await answer.json()) as { error: { code: string } };
    const report = await scenario.ended();
    expect(report).toMatchObject({ status: answer.status, outcome: 'failed', firstByteMs: undefined });
    expect(report.error?.code).toBe(body.error.code);
    expect(answer.status).toBeGreaterThanOrEqual(500);
  });

  it('should move on from a call that threw when the calls source says so, the next call going to the target it names', async () => {
    const down = createServer();
    const downUrl = (await listenOnLoopback(down)).url;
    await closeServer(down);
    const downTarget = relay.target({ name: 'down-first', baseUrl: downUrl, kind: 'internal' });
    upstream.on('POST', '/v1/elsewhere', (_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end('{"served":"elsewhere"}');
    });
    scenario = new Scenario(
      downTarget,
      (request) => [
        withKey(request, 'sk-a', Buffer.from('{}')),
        { ...withKey(request, 'sk-b', Buffer.from('{}'), '/v1/elsewhere'), target },
      ],
      { failed: () => true },
    );
    const answer = await post(CHAT, '{}');
    expect(answer.status).toBe(200);
    expect(await answer.text()).toBe('{"served":"elsewhere"}');
    expect(scenario.failures).toEqual([ErrorCode.UpstreamUnavailable]);
    expect(upstream.lastRequest('/v1/elsewhere')?.headers.authorization).toBe('Bearer sk-b');
    expect(await scenario.ended()).toMatchObject({ status: 200, outcome: 'completed' });
  });

  it('should never move on from a call whose connection was reset once its request had been worked on, whatever failed says', async () => {
    const late = await RawUpstream.start((socket) => {
      const timer = setTimeout(() => socket.resetAndDestroy(), LATE_RESET_MS);
      socket.once('close', () => clearTimeout(timer));
    });
    try {
      const lateTarget = relay.target({ name: 'late-reset', baseUrl: late.url, kind: 'internal' });
      upstream.on('POST', '/v1/instead', (_request, response) => {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end('{"served":"instead"}');
      });
      scenario = new Scenario(
        lateTarget,
        (request) => [
          withKey(request, 'sk-a', Buffer.from('{}')),
          { ...withKey(request, 'sk-b', Buffer.from('{}'), '/v1/instead'), target },
        ],
        { failed: () => true },
      );
      const answer = await post(CHAT, '{}');
      expect(answer.status).toBe(502);
      expect(JSON.parse(await answer.text())).toMatchObject({ error: { code: ErrorCode.UpstreamConnectionReset } });
      expect(late.heads).toHaveLength(1);
      expect(scenario.nextCalls).toBe(1);
      expect(upstream.lastRequest('/v1/instead')).toBeUndefined();
    } finally {
      await late.close();
    }
  });

  it('should answer 503 when the calls source gives no call at all', async () => {
    scenario = new Scenario(target, () => []);
    const answer = await post(CHAT, '{}');
    expect(answer.status).toBe(503);
    expect(await scenario.ended()).toMatchObject({ status: 503, outcome: 'failed' });
  });

  it('should end the stream with an internal error frame when the watcher throws on an event', async () => {
    const fake = upstream;
    fake.on('POST', '/v1/watcher-bug', (_request, response) => {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      response.end(TEXT_FRAME + DONE_FRAME);
    });
    scenario = new Scenario(target, (request) => [withKey(request, 'sk-a', Buffer.from('{}'), '/v1/watcher-bug')], {
      onEvent: () => {
        throw new TypeError('ledger bug');
      },
    });
    const text = await (await post('/v1/watcher-bug', '{}')).text();
    expect(text).toContain('"code":"internal_error"');
    expect(text).not.toContain('"content":"he"');
    expect(text.endsWith('data: [DONE]\n\n')).toBe(true);
    const report = await scenario.ended();
    expect(report).toMatchObject({ outcome: 'failed' });
    expect(report.error?.code).toBe(ErrorCode.Internal);
  });
});
