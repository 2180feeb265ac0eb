import fc from 'fast-check';
import type { ModelPrice } from '@openai-proxy/util-config';
import { MAX_REMEMBERED_MODELS, PriceBook, costUsd } from './prices';
import type { MeteredUsage } from './team.types';

function usage(
  promptTokens: number,
  completionTokens: number,
  cachedPromptTokens = 0,
  cacheWritePromptTokens = 0,
  cacheWrite1hPromptTokens = 0,
): MeteredUsage {
  return {
    promptTokens,
    completionTokens,
    cachedPromptTokens,
    cacheWritePromptTokens,
    cacheWrite1hPromptTokens,
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
    cacheWrite: fc.double({ min: 0, max: 1000, noNaN: true }),
    cacheWrite1h: fc.double({ min: 0, max: 1000, noNaN: true }),
  },
  { requiredKeys: ['input', 'output'] },
);
const tokens = fc.nat({ max: 10_000_000 });

const builtIn = new PriceBook({});

/** The definition a PriceBook keeps to: exact name, else the longest listed family followed by `-`. */
function referencePrice(model: string, table: ReadonlyMap<string, ModelPrice>): ModelPrice | undefined {
  const exact = table.get(model);
  if (exact !== undefined) {
    return exact;
  }
  const family = [...table.keys()]
    .filter((name) => model.startsWith(`${name}-`))
    .reduce<string | undefined>((longest, name) => (name.length > (longest?.length ?? -1) ? name : longest), undefined);
  return family === undefined ? undefined : table.get(family);
}

describe('PriceBook', () => {
  it('should find a listed model by its exact name', () => {
    expect(builtIn.priceFor('gpt-4o')).toEqual({ input: 2.5, output: 10, cachedInput: 1.25 });
    expect(builtIn.priceFor('claude-sonnet-4-5')).toMatchObject({ input: 3, output: 15 });
    expect(builtIn.priceFor('gemini-2.5-flash-lite')).toMatchObject({ input: 0.1, output: 0.4 });
  });

  it('should give a dated model its family price, taking the longest family', () => {
    expect(builtIn.priceFor('gpt-4o-2024-08-06')).toEqual(builtIn.priceFor('gpt-4o'));
    expect(builtIn.priceFor('gpt-4o-mini-2024-07-18')).toEqual(builtIn.priceFor('gpt-4o-mini'));
    expect(builtIn.priceFor('gpt-4o-mini')).not.toEqual(builtIn.priceFor('gpt-4o'));
    expect(builtIn.priceFor('claude-opus-4-1-20250805')).toEqual(builtIn.priceFor('claude-opus-4-1'));
    expect(builtIn.priceFor('claude-sonnet-4-20250514')).toEqual(builtIn.priceFor('claude-sonnet-4'));
    expect(builtIn.priceFor('o3-pro-2025-06-10')).toEqual({ input: 20, output: 80 });
  });

  it("should list Anthropic's cache reads at 0.1, writes at 1.25 and 1-hour writes at 2 times the input price, and Opus 4.5 and 4.6 at their own prices", () => {
    for (const model of [
      'claude-opus-4-6',
      'claude-opus-4-1',
      'claude-sonnet-4-6',
      'claude-sonnet-4-5',
      'claude-haiku-4-5',
      'claude-3-5-haiku',
    ]) {
      const price = builtIn.priceFor(model);
      const input = price?.input ?? Number.NaN;
      expect(price?.cachedInput).toBeCloseTo(input * 0.1, 10);
      expect(price?.cacheWrite).toBeCloseTo(input * 1.25, 10);
      expect(price?.cacheWrite1h).toBeCloseTo(input * 2, 10);
    }
    // Without their own entries, both took claude-opus-4's family price: three times theirs.
    expect(builtIn.priceFor('claude-opus-4-5-20251101')).toEqual({
      input: 5,
      output: 25,
      cachedInput: 0.5,
      cacheWrite: 6.25,
      cacheWrite1h: 10,
    });
    expect(builtIn.priceFor('claude-opus-4-6')).toEqual(builtIn.priceFor('claude-opus-4-5'));
    expect(builtIn.priceFor('claude-opus-4-20250514')).toMatchObject({ input: 15, output: 75 });
  });

  it('should need a dash after the family name', () => {
    expect(builtIn.priceFor('gpt-4object')).toBeUndefined();
    expect(builtIn.priceFor('o10')).toBeUndefined();
  });

  it('should know no price for an unlisted model or an inherited object name', () => {
    for (const model of ['deepseek-chat', 'llama3.1:8b', '', 'constructor', '__proto__', 'toString']) {
      expect(builtIn.priceFor(model)).toBeUndefined();
    }
  });

  it("should let the config file's price win, exactly and by family", () => {
    const own: ModelPrice = { input: 1, output: 2 };
    expect(new PriceBook({ 'gpt-4o-mini': own }).priceFor('gpt-4o-mini')).toBe(own);
    expect(new PriceBook({ 'gpt-4o': own }).priceFor('gpt-4o-2024-08-06')).toBe(own);
    expect(new PriceBook({ 'deepseek-chat': own }).priceFor('deepseek-chat-v3')).toBe(own);
    expect(new PriceBook({ 'gpt-4o': own }).priceFor('gpt-4o-mini')).toEqual(builtIn.priceFor('gpt-4o-mini'));
  });

  it('should keep answering as the first time past as many models as it keeps found', () => {
    const book = new PriceBook({});
    const mini = builtIn.priceFor('gpt-4o-mini');
    const dated = Array.from({ length: MAX_REMEMBERED_MODELS + 10 }, (_, index) => `gpt-4o-mini-${index}`);
    for (let round = 0; round < 2; round += 1) {
      for (const model of dated) {
        expect(book.priceFor(model)).toBe(mini);
      }
      expect(book.priceFor('gpt-4o-2024-08-06')).toBe(builtIn.priceFor('gpt-4o'));
      expect(book.priceFor('deepseek-chat-v3')).toBeUndefined();
    }
  });

  it("should price any model by the config's names as the definition does, asked once or again", () => {
    // Names of a small alphabet, so that one often starts another; no built-in name starts with `zz`.
    const name = fc.stringMatching(/^zz[ab-]{0,5}$/);
    const model = fc.oneof(
      name,
      fc.tuple(name, name).map(([family, rest]) => `${family}-${rest}`),
    );
    fc.assert(
      fc.property(
        fc.dictionary(name, priceArbitrary, { maxKeys: 6 }),
        fc.array(model, { maxLength: 6 }),
        (own, asked) => {
          const book = new PriceBook(own);
          const table = new Map(Object.entries(own));
          for (const one of [...asked, ...asked]) {
            expect(book.priceFor(one)).toBe(referencePrice(one, table));
          }
        },
      ),
    );
  });
});

