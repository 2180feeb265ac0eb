import fc from 'fast-check';
import { z } from 'zod';
import { isErrorEventData, isUsageOnlyChunk, usageFromJson, usageFromJsonText, type WireDialect } from './usage-meter';

const dialects: readonly WireDialect[] = ['openai', 'anthropic', 'gemini'];

describe('usageFromJson', () => {
  it('should read an OpenAI chat completion with cached and reasoning tokens', () => {
    const body = {
      object: 'chat.completion',
      usage: {
        prompt_tokens: 1200,
        completion_tokens: 300,
        total_tokens: 1500,
        prompt_tokens_details: { cached_tokens: 1024, audio_tokens: 0 },
        completion_tokens_details: { reasoning_tokens: 256 },
      },
    };
    expect(usageFromJson('openai', body)).toEqual({
      promptTokens: 1200,
      completionTokens: 300,
      cachedPromptTokens: 1024,
      reasoningTokens: 256,
    });
  });

  it('should read OpenAI embeddings, which have prompt tokens only', () => {
    const body = { object: 'list', data: [], usage: { prompt_tokens: 8, total_tokens: 8 } };
    expect(usageFromJson('openai', body)).toEqual({ promptTokens: 8, completionTokens: 0 });
  });

  it('should read the Responses API usage', () => {
    const body = {
      object: 'response',
      usage: {
        input_tokens: 50,
        input_tokens_details: { cached_tokens: 10 },
        output_tokens: 70,
        output_tokens_details: { reasoning_tokens: 64 },
        total_tokens: 120,
      },
    };
    expect(usageFromJson('openai', body)).toEqual({
      promptTokens: 50,
      completionTokens: 70,
      cachedPromptTokens: 10,
      reasoningTokens: 64,
    });
  });

  it('should keep the counts when a detail is null or malformed', () => {
    const body = { usage: { prompt_tokens: 5, completion_tokens: 6, prompt_tokens_details: null } };
    expect(usageFromJson('openai', body)).toEqual({ promptTokens: 5, completionTokens: 6 });
    const odd = { usage: { prompt_tokens: 5, completion_tokens: 6, prompt_tokens_details: { cached_tokens: 'x' } } };
    expect(usageFromJson('openai', odd)).toEqual({ promptTokens: 5, completionTokens: 6 });
  });

  it("should count all of Anthropic's input, cache writes and reads as prompt, the reads as cached, the writes as written", () => {
    const body = {
      type: 'message',
      usage: { input_tokens: 10, cache_creation_input_tokens: 200, cache_read_input_tokens: 3000, output_tokens: 42 },
    };
    expect(usageFromJson('anthropic', body)).toEqual({
      promptTokens: 3210,
      completionTokens: 42,
      cachedPromptTokens: 3000,
      cacheWritePromptTokens: 200,
    });
    expect(usageFromJson('anthropic', { usage: { input_tokens: 10, output_tokens: 2 } })).toEqual({
      promptTokens: 10,
      completionTokens: 2,
    });
  });

  it("should count Gemini's thinking as completion and reasoning, and its cached content as cached", () => {
    const body = {
      candidates: [],
      usageMetadata: {
        promptTokenCount: 900,
        candidatesTokenCount: 100,
        thoughtsTokenCount: 400,
        cachedContentTokenCount: 512,
        totalTokenCount: 1400,
      },
    };
    expect(usageFromJson('gemini', body)).toEqual({
      promptTokens: 900,
      completionTokens: 500,
      cachedPromptTokens: 512,
      reasoningTokens: 400,
    });
    expect(usageFromJson('gemini', { usageMetadata: { promptTokenCount: 7, totalTokenCount: 7 } })).toEqual({
      promptTokens: 7,
      completionTokens: 0,
    });
  });

  it('should answer undefined for bodies of another shape', () => {
    const bodies: unknown[] = [
      undefined,
      null,
      'usage',
      [],
      {},
      { usage: null },
      { usage: { prompt_tokens: -1, completion_tokens: 1 } },
      { usage: { prompt_tokens: 1.5, completion_tokens: 1 } },
      { usage: { prompt_tokens: '3', completion_tokens: 1 } },
      { usage: { input_tokens: 3 } },
      { usageMetadata: {} },
    ];
    for (const dialect of dialects) {
      for (const body of bodies) {
        expect(usageFromJson(dialect, body)).toBeUndefined();
      }
    }
    expect(usageFromJson('gemini', { usage: { prompt_tokens: 1, completion_tokens: 1 } })).toBeUndefined();
  });

  it('should read back any OpenAI counts it is given', () => {
    fc.assert(
      fc.property(fc.nat(), fc.nat(), fc.nat(), fc.nat(), (prompt, completion, cached, reasoning) => {
        const usage = {
          prompt_tokens: prompt,
          completion_tokens: completion,
          prompt_tokens_details: { cached_tokens: cached },
          completion_tokens_details: { reasoning_tokens: reasoning },
        };
        expect(usageFromJson('openai', { usage })).toEqual({
          promptTokens: prompt,
          completionTokens: completion,
          cachedPromptTokens: cached,
          reasoningTokens: reasoning,
        });
      }),
    );
  });

  it('should never throw, and answer counts that are non-negative integers, for any JSON', () => {
    fc.assert(
      fc.property(fc.constantFrom(...dialects), fc.jsonValue(), fc.jsonValue(), (dialect, usage, other) => {
        for (const body of [other, { usage }, { usageMetadata: usage }]) {
          const result = usageFromJson(dialect, body);
          for (const value of Object.values(result ?? {})) {
            expect(Number.isInteger(value) && value >= 0).toBe(true);
          }
        }
      }),
    );
  });
});

