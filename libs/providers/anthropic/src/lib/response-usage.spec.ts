import { toChatUsage, toProviderUsage } from './response.transform';

describe('Anthropic usage in OpenAI terms', () => {
  const usage = {
    input_tokens: 10,
    cache_creation_input_tokens: 1000,
    cache_read_input_tokens: 30,
    cache_creation: { ephemeral_5m_input_tokens: 200, ephemeral_1h_input_tokens: 800 },
    output_tokens: 20,
  };

  it("should carry the cache writes' 1-hour part in the chat usage and the ledger's usage", () => {
    expect(toChatUsage(usage)).toEqual({
      prompt_tokens: 1040,
      completion_tokens: 20,
      total_tokens: 1060,
      prompt_tokens_details: { cached_tokens: 30, cache_write_tokens: 1000, cache_write_1h_tokens: 800 },
    });
    expect(toProviderUsage(usage)).toEqual({
      promptTokens: 1040,
      completionTokens: 20,
      cachedPromptTokens: 30,
      cacheWritePromptTokens: 1000,
      cacheWrite1hPromptTokens: 800,
    });
  });

  it('should never count more 1-hour writes than writes, nor any without a write count', () => {
    const more = { ...usage, cache_creation: { ephemeral_1h_input_tokens: 5000 } };
    expect(toProviderUsage(more).cacheWrite1hPromptTokens).toBe(1000);
    const none = { input_tokens: 10, output_tokens: 2, cache_creation: { ephemeral_1h_input_tokens: 7 } };
    expect(toProviderUsage(none).cacheWrite1hPromptTokens).toBeUndefined();
    expect(toChatUsage(none).prompt_tokens_details).toBeUndefined();
  });
});
