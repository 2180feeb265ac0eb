import fc from 'fast-check';
import { z } from 'zod';
import { isAnthropicCounts, isGeminiCounts, isRecordList } from './stream-events';
import { anthropicUsageSchema, geminiUsageSchema } from './usage-counts';

/** Values a count may hold: counts most often, and every kind of wrong one. */
const countValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.nat() },
  fc.constantFrom(0, -0, -1, 1.5, Number.MAX_SAFE_INTEGER, 2 ** 53, Infinity, NaN, null, undefined, '3', true),
  fc.jsonValue(),
);

/** An object with some of `names` as counts of any kind, and maybe other keys; or anything else. */
function countsShaped(...names: readonly string[]): fc.Arbitrary<unknown> {
  const known = fc.record(Object.fromEntries(names.map((name) => [name, countValue])), { requiredKeys: [] });
  return fc.oneof(
    known,
    fc
      .tuple(known, fc.dictionary(fc.string(), fc.jsonValue(), { maxKeys: 3 }))
      .map(([counts, other]) => ({ ...other, ...counts })),
    fc.anything(),
  );
}

const RUNS = { numRuns: 2000 };

describe('isRecordList', () => {
  it('should take what a zod array of objects takes, for any value', () => {
    const schema = z.array(z.looseObject({}));
    const listish = fc.oneof(
      fc.array(fc.dictionary(fc.string(), fc.jsonValue(), { maxKeys: 2 }), { maxLength: 4 }),
      fc.array(fc.oneof(fc.object(), fc.anything()), { maxLength: 4 }),
      fc.anything(),
    );
    fc.assert(
      fc.property(listish, (value) => expect(isRecordList(value)).toBe(schema.safeParse(value).success)),
      RUNS,
    );
  });

  it('should refuse a list with one item that is not an object', () => {
    expect(isRecordList([{ text: 'a' }, {}])).toBe(true);
    expect(isRecordList([])).toBe(true);
    for (const value of [[{ text: 'a' }, null], [[]], ['a'], {}, 'x', null, undefined]) {
      expect(isRecordList(value)).toBe(false);
    }
  });
});

describe('isAnthropicCounts', () => {
  it("should take what Anthropic's zod usage schema takes, for any value", () => {
    const value = countsShaped(
      'input_tokens',
      'output_tokens',
      'cache_creation_input_tokens',
      'cache_read_input_tokens',
    );
    fc.assert(
      fc.property(value, (usage) =>
        expect(isAnthropicCounts(usage)).toBe(anthropicUsageSchema.safeParse(usage).success),
      ),
      RUNS,
    );
  });

  it('should refuse usage whose input or output count is of the wrong kind', () => {
    expect(isAnthropicCounts({ input_tokens: 3, output_tokens: null, cache_read_input_tokens: 'x' })).toBe(true);
    expect(isAnthropicCounts({ input_tokens: -1 })).toBe(false);
    expect(isAnthropicCounts({ output_tokens: '2' })).toBe(false);
  });
});

describe('isGeminiCounts', () => {
  it("should take what Gemini's zod usage schema takes, for any value", () => {
    const value = countsShaped(
      'promptTokenCount',
      'candidatesTokenCount',
      'thoughtsTokenCount',
      'cachedContentTokenCount',
    );
    fc.assert(
      fc.property(value, (usage) => expect(isGeminiCounts(usage)).toBe(geminiUsageSchema.safeParse(usage).success)),
      RUNS,
    );
  });

  it('should refuse usage whose prompt count is of the wrong kind', () => {
    expect(isGeminiCounts({ promptTokenCount: null, candidatesTokenCount: 1.5 })).toBe(true);
    expect(isGeminiCounts({ promptTokenCount: 1.5 })).toBe(false);
    expect(isGeminiCounts([])).toBe(false);
  });
});
