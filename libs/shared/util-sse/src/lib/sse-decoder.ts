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

  /** Ends the stream: flushes a trailing partial character and dispatches an unterminated last frame. */
  end(): SseEvent[] {
    const rest = this.textDecoder.decode();
    if (rest.length > 0) {
      this.parser.feed(rest);
    }
    this.parser.reset({ consume: true });
    return this.drain();
  }

  private drain(): SseEvent[] {
    const events = this.pending;
    this.pending = [];
    return events;
  }
}
