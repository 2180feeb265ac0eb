import fc from 'fast-check';
import { z } from 'zod';
import type { ProviderUsage } from '@openai-proxy/util-openai-schema';
import {
  anthropicPromptTokens,
  anthropicUsage,
  anthropicUsageSchema,
  geminiCompletionTokens,
  geminiUsage,
  geminiUsageSchema,
  isCount,
  isRecord,
  openAiUsage,
} from './usage-counts';

/*
 * The readers check types by hand; these are the same readers written with zod, which they must agree with on
 * any value.
 */

const count = z.number().int().nonnegative();
const detailCount = count.nullish().catch(undefined);
const cachedDetails = z.looseObject({ cached_tokens: detailCount }).nullish().catch(undefined);
const promptDetails = z
  .looseObject({ cached_tokens: detailCount, cache_write_tokens: detailCount, cache_write_1h_tokens: detailCount })
  .nullish()
  .catch(undefined);
const reasoningDetails = z.looseObject({ reasoning_tokens: detailCount }).nullish().catch(undefined);
const openAiChatUsage = z.looseObject({
  prompt_tokens: count,
  completion_tokens: count.nullish(),
  prompt_tokens_details: promptDetails,
  completion_tokens_details: reasoningDetails,
});
const openAiResponsesUsage = z.looseObject({
  input_tokens: count,
  output_tokens: count,
  input_tokens_details: cachedDetails,
  output_tokens_details: reasoningDetails,
});

function expected(
  promptTokens: number,
  completionTokens: number,
  cached: number | null | undefined,
  reasoning: number | null | undefined,
  written?: number | null,
  written1h?: number | null,
): ProviderUsage {
  return {
    promptTokens,
    completionTokens,
    ...(typeof cached === 'number' ? { cachedPromptTokens: cached } : {}),
    ...(typeof written === 'number' ? { cacheWritePromptTokens: written } : {}),
    ...(typeof written1h === 'number' ? { cacheWrite1hPromptTokens: written1h } : {}),
    ...(typeof reasoning === 'number' ? { reasoningTokens: reasoning } : {}),
  };
}

function openAiBySchema(usage: unknown): ProviderUsage | undefined {
  const chat = openAiChatUsage.safeParse(usage);
  if (chat.success) {
    const { data } = chat;
    return expected(
      data.prompt_tokens,
      data.completion_tokens ?? 0,
      data.prompt_tokens_details?.cached_tokens,
      data.completion_tokens_details?.reasoning_tokens,
      data.prompt_tokens_details?.cache_write_tokens,
      data.prompt_tokens_details?.cache_write_1h_tokens,
    );
  }
  const responses = openAiResponsesUsage.safeParse(usage);
  if (!responses.success) {
    return undefined;
  }
  const { data } = responses;
  return expected(
    data.input_tokens,
    data.output_tokens,
    data.input_tokens_details?.cached_tokens,
    data.output_tokens_details?.reasoning_tokens,
  );
}

function anthropicBySchema(usage: unknown): ProviderUsage | undefined {
  const parsed = anthropicUsageSchema.safeParse(usage);
  if (!parsed.success || typeof parsed.data.output_tokens !== 'number') {
    return undefined;
  }
  const prompt = anthropicPromptTokens(parsed.data);
  return prompt === undefined
    ? undefined
    : expected(
        prompt,
        parsed.data.output_tokens,
        parsed.data.cache_read_input_tokens,
        undefined,
        parsed.data.cache_creation_input_tokens,
        parsed.data.cache_creation?.ephemeral_1h_input_tokens,
      );
}

function geminiBySchema(usage: unknown): ProviderUsage | undefined {
  const parsed = geminiUsageSchema.safeParse(usage);
  const prompt = parsed.data?.promptTokenCount;
  if (!parsed.success || typeof prompt !== 'number') {
    return undefined;
  }
  const { data } = parsed;
  return expected(prompt, geminiCompletionTokens(data) ?? 0, data.cachedContentTokenCount, data.thoughtsTokenCount);
}

/** Values a count field may hold: counts most often, and every kind of wrong one. */
const fieldValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.nat() },
  fc.constantFrom(0, -0, -1, 1.5, Number.MAX_SAFE_INTEGER, 2 ** 53, Infinity, NaN, null, '3', true),
  fc.jsonValue(),
);
/** A details object (`prompt_tokens_details`) with some of `names`, or anything else. */
const detailsValue = (...names: string[]): fc.Arbitrary<unknown> =>
  fc.oneof(fc.record(Object.fromEntries(names.map((name) => [name, fieldValue])), { requiredKeys: [] }), fieldValue);

