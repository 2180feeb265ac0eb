import type { ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type { MetricsService } from '@openai-proxy/feature-platform';
import { ErrorCode, GatewayException, classifyUpstreamError } from '@openai-proxy/util-errors';
import type { BodyCopyHooks } from './body-copy';
import type { RelayTarget, RelayWatcher } from './relay.types';
import { type SseFrame, SseFrameSplitter } from './sse-frame-splitter';
import type { StreamEndWatch } from './stream-end';
import type { EventStreamWriter } from './stream-watch';
import { shuttingDown } from './upstream-exchange';

/** A failure of the upstream (connect, timeout, reset) as the client's error, counted by upstream and kind. */
export function upstreamFailure(metrics: MetricsService, error: unknown, target: RelayTarget): GatewayException {
  const exception = classifyUpstreamError(error, target.name);
  metrics.upstreamErrors.inc({ upstream: target.name, kind: exception.code });
  return exception;
}

/** An event stream that ended without its terminal, or in the middle of a frame, lost its end. */
function cutShort(metrics: MetricsService, target: RelayTarget): GatewayException {
  metrics.upstreamErrors.inc({ upstream: target.name, kind: ErrorCode.UpstreamConnectionReset });
  return new GatewayException(ErrorCode.UpstreamConnectionReset, `Upstream ${target.name} ended the stream early`);
}

/** An event stream whose last frame is the provider's own error: it ended, as a failure. */
function providerErrorEnd(metrics: MetricsService, target: RelayTarget): GatewayException {
  metrics.upstreamErrors.inc({ upstream: target.name, kind: ErrorCode.UpstreamServerError });
  return new GatewayException(ErrorCode.UpstreamServerError, `Upstream ${target.name} ended the stream on an error`);
}

/**
 * The relay's copy of one upstream body to its client, with backpressure: plain bytes, or an event stream through
 * `writer` (`framed` when we may add frames to it), ended or failed as the data-plane rules say.
 */
export class RelayCopy implements BodyCopyHooks {
  /** The error the answer ended on (its error frame's, or what cut it); none when it ended complete. */
  ending: GatewayException | undefined;

  constructor(
    protected readonly response: ServerResponse,
    private readonly source: Readable,
    private readonly target: RelayTarget,
    private readonly metrics: MetricsService,
    protected readonly writer: EventStreamWriter | undefined,
    protected readonly watch: StreamEndWatch | undefined,
    private readonly framed: boolean,
  ) {}

  write(chunk: Buffer): boolean {
    if (this.writer === undefined) {
      return this.response.write(chunk);
    }
    this.watch?.observe(chunk);
    return this.writer.write(chunk);
  }

  onEnd(): void {
    // A close-delimited body ends cleanly when the upstream closes early: only its bytes tell.
    const writer = this.writer;
    if (writer === undefined || !this.framed) {
      this.response.end();
      return;
    }
    const end = writer.atFrameBoundary ? (this.watch?.ending() ?? 'complete') : 'cut';
    if (end === 'cut') {
      this.ending = cutShort(this.metrics, this.target);
      writer.fail(this.ending);
    } else if (end === 'provider-error') {
      // The provider's error frame already told the client: only the [DONE] it did not send is added.
      this.ending = providerErrorEnd(this.metrics, this.target);
      writer.finish();
    } else {
      writer.end();
    }
  }

  onError(error: unknown): void {
    if (this.response.destroyed || this.response.writableEnded) {
      return;
    }
    this.ending = upstreamFailure(this.metrics, error, this.target);
    if (this.writer === undefined) {
      this.response.destroy();
    } else {
      this.writer.fail(this.ending);
    }
  }

  onSettled(): void {
    if (this.writer !== undefined) {
      this.writer.stop();
      this.metrics.streamsInFlight.dec();
    }
  }

  /** The drain cap: the upstream body goes, an event stream ends with an error frame, any other body is cut. */
  shutDown(): void {
    this.cut(shuttingDown());
  }

  /** Ends the answer on `ending` before its body did: the upstream body goes, the client gets the error. */
  protected cut(ending: GatewayException): void {
    this.ending ??= ending;
    this.source.destroy();
    if (this.writer === undefined) {
      this.response.destroy();
    } else {
      this.writer.fail(ending);
    }
  }
}

/** What a watched relay learns while its answer goes out, for its report (RelayService.relayShaped). */
export interface WatchedProgress {
  readonly watcher: RelayWatcher;
  /** `performance.now()` when the relay started. */
  readonly startedAt: number;
  /** `performance.now()` when the first body byte went to the client. */
  firstByteAt: number | undefined;
  /** The error the body ended on, once it settled. */
  ending: GatewayException | undefined;
}

/** A watcher that threw: the answer ends as an internal error, nothing of the watcher's reaches the client. */
function watcherFailure(error: unknown): GatewayException {
  return new GatewayException(ErrorCode.Internal, 'Internal error', { cause: error });
}

/** An event stream we may cut into frames: kept frames go out whole through its writer. */
interface FramedStream {
  readonly splitter: SseFrameSplitter;
  readonly writer: EventStreamWriter;
}

/**
 * The relay's copy with a watcher: each event of an event stream is shown to it once its frame is whole, and
 * goes out unchanged unless it is dropped (whole, its blank line with it); any other body's bytes are shown to it
 * as they go out. Notes when the first byte went out and what the body ended on.
 */
export class WatchedRelayCopy extends RelayCopy {
  private readonly framing: FramedStream | undefined;

  constructor(
    response: ServerResponse,
    source: Readable,
    target: RelayTarget,
    metrics: MetricsService,
    writer: EventStreamWriter | undefined,
    watch: StreamEndWatch | undefined,
    framed: boolean,
    private readonly progress: WatchedProgress,
  ) {
    super(response, source, target, metrics, writer, watch, framed);
    const readsEvents = progress.watcher.readsEvents !== false;
    this.framing =
      framed && writer !== undefined && readsEvents ? { splitter: new SseFrameSplitter(), writer } : undefined;
  }

  override write(chunk: Buffer): boolean {
    try {
      if (this.framing === undefined) {
        this.progress.watcher.onBytes(chunk);
        const ready = super.write(chunk);
        // An event stream's writer may hold the bytes of a frame not yet whole: the first byte is the first sent.
        this.noteBytes(this.writer === undefined || this.writer.hasSent ? chunk.length : 0);
        return ready;
      }
      this.watch?.observe(chunk);
      return this.writeFrames(this.framing, this.framing.splitter.push(chunk));
    } catch (error) {
      this.cut(watcherFailure(error));
      return true;
    }
  }

  override onEnd(): void {
    if (this.framing !== undefined) {
      try {
        const { frames, rest } = this.framing.splitter.end();
        this.writeFrames(this.framing, frames);
        if (rest.length > 0) {
          // A frame cut in the middle: the writer holds it, and the end check below fails the stream without it.
          this.framing.writer.write(rest);
        }
      } catch (error) {
        this.cut(watcherFailure(error));
        return;
      }
    }
    super.onEnd();
  }

  override onSettled(): void {
    super.onSettled();
    this.progress.ending = this.ending;
  }

  /** Writes the frames the watcher keeps, as one write; false when the client asks us to wait. */
  private writeFrames(framing: FramedStream, frames: readonly SseFrame[]): boolean {
    const kept: Buffer[] = [];
    for (const frame of frames) {
      if (frame.event === undefined || this.progress.watcher.onEvent(frame.event) === 'keep') {
        kept.push(frame.bytes);
      }
    }
    if (kept.length === 0) {
      return !this.response.writableNeedDrain;
    }
    const bytes = kept.length === 1 && kept[0] !== undefined ? kept[0] : Buffer.concat(kept);
    this.noteBytes(bytes.length);
    return framing.writer.writeFrames(bytes);
  }

  private noteBytes(length: number): void {
    if (length > 0 && this.progress.firstByteAt === undefined) {
      this.progress.firstByteAt = performance.now();
    }
  }
}
