import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { mutatedJson, promptUsageDisagreements } from '@openai-proxy/testing-fakes';
import { SseDecoder, type SseEvent, type StreamItem } from '@openai-proxy/util-sse';
import { AnthropicStreamTransformer } from './stream.transform';

const fixtureEvents = new SseDecoder().push(
  readFileSync(join(__dirname, '__fixtures__', 'stream-text-tool.anthropic.sse'), 'utf8'),
);

// Each mutation keeps its event's name: the transformer is led by `event:` as much as by the data.
const mutatedEvent = fc.oneof(
  ...fixtureEvents.map((base) =>
    mutatedJson([JSON.parse(base.data) as unknown], 5).map((data): SseEvent => ({ ...base, data })),
  ),
);
const randomEvent = fc
  .record({
    event: fc.option(fc.constantFrom('message_start', 'content_block_delta', 'message_delta', 'error', 'x'), {
      nil: undefined,
    }),
    data: fc.oneof(fc.json(), fc.string()),
  })
  .map(({ event, data }): SseEvent => ({ event, data, id: undefined }));
const anyEvent = fc.oneof(mutatedEvent, randomEvent, fc.constantFrom(...fixtureEvents));

function newTransformer(): AnthropicStreamTransformer {
  return new AnthropicStreamTransformer({ createdSeconds: 1, model: 'm', includeUsage: true });
}

/** A chunk as a client reads it: numbers where OpenAI has numbers, strings where it has strings. */
function wellTyped(item: StreamItem): boolean {
  if (item.kind === 'error') {
    return typeof item.error.message === 'string';
  }
  const { id, model, usage, choices } = item.chunk;
  const counts = usage ? [usage.prompt_tokens, usage.completion_tokens, usage.total_tokens] : [];
  return (
    typeof id === 'string' &&
    typeof model === 'string' &&
    counts.every((count) => Number.isFinite(count)) &&
    choices.every((choice) => {
      const { content, tool_calls: calls } = choice.delta;
      return (
        (content === undefined || typeof content === 'string') &&
        (calls ?? []).every((call) => typeof (call.function?.arguments ?? '') === 'string')
      );
    })
  );
}

describe(AnthropicStreamTransformer.name, () => {
  it('should never throw on random or mutated events, and yield only well-typed chunks and errors', () => {
    fc.assert(
      fc.property(fc.array(anyEvent, { minLength: 1, maxLength: 10 }), (events) => {
        const transformer = newTransformer();
        const items = [...events.flatMap((event) => transformer.transform(event)), ...transformer.flush()];
        expect(items.filter((item) => !wellTyped(item))).toEqual([]);
      }),
      { numRuns: 400 },
    );
  });

  it('should finish a stream whose message_delta reports null usage counts, keeping the counts it had', () => {
    const transformer = new AnthropicStreamTransformer({ createdSeconds: 1, model: 'm', includeUsage: true });
    const events: SseEvent[] = [
      ['message_start', '{"type":"message_start","message":{"id":"msg_1","model":"m","usage":{"input_tokens":12}}}'],
      [
        'message_delta',
        '{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"input_tokens":null,"output_tokens":5,"cache_read_input_tokens":null}}',
      ],
      ['message_stop', '{"type":"message_stop"}'],
    ].map(([event, data]) => ({ event, data, id: undefined }));
    const items = [...events.flatMap((event) => transformer.transform(event)), ...transformer.flush()];
    expect(items.filter((item) => item.kind === 'error')).toEqual([]);
    expect(items.at(-1)).toEqual(
      expect.objectContaining({
        chunk: expect.objectContaining({ usage: { prompt_tokens: 12, completion_tokens: 5, total_tokens: 17 } }),
      }),
    );
  });

  it.each([
    ['message_delta', '{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":"5"}}'],
    ['content_block_delta', '{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":7}}'],
    ['message_start', '{"type":"message_start","message":{"id":5,"model":"m"}}'],
  ])(
    'should end the stream with upstream_bad_response when a %s event has a field of the wrong type',
    (event, data) => {
      const items = newTransformer().transform({ event, data, id: undefined });
      expect(items).toEqual([
        expect.objectContaining({ kind: 'error', error: expect.objectContaining({ code: 'upstream_bad_response' }) }),
      ]);
    },
  );

  it("should know the prompt's counts from message_start on, before any of the answer", () => {
    const transformer = newTransformer();
    expect(transformer.promptUsage()).toBeUndefined();
    const [messageStart] = fixtureEvents;
    expect(messageStart?.event).toBe('message_start');
    if (messageStart !== undefined) {
      transformer.transform(messageStart);
    }
    expect(transformer.promptUsage()).toEqual({ promptTokens: 10, cachedPromptTokens: 1 });
  });

  it('should give prompt counts that are the prompt part of its usage, whatever the events', () => {
    fc.assert(
      fc.property(fc.array(anyEvent, { minLength: 1, maxLength: 10 }), (events) => {
        expect(promptUsageDisagreements(newTransformer(), events)).toEqual([]);
      }),
    );
  });
});
