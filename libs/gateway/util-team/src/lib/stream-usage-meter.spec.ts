import fc from 'fast-check';
import { z } from 'zod';
import { parseJsonText } from '@openai-proxy/util-errors';
import { RESPONSES_FINAL_EVENTS, RESPONSES_TEXT_EVENTS } from './stream-events';
import { type AnthropicCounts, anthropicStreamUsage, StreamUsageMeter, type StreamEvent } from './stream-usage-meter';
import { anthropicUsageSchema, geminiCompletionTokens, geminiUsageSchema, openAiUsage } from './usage-counts';
import type { ReportedUsage, WireDialect } from './usage-meter';

function metered(dialect: WireDialect, events: readonly StreamEvent[]): StreamUsageMeter {
  const meter = new StreamUsageMeter(dialect);
  for (const event of events) {
    meter.observe(parseJsonText(event.data));
  }
  return meter;
}

const data = (value: unknown, event?: string): StreamEvent => ({ data: JSON.stringify(value), event });

describe(StreamUsageMeter.name, () => {
  it('should read an OpenAI stream: text, tool-call arguments, and the usage chunk', () => {
    const meter = metered('openai', [
      data({ choices: [{ index: 0, delta: { role: 'assistant', content: '' } }], usage: null }),
      data({ choices: [{ index: 0, delta: { content: 'Hel' } }], usage: null }),
      data({ choices: [{ index: 0, delta: { content: 'lo' } }] }),
      data({ choices: [{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: '{"a":1}' } }] } }] }),
      data({ choices: [{ index: 0, delta: { reasoning_content: '.' } }] }),
      data({
        choices: [],
        usage: { prompt_tokens: 9, completion_tokens: 4, prompt_tokens_details: { cached_tokens: 0 } },
      }),
      { data: '[DONE]' },
    ]);
    expect(meter.deliveredText()).toBe('Hello{"a":1}.');
    expect(meter.usage()).toEqual({ promptTokens: 9, completionTokens: 4, cachedPromptTokens: 0 });
  });

  it('should report nothing for an OpenAI stream that ended before its usage chunk', () => {
    const meter = metered('openai', [data({ choices: [{ index: 0, delta: { content: 'partial' } }] })]);
    expect(meter.usage()).toBeUndefined();
    expect(meter.deliveredText()).toBe('partial');
  });

  it("should keep a translating service's early prompt counts until the stream's own usage replaces them", () => {
    const meter = new StreamUsageMeter('openai');
    meter.observePromptUsage({ promptTokens: 1500, cachedPromptTokens: 300 });
    meter.observe({ choices: [{ index: 0, delta: { content: 'Hi' } }], usage: null });
    expect(meter.usage()).toEqual({ promptTokens: 1500, cachedPromptTokens: 300 });
    meter.observePromptUsage({ promptTokens: 1 });
    expect(meter.usage()).toEqual({ promptTokens: 1500, cachedPromptTokens: 300 });
    meter.observe({ choices: [], usage: { prompt_tokens: 1500, completion_tokens: 4 } });
    expect(meter.usage()).toEqual({ promptTokens: 1500, completionTokens: 4 });
    meter.observePromptUsage(undefined);
    expect(meter.usage()).toEqual({ promptTokens: 1500, completionTokens: 4 });
  });

  it('should read a Responses API stream: text deltas and the final usage', () => {
    const meter = metered('openai', [
      data({ type: 'response.created', response: { usage: null } }, 'response.created'),
      data({ type: 'response.output_text.delta', delta: 'Hi' }, 'response.output_text.delta'),
      data({ type: 'response.function_call_arguments.delta', delta: '{}' }),
      data({ type: 'response.completed', response: { usage: { input_tokens: 3, output_tokens: 2 } } }),
    ]);
    expect(meter.deliveredText()).toBe('Hi{}');
    expect(meter.usage()).toEqual({ promptTokens: 3, completionTokens: 2 });
  });

  it('should read an Anthropic stream: the prompt from message_start, the output from message_delta', () => {
    const start = {
      type: 'message_start',
      message: {
        id: 'msg_1',
        usage: { input_tokens: 12, cache_creation_input_tokens: 0, cache_read_input_tokens: 100, output_tokens: 1 },
      },
    };
    const events = [
      data(start, 'message_start'),
      data({ type: 'ping' }, 'ping'),
      data({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Hi' } }),
      data({ type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '{"q":' } }),
      data({ type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '1}' } }),
    ];
    const cut = metered('anthropic', events);
    expect(cut.usage()).toEqual({ promptTokens: 112, cachedPromptTokens: 100, cacheWritePromptTokens: 0 });
    expect(cut.deliveredText()).toBe('Hi{"q":1}');

    const done = metered('anthropic', [
      ...events,
      data({ type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 15 } }),
      data({ type: 'message_stop' }),
    ]);
    expect(done.usage()).toEqual({
      promptTokens: 112,
      completionTokens: 15,
      cachedPromptTokens: 100,
      cacheWritePromptTokens: 0,
    });
  });

  it("should count an Anthropic stream's cache writes as prompt tokens written to the cache, and their 1-hour part", () => {
    const meter = metered('anthropic', [
      data({ type: 'message_start', message: { usage: { input_tokens: 3, cache_creation_input_tokens: 2048 } } }),
      data({ type: 'message_delta', usage: { output_tokens: 7 } }),
    ]);
    expect(meter.usage()).toEqual({ promptTokens: 2051, completionTokens: 7, cacheWritePromptTokens: 2048 });
    const hour = { ephemeral_5m_input_tokens: 48, ephemeral_1h_input_tokens: 2000 };
    const split = metered('anthropic', [
      data({
        type: 'message_start',
        message: { usage: { input_tokens: 3, cache_creation_input_tokens: 2048, cache_creation: hour } },
      }),
      data({ type: 'message_delta', usage: { output_tokens: 7, cache_creation: null } }),
    ]);
    expect(split.usage()).toEqual({
      promptTokens: 2051,
      completionTokens: 7,
      cacheWritePromptTokens: 2048,
      cacheWrite1hPromptTokens: 2000,
    });
  });

  it("should keep message_start's cache counts when message_delta repeats the input without them", () => {
    const meter = metered('anthropic', [
      data({ type: 'message_start', message: { usage: { input_tokens: 5, cache_read_input_tokens: 50 } } }),
      data({ type: 'message_delta', usage: { input_tokens: 5, cache_read_input_tokens: null, output_tokens: 3 } }),
    ]);
    expect(meter.usage()).toEqual({ promptTokens: 55, completionTokens: 3, cachedPromptTokens: 50 });
  });

  it('should read a Gemini stream: the text of every part, the last usage counting', () => {
    const meter = metered('gemini', [
      data({
        candidates: [{ content: { role: 'model', parts: [{ text: 'Hel' }] } }],
        usageMetadata: { promptTokenCount: 8, totalTokenCount: 8 },
      }),
      data({
        candidates: [{ content: { parts: [{ text: 'lo' }] }, finishReason: 'STOP' }],
        usageMetadata: { promptTokenCount: 8, candidatesTokenCount: 2, thoughtsTokenCount: 30 },
      }),
    ]);
    expect(meter.deliveredText()).toBe('Hello');
    expect(meter.usage()).toEqual({ promptTokens: 8, completionTokens: 32, reasoningTokens: 30 });
  });

  it('should leave the completion unreported while Gemini has counted only the prompt', () => {
    const meter = metered('gemini', [
      data({ candidates: [{ content: { parts: [{ text: 'x' }] } }], usageMetadata: { promptTokenCount: 8 } }),
    ]);
    expect(meter.usage()).toEqual({ promptTokens: 8 });
  });

  it('should leave a usage it has given as it was when later events report more', () => {
    const meter = metered('gemini', [data({ candidates: [], usageMetadata: { promptTokenCount: 8 } })]);
    const first = meter.usage();
    meter.observe({ candidates: [], usageMetadata: { promptTokenCount: 8, candidatesTokenCount: 2 } });
    expect(first).toEqual({ promptTokens: 8 });
    expect(meter.usage()).toEqual({ promptTokens: 8, completionTokens: 2 });
  });

  it('should report nothing and deliver nothing for frames of other shapes', () => {
    for (const dialect of ['openai', 'anthropic', 'gemini'] as const) {
      const meter = metered(dialect, [
        { data: '' },
        { data: '{' },
        { data: 'null' },
        { data: '[1,2]' },
        data({ choices: 'x', usage: 'y', type: 3, candidates: {} }),
      ]);
      expect(meter.usage()).toBeUndefined();
      expect(meter.deliveredText()).toBe('');
    }
  });

  it('should never throw on any text or any JSON', () => {
    const events = fc.array(
      fc.record(
        {
          event: fc.constantFrom('message_start', 'message_delta', 'content_block_delta', 'x'),
          data: fc.oneof(
            fc.string(),
            fc.jsonValue().map((value) => JSON.stringify(value)),
            fc
              .record({
                type: fc.constantFrom('message_start', 'message_delta', 'content_block_delta', 'response.completed'),
                message: fc.jsonValue(),
                usage: fc.jsonValue(),
                delta: fc.jsonValue(),
                choices: fc.jsonValue(),
                usageMetadata: fc.jsonValue(),
                candidates: fc.jsonValue(),
                response: fc.jsonValue(),
              })
              .map((value) => JSON.stringify(value)),
          ),
        },
        { requiredKeys: ['data'] },
      ),
      { maxLength: 20 },
    );
    fc.assert(
      fc.property(fc.constantFrom<WireDialect>('openai', 'anthropic', 'gemini'), events, (dialect, stream) => {
        const meter = metered(dialect, stream);
        expect(typeof meter.deliveredText()).toBe('string');
        for (const value of Object.values(meter.usage() ?? {})) {
          expect(Number.isInteger(value) && value >= 0).toBe(true);
        }
      }),
    );
  });
});

