import type { ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type { GatewayException } from '@openai-proxy/util-errors';
import {
  SseDecoder,
  type SseEvent,
  type StreamItem,
  type StreamTransformer,
  encodeSseData,
  unreadableEventItem,
} from '@openai-proxy/util-sse';
import { type ProviderExchange, shuttingDown } from './provider-exchange';
import type { EventStreamWriter } from './stream-watch';

export interface TranslatedStream {
  /** The provider's name, for the error that ends the stream when something cannot be read. */
  provider: string;
  source: Readable;
  client: ServerResponse;
  /** A guarded transformer: its exceptions are already error items. */
  transformer: StreamTransformer<SseEvent>;
  writer: EventStreamWriter;
  exchange: ProviderExchange;
  /** Classifies (and counts) a failure of the upstream body. */
  failure: (error: unknown) => GatewayException;
}

/**
 * Decodes the provider's events as they arrive and writes each translated chunk at once, with backpressure.
 * The stream ends with `[DONE]` when the transformer saw the provider's end, or with an error frame: an error
 * item (a provider error, an unreadable event, an end without the terminal event), a failed upstream body,
 * or the drain cap. Nothing thrown while handling a read leaves the listener: it ends the stream instead.
 */
export function pipeTranslatedStream(stream: TranslatedStream): Promise<void> {
  const { source, client, transformer, writer } = stream;
  const decoder = new SseDecoder();
  let ended = false;
  const write = (items: StreamItem[]): void => {
    for (const item of items) {
      if (ended) {
        return;
      }
      if (item.kind === 'error') {
        ended = true;
        source.destroy();
        writer.fail(item.error);
        return;
      }
      if (!writer.writeText(encodeSseData(item.chunk))) {
        source.pause();
      }
    }
  };
  const guarded = (step: () => void): void => {
    try {
      step();
    } catch {
      write([unreadableEventItem(stream.provider)]);
    }
  };
  stream.exchange.onTerminate(() => write([{ kind: 'error', error: shuttingDown() }]));
  return new Promise<void>((resolve) => {
    const onDrain = (): void => {
      source.resume();
    };
    let settled = false;
    const settle = (): void => {
      if (!settled) {
        settled = true;
        writer.stop();
        client.off('drain', onDrain);
        resolve();
      }
    };
    client.on('drain', onDrain);
    source.on('data', (chunk: Buffer) =>
      guarded(() => decoder.push(chunk).forEach((event) => write(transformer.transform(event)))),
    );
    source.once('end', () => {
      guarded(() => decoder.end().forEach((event) => write(transformer.transform(event))));
      write(transformer.flush());
      if (!ended) {
        ended = true;
        writer.finish();
      }
      settle();
    });
    source.once('error', (error: unknown) => {
      const failure = stream.failure(error);
      if (!ended && !client.destroyed) {
        ended = true;
        writer.fail(failure);
      }
      settle();
    });
    source.once('close', settle);
  });
}
