import type { ServerResponse } from 'node:http';
import { SSE_DONE_FRAME, SSE_PING_FRAME, encodeSseData } from '@openai-proxy/util-sse';
import type { GatewayException } from '@openai-proxy/util-errors';

const NEWLINE = 0x0a;

/**
 * Watches an event stream we write: whether the bytes so far end on a frame boundary, when we last wrote,
 * and a heartbeat that sends `: ping` while the stream is idle (only between frames, never inside one).
 */
export class EventStreamWriter {
  private atBoundary = true;
  private endsWithNewline = true;
  private lastWriteAt = Date.now();
  private readonly heartbeat: NodeJS.Timeout | undefined;

  constructor(
    private readonly response: ServerResponse,
    heartbeatMs: number,
  ) {
    if (heartbeatMs > 0) {
      this.heartbeat = setInterval(() => this.pingIfIdle(heartbeatMs), heartbeatMs);
      this.heartbeat.unref();
    }
  }

  /** Writes relayed bytes; returns false when the socket asks us to wait (backpressure). */
  write(chunk: Buffer): boolean {
    this.lastWriteAt = Date.now();
    const length = chunk.length;
    if (length > 0) {
      const last = chunk[length - 1] === NEWLINE;
      this.atBoundary = last && (length > 1 ? chunk[length - 2] === NEWLINE : this.endsWithNewline);
      this.endsWithNewline = last;
    }
    return this.response.write(chunk);
  }

  /** Ends a broken stream so no client can take it for a success: an OpenAI error frame, then [DONE]. */
  fail(error: GatewayException): void {
    this.stop();
    if (this.response.writableEnded || this.response.destroyed) {
      return;
    }
    const separator = this.atBoundary ? '' : '\n\n';
    this.response.end(`${separator}${encodeSseData(error.toEnvelope())}${SSE_DONE_FRAME}`);
  }

  stop(): void {
    if (this.heartbeat !== undefined) {
      clearInterval(this.heartbeat);
    }
  }

  private pingIfIdle(heartbeatMs: number): void {
    if (this.atBoundary && Date.now() - this.lastWriteAt >= heartbeatMs && !this.response.writableEnded) {
      this.lastWriteAt = Date.now();
      this.response.write(SSE_PING_FRAME);
    }
  }
}
