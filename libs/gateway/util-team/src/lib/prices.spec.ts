import fc from 'fast-check';
import type { ModelPrice } from '@openai-proxy/util-config';
import { costUsd, priceFor } from './prices';
import type { MeteredUsage } from './team.types';

function usage(promptTokens: number, completionTokens: number, cachedPromptTokens = 0): MeteredUsage {
  return {
    promptTokens,
    completionTokens,
    cachedPromptTokens,
    reasoningTokens: 0,
    promptSource: 'provider',
    completionSource: 'provider',
  };
}

const priceArbitrary: fc.Arbitrary<ModelPrice> = fc.record(
  {
    input: fc.double({ min: 0, max: 1000, noNaN: true }),
    output: fc.double({ min: 0, max: 1000, noNaN: true }),
    cachedInput: fc.double({ min: 0, max: 1000, noNaN: true }),
  },
  { requiredKeys: ['input', 'output'] },
);
const tokens = fc.nat({ max: 10_000_000 });

describe('priceFor', () => {
  it('should find a listed model by its exact name', () => {
    expect(priceFor('gpt-4o', {})).toEqual({ input: 2.5, output: 10, cachedInput: 1.25 });
    expect(priceFor('claude-sonnet-4-5', {})).toMatchObject({ input: 3, output: 15 });
    expect(priceFor('gemini-2.5-flash-lite', {})).toMatchObject({ input: 0.1, output: 0.4 });
  });

  it('should give a dated model its family price, taking the longest family', () => {
    expect(priceFor('gpt-4o-2024-08-06', {})).toEqual(priceFor('gpt-4o', {}));
    expect(priceFor('gpt-4o-mini-2024-07-18', {})).toEqual(priceFor('gpt-4o-mini', {}));
    expect(priceFor('gpt-4o-mini', {})).not.toEqual(priceFor('gpt-4o', {}));
    expect(priceFor('claude-opus-4-1-20250805', {})).toEqual(priceFor('claude-opus-4-1', {}));
    expect(priceFor('claude-sonnet-4-20250514', {})).toEqual(priceFor('claude-sonnet-4', {}));
    expect(priceFor('o3-pro-2025-06-10', {})).toEqual({ input: 20, output: 80 });
  });

  it('should need a dash after the family name', () => {
    expect(priceFor('gpt-4object', {})).toBeUndefined();
    expect(priceFor('o10', {})).toBeUndefined();
  });

  it('should know no price for an unlisted model or an inherited object name', () => {
    for (const model of ['deepseek-chat', 'llama3.1:8b', '', 'constructor', '__proto__', 'toString']) {
      expect(priceFor(model, {})).toBeUndefined();
    }
  });

  it("should let the config file's price win, exactly and by family", () => {
    const own: ModelPrice = { input: 1, output: 2 };
    expect(priceFor('gpt-4o-mini', { 'gpt-4o-mini': own })).toBe(own);
    expect(priceFor('gpt-4o-2024-08-06', { 'gpt-4o': own })).toBe(own);
    expect(priceFor('deepseek-chat-v3', { 'deepseek-chat': own })).toBe(own);
    expect(priceFor('gpt-4o-mini', { 'gpt-4o': own })).toEqual(priceFor('gpt-4o-mini', {}));
  });
});

describe('costUsd', () => {
  it('should bill uncached, cached and completion tokens at their prices, per million', () => {
    const price: ModelPrice = { input: 2.5, output: 10, cachedInput: 1.25 };
    expect(costUsd(price, usage(1_000_000, 1_000_000))).toBeCloseTo(12.5, 10);
    expect(costUsd(price, usage(1_000_000, 0, 400_000))).toBeCloseTo(0.6 * 2.5 + 0.4 * 1.25, 10);
    expect(costUsd({ input: 3, output: 15 }, usage(1000, 0, 1000))).toBeCloseTo(0.003, 12);
  });

  it('should cost 0 without a price', () => {
    expect(costUsd(undefined, usage(123_456, 789))).toBe(0);
  });

  it('should never count more cached tokens than prompt tokens', () => {
    expect(costUsd({ input: 1, output: 1, cachedInput: 0 }, usage(10, 0, 50))).toBe(0);
    expect(costUsd({ input: 1, output: 1, cachedInput: 100 }, usage(10, 0, 50))).toBeCloseTo(0.001, 12);
  });

  it('should never be negative, and grow with prompt and completion tokens', () => {
    fc.assert(
      fc.property(priceArbitrary, tokens, tokens, tokens, tokens, (price, prompt, completion, cached, more) => {
        const base = costUsd(price, usage(prompt, completion, cached));
        expect(base).toBeGreaterThanOrEqual(0);
        expect(costUsd(price, usage(prompt + more, completion, cached))).toBeGreaterThanOrEqual(base);
        expect(costUsd(price, usage(prompt, completion + more, cached))).toBeGreaterThanOrEqual(base);
      }),
    );
  });

  it('should cost no more with more cached tokens when the cached price is the lower one', () => {
    const roundingSlack = 1 + 1e-12;
    fc.assert(
      fc.property(priceArbitrary, tokens, tokens, tokens, tokens, (price, prompt, completion, cached, more) => {
        const cheaperCache = { ...price, cachedInput: Math.min(price.cachedInput ?? price.input, price.input) };
        expect(costUsd(cheaperCache, usage(prompt, completion, cached + more))).toBeLessThanOrEqual(
          costUsd(cheaperCache, usage(prompt, completion, cached)) * roundingSlack,
        );
      }),
    );
  });
});
