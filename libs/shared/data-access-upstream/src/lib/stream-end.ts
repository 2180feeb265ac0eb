import { z } from 'zod';
import { parseJsonText } from '@openai-proxy/util-errors';
import type { SseEvent } from '@openai-proxy/util-sse';
import type { StreamTerminal } from './relay.types';
import { SseFrameSplitter } from './sse-frame-splitter';

const LF = 0x0a;
const CR = 0x0d;
const EVENT_LINE = '\nevent:';
const EVENT_LINE_BYTES = Buffer.from(EVENT_LINE, 'latin1');
/** Bytes kept from the end of a read for an `event:` line split between reads. */
const TAIL_BYTES = 64;
/** Bytes kept from the end of a `[DONE]` stream: enough for its last frame, a provider's error frame included. */
const LAST_FRAME_BYTES = 4_096;
/** A byte that is no line end: what the splitter reads before a tail that starts inside a line. */
const INSIDE_A_LINE = Buffer.from('x', 'latin1');

/** How a watched event stream ended: with its terminal, on a provider's error frame, or cut short. */
export type StreamEnd = 'complete' | 'provider-error' | 'cut';

/** The data of a provider's error frame, OpenAI's `{"error":{…}}` (Anthropic's `{"type":"error","error":{…}}` too). */
const providerErrorDataSchema = z.object({ error: z.object({}) });

/** True when `event` is a provider's error: an `error` event, or data that carries an error object. */
function isProviderError(event: SseEvent): boolean {
  return event.event === 'error' || providerErrorDataSchema.safeParse(parseJsonText(event.data)).success;
}

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

  /** True once a read was let go from the tail: the tail then starts somewhere inside the stream. */
  private trimmed = false;

  constructor(private readonly terminal: StreamTerminal) {}

  observe(chunk: Buffer): void {
    if (this.terminal.lastData !== undefined) {
      this.keepTail(chunk);
    }
    if (this.terminal.finalEvents !== undefined && !this.finalEventSeen) {
      this.findFinalEvent(chunk, this.terminal.finalEvents);
    }
  }

  /**
   * How what arrived ends: `complete` the way a complete stream of this provider ends; `provider-error` when a
   * `[DONE]` stream's last frame is the provider's error (its end, though no `[DONE]` follows); else `cut`.
   */
  ending(): StreamEnd {
    if (this.terminal.finalEvents !== undefined && this.finalEventSeen) {
      return 'complete';
    }
    if (this.terminal.lastData === undefined) {
      return 'cut';
    }
    const tail = Buffer.concat(this.recent);
    const line = lastLine(tail.toString('latin1'));
    if (line === `data: ${this.terminal.lastData}` || line === `data:${this.terminal.lastData}`) {
      return 'complete';
    }
    const last = this.lastWholeEvent(tail);
    return last !== undefined && isProviderError(last) ? 'provider-error' : 'cut';
  }

  /**
   * The tail's last event (comment frames such as `: ping` after it aside) when its frame is whole and wholly
   * inside the tail. Once reads were let go the tail starts inside a line, of a frame that began before it: a
   * byte put before the tail keeps that line's end from reading as a blank line, and that frame is dropped.
   */
  private lastWholeEvent(tail: Buffer): SseEvent | undefined {
    const splitter = new SseFrameSplitter();
    if (this.trimmed) {
      splitter.push(INSIDE_A_LINE);
    }
    const frames = splitter.push(tail);
    const end = splitter.end();
    if (end.rest.length > 0) {
      return undefined;
    }
    const events = [...frames, ...end.frames].slice(this.trimmed ? 1 : 0).flatMap((frame) => frame.event ?? []);
    return events.at(-1);
  }

  /** Holds on to the last reads while the ones after them are shorter than the tail we need. */
  private keepTail(chunk: Buffer): void {
    this.recent.push(chunk);
    this.recentBytes += chunk.length;
    while (this.recent.length > 1 && this.recentBytes - (this.recent[0]?.length ?? 0) >= LAST_FRAME_BYTES) {
      const dropped = this.recent.shift()?.length ?? 0;
      this.recentBytes -= dropped;
      this.trimmed ||= dropped > 0;
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