/*
 * The meter reads events by type checks; this is the same meter written with zod schemas of the events, which it
 * must agree with on any stream.
 */

/** A part of an event that may be missing, null or malformed: then it is simply not there. */
function lenient<Schema extends z.ZodType>(schema: Schema) {
  return schema.nullish().catch(undefined);
}

const text = lenient(z.string());

const openAiChunk = z.looseObject({
  choices: lenient(
    z.array(
      z.looseObject({
        delta: lenient(
          z.looseObject({
            content: text,
            reasoning_content: text,
            tool_calls: lenient(z.array(z.looseObject({ function: lenient(z.looseObject({ arguments: text })) }))),
          }),
        ),
      }),
    ),
  ),
  usage: z.unknown().optional(),
});

const openAiResponsesEvent = z.looseObject({
  type: z.string(),
  delta: z.unknown().optional(),
  response: lenient(z.looseObject({ usage: z.unknown().optional() })),
});

const anthropicEvent = z.looseObject({
  type: z.string(),
  message: lenient(z.looseObject({ usage: z.unknown().optional() })),
  usage: z.unknown().optional(),
  delta: lenient(z.looseObject({ text, partial_json: text, thinking: text })),
});

const geminiChunk = z.looseObject({
  candidates: lenient(
    z.array(z.looseObject({ content: lenient(z.looseObject({ parts: lenient(z.array(z.looseObject({ text }))) })) })),
  ),
  usageMetadata: z.unknown().optional(),
});

