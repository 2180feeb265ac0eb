import type { ServerResponse } from 'node:http';
import { SSE_DONE_FRAME, SSE_PING_FRAME, encodeSseData } from '@openai-proxy/util-sse';
import type { GatewayException } from '@openai-proxy/util-errors';

const LF = 0x0a;
const CR = 0x0d;

/**
 * The most bytes of one unfinished frame a relayed stream holds back. A frame longer than this (no provider sends
 * one) goes on as it comes, so no upstream can make us buffer without bound; a cut inside it then reaches the
 * client as a cut frame.
 */
export const MAX_HELD_FRAME_BYTES = 1024 * 1024;

/**
 * An event ends with a blank line: two line ends in a row, where a line end is CR LF, LF or CR, and the two
 * may be of different kinds (`\n\r\n` is a line end then a blank line).
 */
function endsOnFrameBoundary(tail: string): boolean {
  return tail.replace(/\r\n/g, '\n').replace(/\r/g, '\n').endsWith('\n\n');
}

function isLineEndByte(byte: number | undefined): boolean {
  return byte === LF || byte === CR;
}

/**
 * Where the last whole frame in `bytes` ends (the index after its blank line), searching no lower than `lowest`;
 * 0 when none ends there. A CR on the last byte decides nothing yet: an LF in the next read would be part of
 * its line end.
 */
export function lastFrameEnd(bytes: Buffer, lowest = 2): number {
  const length = bytes.length;
  if (length >= 2 && bytes[length - 1] === LF && bytes[length - 2] === LF) {
    return length;
  }
  for (let end = length; end >= Math.max(2, lowest); end -= 1) {
    const last = bytes[end - 1];
    if (last === LF) {
      const lineEndStart = bytes[end - 2] === CR ? end - 2 : end - 1;
      if (lineEndStart >= 1 && isLineEndByte(bytes[lineEndStart - 1])) {
        return end;
      }
    } else if (last === CR && end < length && bytes[end] !== LF && isLineEndByte(bytes[end - 2])) {
      return end;
    }
  }
  return 0;
}

/** The last (up to) four bytes of `chunks` after `tail`, as latin1 text: enough to tell a frame boundary. */
function tailAfter(tail: string, chunks: readonly Buffer[]): string {
  let text = tail;
  for (const chunk of chunks) {
    text = (text + chunk.toString('latin1', Math.max(0, chunk.length - 4))).slice(-4);
  }
  return text;
}

/**
 * Watches an event stream we relay and writes it to the client whole frames at a time: the bytes of a frame not
 * yet ended are held back until its blank line comes (a client dispatches an event only then, so it waits for
 * nothing), and when the stream is cut they are dropped, so the client gets our error frame instead of half an
 * event its JSON parser fails on. It knows whether the stream so far ends on a frame boundary, when we last
 * wrote, and sends `: ping` while the stream is idle (only between frames, never inside one).
 * A ping is due `heartbeatMs` after the last write, not at the next tick of a fixed interval (which let gaps
 * reach twice the heartbeat). Writes only note the time: the one timer re-arms itself for what is left.
 * A compressed stream is opaque to us: no holding back, no heartbeat, and a failure cuts it instead of adding a
 * frame.
 */
export class EventStreamWriter {
  /** The last bytes written to the client, as latin1 text. */
  private tail = '\n\n';
  /** The bytes of the frame in progress, held back until it ends. */
  private held: Buffer[] = [];
  private heldBytes = 0;
  /** An overlong frame went out before its end (MAX_HELD_FRAME_BYTES): the client is inside a frame. */
  private sentMidFrame = false;
  private sentAny = false;
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

  /** True while the stream so far (written and held) ends between frames: it may end there, or a frame of ours go. */
  get atFrameBoundary(): boolean {
    return endsOnFrameBoundary(this.heldBytes === 0 ? this.tail : tailAfter(this.tail, this.held));
  }

  /** Writes frames we encoded ourselves (translated streams). */
  writeText(text: string): boolean {
    return this.writeFrames(Buffer.from(text, 'utf8'));
  }

  /**
   * Writes bytes known to be whole frames (our own, or a relayed stream already cut into frames): they go out as
   * they are, after anything held. False when the socket asks us to wait.
   */
  writeFrames(frames: Buffer): boolean {
    const out = this.heldBytes === 0 ? frames : Buffer.concat([...this.takeHeld(), frames]);
    this.sentMidFrame = false;
    return this.send(out);
  }

