import type { NestExpressApplication } from '@nestjs/platform-express';
import { ProviderPipeline } from '@openai-proxy/data-access-upstream';
import { listenServiceApp } from '@openai-proxy/feature-platform';
import {
  type ContractBridge,
  ContractReports,
  type FakeUpstream,
  type ProviderContractFixture,
  json,
  providerContractCases,
  sse,
  startFakeClaudeWeb,
} from '@openai-proxy/testing-fakes';
import { encodeSseData } from '@openai-proxy/util-sse';
import { loadClaudeBridgeConfig } from '../src/config/claude-bridge.env';
import { createClaudeBridgeApp } from '../src/claude-bridge.app';

const ORG = 'dca2a902-a463-41f0-88cb-b047deb40178';

const completionEvent = (completion: string, stopReason: string | null): string =>
  encodeSseData({ completion, stop_reason: stopReason, model: 'claude-2.1' });

const textFrames = (words: readonly string[]): string[] =>
  words.map((word, index) => completionEvent(word, index === words.length - 1 ? 'stop_sequence' : null));

/** claude.ai's answer to every append_message unless a case scripts another. */
const defaultChat = sse({ frames: textFrames([' Hello', ' from claude.ai.']) });

/** The fake claude.ai (its conversations kept, so that the fresh conversation of each call is made and deleted). */
async function startUpstream(): Promise<FakeUpstream> {
  const { fake } = await startFakeClaudeWeb();
  return fake.on('POST', '/append_message', defaultChat);
}

/** Starts the claude-bridge and records each call report its provider pipeline returns. */
async function startBridge(upstreamUrl: string): Promise<ContractBridge> {
  const app: NestExpressApplication = await createClaudeBridgeApp(
    loadClaudeBridgeConfig({ CLAUDE_WEB_BASE: upstreamUrl, LOG_LEVEL: 'silent' }),
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

const CLAUDE_WEB_FIXTURE: ProviderContractFixture = {
  startUpstream,
  startBridge,
  chatPath: `/claude/${ORG}/v1/chat/completions`,
  headers: { authorization: 'Bearer sk-ant-sid01-contract' },
  model: 'claude-2.1',
  chatRoute: { method: 'POST', path: '/append_message' },
  defaultChat,
  textFrames,
  midStreamErrorFrames: (word) => [
    completionEvent(word, null),
    encodeSseData({ error: { type: 'overloaded_error', message: 'Overloaded' } }),
  ],
  rateLimited: json(429, { error: { type: 'rate_limit_error', message: 'Slow down' } }, { 'retry-after': '7' }),
  usage: undefined,
  notApplicable: {
    tools: 'the claude.ai web prompt has no tools: tool definitions are not sent and no tool call comes back',
    images: 'claude.ai takes text only: an image part is refused with 400 naming its param',
    usage: 'claude.ai events carry no token counts: there is no usage chunk to send',
  },
};

describe('claudeWebCompletionsAdapter under the provider contract', () => {
  let upstream: FakeUpstream;
  let bridge: ContractBridge;

  beforeAll(async () => {
    upstream = await CLAUDE_WEB_FIXTURE.startUpstream();
    bridge = await CLAUDE_WEB_FIXTURE.startBridge(upstream.url);
  });

  afterEach(() => {
    upstream.on(CLAUDE_WEB_FIXTURE.chatRoute.method, CLAUDE_WEB_FIXTURE.chatRoute.path, CLAUDE_WEB_FIXTURE.defaultChat);
  });

  afterAll(async () => {
    await bridge.close();
    await upstream.close();
  });

  for (const contractCase of providerContractCases(CLAUDE_WEB_FIXTURE)) {
    if (contractCase.notApplicable === undefined) {
      it(contractCase.name, () => contractCase.run({ upstream, bridge }));
    } else {
      it.skip(`${contractCase.name} (not applicable: ${contractCase.notApplicable})`, () => undefined);
    }
  }
});
