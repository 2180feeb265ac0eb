import fc from 'fast-check';
import { mutatedJson } from '@openai-proxy/testing-fakes';
import type { SseEvent, StreamItem } from '@openai-proxy/util-sse';
import { ClaudeWebStreamTransformer } from './stream.transform';

const validEvents: unknown[] = [
  { completion: 'Hello', stop_reason: null, model: 'claude-2.1' },
  { completion: ' world', stop_reason: null, model: 'claude-2.1' },
  { completion: '', stop_reason: 'stop_sequence', model: 'claude-2.1' },
  { error: { type: 'overloaded_error', message: 'Overloaded' } },
];

const mutated = mutatedJson(validEvents, 3);
const anyEvent = fc
  .oneof(mutated, fc.json(), fc.string(), fc.constantFrom(...validEvents.map((event) => JSON.stringify(event))))
  .map((data): SseEvent => ({ event: undefined, data, id: undefined }));

function newTransformer(): ClaudeWebStreamTransformer {
  return new ClaudeWebStreamTransformer({ id: 'chatcmpl-p', createdSeconds: 1, model: 'claude-2.1' });
}

function wellTyped(item: StreamItem): boolean {
  return item.kind === 'error'
    ? typeof item.error.message === 'string'
    : item.chunk.choices.every((choice) => ['string', 'undefined'].includes(typeof choice.delta.content));
}

/** A finish chunk or an error: what ends the stream the client reads. */
function endsStream(item: StreamItem): boolean {
  return item.kind === 'error' || item.chunk.choices.some((choice) => choice.finish_reason !== null);
}

describe(ClaudeWebStreamTransformer.name, () => {
  it('should never throw on random or mutated events, and yield only well-typed chunks and errors', () => {
    fc.assert(
      fc.property(fc.array(anyEvent, { minLength: 1, maxLength: 8 }), (events) => {
        const transformer = newTransformer();
        const items = [...events.flatMap((event) => transformer.transform(event)), ...transformer.flush()];
        expect(items.filter((item) => !wellTyped(item))).toEqual([]);
      }),
      { numRuns: 400 },
    );
  });

  it('should yield nothing after its finish chunk or error when events keep arriving after the end', () => {
    fc.assert(
      fc.property(fc.array(anyEvent, { minLength: 1, maxLength: 8 }), (events) => {
        const transformer = newTransformer();
        const items = [...events.flatMap((event) => transformer.transform(event)), ...transformer.flush()];
        const firstEnd = items.findIndex(endsStream);
        expect(firstEnd).toBe(items.length - 1);
      }),
      { numRuns: 400 },
    );
  });

  it.each(['null', '{"error":null}', '{"error":{"message":5}}', '{"completion":5}', '[]'])(
    'should end the stream with upstream_bad_response when claude.ai sends %s (it threw or passed it on)',
    (data) => {
      expect(newTransformer().transform({ event: undefined, data, id: undefined })).toEqual([
        expect.objectContaining({ kind: 'error', error: expect.objectContaining({ code: 'upstream_bad_response' }) }),
      ]);
    },
  );

  it('should end with an error when the stream ends without its stop_reason event', () => {
    const transformer = newTransformer();
    transformer.transform({ event: undefined, data: JSON.stringify(validEvents[0]), id: undefined });
    expect(transformer.flush()).toEqual([expect.objectContaining({ kind: 'error' })]);
  });
});
