import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import { MetricsService, ShutdownService } from '@openai-proxy/feature-platform';
import type { PlatformSettings } from '@openai-proxy/util-config';
import { closeServer, listenOnLoopback } from '@openai-proxy/testing-fakes';
import { ErrorCode, GatewayException } from '@openai-proxy/util-errors';
import { type CallReport, type ProviderAdapter, noInput } from '@openai-proxy/util-provider-contract';
import { answerError } from './__fixtures__/answer-error';
import { ProviderCallService } from './provider-call.service';
import { ProviderPipeline, type ReportedCall } from './provider-pipeline.service';
import type { RelayService } from './relay.service';
import type { RelayTarget } from './relay.types';

/** An adapter whose operations answer without a provider request: `ok` with 200, `refused` with a 403. */
const ADAPTER: ProviderAdapter<string, 'ok' | 'refused'> = {
  name: 'example',
  baseUrl: 'http://127.0.0.1:9',
  credentials: () => 'key',
  translateError: (status) => new GatewayException(ErrorCode.UpstreamServerError, `answered ${status}`),
  operations: {
    ok: { input: noInput, prepare: () => ({ answer: 'ready', status: 200, body: { ok: true } }) },
    refused: {
      input: noInput,
      prepare: () => {
        throw new GatewayException(ErrorCode.PermissionDenied, 'refused');
      },
    },
  },
};

describe(ProviderPipeline.name, () => {
  const settings = { heartbeatMs: 0, maxJsonBodyBytes: 1024 } as PlatformSettings;
  const relay = { target: ({ name }: { name: string }) => ({ name }) as RelayTarget } as unknown as RelayService;
  const pipeline = new ProviderPipeline(
    settings,
    new ProviderCallService(settings, new MetricsService(), new ShutdownService()),
    relay,
  );
  const server: Server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const operation = request.url === '/refused' ? 'refused' : 'ok';
    pipeline.serve(ADAPTER, operation, request, response).catch((error: unknown) => answerError(response, error));
  });
  let url = '';

  beforeAll(async () => {
    url = (await listenOnLoopback(server)).url;
  });

  afterAll(async () => {
    await closeServer(server);
  });

  it('should hand every report to the listeners, with the provider and operation, when a call ends', async () => {
    const reports: Array<[CallReport, ReportedCall]> = [];
    const stop = pipeline.onReport((report, call) => reports.push([report, call]));
    try {
      expect((await fetch(`${url}/ok`, { signal: AbortSignal.timeout(5_000) })).status).toBe(200);
      expect((await fetch(`${url}/refused`, { signal: AbortSignal.timeout(5_000) })).status).toBe(403);
    } finally {
      stop();
    }
    expect(reports).toEqual([
      [
        { usage: undefined, clientLeft: false },
        { provider: 'example', operation: 'ok' },
      ],
      [
        { usage: undefined, error: expect.objectContaining({ code: ErrorCode.PermissionDenied }), clientLeft: false },
        { provider: 'example', operation: 'refused' },
      ],
    ]);
  });

  it('should stop calling a listener when its unsubscribe was called', async () => {
    const listener = jest.fn();
    pipeline.onReport(listener)();
    expect((await fetch(`${url}/ok`, { signal: AbortSignal.timeout(5_000) })).status).toBe(200);
    expect(listener).not.toHaveBeenCalled();
  });

  it('should answer the client as usual when a listener throws', async () => {
    const stop = pipeline.onReport(() => {
      throw new Error('listener bug');
    });
    try {
      const response = await fetch(`${url}/ok`, { signal: AbortSignal.timeout(5_000) });
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ ok: true });
    } finally {
      stop();
    }
  });
});
