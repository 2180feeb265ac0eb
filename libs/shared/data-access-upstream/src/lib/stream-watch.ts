import type { ServerResponse } from 'node:http';
import { SSE_DONE_FRAME, SSE_PING_FRAME, encodeSseData } from '@openai-proxy/util-sse';
import type { GatewayException } from '@openai-proxy/util-errors';

/** An event ends with a blank line: LF LF, CR LF CR LF or CR CR. */
function endsOnFrameBoundary(tail: string): boolean {
  return tail.endsWith('\n\n') || tail.endsWith('\r\n\r\n') || tail.endsWith('\r\r');
}

/**
 * Watches an event stream we relay: whether the bytes so far end on a frame boundary, when we last wrote,
 * and a heartbeat that sends `: ping` while the stream is idle (only between frames, never inside one).
 * A compressed stream is opaque to us: no heartbeat, and a failure cuts it instead of adding a frame.
 */
export class EventStreamWriter {
  private tail = '\n\n';
  private lastWriteAt = Date.now();
  private readonly heartbeat: NodeJS.Timeout | undefined;

  constructor(
    private readonly response: ServerResponse,
    heartbeatMs: number,
    private readonly opaque: boolean,
  ) {
    if (heartbeatMs > 0 && !opaque) {
      this.heartbeat = setInterval(() => this.pingIfIdle(heartbeatMs), heartbeatMs);
      this.heartbeat.unref();
    }
  }

  /** Writes frames we encoded ourselves (translated streams). */
  writeText(text: string): boolean {
    return this.write(Buffer.from(text, 'utf8'));
  }

  /** Ends a complete stream with `data: [DONE]`. */
  finish(): void {
    this.stop();
    if (!this.response.writableEnded && !this.response.destroyed) {
      this.response.end(SSE_DONE_FRAME);
    }
  }

  /** Writes relayed bytes; returns false when the socket asks us to wait (backpressure). */
  write(chunk: Buffer): boolean {
    this.lastWriteAt = Date.now();
    if (chunk.length > 0) {
      this.tail = (this.tail + chunk.toString('latin1', Math.max(0, chunk.length - 4))).slice(-4);
    }
    return this.response.write(chunk);
  }

  /**
   * Ends a broken stream so no client can take it for a success: an OpenAI error frame, then [DONE]. A frame
   * cut in the middle is closed first (the client then fails on it, which is also not a success).
   */
  fail(error: GatewayException): void {
    this.stop();
    if (this.response.writableEnded || this.response.destroyed) {
      return;
    }
    if (this.opaque) {
      this.response.destroy();
      return;
    }
    const separator = endsOnFrameBoundary(this.tail) ? '' : '\n\n';
    this.response.end(`${separator}${encodeSseData(error.toEnvelope())}${SSE_DONE_FRAME}`);
  }

  stop(): void {
    if (this.heartbeat !== undefined) {
      clearInterval(this.heartbeat);
    }
  }

  private pingIfIdle(heartbeatMs: number): void {
    if (
      endsOnFrameBoundary(this.tail) &&
      Date.now() - this.lastWriteAt >= heartbeatMs &&
      !this.response.writableEnded
    ) {
      this.lastWriteAt = Date.now();
      this.response.write(SSE_PING_FRAME);
    }
  }
}
