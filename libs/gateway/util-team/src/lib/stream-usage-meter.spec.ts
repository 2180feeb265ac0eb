import fc from 'fast-check';
import { parseJsonText } from '@openai-proxy/util-errors';
import { StreamUsageMeter, type StreamEvent } from './stream-usage-meter';
import type { WireDialect } from './usage-meter';

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
    expect(cut.usage()).toEqual({ promptTokens: 112, cachedPromptTokens: 100 });
    expect(cut.deliveredText()).toBe('Hi{"q":1}');

    const done = metered('anthropic', [
      ...events,
      data({ type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 15 } }),
      data({ type: 'message_stop' }),
    ]);
    expect(done.usage()).toEqual({ promptTokens: 112, completionTokens: 15, cachedPromptTokens: 100 });
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
