import fc from 'fast-check';
import type { PromptUsage } from '@openai-proxy/util-openai-schema';
import { SseDecoder } from './sse-decoder';
import { PROMPT_USAGE_EVENT, decodePromptUsageEvent, encodePromptUsageEvent, promptPartOf } from './prompt-usage-event';

const count = fc.nat({ max: Number.MAX_SAFE_INTEGER });

const promptUsage: fc.Arbitrary<PromptUsage> = fc.record(
  {
    promptTokens: count,
    cachedPromptTokens: count,
    cacheWritePromptTokens: count,
    cacheWrite1hPromptTokens: count,
  },
  { requiredKeys: ['promptTokens'] },
);

/** The one event a frame carries, as a reader decodes it. */
function decodedFrame(frame: string): { event: string | undefined; data: unknown } {
  const decoder = new SseDecoder();
  const events = [...decoder.push(frame), ...decoder.end()];
  expect(events).toHaveLength(1);
  return { event: events[0]?.event, data: JSON.parse(events[0]?.data ?? 'null') };
}

describe('the prompt-usage event', () => {
  it('should give back the counts it was made of, in one frame of its own event', () => {
    fc.assert(
      fc.property(promptUsage, (usage) => {
        const { event, data } = decodedFrame(encodePromptUsageEvent(usage));
        expect(event).toBe(PROMPT_USAGE_EVENT);
        expect(decodePromptUsageEvent(data)).toEqual(usage);
      }),
    );
  });

  it("should use OpenAI's names for a chat usage's prompt part", () => {
    const { data } = decodedFrame(encodePromptUsageEvent({ promptTokens: 1500, cachedPromptTokens: 300 }));
    expect(data).toEqual({ prompt_tokens: 1500, prompt_tokens_details: { cached_tokens: 300 } });
  });

  it.each([
    ['no prompt count', {}],
    ['a negative count', { prompt_tokens: -1 }],
    ['a fraction', { prompt_tokens: 1.5 }],
    ['a count as text', { prompt_tokens: '12' }],
    ['an unsafe count', { prompt_tokens: 2 ** 60 }],
    ['a bad detail', { prompt_tokens: 12, prompt_tokens_details: { cached_tokens: -3 } }],
    ['an array', [12]],
    ['null', null],
  ])('should read nothing from data with %s', (_name, data) => {
    expect(decodePromptUsageEvent(data)).toBeUndefined();
  });

  it('should never throw, whatever JSON it is given', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (data) => {
        const usage = decodePromptUsageEvent(data);
        expect(usage === undefined || Number.isSafeInteger(usage.promptTokens)).toBe(true);
      }),
    );
  });

  it("should take only the prompt's part of a whole usage", () => {
    expect(promptPartOf({ promptTokens: 10, completionTokens: 4, cachedPromptTokens: 2, reasoningTokens: 1 })).toEqual({
      promptTokens: 10,
      cachedPromptTokens: 2,
    });
  });
});
