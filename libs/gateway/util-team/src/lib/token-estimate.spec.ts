import fc from 'fast-check';
import { z } from 'zod';
import {
  EXACT_TOKENS_TEXT_LENGTH,
  completionAllowance,
  estimatePromptTokens,
  estimateTextTokens,
  meteredUsage,
  TOKENS_PER_MEDIA_PART,
  TOKENS_PER_MESSAGE,
  TOKENS_PER_REQUEST,
} from './token-estimate';
import { promptText } from './prompt-text';

describe('estimateTextTokens', () => {
  it('should count tokens by the o200k encoding', () => {
    expect(estimateTextTokens('')).toBe(0);
    expect(estimateTextTokens('hello world')).toBe(2);
  });

  it('should count special-token text as plain text instead of refusing it', () => {
    expect(estimateTextTokens('a <|endoftext|> b')).toBeGreaterThan(3);
  });

  it('should count at least one token for any text that is not empty', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), (text) => {
        const tokens = estimateTextTokens(text);
        expect(Number.isInteger(tokens) && tokens >= 1 && tokens <= text.length * 3).toBe(true);
      }),
    );
  });
});

describe('estimatePromptTokens', () => {
  it('should add the per-message overhead to the text', () => {
    const body = { messages: [{ role: 'user', content: 'hello world' }] };
    expect(estimatePromptTokens('openai', body)).toBe(2 + TOKENS_PER_MESSAGE + TOKENS_PER_REQUEST);
  });

  it('should count token arrays by their length, with no message overhead', () => {
    expect(estimatePromptTokens('openai', { input: [[1, 2, 3], [4]] })).toBe(4);
    expect(estimatePromptTokens('openai', { input: 'hello world' })).toBe(2);
  });

  it("should count the tool definitions' JSON and a fixed allowance per image", () => {
    const tools = [{ name: 'search', description: 'Searches the code base.', input_schema: { type: 'object' } }];
    const image = { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'A'.repeat(100_000) } };
    const text = { role: 'user', content: [{ type: 'text', text: 'hello world' }] };
    const bare = estimatePromptTokens('anthropic', { messages: [text] });
    expect(estimatePromptTokens('anthropic', { tools, messages: [text] })).toBe(
      bare + estimateTextTokens(`${JSON.stringify(tools)}\nhello world`) - estimateTextTokens('hello world'),
    );
    const withImage = { role: 'user', content: [image, { type: 'text', text: 'hello world' }] };
    // The image's 100 kB of base64 are never read as text.
    expect(estimatePromptTokens('anthropic', { messages: [withImage] })).toBe(bare + TOKENS_PER_MEDIA_PART);
  });

  it('should be 0 for a body with no prompt', () => {
    expect(estimatePromptTokens('anthropic', null)).toBe(0);
    expect(estimatePromptTokens('gemini', {})).toBe(0);
  });
});

