import { type Server, createServer } from 'node:http';
import { Agent } from 'undici';
import { MetricsService, ShutdownService } from '@openai-proxy/feature-platform';
import type { PlatformSettings } from '@openai-proxy/util-config';
import { ErrorCode, GatewayException } from '@openai-proxy/util-errors';
import { FakeUpstream, closeServer, leaveOnceSeen, listenOnLoopback, sse } from '@openai-proxy/testing-fakes';
import type { CallReport, PreparedCall, ProviderAdapter, UpstreamRequest } from '@openai-proxy/util-provider-contract';
import {
  type SseEvent,
  type StreamItem,
  type StreamTransformer,
  chunkItem,
  cutStreamItem,
} from '@openai-proxy/util-sse';
import { answerError } from './__fixtures__/answer-error';
import { specGuard } from './__fixtures__/retry-settings';
import { ProviderCallService } from './provider-call.service';
import { ProviderPipeline } from './provider-pipeline.service';
import type { RelayService } from './relay.service';
import type { RelayTarget } from './relay.types';

type Operation = 'stream' | 'relay' | 'broken';

const frame = (n: number): string => `data: {"n":${n}}\n\n`;
const END = 'data: {"end":true}\n\n';
const REQUEST: UpstreamRequest = { method: 'POST', path: '/v1/stream', headers: {} };
const WAIT_MS = 5_000;

/** One chunk per `n` event; the stream is complete at the `end` event; the usage counts the chunks so far. */
function countingTransformer(): StreamTransformer<SseEvent> {
  let chunks = 0;
  let ended = false;
  return {
    transform(event: SseEvent): StreamItem[] {
      const payload = JSON.parse(event.data) as { n?: number; end?: boolean };
      if (payload.end === true) {
        ended = true;
        return [];
      }
      chunks += 1;
      return [chunkItem({ id: 'c', created: 1, model: 'm' }, { content: `word${String(payload.n)}` })];
    },
    flush: () => (ended ? [] : [cutStreamItem('example', 'its end event')]),
    usage: () => ({ promptTokens: 1, completionTokens: chunks }),
  };
}

