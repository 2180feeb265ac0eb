import type { ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type { GatewayException } from '@openai-proxy/util-errors';
import { SseDecoder, type SseEvent, type StreamItem, type StreamTransformer, guardItems } from '@openai-proxy/util-sse';
import { type BodyCopyHooks, copyBody } from './body-copy';
import { type UpstreamExchange, shuttingDown } from './upstream-exchange';
import type { EventStreamWriter } from './stream-watch';

export interface WatchedStream {
  /** The provider's name, for the error that ends the stream when something cannot be read. */
  provider: string;
  source: Readable;
  client: ServerResponse;
  /** A guarded transformer that only judges the stream: its chunks are not sent. */
  watch: StreamTransformer<SseEvent> | undefined;
  writer: EventStreamWriter;
  exchange: UpstreamExchange;
  /** Classifies (and counts) a failure of the upstream body. */
  failure: (error: unknown) => GatewayException;
}

/** One pass-through stream as a body copy: the bytes go out as they came, the watch reads the same events. */
class WatchedCopy implements BodyCopyHooks {
  private readonly decoder = new SseDecoder();
  /** The first error the watch reported: the stream then ends with it instead of looking complete. */
  private problem: GatewayException | undefined;
  /** The error the stream ended on (its error frame's, or the failure of a client that left); none when complete. */
  ending: GatewayException | undefined;

  constructor(private readonly stream: WatchedStream) {}

  write(chunk: Buffer): boolean {
    this.judge(() => this.decoder.push(chunk));
    return this.stream.writer.write(chunk);
  }

  onEnd(): void {
    this.judge(() => this.decoder.end());
    const { watch, writer } = this.stream;
    this.note(watch === undefined ? [] : watch.flush());
    if (this.problem !== undefined) {
      this.ending ??= this.problem;
      writer.fail(this.problem);
    } else {
      writer.end();
    }
  }

  onError(error: unknown): void {
    const failure = this.stream.failure(error);
    this.ending ??= failure;
    if (!this.stream.client.destroyed && !this.stream.client.writableEnded) {
      this.stream.writer.fail(failure);
    }
  }

  onSettled(): void {
    this.stream.writer.stop();
  }

  /** The drain cap: the upstream body goes, the stream ends with an error frame. */
  shutDown(): void {
    const ending = shuttingDown();
    this.ending ??= ending;
    this.stream.source.destroy();
    this.stream.writer.fail(ending);
  }

  private judge(decode: () => SseEvent[]): void {
    const watch = this.stream.watch;
    if (watch !== undefined && this.problem === undefined) {
      this.note(guardItems(this.stream.provider, () => decode().flatMap((event) => watch.transform(event))));
    }
  }

  private note(items: StreamItem[]): void {
    const error = items.find((item) => item.kind === 'error');
    this.problem ??= error?.kind === 'error' ? error.error : undefined;
  }
}

/**
 * Relays a provider's event stream untouched, with backpressure. `watch` reads the same events only to tell a
 * complete stream from a cut one: when it reports an error (no terminal event, a frame cut in the middle) the
 * stream ends with an error frame instead of looking complete; a failed upstream body or the drain cap too.
 * Resolves with the error the stream ended on, undefined when it ended complete.
 */
export async function pipeWatchedStream(stream: WatchedStream): Promise<GatewayException | undefined> {
  const copy = new WatchedCopy(stream);
  stream.exchange.onTerminate(() => copy.shutDown());
  await copyBody(stream.source, stream.client, copy);
  return copy.ending;
}
