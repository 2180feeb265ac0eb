import type { NestExpressApplication } from '@nestjs/platform-express';
import { listenServiceApp, shutdownServiceApp } from '@openai-proxy/feature-platform';
import {
  answerAfterShutdown,
  type FakeUpstream,
  metricSample,
  metricSampleReaching,
  stall,
  startFakeBard,
} from '@openai-proxy/testing-fakes';
import { loadBardBridgeConfig } from '../src/config/bard-bridge.env';
import { createBardBridgeApp } from '../src/bard-bridge.app';

const ABORTS = 'client_aborts_total{upstream="bard"}';

async function startBridge(bard: FakeUpstream): Promise<{ app: NestExpressApplication; url: string }> {
  const app = await createBardBridgeApp(loadBardBridgeConfig({ BARD_BASE: bard.url, LOG_LEVEL: 'silent' }));
  await listenServiceApp(app, 0, '127.0.0.1');
  return { app, url: await app.getUrl() };
}

/** Asks the Bard route with cookies the fake accepts; `psid` tells the calls apart. */
function ask(url: string, psid: string, signal?: AbortSignal): Promise<Response> {
  return fetch(`${url}/google/bard`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      cookie: `__Secure-1PSID=g.a000${psid}; __Secure-1PSIDTS=sidts-${psid}`,
    },
    body: JSON.stringify({ prompt: 'hello' }),
    signal: signal ?? AbortSignal.timeout(10_000),
  });
}

describe('BardService control-plane calls', () => {
  let bard: FakeUpstream;

  beforeAll(async () => {
    bard = await startFakeBard();
    bard.on('GET', '/app', stall());
  });

  afterAll(async () => {
    await bard.close();
  });

  // Regression: the Bard calls were not registered with the drain: at its cap they were cut, not answered.
  it("should answer 503 server_shutting_down at the drain cap when Bard's page stalls", async () => {
    const bridge = await startBridge(bard);
    try {
      const pending = ask(bridge.url, 'drained');
      await bard.waitForRequest((request) => String(request.headers.cookie).includes('g.a000drained'));
      const drained = answerAfterShutdown(pending, () =>
        shutdownServiceApp(bridge.app, loadBardBridgeConfig({ SHUTDOWN_DRAIN_MS: '200' }).platform),
      );
      expect(await drained).toEqual({ status: 503, code: 'server_shutting_down' });
    } finally {
      await bridge.app.close();
    }
  });

  // Regression: a client that left a Bard call was not counted in client_aborts_total.
  it('should count a client that leaves while Bard stalls as a client abort', async () => {
    const bridge = await startBridge(bard);
    try {
      const before = await metricSample(bridge.url, ABORTS);
      const client = new AbortController();
      const pending = ask(bridge.url, 'left', client.signal).catch(() => undefined);
      const arrived = await bard.waitForRequest((request) => String(request.headers.cookie).includes('g.a000left'));
      client.abort();
      await pending;
      await bard.waitForClose(arrived, 1_000);
      expect(await metricSampleReaching(bridge.url, ABORTS, before + 1)).toBe(before + 1);
    } finally {
      await bridge.app.close();
    }
  });
});
