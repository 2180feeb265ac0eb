import type { NestExpressApplication } from '@nestjs/platform-express';
import { ProviderPipeline } from '@openai-proxy/data-access-upstream';
import { listenServiceApp } from '@openai-proxy/feature-platform';
import {
  type ContractBridge,
  ContractReports,
  type FakeUpstream,
  type ProviderContractFixture,
  fakeGeminiGenerate,
  geminiError,
  providerContractCases,
  startFakeGemini,
} from '@openai-proxy/testing-fakes';
import { encodeSseData } from '@openai-proxy/util-sse';
import { loadBardBridgeConfig } from '../src/config/bard-bridge.env';
import { createBardBridgeApp } from '../src/bard-bridge.app';

const textFrame = (text: string, last: boolean): string =>
  encodeSseData({
    candidates: [
      { content: { role: 'model', parts: [{ text }] }, index: 0, ...(last ? { finishReason: 'STOP' } : {}) },
    ],
    ...(last ? { usageMetadata: { promptTokenCount: 3, candidatesTokenCount: 2, totalTokenCount: 5 } } : {}),
  });

/** Starts the bard-bridge and records each call report its provider pipeline returns. */
async function startBridge(upstreamUrl: string): Promise<ContractBridge> {
  const app: NestExpressApplication = await createBardBridgeApp(
    loadBardBridgeConfig({ GEMINI_API_BASE: upstreamUrl, LOG_LEVEL: 'silent' }),
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

const GEMINI_FIXTURE: ProviderContractFixture = {
  startUpstream: startFakeGemini,
  startBridge,
  chatPath: '/google/v1/chat/completions',
  headers: { authorization: 'Bearer AIzaContractKey0123456789' },
  model: 'gemini-2.5-flash',
  chatRoute: { method: 'POST', path: /^\/v1beta\/models\/([^/:]+):(generateContent|streamGenerateContent)$/ },
  defaultChat: fakeGeminiGenerate,
  textFrames: (words) => words.map((word, index) => textFrame(word, index === words.length - 1)),
  midStreamErrorFrames: (word) => [
    textFrame(word, false),
    encodeSseData({ error: { code: 503, message: 'The model is overloaded', status: 'UNAVAILABLE' } }),
  ],
  rateLimited: geminiError(429, 'RESOURCE_EXHAUSTED', 'Quota exceeded', { 'retry-after': '7' }),
  // The fake's answers: 8 prompt tokens, 5 candidate tokens.
  usage: { promptTokens: 8, completionTokens: 5 },
};

describe('geminiAdapter under the provider contract', () => {
  let upstream: FakeUpstream;
  let bridge: ContractBridge;

  beforeAll(async () => {
    upstream = await GEMINI_FIXTURE.startUpstream();
    bridge = await GEMINI_FIXTURE.startBridge(upstream.url);
  });

  afterEach(() => {
    upstream.on(GEMINI_FIXTURE.chatRoute.method, GEMINI_FIXTURE.chatRoute.path, GEMINI_FIXTURE.defaultChat);
  });

  afterAll(async () => {
    await bridge.close();
    await upstream.close();
  });

  for (const contractCase of providerContractCases(GEMINI_FIXTURE)) {
    it(contractCase.name, () => contractCase.run({ upstream, bridge }));
  }
});