/** The stream meter as written with the zod schemas above. */
class ZodStreamMeter {
  private reported: ReportedUsage = {};
  private readonly anthropic: AnthropicCounts = {};
  private readonly delivered: string[] = [];

  constructor(private readonly dialect: WireDialect) {}

  observe(value: unknown): void {
    if (this.dialect === 'openai') {
      this.observeOpenAi(value);
    } else if (this.dialect === 'anthropic') {
      this.observeAnthropic(value);
    } else {
      this.observeGemini(value);
    }
  }

  usage(): ReportedUsage | undefined {
    const usage = this.dialect === 'anthropic' ? anthropicStreamUsage(this.anthropic) : this.reported;
    return Object.keys(usage).length === 0 ? undefined : usage;
  }

  deliveredText(): string {
    return this.delivered.join('');
  }

  private keep(...pieces: readonly (string | null | undefined)[]): void {
    for (const piece of pieces) {
      if (typeof piece === 'string' && piece !== '') {
        this.delivered.push(piece);
      }
    }
  }

  private observeOpenAi(value: unknown): void {
    const chunk = openAiChunk.safeParse(value);
    if (chunk.success) {
      for (const { delta } of chunk.data.choices ?? []) {
        this.keep(delta?.content, delta?.reasoning_content);
        this.keep(...(delta?.tool_calls ?? []).map((call) => call.function?.arguments));
      }
      this.reported = openAiUsage(chunk.data.usage) ?? this.reported;
    }
    const event = openAiResponsesEvent.safeParse(value);
    if (event.success && RESPONSES_TEXT_EVENTS.has(event.data.type) && typeof event.data.delta === 'string') {
      this.keep(event.data.delta);
    }
    if (event.success && RESPONSES_FINAL_EVENTS.has(event.data.type)) {
      this.reported = openAiUsage(event.data.response?.usage) ?? this.reported;
    }
  }