  /** True once any byte went to the client. */
  get hasSent(): boolean {
    return this.sentAny;
  }

  /** Ends a complete stream with `data: [DONE]`. */
  finish(): void {
    this.end(SSE_DONE_FRAME);
  }

  /** Ends the stream as it came: whatever it still held goes first (it ended between frames). */
  end(last?: string): void {
    this.stop();
    if (this.response.writableEnded || this.response.destroyed) {
      return;
    }
    if (this.heldBytes > 0) {
      this.send(Buffer.concat(this.takeHeld()));
    }
    if (last === undefined) {
      this.response.end();
    } else {
      this.response.end(last);
    }
  }

  /**
   * Relays bytes: those up to the last frame end in them go out, the rest is held until its frame ends. Returns
   * false when the socket asks us to wait (backpressure).
   */
  write(chunk: Buffer): boolean {
    if (this.opaque) {
      return this.send(chunk);
    }
    // The bytes the held ones end with come first, so a blank line begun in the held bytes is seen; the last frame
    // end found is never before the held bytes' end (none ends inside them: they would have gone out).
    const junction = this.junction();
    const probe = junction === undefined ? chunk : Buffer.concat([junction, chunk]);
    const end = lastFrameEnd(probe, junction?.length ?? 2);
    if (end === 0) {
      return this.hold(chunk);
    }
    const split = end - (junction?.length ?? 0);
    const whole = split === chunk.length ? chunk : chunk.subarray(0, split);
    const out = this.heldBytes === 0 ? whole : Buffer.concat([...this.takeHeld(), whole]);
    this.sentMidFrame = false;
    const ready = out.length === 0 ? !this.response.writableNeedDrain : this.send(out);
    return split === chunk.length ? ready : this.hold(chunk.subarray(split)) && ready;
  }

  /**
   * Ends a broken stream so no client can take it for a success: an OpenAI error frame, then [DONE]. The held
   * part of an unfinished frame is dropped; a frame that went out unfinished (longer than we hold) is closed
   * first (the client then fails on it, which is also not a success).
   */
  fail(error: GatewayException): void {
    this.stop();
    this.held = [];
    this.heldBytes = 0;
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

  /** Writes to the client, noting the time and the last bytes. */
  private send(bytes: Buffer): boolean {
    this.lastWriteAt = Date.now();
    if (bytes.length > 0) {
      this.sentAny = true;
      this.tail = (this.tail + bytes.toString('latin1', Math.max(0, bytes.length - 4))).slice(-4);
    }
    return this.response.write(bytes);
  }

  /** The held bytes, in order; nothing is held after. */
  private takeHeld(): Buffer[] {
    const held = this.held;
    this.held = [];
    this.heldBytes = 0;
    return held;
  }

  /**
   * Holds `bytes` of the frame in progress; past MAX_HELD_FRAME_BYTES the frame goes out as it came. False when
   * the socket asks us to wait.
   */
  private hold(bytes: Buffer): boolean {
    this.held.push(bytes);
    this.heldBytes += bytes.length;
    if (this.heldBytes <= MAX_HELD_FRAME_BYTES) {
      return !this.response.writableNeedDrain;
    }
    this.sentMidFrame = true;
    return this.send(Buffer.concat(this.takeHeld()));
  }

  /**
   * The bytes before the next read that a blank line may have begun in: the last three held, or, when nothing is
   * held but an overlong frame went out unfinished, the last three sent; none when the client has whole frames.
   */
  private junction(): Buffer | undefined {
    if (this.heldBytes > 0) {
      return this.heldTail();
    }
    return this.sentMidFrame ? Buffer.from(this.tail.slice(-3), 'latin1') : undefined;
  }

  /** The last (up to) three held bytes: with the next read, enough to find a blank line begun in them. */
  private heldTail(): Buffer {
    const last = this.held[this.held.length - 1];
    if (this.held.length === 1 || (last !== undefined && last.length >= 3)) {
      return (last ?? Buffer.alloc(0)).subarray(Math.max(0, (last?.length ?? 0) - 3));
    }
    const joined = Buffer.concat(this.held.slice(-3));
    return joined.subarray(Math.max(0, joined.length - 3));
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
