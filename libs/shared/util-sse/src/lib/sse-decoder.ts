import { createParser, type EventSourceParser } from 'eventsource-parser';

/** One decoded server-sent event. `event` is undefined when the frame had no `event:` line. */
export interface SseEvent {
  event: string | undefined;
  data: string;
  id: string | undefined;
}

/**
 * Incremental SSE decoder: feed it bytes as they arrive, in any split, and it returns the events completed so
 * far. UTF-8 characters split across reads are joined (no U+FFFD), `\r\n` and `\r` line ends, comment lines,
 * `event:` and several frames per read are handled by eventsource-parser.
 */
export class SseDecoder {
  private readonly textDecoder = new TextDecoder('utf-8');
  private readonly parser: EventSourceParser;
  private pending: SseEvent[] = [];
  private commentCount = 0;

  constructor() {
    this.parser = createParser({
      onEvent: (message) => {
        this.pending.push({ event: message.event, data: message.data, id: message.id });
      },
      onComment: () => {
        this.commentCount += 1;
      },
    });
  }

  /** Comment lines seen so far (`: ping` heartbeats). */
  get comments(): number {
    return this.commentCount;
  }

  push(chunk: Uint8Array | string): SseEvent[] {
    this.parser.feed(typeof chunk === 'string' ? chunk : this.textDecoder.decode(chunk, { stream: true }));
    return this.drain();
  }

  /**
   * Ends the stream: flushes a trailing partial character and dispatches an unterminated last frame. The
   * parser only dispatches on a blank line (its `reset` reads a pending line but drops the frame), so the end
   * of the stream supplies the blank line the source never sent. Whether that frame is whole is the reader's
   * question: a frame cut mid-JSON then fails validation instead of vanishing.
   */
  end(): SseEvent[] {
    const rest = this.textDecoder.decode();
    this.parser.feed(`${rest}\n\n`);
    this.parser.reset();
    return this.drain();
  }

  private drain(): SseEvent[] {
    const events = this.pending;
    this.pending = [];
    return events;
  }
}