describe('usageFromJsonText', () => {
  const openAiUsageField = { prompt_tokens: 9, completion_tokens: 6, total_tokens: 15 };

  it('should read the usage an answer ends with, as a whole parse does', () => {
    const text = JSON.stringify({ id: 'c', choices: [{ message: { content: 'hi' } }], usage: openAiUsageField });
    expect(usageFromJsonText('openai', text)).toEqual({ promptTokens: 9, completionTokens: 6 });
  });

  it('should read a top-level usage that is not last, and never a nested or quoted one in its place', () => {
    const nested = { prompt_tokens: 1000, completion_tokens: 1000 };
    const notLast = { usage: openAiUsageField, choices: [{ message: { usage: nested } }] };
    expect(usageFromJsonText('openai', JSON.stringify(notLast))).toEqual({ promptTokens: 9, completionTokens: 6 });
    const quoted = { usage: openAiUsageField, note: 'x\\","usage":{"prompt_tokens":1000,"completion_tokens":1000}}' };
    expect(usageFromJsonText('openai', JSON.stringify(quoted))).toEqual({ promptTokens: 9, completionTokens: 6 });
    const keyInString = JSON.stringify({ usage: openAiUsageField, 'a"usage': { prompt_tokens: 1000 } });
    expect(usageFromJsonText('openai', keyInString)).toEqual({ promptTokens: 9, completionTokens: 6 });
  });

  it('should read nothing from a text that is not JSON or has no usage', () => {
    expect(usageFromJsonText('openai', 'not json "usage":{"prompt_tokens":1}')).toBeUndefined();
    expect(usageFromJsonText('openai', JSON.stringify({ id: 'c' }))).toBeUndefined();
    expect(usageFromJsonText('gemini', '')).toBeUndefined();
  });

  it('should answer what usageFromJson answers for the parsed text, for any JSON (property)', () => {
    const usageValue = fc.oneof(
      fc.record({ prompt_tokens: fc.nat(), completion_tokens: fc.nat() }),
      fc.record({ input_tokens: fc.nat(), output_tokens: fc.nat() }),
      fc.record({ promptTokenCount: fc.nat(), candidatesTokenCount: fc.nat() }),
      fc.jsonValue(),
    );
    const member = fc.constantFrom('usage', 'usageMetadata', 'a"usage', 'x\\', 'choices');
    const answer = fc.letrec((tie) => ({
      value: fc.oneof(
        { depthSize: 'small' },
        fc.jsonValue(),
        usageValue,
        tie('object'),
        fc.array(tie('object'), { maxLength: 3 }),
      ),
      object: fc.dictionary(fc.oneof(member, fc.string()), tie('value'), { maxKeys: 5 }),
    })).object;
    fc.assert(
      fc.property(answer, fc.constantFrom(...dialects), fc.boolean(), (body, dialect, spaced) => {
        const text = spaced ? JSON.stringify(body, null, 2) : JSON.stringify(body);
        expect(usageFromJsonText(dialect, text)).toEqual(usageFromJson(dialect, JSON.parse(text)));
      }),
      { numRuns: 500 },
    );
  });
});

describe('isUsageOnlyChunk', () => {
  it('should know the usage-only chunk of an OpenAI stream', () => {
    const chunk = { id: 'c', object: 'chat.completion.chunk', choices: [], usage: { prompt_tokens: 1 } };
    expect(isUsageOnlyChunk(chunk)).toBe(true);
  });

  it('should not take other chunks or values for it', () => {
    const values: unknown[] = [
      { choices: [{ index: 0, delta: { content: 'hi' } }], usage: null },
      { choices: [{ index: 0, delta: {} }], usage: { prompt_tokens: 1 } },
      { choices: [], usage: null },
      { choices: [], usage: [] },
      { choices: {}, usage: {} },
      { choices: [] },
      '[DONE]',
      undefined,
      null,
      [],
    ];
    for (const value of values) {
      expect(isUsageOnlyChunk(value)).toBe(false);
    }
  });

  it('should answer as its zod schema does, for any value', () => {
    const schema = z.looseObject({ choices: z.array(z.unknown()).length(0), usage: z.looseObject({}) });
    const chunk = fc.record(
      { choices: fc.oneof(fc.constant([]), fc.jsonValue()), usage: fc.oneof(fc.constant({}), fc.jsonValue()) },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(fc.oneof(chunk, fc.jsonValue()), (value) =>
        expect(isUsageOnlyChunk(value)).toBe(schema.safeParse(value).success),
      ),
      { numRuns: 1000 },
    );
  });
});

describe('isErrorEventData', () => {
  it("should know OpenAI's error object and the type: error events", () => {
    expect(isErrorEventData({ error: { message: 'overloaded' } })).toBe(true);
    expect(isErrorEventData({ type: 'error', error: { type: 'overloaded_error' } })).toBe(true);
    expect(isErrorEventData({ type: 'error' })).toBe(true);
  });

  it('should not take other events for one', () => {
    for (const value of [{ error: null }, { error: 'x' }, { type: 'message_stop' }, { choices: [] }, '[DONE]', null]) {
      expect(isErrorEventData(value)).toBe(false);
    }
  });

  it('should answer as its zod schema does, for any value', () => {
    const schema = z.union([z.looseObject({ error: z.looseObject({}) }), z.looseObject({ type: z.literal('error') })]);
    const event = fc.record(
      { error: fc.oneof(fc.constant({}), fc.jsonValue()), type: fc.oneof(fc.constant('error'), fc.jsonValue()) },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(fc.oneof(event, fc.jsonValue()), (value) =>
        expect(isErrorEventData(value)).toBe(schema.safeParse(value).success),
      ),
      { numRuns: 1000 },
    );
  });
});
