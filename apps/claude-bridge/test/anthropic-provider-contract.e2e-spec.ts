import { ProviderPipeline } from '@openai-proxy/data-access-upstream';
import {
  type ContractBridge,
  type ProviderContractFixture,
  anthropicError,
  describeProviderContract,
  fakeAnthropicMessages,
  startFakeAnthropic,
} from '@openai-proxy/testing-fakes';
import { encodeSseEvent } from '@openai-proxy/util-sse';
import { startClaudeBridge } from './support/claude-bridge-app';

const START = encodeSseEvent('message_start', {
  type: 'message_start',
  message: { id: 'msg_contract', model: 'claude-sonnet-4-6', usage: { input_tokens: 4, output_tokens: 1 } },
});
const BLOCK = encodeSseEvent('content_block_start', {
  type: 'content_block_start',
  index: 0,
  content_block: { type: 'text', text: '' },
});
const delta = (text: string): string =>
  encodeSseEvent('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text } });

/** The claude-bridge against the fake Anthropic API. */
async function startBridge(upstreamUrl: string): Promise<ContractBridge> {
  const { app, url } = await startClaudeBridge({ ANTHROPIC_API_BASE: upstreamUrl });
  return { url, pipeline: app.get(ProviderPipeline), close: () => app.close() };
}

const ANTHROPIC_FIXTURE: ProviderContractFixture = {
  startUpstream: startFakeAnthropic,
  startBridge,
  chatPath: '/claude/v1/chat/completions',
  headers: { authorization: 'Bearer sk-ant-api03-contract' },
  model: 'claude-sonnet-4-6',
  chatRoute: { method: 'POST', path: '/v1/messages' },
  defaultChat: fakeAnthropicMessages,
  streaming: {
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
  },
  rateLimited: anthropicError(429, 'rate_limit_error', 'Slow down', { 'retry-after': '7' }),
  // The fake's answers: 11 input + 2 cache-creation + 3 cache-read prompt tokens, 7 output tokens.
  usage: { promptTokens: 16, completionTokens: 7, cachedPromptTokens: 3, cacheWritePromptTokens: 2 },
};

describeProviderContract('anthropicAdapter', ANTHROPIC_FIXTURE);
