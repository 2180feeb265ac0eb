import type { SseEvent, StreamTransformer } from '@openai-proxy/util-sse';
import { promptUsageDisagreements } from './transformer-checks';

const event = (data: string): SseEvent => ({ event: undefined, data, id: undefined });

/** Gives the prompt count `early` after the first event and reports `reported` as its usage's. */
function transformerSaying(early: number, reported: number): StreamTransformer<SseEvent> {
  let seen = 0;
  return {
    transform: () => {
      seen += 1;
      return [];
    },
    flush: () => [],
    usage: () => (seen === 0 ? undefined : { promptTokens: reported, completionTokens: 0 }),
    promptUsage: () => (seen < 2 ? undefined : { promptTokens: early }),
  };
}

describe(promptUsageDisagreements.name, () => {
  it('should find none when the early count is the usage’s', () => {
    expect(promptUsageDisagreements(transformerSaying(7, 7), [event('a'), event('b'), event('c')])).toEqual([]);
  });

  it('should name each event after which the early count was not the usage’s', () => {
    expect(promptUsageDisagreements(transformerSaying(7, 8), [event('a'), event('b'), event('c')])).toEqual([1, 2]);
  });
});