/** An object with some of `names` (each of any value), and some other keys. */
function usageShaped(names: Record<string, fc.Arbitrary<unknown>>): fc.Arbitrary<unknown> {
  return fc.oneof(
    fc.record(names, { requiredKeys: [] }),
    fc
      .tuple(fc.record(names, { requiredKeys: [] }), fc.dictionary(fc.string(), fc.jsonValue(), { maxKeys: 3 }))
      .map(([known, other]) => ({ ...other, ...known })),
    fc.jsonValue(),
    fc.constantFrom(undefined, null, [], new Date(0)),
  );
}

const openAiShaped = usageShaped({
  prompt_tokens: fieldValue,
  completion_tokens: fieldValue,
  prompt_tokens_details: detailsValue('cached_tokens', 'cache_write_tokens', 'cache_write_1h_tokens'),
  completion_tokens_details: detailsValue('reasoning_tokens'),
  input_tokens: fieldValue,
  output_tokens: fieldValue,
  input_tokens_details: detailsValue('cached_tokens'),
  output_tokens_details: detailsValue('reasoning_tokens'),
});
const anthropicShaped = usageShaped({
  input_tokens: fieldValue,
  output_tokens: fieldValue,
  cache_creation_input_tokens: fieldValue,
  cache_read_input_tokens: fieldValue,
  cache_creation: detailsValue('ephemeral_5m_input_tokens', 'ephemeral_1h_input_tokens'),
});
const geminiShaped = usageShaped({
  promptTokenCount: fieldValue,
  candidatesTokenCount: fieldValue,
  thoughtsTokenCount: fieldValue,
  cachedContentTokenCount: fieldValue,
});

const RUNS = { numRuns: 2000 };

describe('isRecord and isCount', () => {
  it('should take what a zod object and a zod count take', () => {
    const object = z.looseObject({});
    fc.assert(
      fc.property(fc.oneof(fc.anything(), fieldValue), (value) => {
        expect(isRecord(value)).toBe(object.safeParse(value).success);
        expect(isCount(value)).toBe(count.safeParse(value).success);
      }),
      RUNS,
    );
  });
});

describe('the usage readers', () => {
  it("should read OpenAI's usage as its zod schemas do, for any value", () => {
    fc.assert(
      fc.property(openAiShaped, (usage) => expect(openAiUsage(usage)).toStrictEqual(openAiBySchema(usage))),
      RUNS,
    );
  });

  it("should read Anthropic's usage as its zod schema does, for any value", () => {
    fc.assert(
      fc.property(anthropicShaped, (usage) => expect(anthropicUsage(usage)).toStrictEqual(anthropicBySchema(usage))),
      RUNS,
    );
  });

  it("should read Gemini's usage as its zod schema does, for any value", () => {
    fc.assert(
      fc.property(geminiShaped, (usage) => expect(geminiUsage(usage)).toStrictEqual(geminiBySchema(usage))),
      RUNS,
    );
  });

  it('should read the well-formed usage of each provider', () => {
    expect(
      openAiUsage({ prompt_tokens: 3, completion_tokens: null, prompt_tokens_details: { cached_tokens: 1 } }),
    ).toEqual({
      promptTokens: 3,
      completionTokens: 0,
      cachedPromptTokens: 1,
    });
    expect(anthropicUsage({ input_tokens: 1, output_tokens: 2, cache_creation_input_tokens: 'x' })).toEqual({
      promptTokens: 1,
      completionTokens: 2,
    });
    expect(
      anthropicUsage({
        input_tokens: 1,
        output_tokens: 2,
        cache_creation_input_tokens: 30,
        cache_read_input_tokens: 4,
      }),
    ).toEqual({ promptTokens: 35, completionTokens: 2, cachedPromptTokens: 4, cacheWritePromptTokens: 30 });
    expect(
      anthropicUsage({
        input_tokens: 1,
        output_tokens: 2,
        cache_creation_input_tokens: 30,
        cache_creation: { ephemeral_5m_input_tokens: 10, ephemeral_1h_input_tokens: 20 },
      }),
    ).toEqual({ promptTokens: 31, completionTokens: 2, cacheWritePromptTokens: 30, cacheWrite1hPromptTokens: 20 });
    // OpenRouter's (and our claude-bridge's) cache writes in an OpenAI-shaped usage.
    expect(
      openAiUsage({
        prompt_tokens: 194,
        completion_tokens: 2,
        prompt_tokens_details: { cached_tokens: 0, cache_write_tokens: 100 },
      }),
    ).toEqual({ promptTokens: 194, completionTokens: 2, cachedPromptTokens: 0, cacheWritePromptTokens: 100 });
    expect(geminiUsage({ promptTokenCount: 4, thoughtsTokenCount: 5 })).toEqual({
      promptTokens: 4,
      completionTokens: 5,
      reasoningTokens: 5,
    });
  });
});
