import type { ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type { GatewayException } from '@openai-proxy/util-errors';
import type { ChatCompletionChunk } from '@openai-proxy/util-openai-schema';
import {
  SseDecoder,
  type SseEvent,
  type StreamItem,
  type StreamTransformer,
  encodePromptUsageEvent,
  encodeSseData,
  guardItems,
  unreadableEventItem,
} from '@openai-proxy/util-sse';
import { type BodyCopyHooks, copyBody } from './body-copy';
import { type UpstreamExchange, shuttingDown } from './upstream-exchange';
import type { EventStreamWriter } from './stream-watch';

export interface TranslatedStream {
  /** The provider's name, for the error that ends the stream when something cannot be read. */
  provider: string;
  source: Readable;
  client: ServerResponse;
  /** A guarded transformer: its exceptions are already error items. */
  transformer: StreamTransformer<SseEvent>;
  writer: EventStreamWriter;
  exchange: UpstreamExchange;
  /** Classifies (and counts) a failure of the upstream body. */
  failure: (error: unknown) => GatewayException;
  /**
   * The caller asked for the prompt's counts early (PROMPT_USAGE_HEADER): once the transformer has them, they go
   * as one PROMPT_USAGE_EVENT before the chunks that follow.
   */
  promptUsage: boolean;
}

/** One translated stream as a body copy: each read decoded, translated and written at once. */
class TranslatingCopy implements BodyCopyHooks {
  private readonly decoder = new SseDecoder();
  private ended = false;
  /** The prompt's counts are asked for and not sent yet. */
  private promptUsageOwed: boolean;
  /** The error the stream ended on (its error frame's, or the failure of a client that left); none when complete. */
  ending: GatewayException | undefined;

  constructor(private readonly stream: TranslatedStream) {
    this.promptUsageOwed = stream.promptUsage;
  }

  write(chunk: Buffer): boolean {
    const ready = this.writeItems(this.translate(() => this.decoder.push(chunk)));
    return this.promptUsageOwed ? this.writePromptUsage() && ready : ready;
  }

  /** The prompt's counts, once the transformer has them and while the stream is open. False: wait. */
  private writePromptUsage(): boolean {
    const usage = this.ended ? undefined : this.stream.transformer.promptUsage?.();
    if (usage === undefined) {
      return true;
    }
    this.promptUsageOwed = false;
    return this.stream.writer.writeText(encodePromptUsageEvent(usage));
  }

  onEnd(): void {
    this.writeItems(this.translate(() => this.decoder.end()));
    this.writeItems(this.stream.transformer.flush());
    if (!this.ended) {
      this.ended = true;
      this.stream.writer.finish();
    }
  }

  onError(error: unknown): void {
    if (this.ended) {
      // The stream already ended: its own error item let the upstream body go, and this is that body's abort.
      return;
    }
    const failure = this.stream.failure(error);
    this.ending ??= failure;
    if (!this.stream.client.destroyed) {
      this.ended = true;
      this.stream.writer.fail(failure);
    }
  }

  onSettled(): void {
    this.stream.writer.stop();
  }

  /** The drain cap: the stream ends with an error frame. */
  shutDown(): void {
    this.writeItems([{ kind: 'error', error: shuttingDown() }]);
  }

  /** Nothing thrown while reading an event leaves the listener: it becomes the item that ends the stream. */
  private translate(decode: () => SseEvent[]): StreamItem[] {
    return guardItems(this.stream.provider, () =>
      decode().flatMap((event) => this.stream.transformer.transform(event)),
    );
  }

  /** Writes the chunks in order; an error item ends the stream and lets the upstream body go. False: wait. */
  private writeItems(items: StreamItem[]): boolean {
    let ready = true;
    for (const item of items) {
      if (this.ended) {
        return ready;
      }
      if (item.kind === 'error') {
        this.ended = true;
        this.ending ??= item.error;
        this.stream.source.destroy();
        this.stream.writer.fail(item.error);
        return ready;
      }
      const frame = this.encode(item.chunk);
      if (frame === undefined) {
        return this.writeItems([unreadableEventItem(this.stream.provider)]) && ready;
      }
      ready = this.stream.writer.writeText(frame) && ready;
    }
    return ready;
  }

  /** A chunk as its frame; undefined when it cannot be encoded (a transform bug must not escape the listener). */
  private encode(chunk: ChatCompletionChunk): string | undefined {
    try {
      return encodeSseData(chunk);
    } catch {
      return undefined;
    }
  }
}

/**
 * Decodes the provider's events as they arrive and writes each translated chunk at once, with backpressure.
 * The stream ends with `[DONE]` when the transformer saw the provider's end, or with an error frame: an error
 * item (a provider error, an unreadable event, an end without the terminal event), a failed upstream body,
 * or the drain cap. Its listeners leave the upstream body when the copy settles (see copyBody). Resolves with
 * the error the stream ended on, undefined when it ended complete.
 */
export async function pipeTranslatedStream(stream: TranslatedStream): Promise<GatewayException | undefined> {
  const copy = new TranslatingCopy(stream);
  stream.exchange.onTerminate(() => copy.shutDown());
  await copyBody(stream.source, stream.client, copy);
  return copy.ending;
}
