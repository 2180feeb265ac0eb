import { createServer } from 'node:http';
import { Agent } from 'undici';
import { MetricsService, ShutdownService } from '@openai-proxy/feature-platform';
import type { PlatformSettings } from '@openai-proxy/util-config';
import { ErrorCode, GatewayException } from '@openai-proxy/util-errors';
import { type SseEvent, type StreamItem, type StreamTransformer, chunkItem } from '@openai-proxy/util-sse';
import type { CallReport, PreparedCall, UpstreamRequest } from '@openai-proxy/util-provider-contract';
import { closeServer, listenOnLoopback } from '@openai-proxy/testing-fakes';
import { answerError } from './__fixtures__/answer-error';
import { specGuard } from './__fixtures__/retry-settings';
import { ProviderCallService } from './provider-call.service';
import type { RelayTarget } from './relay.types';

const FRAMES = 'data: {"n":1}\n\ndata: {"n":2}\n\ndata: {"n":3}\n\n';

/** Yields one chunk per event carrying `n`; throws (a transform bug) on the event whose `n` is `throwAt`. */
function countingTransformer(throwAt: number | undefined): StreamTransformer<SseEvent> {
  return {
    transform(event: SseEvent): StreamItem[] {
      const { n } = JSON.parse(event.data) as { n: number };
      if (n === throwAt) {
        throw new TypeError('transform bug');
      }
      return [chunkItem({ id: 'c', created: 1, model: 'm' }, { content: String(n) })];
    },
    flush: () => [],
  };
}

describe(ProviderCallService.name, () => {
  const agent = new Agent();
  const upstream = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'text/event-stream' });
    response.end(FRAMES);
  });
  let throwAt: number | undefined;
  let collect = false;
  let finishThrows = false;
  let reportTo: (report: CallReport) => void = () => undefined;
  let service: ProviderCallService;
  let target: RelayTarget;
  const request: UpstreamRequest = { method: 'POST', path: '/', headers: {} };
  const bridge = createServer((_request, response) => {
    const transformer = countingTransformer(throwAt);
    const translateError = (status: number): GatewayException =>
      new GatewayException(ErrorCode.UpstreamServerError, `answered ${status}`);
    const planned: PreparedCall = collect
      ? { answer: 'collect', request, transformer, complete: (chunks) => chunks }
      : { answer: 'stream', request, transformer };
    const prepared: PreparedCall = finishThrows
      ? {
          ...planned,
          finish: () => {
            throw new TypeError('a finish that is not async threw');
          },
        }
      : planned;
    service
      .run(
        target,
        translateError,
        response,
        () => prepared,
        (report) => reportTo(report),
      )
      .catch((error: unknown) => answerError(response, error));
  });
  let bridgeUrl = '';

  beforeAll(async () => {
    const origin = (await listenOnLoopback(upstream)).url;
    bridgeUrl = (await listenOnLoopback(bridge)).url;
    const fake = { name: 'fake', kind: 'provider', origin, basePath: '', dispatcher: agent, guard: specGuard('fake') };
    target = { ...fake, dropResponseHeaderPrefixes: [] } as unknown as RelayTarget;
    service = new ProviderCallService(
      { heartbeatMs: 0 } as PlatformSettings,
      new MetricsService(),
      new ShutdownService(),
    );
  });

  afterAll(async () => {
    await Promise.all([closeServer(bridge), closeServer(upstream)]);
    await agent.close();
  });

  async function ask(): Promise<{ status: number; text: string }> {
    const response = await fetch(bridgeUrl, { method: 'POST', signal: AbortSignal.timeout(5_000) });
    return { status: response.status, text: await response.text() };
  }

  it('should end the stream with an error frame when the transformer throws, and keep serving (it escaped the listener)', async () => {
    throwAt = 2;
    collect = false;
    const broken = await ask();
    expect(broken.text).toContain('"content":"1"');
    expect(broken.text).not.toContain('"content":"3"');
    expect(broken.text).toContain('"code":"upstream_bad_response"');
    expect(broken.text.endsWith('data: [DONE]\n\n')).toBe(true);
    throwAt = undefined;
    const whole = await ask();
    expect(whole.text).toContain('"content":"3"');
    expect(whole.text.endsWith('data: [DONE]\n\n')).toBe(true);
  });

  it('should answer 502 upstream_bad_response when the transformer throws on a collected stream (it was a 500)', async () => {
    throwAt = 3;
    collect = true;
    const answer = await ask();
    expect(answer.status).toBe(502);
    expect(answer.text).toContain('"code":"upstream_bad_response"');
  });

  // Regression: a finish that throws synchronously (not a rejected promise) skipped the report to the pipeline's
  // listeners and replaced the call's own outcome.
  it('should still report the call when its finish throws synchronously', async () => {
    throwAt = undefined;
    collect = false;
    finishThrows = true;
    const report = new Promise<CallReport>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no report within 2 s')), 2_000);
      reportTo = (value) => {
        clearTimeout(timer);
        resolve(value);
      };
    });
    try {
      const answer = await ask();
      expect(answer.text.endsWith('data: [DONE]\n\n')).toBe(true);
      expect(await report).toEqual({ usage: undefined, clientLeft: false });
    } finally {
      finishThrows = false;
    }
  });
});
