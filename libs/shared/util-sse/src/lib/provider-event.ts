import type { z } from 'zod';
import { ErrorCode, GatewayException, parseJsonText } from '@openai-proxy/util-errors';
import type { StreamItem, StreamTransformer } from './stream-item.types';

/**
 * One provider event's `data` read as JSON and checked against the provider's schema: the value, or undefined
 * when it is not JSON or not of the expected shape. Transformers then only ever see the shapes they declare.
 */
export function parseEventData<T>(schema: z.ZodType<T>, data: string): T | undefined {
  const value = parseJsonText(data);
  if (value === undefined) {
    return undefined;
  }
  const result = schema.safeParse(value);
  return result.success ? result.data : undefined;
}

/** The item that ends a stream whose provider sent an event we cannot read (it never echoes the event). */
export function unreadableEventItem(provider: string): StreamItem {
  return {
    kind: 'error',
    error: new GatewayException(ErrorCode.UpstreamBadResponse, `${provider} sent an unreadable event`),
  };
}

/** The items of one step of a stream; an exception in it becomes the unreadable-event item that ends the stream. */
export function guardItems(provider: string, step: () => StreamItem[]): StreamItem[] {
  try {
    return step();
  } catch {
    return [unreadableEventItem(provider)];
  }
}

/**
 * A transformer whose exceptions become the error item that ends the stream: a transform bug or a shape no
 * schema foresaw then ends one stream with an error frame instead of escaping into the pipeline's listeners.
 */
export function guardTransformer<Event>(
  transformer: StreamTransformer<Event>,
  provider: string,
): StreamTransformer<Event> {
  return {
    transform: (event) => guardItems(provider, () => transformer.transform(event)),
    flush: () => guardItems(provider, () => transformer.flush()),
    usage: () => {
      try {
        return transformer.usage?.();
      } catch {
        return undefined;
      }
    },
    promptUsage: () => {
      try {
        return transformer.promptUsage?.();
      } catch {
        return undefined;
      }
    },
  };
}