describe('ProviderCallService reports', () => {
  const agent = new Agent({ bodyTimeout: 200 });
  const finished: CallReport[] = [];
  let upstream: FakeUpstream;
  let bridge: Server;
  let url = '';
  let stopReports: () => void = () => undefined;

  const finishing = (call: PreparedCall): PreparedCall => ({
    ...call,
    finish: (report) => {
      finished.push(report);
      return Promise.resolve();
    },
  });
  const adapter: ProviderAdapter<string, Operation> = {
    name: 'example',
    baseUrl: 'http://127.0.0.1:9',
    credentials: () => 'key',
    translateError: (status) => new GatewayException(ErrorCode.UpstreamServerError, `answered ${status}`),
    operations: {
      stream: {
        input: { body: 'none', input: undefined },
        prepare: () => finishing({ answer: 'stream', request: REQUEST, transformer: countingTransformer() }),
      },
      relay: {
        input: { body: 'none', input: undefined },
        prepare: () => finishing({ answer: 'relay', request: REQUEST, watch: countingTransformer() }),
      },
      broken: {
        input: { body: 'none', input: undefined },
        prepare: () => {
          throw new TypeError('an adapter bug');
        },
      },
    },
  };

  const waiting: Array<(report: CallReport) => void> = [];
  const timers = new Set<NodeJS.Timeout>();

  /** The report of the next call that ends, as `onReport` saw it (bounded wait). */
  function nextReport(): Promise<CallReport> {
    const report = new Promise<CallReport>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no call report')), WAIT_MS);
      timers.add(timer);
      waiting.push((made) => {
        clearTimeout(timer);
        timers.delete(timer);
        resolve(made);
      });
    });
    report.catch(() => undefined);
    return report;
  }

  beforeAll(async () => {
    upstream = await FakeUpstream.start();
    const settings = { heartbeatMs: 0, maxJsonBodyBytes: 1024 } as PlatformSettings;
    const target = {
      name: 'example',
      kind: 'provider',
      origin: upstream.url,
      basePath: '',
      dispatcher: agent,
      guard: specGuard('example'),
      dropResponseHeaderPrefixes: [],
    } as unknown as RelayTarget;
    const relay = { target: () => target } as unknown as RelayService;
    const service = new ProviderCallService(settings, new MetricsService(), new ShutdownService());
    const pipeline = new ProviderPipeline(settings, service, relay);
    stopReports = pipeline.onReport((report) => waiting.shift()?.(report));
    bridge = createServer((request, response) => {
      const operation = (request.url ?? '/').slice(1) as Operation;
      pipeline.serve(adapter, operation, request, response).catch((error: unknown) => answerError(response, error));
    });
    url = (await listenOnLoopback(bridge)).url;
  });

  afterEach(() => {
    for (const timer of timers) {
      clearTimeout(timer);
    }
    timers.clear();
    waiting.length = 0;
  });

  afterAll(async () => {
    stopReports();
    await closeServer(bridge);
    await upstream.close();
    await agent.close();
  });

  it('should report the reset and the usage so far when a stream is reset mid-way (it reported a success)', async () => {
    upstream.on('POST', '/v1/stream', sse({ frames: [frame(1), frame(2), END], resetAfter: 2 }));
    const report = nextReport();
    const text = await (await fetch(`${url}/stream`, { method: 'POST', signal: AbortSignal.timeout(WAIT_MS) })).text();
    expect(text).toContain('"code":"upstream_connection_reset"');
    expect(await report).toEqual({
      usage: { promptTokens: 1, completionTokens: 2 },
      error: expect.objectContaining({ code: ErrorCode.UpstreamConnectionReset }),
      clientLeft: false,
    });
    expect(finished.at(-1)).toBe(await report);
  });

  it('should report upstream_timeout when a stream stalls past the idle timeout (it reported a success)', async () => {
    upstream.on('POST', '/v1/stream', sse({ frames: [frame(1), END], stallAfter: 1 }));
    const report = nextReport();
    const text = await (await fetch(`${url}/stream`, { method: 'POST', signal: AbortSignal.timeout(WAIT_MS) })).text();
    expect(text).toContain('"code":"upstream_timeout"');
    expect((await report).error?.code).toBe(ErrorCode.UpstreamTimeout);
    expect(finished.at(-1)).toBe(await report);
  });

  it('should report the cut when a relayed stream ends without its end event (it reported a success)', async () => {
    upstream.on('POST', '/v1/stream', sse({ frames: [frame(1)] }));
    const report = nextReport();
    const text = await (await fetch(`${url}/relay`, { method: 'POST', signal: AbortSignal.timeout(WAIT_MS) })).text();
    expect(text).toContain('"code":"upstream_connection_reset"');
    expect(await report).toEqual({
      usage: undefined,
      error: expect.objectContaining({ code: ErrorCode.UpstreamConnectionReset }),
      clientLeft: false,
    });
    expect(finished.at(-1)).toBe(await report);
  });

  it('should report a client that left mid-stream with the usage so far (it reported a success)', async () => {
    upstream.on('POST', '/v1/stream', sse({ frames: [frame(1), END], stallAfter: 1 }));
    const report = nextReport();
    await leaveOnceSeen(url, { method: 'POST', path: '/stream', headers: {} }, (text) => text.includes('word1'));
    expect(await report).toMatchObject({ usage: { promptTokens: 1, completionTokens: 1 }, clientLeft: true });
    expect(finished.at(-1)).toBe(await report);
  });

  it('should report the internal error the client got when an operation throws something else (it had no error)', async () => {
    const report = nextReport();
    const response = await fetch(`${url}/broken`, { method: 'POST', signal: AbortSignal.timeout(WAIT_MS) });
    expect(response.status).toBe(500);
    await response.arrayBuffer();
    expect((await report).error?.code).toBe(ErrorCode.Internal);
  });

  it('should report no error and a client that stayed when a stream completes', async () => {
    upstream.on('POST', '/v1/stream', sse({ frames: [frame(1), END] }));
    const report = nextReport();
    const text = await (await fetch(`${url}/stream`, { method: 'POST', signal: AbortSignal.timeout(WAIT_MS) })).text();
    expect(text).toMatch(/data: \[DONE\]\n\n$/);
    expect(await report).toEqual({ usage: { promptTokens: 1, completionTokens: 1 }, clientLeft: false });
    expect(finished.at(-1)).toBe(await report);
  });
});
