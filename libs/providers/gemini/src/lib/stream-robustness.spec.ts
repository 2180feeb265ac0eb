import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { mutatedJson, promptUsageDisagreements } from '@openai-proxy/testing-fakes';
import { SseDecoder, type SseEvent, type StreamItem } from '@openai-proxy/util-sse';
import { GeminiStreamTransformer } from './stream.transform';

const fixtureEvents = ['stream-text.gemini.sse', 'stream-thought-signature.gemini.sse']
  .flatMap((name) => new SseDecoder().push(readFileSync(join(__dirname, '__fixtures__', name), 'utf8')))
  .map((event) => JSON.parse(event.data) as unknown);

const mutatedFrame = mutatedJson(fixtureEvents, 6);
const anyData = fc.oneof(
  mutatedFrame,
  fc.json(),
  fc.string(),
  fc.constantFrom(...fixtureEvents.map((e) => JSON.stringify(e))),
);
const anyEvent = anyData.map((data): SseEvent => ({ event: undefined, data, id: undefined }));

function newTransformer(): GeminiStreamTransformer {
  return new GeminiStreamTransformer({ id: 'p', createdSeconds: 1, model: 'm', includeUsage: true, candidates: 2 });
}

function isItem(item: StreamItem): boolean {
  return item.kind === 'error' ? item.error.code !== undefined : Array.isArray(item.chunk.choices);
}

describe(GeminiStreamTransformer.name, () => {
  it('should never throw on random or mutated frames, and yield only chunks and errors', () => {
    fc.assert(
      fc.property(fc.array(anyEvent, { minLength: 1, maxLength: 8 }), (events) => {
        const transformer = newTransformer();
        const items = [...events.flatMap((event) => transformer.transform(event)), ...transformer.flush()];
        expect(items.every(isItem)).toBe(true);
      }),
      { numRuns: 400 },
    );
  });

  it.each([
    'null',
    '{"candidates":5}',
    '{"candidates":[{"content":{"parts":[null]}}]}',
    '{"error":null}',
    '[1]',
    '"x"',
  ])('should end the stream with an upstream_bad_response error when a frame is %s (it threw)', (data) => {
    const items = newTransformer().transform({ event: undefined, data, id: undefined });
    expect(items).toEqual([
      expect.objectContaining({ kind: 'error', error: expect.objectContaining({ code: 'upstream_bad_response' }) }),
    ]);
  });

  it("should know the prompt's count from the first usageMetadata that gives it", () => {
    const transformer = newTransformer();
    expect(transformer.promptUsage()).toBeUndefined();
    const chunk = (usageMetadata?: Record<string, number>): SseEvent => ({
      event: undefined,
      data: JSON.stringify({ candidates: [{ content: { parts: [{ text: 'a' }] }, index: 0 }], usageMetadata }),
      id: undefined,
    });
    transformer.transform(chunk());
    expect(transformer.promptUsage()).toBeUndefined();
    transformer.transform(chunk({ candidatesTokenCount: 2 }));
    expect(transformer.promptUsage()).toBeUndefined();
    transformer.transform(chunk({ promptTokenCount: 640, cachedContentTokenCount: 128 }));
    expect(transformer.promptUsage()).toEqual({ promptTokens: 640, cachedPromptTokens: 128 });
  });

  it('should give prompt counts that are the prompt part of its usage, whatever the frames', () => {
    fc.assert(
      fc.property(fc.array(anyEvent, { minLength: 1, maxLength: 8 }), (events) => {
        expect(promptUsageDisagreements(newTransformer(), events)).toEqual([]);
      }),
      { numRuns: 400 },
    );
  });
});
