import type { NestExpressApplication } from '@nestjs/platform-express';
import { ProviderPipeline } from '@openai-proxy/data-access-upstream';
import { listenServiceApp } from '@openai-proxy/feature-platform';
import {
  type ContractBridge,
  ContractReports,
  FAKE_BARD_STREAM_GENERATE,
  type FakeUpstream,
  type ProviderContractFixture,
  fakeBardStreamGenerate,
  providerContractCases,
  startFakeBard,
  text,
} from '@openai-proxy/testing-fakes';
import { loadBardBridgeConfig } from '../src/config/bard-bridge.env';
import { createBardBridgeApp } from '../src/bard-bridge.app';

/** Starts the bard-bridge and records each call report its provider pipeline returns. */
async function startBridge(upstreamUrl: string): Promise<ContractBridge> {
  const app: NestExpressApplication = await createBardBridgeApp(
    loadBardBridgeConfig({ BARD_BASE: upstreamUrl, LOG_LEVEL: 'silent' }),
  );
  const reports = new ContractReports();
  const pipeline = app.get(ProviderPipeline);
  const serve = pipeline.serve.bind(pipeline);
  pipeline.serve = async (...args) => {
    const report = await serve(...args);
    reports.record(report);
    return report;
  };
  await listenServiceApp(app, 0, '127.0.0.1');
  return { url: await app.getUrl(), reports, close: () => app.close() };
}

const BARD_FIXTURE: ProviderContractFixture = {
  startUpstream: startFakeBard,
  startBridge,
  chatPath: '/google/bard',
  headers: { cookie: '__Secure-1PSID=g.a000contract; __Secure-1PSIDTS=sidts-contract' },
  model: 'bard',
  chatRoute: { method: 'POST', path: FAKE_BARD_STREAM_GENERATE },
  defaultChat: fakeBardStreamGenerate(),
  // Bard answers whole: the stream cases are not applicable, so no provider frames are ever asked for.
  textFrames: () => [],
  midStreamErrorFrames: () => [],
  rateLimited: text(429, 'Too many requests', { 'retry-after': '7' }),
  usage: undefined,
  notApplicable: {
    streaming: 'POST /google/bard answers one whole JSON string; StreamGenerate is read whole',
    tools: 'the route takes a prompt, not messages with tools',
    images: 'the route takes a text prompt only',
    usage: 'Bard reports no token counts',
  },
  dialect: {
    body: () => ({ prompt: 'Hello' }),
    text: (answer) => (typeof answer === 'string' ? answer : ''),
  },
};

describe('bardAdapter under the provider contract', () => {
  let upstream: FakeUpstream;
  let bridge: ContractBridge;

  beforeAll(async () => {
    upstream = await BARD_FIXTURE.startUpstream();
    bridge = await BARD_FIXTURE.startBridge(upstream.url);
  });

  afterEach(() => {
    upstream.on(BARD_FIXTURE.chatRoute.method, BARD_FIXTURE.chatRoute.path, BARD_FIXTURE.defaultChat);
  });

  afterAll(async () => {
    await bridge.close();
    await upstream.close();
  });

  for (const contractCase of providerContractCases(BARD_FIXTURE)) {
    if (contractCase.notApplicable === undefined) {
      it(contractCase.name, () => contractCase.run({ upstream, bridge }));
    } else {
      it.skip(`${contractCase.name} (not applicable: ${contractCase.notApplicable})`, () => undefined);
    }
  }
});