  private observeAnthropic(value: unknown): void {
    const parsed = anthropicEvent.safeParse(value);
    if (!parsed.success) {
      return;
    }
    const { type, message, usage, delta } = parsed.data;
    if (type === 'content_block_delta') {
      this.keep(delta?.text, delta?.partial_json, delta?.thinking);
    }
    const counts = anthropicUsageSchema.safeParse(type === 'message_start' ? message?.usage : usage);
    if (!counts.success || (type !== 'message_start' && type !== 'message_delta')) {
      return;
    }
    const parts = ['input_tokens', 'cache_creation_input_tokens', 'cache_read_input_tokens', 'output_tokens'] as const;
    for (const part of type === 'message_start' ? parts.slice(0, 3) : parts) {
      this.anthropic[part] = counts.data[part] ?? this.anthropic[part];
    }
    this.anthropic.cache_creation_1h =
      counts.data.cache_creation?.ephemeral_1h_input_tokens ?? this.anthropic.cache_creation_1h;
  }

  private observeGemini(value: unknown): void {
    const chunk = geminiChunk.safeParse(value);
    if (!chunk.success) {
      return;
    }
    for (const candidate of chunk.data.candidates ?? []) {
      this.keep(...(candidate.content?.parts ?? []).map((part) => part.text));
    }
    const usage = geminiUsageSchema.safeParse(chunk.data.usageMetadata);
    if (!usage.success) {
      return;
    }
    const { promptTokenCount, cachedContentTokenCount, thoughtsTokenCount } = usage.data;
    const completion = geminiCompletionTokens(usage.data);
    this.reported = {
      ...this.reported,
      ...(typeof promptTokenCount === 'number' ? { promptTokens: promptTokenCount } : {}),
      ...(completion === undefined ? {} : { completionTokens: completion }),
      ...(typeof cachedContentTokenCount === 'number' ? { cachedPromptTokens: cachedContentTokenCount } : {}),
      ...(typeof thoughtsTokenCount === 'number' ? { reasoningTokens: thoughtsTokenCount } : {}),
    };
  }
}

