import type { NestExpressApplication } from '@nestjs/platform-express';
import { ProviderPipeline } from '@openai-proxy/data-access-upstream';
import { listenServiceApp } from '@openai-proxy/feature-platform';
import {
  type ContractBridge,
  ContractReports,
  type FakeUpstream,
  type ProviderContractFixture,
  anthropicError,
  fakeAnthropicMessages,
  providerContractCases,
  startFakeAnthropic,
} from '@openai-proxy/testing-fakes';
import { encodeSseEvent } from '@openai-proxy/util-sse';
import { loadClaudeBridgeConfig } from '../src/config/claude-bridge.env';
import { createClaudeBridgeApp } from '../src/claude-bridge.app';

const START = encodeSseEvent('message_start', {
  type: 'message_start',
  message: { id: 'msg_contract', model: 'claude-sonnet-4-5', usage: { input_tokens: 4, output_tokens: 1 } },
});
const BLOCK = encodeSseEvent('content_block_start', {
  type: 'content_block_start',
  index: 0,
  content_block: { type: 'text', text: '' },
});
const delta = (text: string): string =>
  encodeSseEvent('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text } });

/** Starts the claude-bridge and records each call report its provider pipeline returns. */
async function startBridge(upstreamUrl: string): Promise<ContractBridge> {
  const app: NestExpressApplication = await createClaudeBridgeApp(
    loadClaudeBridgeConfig({ ANTHROPIC_API_BASE: upstreamUrl, LOG_LEVEL: 'silent' }),
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

const ANTHROPIC_FIXTURE: ProviderContractFixture = {
  startUpstream: startFakeAnthropic,
  startBridge,
  chatPath: '/claude/v1/chat/completions',
  headers: { authorization: 'Bearer sk-ant-api03-contract' },
  model: 'claude-sonnet-4-5',
  chatRoute: { method: 'POST', path: '/v1/messages' },
  defaultChat: fakeAnthropicMessages,
  textFrames: (words) => [
    START,
    BLOCK,
    ...words.map(delta),
    encodeSseEvent('content_block_stop', { type: 'content_block_stop', index: 0 }),
    encodeSseEvent('message_delta', {
      type: 'message_delta',
      delta: { stop_reason: 'end_turn' },
      usage: { output_tokens: words.length },
    }),
    encodeSseEvent('message_stop', { type: 'message_stop' }),
  ],
  midStreamErrorFrames: (word) => [
    START,
    BLOCK,
    delta(word),
    encodeSseEvent('error', { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }),
  ],
  rateLimited: anthropicError(429, 'rate_limit_error', 'Slow down', { 'retry-after': '7' }),
  // The fake's answers: 11 input + 2 cache-creation + 3 cache-read prompt tokens, 7 output tokens.
  usage: { promptTokens: 16, completionTokens: 7, cachedPromptTokens: 3 },
};

describe('anthropicAdapter under the provider contract', () => {
  let upstream: FakeUpstream;
  let bridge: ContractBridge;

  beforeAll(async () => {
    upstream = await ANTHROPIC_FIXTURE.startUpstream();
    bridge = await ANTHROPIC_FIXTURE.startBridge(upstream.url);
  });

  afterEach(() => {
    upstream.on(ANTHROPIC_FIXTURE.chatRoute.method, ANTHROPIC_FIXTURE.chatRoute.path, ANTHROPIC_FIXTURE.defaultChat);
  });

  afterAll(async () => {
    await bridge.close();
    await upstream.close();
  });

  for (const contractCase of providerContractCases(ANTHROPIC_FIXTURE)) {
    it(contractCase.name, () => contractCase.run({ upstream, bridge }));
  }
});