describe('costUsd', () => {
  it('should bill uncached, cached and completion tokens at their prices, per million', () => {
    const price: ModelPrice = { input: 2.5, output: 10, cachedInput: 1.25 };
    expect(costUsd(price, usage(1_000_000, 1_000_000))).toBeCloseTo(12.5, 10);
    expect(costUsd(price, usage(1_000_000, 0, 400_000))).toBeCloseTo(0.6 * 2.5 + 0.4 * 1.25, 10);
    expect(costUsd({ input: 3, output: 15 }, usage(1000, 0, 1000))).toBeCloseTo(0.003, 12);
  });

  it('should bill the prompt tokens written to the cache at the cache-write price, else at the input price', () => {
    const price: ModelPrice = { input: 3, output: 15, cachedInput: 0.3, cacheWrite: 3.75 };
    // 1M prompt tokens: 200k read from the cache, 300k written to it, 500k neither.
    expect(costUsd(price, usage(1_000_000, 0, 200_000, 300_000))).toBeCloseTo(0.5 * 3 + 0.2 * 0.3 + 0.3 * 3.75, 10);
    expect(costUsd({ input: 3, output: 15 }, usage(1_000_000, 0, 0, 1_000_000))).toBeCloseTo(3, 10);
  });

  it('should bill the 1-hour cache writes at their price, else at the cache-write price, never more of them than the writes', () => {
    const price: ModelPrice = { input: 3, output: 15, cacheWrite: 3.75, cacheWrite1h: 6 };
    // 1M prompt tokens, all written to the cache: 400k of them for an hour.
    expect(costUsd(price, usage(1_000_000, 0, 0, 1_000_000, 400_000))).toBeCloseTo(0.6 * 3.75 + 0.4 * 6, 10);
    expect(costUsd({ ...price, cacheWrite1h: undefined }, usage(1_000_000, 0, 0, 1_000_000, 400_000))).toBeCloseTo(
      3.75,
      10,
    );
    expect(costUsd(price, usage(1_000_000, 0, 0, 100_000, 400_000))).toBeCloseTo(0.9 * 3 + 0.1 * 6, 10);
  });

  it('should never count more cache writes than the prompt tokens not read from the cache', () => {
    const price: ModelPrice = { input: 1, output: 0, cachedInput: 0, cacheWrite: 100 };
    expect(costUsd(price, usage(10, 0, 4, 50))).toBeCloseTo((6 * 100) / 1_000_000, 12);
    expect(costUsd(price, usage(10, 0, 10, 50))).toBe(0);
  });

  it('should bill the whole request at the long-context prices once the prompt is longer than where they start', () => {
    const price: ModelPrice = {
      input: 3,
      output: 15,
      cachedInput: 0.3,
      cacheWrite: 3.75,
      longContext: { aboveTokens: 200_000, input: 6, output: 22.5, cachedInput: 0.6, cacheWrite: 7.5 },
    };
    expect(costUsd(price, usage(200_000, 1_000_000))).toBeCloseTo(0.2 * 3 + 15, 10);
    expect(costUsd(price, usage(200_001, 1_000_000))).toBeCloseTo((200_001 * 6) / 1_000_000 + 22.5, 10);
    // 300k prompt tokens: 100k read from the cache, 50k written to it.
    expect(costUsd(price, usage(300_000, 0, 100_000, 50_000))).toBeCloseTo(0.15 * 6 + 0.1 * 0.6 + 0.05 * 7.5, 10);
    // A long tier without cache prices bills its cache reads and writes at its own input price.
    const plain: ModelPrice = { input: 1, output: 1, longContext: { aboveTokens: 10, input: 2, output: 2 } };
    expect(costUsd(plain, usage(1_000_000, 0, 500_000, 500_000))).toBeCloseTo(2, 10);
  });

  it('should price long prompts of the built-in Claude Sonnet 4 and 4.5 and Gemini 2.5 Pro at their long-context prices', () => {
    const long = usage(1_000_000, 1_000_000);
    expect(costUsd(builtIn.priceFor('claude-sonnet-4-5-20250929'), long)).toBeCloseTo(6 + 22.5, 10);
    expect(costUsd(builtIn.priceFor('claude-sonnet-4-20250514'), long)).toBeCloseTo(6 + 22.5, 10);
    expect(costUsd(builtIn.priceFor('gemini-2.5-pro'), long)).toBeCloseTo(2.5 + 15, 10);
    expect(costUsd(builtIn.priceFor('gemini-2.5-pro'), usage(100_000, 0))).toBeCloseTo(0.125, 10);
  });

  it('should cost no less for a longer prompt when every long-context price is at least the short one', () => {
    const longTier = fc.record({
      aboveTokens: fc.integer({ min: 1, max: 10_000_000 }),
      extra: fc.tuple(
        fc.double({ min: 0, max: 1000, noNaN: true }),
        fc.double({ min: 0, max: 1000, noNaN: true }),
        fc.double({ min: 0, max: 1000, noNaN: true }),
        fc.double({ min: 0, max: 1000, noNaN: true }),
      ),
    });
    const roundingSlack = 1 - 1e-12;
    fc.assert(
      fc.property(
        priceArbitrary,
        longTier,
        fc.tuple(tokens, tokens, tokens, tokens, tokens),
        (short, { aboveTokens, extra: [input, output, cached, written] }, [prompt, completion, read, wrote, more]) => {
          const price: ModelPrice = {
            ...short,
            longContext: {
              aboveTokens,
              input: short.input + input,
              output: short.output + output,
              cachedInput: (short.cachedInput ?? short.input) + cached,
              cacheWrite: (short.cacheWrite ?? short.input) + written,
            },
          };
          expect(costUsd(price, usage(prompt + more, completion, read, wrote))).toBeGreaterThanOrEqual(
            costUsd(price, usage(prompt, completion, read, wrote)) * roundingSlack,
          );
        },
      ),
    );
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
      fc.property(
        priceArbitrary,
        fc.tuple(tokens, tokens, tokens, tokens, tokens),
        (price, [prompt, completion, cached, written, more]) => {
          const base = costUsd(price, usage(prompt, completion, cached, written));
          expect(base).toBeGreaterThanOrEqual(0);
          expect(costUsd(price, usage(prompt + more, completion, cached, written))).toBeGreaterThanOrEqual(base);
          expect(costUsd(price, usage(prompt, completion + more, cached, written))).toBeGreaterThanOrEqual(base);
        },
      ),
    );
  });

  it('should cost no less with more cache writes when the cache-write price is the higher one', () => {
    const roundingSlack = 1 - 1e-12;
    fc.assert(
      fc.property(
        priceArbitrary,
        fc.tuple(tokens, tokens, tokens, tokens, tokens),
        (price, [prompt, completion, cached, written, more]) => {
          const dearerWrites = { ...price, cacheWrite: Math.max(price.cacheWrite ?? price.input, price.input) };
          expect(costUsd(dearerWrites, usage(prompt, completion, cached, written + more))).toBeGreaterThanOrEqual(
            costUsd(dearerWrites, usage(prompt, completion, cached, written)) * roundingSlack,
          );
        },
      ),
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