/** A value where a well-formed one is expected: null, missing, of another kind, or any JSON. */
const odd: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(null, undefined, 0, -1, 1.5, '', 'x', true, [], {}, [null], [{}, 1]),
  fc.jsonValue(),
);
/** Mostly `arbitrary`, sometimes an odd value in its place. */
const mostly = (arbitrary: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> => fc.oneof({ weight: 3, arbitrary }, odd);
/** A list of `item`s; sometimes with an odd item among them, sometimes not a list. */
const listOf = (item: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> =>
  fc.oneof(
    { weight: 4, arbitrary: fc.array(item, { minLength: 1, maxLength: 3 }) },
    fc.array(fc.oneof(item, odd), { maxLength: 3 }),
    odd,
  );
/** An object with some of these keys. */
const some = (keys: Record<string, fc.Arbitrary<unknown>>): fc.Arbitrary<unknown> =>
  fc.record(keys, { requiredKeys: [] });

const piece = mostly(fc.string({ maxLength: 6 }));
const count = mostly(fc.nat({ max: 10_000 }));

const openAiUsageValue = mostly(
  fc.oneof(
    some({
      prompt_tokens: count,
      completion_tokens: count,
      total_tokens: count,
      prompt_tokens_details: mostly(
        some({ cached_tokens: count, cache_write_tokens: count, cache_write_1h_tokens: count }),
      ),
      completion_tokens_details: mostly(some({ reasoning_tokens: count })),
    }),
    some({
      input_tokens: count,
      output_tokens: count,
      input_tokens_details: mostly(some({ cached_tokens: count })),
      output_tokens_details: mostly(some({ reasoning_tokens: count })),
    }),
  ),
);

const openAiChatChunk = fc.record(
  {
    id: fc.constant('chatcmpl-1'),
    object: fc.constant('chat.completion.chunk'),
    choices: listOf(
      some({
        index: fc.nat(3),
        delta: mostly(
          some({
            role: fc.constant('assistant'),
            content: piece,
            reasoning_content: piece,
            tool_calls: listOf(some({ index: fc.nat(3), function: mostly(some({ name: piece, arguments: piece })) })),
          }),
        ),
        finish_reason: fc.constantFrom(null, 'stop'),
      }),
    ),
    usage: openAiUsageValue,
  },
  { requiredKeys: ['id', 'object', 'choices'] },
);

const responsesEvent = fc.record(
  {
    type: mostly(fc.constantFrom(...RESPONSES_TEXT_EVENTS, ...RESPONSES_FINAL_EVENTS, 'response.created')),
    delta: piece,
    response: mostly(some({ id: fc.constant('resp_1'), usage: openAiUsageValue })),
    choices: odd,
  },
  { requiredKeys: ['type'] },
);

const anthropicUsageValue = mostly(
  some({
    input_tokens: count,
    output_tokens: count,
    cache_creation_input_tokens: count,
    cache_read_input_tokens: count,
    cache_creation: mostly(some({ ephemeral_5m_input_tokens: count, ephemeral_1h_input_tokens: count })),
  }),
);

const anthropicStreamEvent = fc.record(
  {
    type: mostly(fc.constantFrom('message_start', 'message_delta', 'content_block_delta', 'ping', 'message_stop')),
    index: fc.nat(3),
    message: mostly(some({ id: fc.constant('msg_1'), usage: anthropicUsageValue })),
    usage: anthropicUsageValue,
    delta: mostly(
      some({
        type: fc.constantFrom('text_delta', 'input_json_delta', 'thinking_delta'),
        text: piece,
        partial_json: piece,
        thinking: piece,
        stop_reason: fc.constant('end_turn'),
      }),
    ),
  },
  { requiredKeys: ['type'] },
);

const geminiStreamChunk = fc.record(
  {
    candidates: listOf(
      some({
        content: mostly(
          some({ role: fc.constant('model'), parts: listOf(some({ text: piece, thought: fc.boolean() })) }),
        ),
        finishReason: fc.constant('STOP'),
        index: fc.nat(3),
      }),
    ),
    usageMetadata: mostly(
      some({
        promptTokenCount: count,
        candidatesTokenCount: count,
        thoughtsTokenCount: count,
        cachedContentTokenCount: count,
        totalTokenCount: count,
      }),
    ),
    modelVersion: fc.constant('gemini-2.0-flash'),
  },
  { requiredKeys: ['candidates'] },
);

/** Realistic events of each dialect (their parts sometimes malformed), with events of the others and any JSON. */
const anyEvent: fc.Arbitrary<unknown> = fc.oneof(
  openAiChatChunk,
  responsesEvent,
  anthropicStreamEvent,
  geminiStreamChunk,
  fc.jsonValue(),
  fc.constant(undefined),
);

describe('StreamUsageMeter against its zod schemas', () => {
  const dialect = fc.constantFrom<WireDialect>('openai', 'anthropic', 'gemini');

  it('should read any stream of events as the zod-written meter does', () => {
    fc.assert(
      fc.property(dialect, fc.array(anyEvent, { maxLength: 12 }), (wire, stream) => {
        const meter = new StreamUsageMeter(wire);
        const reference = new ZodStreamMeter(wire);
        for (const value of stream) {
          meter.observe(value);
          reference.observe(value);
          expect(meter.usage()).toStrictEqual(reference.usage());
        }
        expect(meter.deliveredText()).toBe(reference.deliveredText());
      }),
      { numRuns: 3000 },
    );
  });

  it('should read any JSON, parsed from its text, as the zod-written meter does', () => {
    fc.assert(
      fc.property(dialect, fc.array(fc.oneof(anyEvent, fc.anything()), { maxLength: 8 }), (wire, stream) => {
        const meter = new StreamUsageMeter(wire);
        const reference = new ZodStreamMeter(wire);
        for (const value of stream) {
          const parsed = parseJsonText(JSON.stringify(value) ?? '');
          meter.observe(parsed);
          reference.observe(parsed);
        }
        expect(meter.usage()).toStrictEqual(reference.usage());
        expect(meter.deliveredText()).toBe(reference.deliveredText());
      }),
      { numRuns: 1000 },
    );
  });
});
