import { SseDecoder, type SseEvent } from '@openai-proxy/util-sse';

const LF = 0x0a;
const CR = 0x0d;
const NO_BYTES = Buffer.alloc(0);

/** One complete frame of an event stream: its bytes as they arrived, and the event it carries. */
export interface SseFrame {
  /** The frame's bytes unchanged, the blank line that ends it included. */
  readonly bytes: Buffer;
  /** Its event; undefined when it dispatches none (comment lines such as `: ping`, a lone blank line). */
  readonly event: SseEvent | undefined;
}

/** What is left when the stream ends: frames whose end only the end of the stream confirmed, and a cut frame. */
export interface SseFramesAtEnd {
  readonly frames: SseFrame[];
  /** The bytes of a last frame that never got its blank line (empty when the stream ended between frames). */
  readonly rest: Buffer;
}

/**
 * Cuts a relayed event stream into whole frames, so each can be kept or dropped whole, in any split of the
 * reads. A frame ends with a blank line; line ends are CR LF, LF or CR (a line end is found on the bytes,
 * so a UTF-8 character split between reads is only decoded once its frame is whole). A frame that ends on
 * a CR waits for the next byte: an LF after it is part of the same line end, and so of the frame.
 */
export class SseFrameSplitter {
  private readonly decoder = new SseDecoder();
  /** Bytes of the frame in progress from earlier reads. */
  private pending: Buffer[] = [];
  /** The last byte was a line end (or nothing came yet): a line end now makes a blank line. */
  private atLineStart = true;
  /** The last byte was a CR: an LF now belongs to its line end. */
  private afterCr = false;
  /** The frame in `pending` is complete, having ended on a CR; an LF first in the next read is its last byte. */
  private endedOnCr = false;

  /** The frames the bytes so far completed; a frame still open is held until its blank line comes. */
  push(chunk: Buffer): SseFrame[] {
    const frames: SseFrame[] = [];
    let start = 0;
    if (this.endedOnCr && chunk.length > 0) {
      start = chunk[0] === LF ? 1 : 0;
      frames.push(this.frame(chunk.subarray(0, start)));
    }
    for (let index = start; index < chunk.length; index += 1) {
      const byte = chunk[index];
      if (byte === LF && this.afterCr) {
        this.afterCr = false;
      } else if (byte !== LF && byte !== CR) {
        this.atLineStart = false;
        this.afterCr = false;
      } else if (!this.atLineStart) {
        this.atLineStart = true;
        this.afterCr = byte === CR;
      } else if (byte === CR && index + 1 === chunk.length) {
        // A blank line ended by a CR on the last byte: only the next byte tells whether an LF completes it.
        this.endedOnCr = true;
      } else {
        // A blank line: the frame ends after its line end, the LF of a CR LF included.
        const end = byte === CR && chunk[index + 1] === LF ? index + 2 : index + 1;
        frames.push(this.frame(chunk.subarray(start, end)));
        start = end;
        index = end - 1;
      }
    }
    if (start < chunk.length) {
      this.pending.push(start === 0 ? chunk : chunk.subarray(start));
    }
    return frames;
  }

  /** The stream ended: a frame that ended on its last byte (a CR) is complete, anything else open is `rest`. */
  end(): SseFramesAtEnd {
    if (this.endedOnCr) {
      return { frames: [this.frame(NO_BYTES)], rest: NO_BYTES };
    }
    return { frames: [], rest: this.take(NO_BYTES) };
  }

  /** The frame in progress, ending with `head` (the part of it in this read); the next frame starts empty. */
  private take(head: Buffer): Buffer {
    const pending = this.pending;
    this.pending = [];
    this.endedOnCr = false;
    this.atLineStart = true;
    this.afterCr = false;
    if (pending.length === 0) {
      return head;
    }
    if (head.length > 0) {
      pending.push(head);
    }
    return pending.length === 1 && pending[0] !== undefined ? pending[0] : Buffer.concat(pending);
  }

  /** The frame in progress as a whole frame, and its event: the decoder's end dispatches it whatever line end closed it. */
  private frame(head: Buffer): SseFrame {
    const bytes = this.take(head);
    const events = this.decoder.push(bytes);
    events.push(...this.decoder.end());
    return { bytes, event: events[0] };
  }
}
