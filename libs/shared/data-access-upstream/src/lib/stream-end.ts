import type { StreamTerminal } from './relay.types';

const LF = 0x0a;
const CR = 0x0d;
const EVENT_LINE = '\nevent:';
const EVENT_LINE_BYTES = Buffer.from(EVENT_LINE, 'latin1');
/** Bytes kept from the end of the stream: for its last `data:` line, and for an `event:` line split between reads. */
const TAIL_BYTES = 64;

/** Where the line that starts at `from` ends (its CR or LF), or -1 when it goes on past the text. */
function lineEnd(text: string, from: number): number {
  for (let index = from; index < text.length; index += 1) {
    const code = text.charCodeAt(index);
    if (code === LF || code === CR) {
      return index;
    }
  }
  return -1;
}

/** The event name between `event:` and the line end (one leading space is not part of it). */
function eventName(line: string): string {
  return line.startsWith(' ') ? line.slice(1) : line;
}

/** The last line with text in `tail`, without its line end. */
function lastLine(tail: string): string {
  let end = tail.length;
  while (end > 0 && (tail.charCodeAt(end - 1) === LF || tail.charCodeAt(end - 1) === CR)) {
    end -= 1;
  }
  let start = end;
  while (start > 0 && tail.charCodeAt(start - 1) !== LF && tail.charCodeAt(start - 1) !== CR) {
    start -= 1;
  }
  return tail.slice(start, end);
}

/**
 * Watches the upstream bytes of one relayed event stream for the provider's terminal, without parsing frames:
 * the last `data:` line is read from the stream's last few bytes when it ends, and final events are found by
 * searching each read for an `event:` line (plus the seam with the previous read, where a line can be split).
 */
export class StreamEndWatch {
  private readonly recent: Buffer[] = [];
  private recentBytes = 0;
  private finalEventSeen = false;
  /** The stream's last bytes before this read; a stream starts at the beginning of a line. */
  private carry = '\n';

  constructor(private readonly terminal: StreamTerminal) {}

  observe(chunk: Buffer): void {
    if (this.terminal.lastData !== undefined) {
      this.keepTail(chunk);
    }
    if (this.terminal.finalEvents !== undefined && !this.finalEventSeen) {
      this.findFinalEvent(chunk, this.terminal.finalEvents);
    }
  }

  /** True when what arrived ends the way a complete stream of this provider ends. */
  completed(): boolean {
    if (this.terminal.finalEvents !== undefined && this.finalEventSeen) {
      return true;
    }
    if (this.terminal.lastData !== undefined) {
      const line = lastLine(Buffer.concat(this.recent).toString('latin1'));
      return line === `data: ${this.terminal.lastData}` || line === `data:${this.terminal.lastData}`;
    }
    return false;
  }

  /** Holds on to the last reads while the ones after them are shorter than the tail we need. */
  private keepTail(chunk: Buffer): void {
    this.recent.push(chunk);
    this.recentBytes += chunk.length;
    while (this.recent.length > 1 && this.recentBytes - (this.recent[0]?.length ?? 0) >= TAIL_BYTES) {
      this.recentBytes -= this.recent.shift()?.length ?? 0;
    }
  }

  private findFinalEvent(chunk: Buffer, finalEvents: readonly string[]): void {
    const carried = this.carry.length;
    const seam = this.carry + chunk.toString('latin1', 0, Math.min(chunk.length, TAIL_BYTES));
    this.carry =
      chunk.length >= TAIL_BYTES
        ? chunk.toString('latin1', chunk.length - TAIL_BYTES)
        : (this.carry + chunk.toString('latin1')).slice(-TAIL_BYTES);
    // An event line that starts in the previous read and ends in this one.
    for (let at = seam.indexOf(EVENT_LINE); at !== -1 && at < carried; at = seam.indexOf(EVENT_LINE, at + 1)) {
      const start = at + EVENT_LINE.length;
      const end = lineEnd(seam, start);
      if (end >= carried) {
        this.noteEvent(eventName(seam.slice(start, end)), finalEvents);
      }
    }
    // Event lines wholly inside this read; one cut at its end is found in the next seam.
    for (
      let at = chunk.indexOf(EVENT_LINE_BYTES);
      at !== -1 && !this.finalEventSeen;
      at = chunk.indexOf(EVENT_LINE_BYTES, at + 1)
    ) {
      const start = at + EVENT_LINE.length;
      const line = chunk.toString('latin1', start, Math.min(chunk.length, start + TAIL_BYTES));
      const end = lineEnd(line, 0);
      if (end !== -1) {
        this.noteEvent(eventName(line.slice(0, end)), finalEvents);
      }
    }
  }

  private noteEvent(name: string, finalEvents: readonly string[]): void {
    if (finalEvents.includes(name)) {
      this.finalEventSeen = true;
    }
  }
}
