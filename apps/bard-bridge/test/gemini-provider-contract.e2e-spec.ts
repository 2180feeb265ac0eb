import { ProviderPipeline } from '@openai-proxy/data-access-upstream';
import {
  type ContractBridge,
  type ProviderContractFixture,
  describeProviderContract,
  fakeGeminiGenerate,
  geminiError,
  startFakeGemini,
} from '@openai-proxy/testing-fakes';
import { encodeSseData } from '@openai-proxy/util-sse';
import { startBardBridge } from './support/bard-bridge-app';

const textFrame = (text: string, last: boolean): string =>
  encodeSseData({
    candidates: [
      { content: { role: 'model', parts: [{ text }] }, index: 0, ...(last ? { finishReason: 'STOP' } : {}) },
    ],
    ...(last ? { usageMetadata: { promptTokenCount: 3, candidatesTokenCount: 2, totalTokenCount: 5 } } : {}),
  });

/** The bard-bridge against the fake Gemini API. */
async function startBridge(upstreamUrl: string): Promise<ContractBridge> {
  const { app, url } = await startBardBridge({ GEMINI_API_BASE: upstreamUrl });
  return { url, pipeline: app.get(ProviderPipeline), close: () => app.close() };
}

const GEMINI_FIXTURE: ProviderContractFixture = {
  startUpstream: startFakeGemini,
  startBridge,
  chatPath: '/google/v1/chat/completions',
  headers: { authorization: 'Bearer AIzaContractKey0123456789' },
  model: 'gemini-2.5-flash',
  chatRoute: { method: 'POST', path: /^\/v1beta\/models\/([^/:]+):(generateContent|streamGenerateContent)$/ },
  defaultChat: fakeGeminiGenerate,
  streaming: {
    textFrames: (words) => words.map((word, index) => textFrame(word, index === words.length - 1)),
    midStreamErrorFrames: (word) => [
      textFrame(word, false),
      encodeSseData({ error: { code: 503, message: 'The model is overloaded', status: 'UNAVAILABLE' } }),
    ],
  },
  rateLimited: geminiError(429, 'RESOURCE_EXHAUSTED', 'Quota exceeded', { 'retry-after': '7' }),
  // The fake's answers: 8 prompt tokens, 5 candidate tokens.
  usage: { promptTokens: 8, completionTokens: 5 },
};

describeProviderContract('geminiAdapter', GEMINI_FIXTURE);
