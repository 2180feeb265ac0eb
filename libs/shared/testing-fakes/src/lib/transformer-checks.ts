import type { SseEvent, StreamTransformer } from '@openai-proxy/util-sse';

/**
 * Feeds `events` to `transformer` one at a time and, after each, compares the prompt counts it gives early
 * (`promptUsage`) with its usage's: the indexes of the events after which it gave a prompt count its usage does
 * not have (none for a transformer that keeps the two one story).
 */
export function promptUsageDisagreements(
  transformer: StreamTransformer<SseEvent>,
  events: readonly SseEvent[],
): number[] {
  const disagreements: number[] = [];
  events.forEach((event, index) => {
    transformer.transform(event);
    const prompt = transformer.promptUsage?.();
    if (prompt !== undefined && prompt.promptTokens !== transformer.usage?.()?.promptTokens) {
      disagreements.push(index);
    }
  });
  return disagreements;
}
