import { ProviderPipeline } from '@openai-proxy/data-access-upstream';
import {
  type ContractBridge,
  type FakeUpstream,
  type ProviderContractFixture,
  describeProviderContract,
  json,
  sse,
  startFakeClaudeWeb,
} from '@openai-proxy/testing-fakes';
import { encodeSseData } from '@openai-proxy/util-sse';
import { startClaudeBridge } from './support/claude-bridge-app';

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

/** The claude-bridge against the fake claude.ai. */
async function startBridge(upstreamUrl: string): Promise<ContractBridge> {
  const { app, url } = await startClaudeBridge({ CLAUDE_WEB_BASE: upstreamUrl });
  return { url, pipeline: app.get(ProviderPipeline), close: () => app.close() };
}

const CLAUDE_WEB_FIXTURE: ProviderContractFixture = {
  startUpstream,
  startBridge,
  chatPath: `/claude/${ORG}/v1/chat/completions`,
  headers: { authorization: 'Bearer sk-ant-sid01-contract' },
  model: 'claude-2.1',
  chatRoute: { method: 'POST', path: '/append_message' },
  defaultChat,
  streaming: {
    textFrames,
    midStreamErrorFrames: (word) => [
      completionEvent(word, null),
      encodeSseData({ error: { type: 'overloaded_error', message: 'Overloaded' } }),
    ],
  },
  rateLimited: json(429, { error: { type: 'rate_limit_error', message: 'Slow down' } }, { 'retry-after': '7' }),
  usage: undefined,
  lacks: {
    // The claude.ai web prompt has no tools: the definitions are left out of the prompt it gets.
    tools: 'not sent',
    // claude.ai takes text only.
    images: { refused: { param: 'messages[0].content[1].type' } },
    // claude.ai events carry no token counts.
    usage: 'not reported',
  },
};

describeProviderContract('claudeWebCompletionsAdapter', CLAUDE_WEB_FIXTURE);