describe('completionAllowance', () => {
  it('should take max_completion_tokens over max_tokens, then the other dialects', () => {
    expect(completionAllowance({ max_completion_tokens: 100, max_tokens: 50 })).toBe(100);
    expect(completionAllowance({ max_tokens: 50 })).toBe(50);
    expect(completionAllowance({ max_output_tokens: 70 })).toBe(70);
    expect(completionAllowance({ generationConfig: { maxOutputTokens: 30 } })).toBe(30);
  });

  it('should take only positive whole numbers', () => {
    expect(completionAllowance({ max_completion_tokens: 0, max_tokens: 50 })).toBe(50);
    expect(completionAllowance({ max_completion_tokens: -1 })).toBeUndefined();
    expect(completionAllowance({ max_tokens: 1.5 })).toBeUndefined();
    expect(completionAllowance({ max_tokens: '100' })).toBeUndefined();
    expect(completionAllowance({ max_tokens: Number.POSITIVE_INFINITY })).toBeUndefined();
    expect(completionAllowance({ generationConfig: 'x' })).toBeUndefined();
    expect(completionAllowance(undefined)).toBeUndefined();
    expect(completionAllowance([100])).toBeUndefined();
  });

  it('should answer as its zod schema does, for any body', () => {
    const allowance = z.number().int().positive().optional().catch(undefined);
    const schema = z.looseObject({
      max_completion_tokens: allowance,
      max_tokens: allowance,
      max_output_tokens: allowance,
      generationConfig: z.looseObject({ maxOutputTokens: allowance }).optional().catch(undefined),
    });
    const bySchema = (body: unknown): number | undefined => {
      const parsed = schema.safeParse(body);
      const fields = parsed.success ? parsed.data : undefined;
      return (
        fields?.max_completion_tokens ??
        fields?.max_tokens ??
        fields?.max_output_tokens ??
        fields?.generationConfig?.maxOutputTokens
      );
    };
    const value = fc.oneof(
      fc.integer({ min: -3, max: 3 }),
      fc.constantFrom(1.5, 2 ** 53, Infinity, NaN),
      fc.anything(),
    );
    const body = fc.record(
      {
        max_completion_tokens: value,
        max_tokens: value,
        max_output_tokens: value,
        generationConfig: fc.oneof(fc.record({ maxOutputTokens: value }, { requiredKeys: [] }), value),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(fc.oneof(body, fc.anything()), (given) => expect(completionAllowance(given)).toBe(bySchema(given))),
      { numRuns: 1000 },
    );
  });

  it('should answer a positive whole number or undefined for any body', () => {
    fc.assert(
      fc.property(fc.anything(), fc.anything(), (value, other) => {
        for (const body of [value, { max_tokens: value, max_completion_tokens: other }]) {
          const allowance = completionAllowance(body);
          expect(allowance === undefined || (Number.isSafeInteger(allowance) && allowance > 0)).toBe(true);
        }
      }),
    );
  });
});

describe('meteredUsage', () => {
  const estimate = { promptTokens: 40, deliveredText: 'hello world' };

  it("should take the provider's counts when it reported them", () => {
    const reported = {
      promptTokens: 100,
      completionTokens: 20,
      cachedPromptTokens: 64,
      cacheWritePromptTokens: 30,
      cacheWrite1hPromptTokens: 10,
      reasoningTokens: 8,
    };
    expect(meteredUsage(reported, estimate)).toEqual({
      ...reported,
      promptSource: 'provider',
      completionSource: 'provider',
    });
  });

  it('should estimate both counts when the provider reported nothing', () => {
    expect(meteredUsage(undefined, estimate)).toEqual({
      promptTokens: 40,
      completionTokens: 2,
      cachedPromptTokens: 0,
      cacheWritePromptTokens: 0,
      cacheWrite1hPromptTokens: 0,
      reasoningTokens: 0,
      promptSource: 'estimated',
      completionSource: 'estimated',
    });
  });

  it('should estimate only the completion when a stream ended after reporting its prompt', () => {
    expect(meteredUsage({ promptTokens: 112, cachedPromptTokens: 100 }, estimate)).toEqual({
      promptTokens: 112,
      completionTokens: 2,
      cachedPromptTokens: 100,
      cacheWritePromptTokens: 0,
      cacheWrite1hPromptTokens: 0,
      reasoningTokens: 0,
      promptSource: 'provider',
      completionSource: 'estimated',
    });
  });

  it('should keep cached, cache-write and reasoning tokens within their counts', () => {
    fc.assert(
      fc.property(
        fc.tuple(fc.nat(), fc.nat(), fc.nat(), fc.nat(), fc.nat(), fc.nat()),
        fc.string(),
        ([prompt, completion, cached, written, reasoning, written1h], text) => {
          const reported = { promptTokens: prompt, completionTokens: completion, cachedPromptTokens: cached };
          const usage = meteredUsage(
            {
              ...reported,
              cacheWritePromptTokens: written,
              cacheWrite1hPromptTokens: written1h,
              reasoningTokens: reasoning,
            },
            { promptTokens: 1, deliveredText: text },
          );
          expect(usage.cachedPromptTokens + usage.cacheWritePromptTokens).toBeLessThanOrEqual(usage.promptTokens);
          expect(usage.reasoningTokens).toBeLessThanOrEqual(usage.completionTokens);
          expect(usage.cachedPromptTokens).toBeGreaterThanOrEqual(0);
          expect(usage.cacheWritePromptTokens).toBeGreaterThanOrEqual(0);
          expect(usage.cacheWrite1hPromptTokens).toBeLessThanOrEqual(usage.cacheWritePromptTokens);
          expect(usage.cacheWrite1hPromptTokens).toBeGreaterThanOrEqual(0);
        },
      ),
    );
  });
});

describe('estimates of very large prompts', () => {
  // Regression: an embeddings input of many items was joined by copying the whole list once per item (its
  // square), and passed as that many function arguments: 150 000 items threw a RangeError.
  it('should count an input of 150 000 one-letter texts without throwing', () => {
    const input = Array.from({ length: 150_000 }, () => 'a');
    expect(estimatePromptTokens('openai', { model: 'text-embedding-3-small', input })).toBeGreaterThanOrEqual(1);
    expect(promptText('openai', { input }).length).toBe(2 * 150_000 - 1);
  });

  it('should tokenize the first EXACT_TOKENS_TEXT_LENGTH characters and count the rest by length', () => {
    const head = 'word'.repeat(EXACT_TOKENS_TEXT_LENGTH / 4);
    const tail = 'x'.repeat(4_000_000);
    expect(estimateTextTokens(head + tail)).toBe(estimateTextTokens(head) + 1_000_000);
  });
});
