import type { ServerResponse } from 'node:http';
import { SSE_DONE_FRAME, SSE_PING_FRAME, encodeSseData } from '@openai-proxy/util-sse';
import type { GatewayException } from '@openai-proxy/util-errors';

/**
 * An event ends with a blank line: two line ends in a row, where a line end is CR LF, LF or CR, and the two
 * may be of different kinds (`\n\r\n` is a line end then a blank line).
 */
function endsOnFrameBoundary(tail: string): boolean {
  return tail.replace(/\r\n/g, '\n').replace(/\r/g, '\n').endsWith('\n\n');
}

/**
 * Watches an event stream we relay: whether the bytes so far end on a frame boundary, when we last wrote,
 * and a heartbeat that sends `: ping` while the stream is idle (only between frames, never inside one).
 * A ping is due `heartbeatMs` after the last write, not at the next tick of a fixed interval (which let gaps
 * reach twice the heartbeat). Writes only note the time: the one timer re-arms itself for what is left.
 * A compressed stream is opaque to us: no heartbeat, and a failure cuts it instead of adding a frame.
 */
export class EventStreamWriter {
  private tail = '\n\n';
  private lastWriteAt = Date.now();
  private heartbeat: NodeJS.Timeout | undefined;

  constructor(
    private readonly response: ServerResponse,
    private readonly heartbeatMs: number,
    private readonly opaque: boolean,
  ) {
    if (heartbeatMs > 0 && !opaque) {
      this.armHeartbeat(heartbeatMs);
    }
  }

  /** True while the bytes written so far end between frames (where a frame of ours may go). */
  get atFrameBoundary(): boolean {
    return endsOnFrameBoundary(this.tail);
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
      clearTimeout(this.heartbeat);
      this.heartbeat = undefined;
    }
  }

  private armHeartbeat(delayMs: number): void {
    this.heartbeat = setTimeout(this.onHeartbeat, delayMs);
    this.heartbeat.unref();
  }

  /** Pings when the stream has been idle for the whole heartbeat, else waits for the rest of it. */
  private readonly onHeartbeat = (): void => {
    if (this.response.writableEnded || this.response.destroyed) {
      this.heartbeat = undefined;
      return;
    }
    const idleMs = Date.now() - this.lastWriteAt;
    if (idleMs < this.heartbeatMs) {
      this.armHeartbeat(this.heartbeatMs - idleMs);
      return;
    }
    // Inside a frame no ping may go out; look again a heartbeat later.
    if (endsOnFrameBoundary(this.tail)) {
      this.lastWriteAt = Date.now();
      this.response.write(SSE_PING_FRAME);
    }
    this.armHeartbeat(this.heartbeatMs);
  };
}
