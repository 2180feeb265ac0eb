import { type ClientRequest, type IncomingHttpHeaders, request } from 'node:http';
import { z } from 'zod';

/** What a client saw of one answer: status, headers, every byte as text, when things came, and how it ended. */
export interface ClientExchange {
  status: number;
  headers: IncomingHttpHeaders;
  /** The body as text (UTF-8, decoded as a stream: a character split across reads is read whole). */
  text: string;
  /** The raw body bytes, as received (not decoded from any Content-Encoding). */
  bytes: Buffer;
  /** `Date.now()` when the request was sent, the headers came, the last body bytes came and the answer ended. */
  sentAt: number;
  headersAt: number | undefined;
  lastBytesAt: number | undefined;
  endedAt: number;
  /** Why the answer did not end cleanly (connection cut, time limit), or undefined when it ended cleanly. */
  failure: string | undefined;
}

/** What a test sends: method (POST when a body is given), headers and body. */
export interface ClientRequestInit {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Sends the body chunked, in pieces of 64 KiB with no `Content-Length`, as a client streaming an upload. */
  chunked?: boolean;
  /** Bounds the whole exchange: past it the request is destroyed and the failure says so. */
  withinMs?: number;
}

const DEFAULT_WITHIN_MS = 10_000;
const CHUNK_BYTES = 64 * 1024;

/**
 * One request to the gateway on a connection of its own (no pooled socket outlives it), read to its end. The
 * test can wait for the headers or the first body bytes, and abort the request at any point: `abort` destroys
 * the client socket and says when.
 */
export class ClientCall {
  /** Resolves with the whole exchange once the answer ended, failed, was aborted or ran out of time. */
  readonly done: Promise<ClientExchange>;
  private readonly outgoing: ClientRequest;
  private headersCame: (() => void) | undefined;
  private bytesCame: (() => void) | undefined;
  private readonly headersArrived: Promise<void>;
  private readonly bytesArrived: Promise<void>;
  /** The waits of `textSoFar`, told of every body read and of the end. */
  private readonly readers: Array<(text: string, ended: boolean) => void> = [];
  /** The body read so far, and whether the exchange is over. */
  private text = '';
  private ended = false;

  constructor(url: string, init: ClientRequestInit = {}) {
    this.headersArrived = new Promise((resolve) => {
      this.headersCame = resolve;
    });
    this.bytesArrived = new Promise((resolve) => {
      this.bytesCame = resolve;
    });
    const body = init.body === undefined ? undefined : Buffer.from(init.body);
    const headers: Record<string, string> = { ...init.headers };
    if (body !== undefined && init.chunked !== true) {
      headers['content-length'] = String(body.length);
    }
    const sentAt = Date.now();
    const chunks: Buffer[] = [];
    const decoder = new TextDecoder();
    let status = 0;
    let received: IncomingHttpHeaders = {};
    let headersAt: number | undefined;
    let lastBytesAt: number | undefined;
    this.outgoing = request(url, {
      method: init.method ?? (body === undefined ? 'GET' : 'POST'),
      agent: false,
      headers,
    });
    this.done = new Promise<ClientExchange>((resolve) => {
      const finish = (failure: string | undefined): void => {
        if (this.ended) {
          return;
        }
        this.ended = true;
        clearTimeout(deadline);
        this.headersCame?.();
        this.bytesCame?.();
        this.text += decoder.decode();
        this.tellReaders();
        resolve({
          status,
          headers: received,
          text: this.text,
          bytes: Buffer.concat(chunks),
          sentAt,
          headersAt,
          lastBytesAt,
          endedAt: Date.now(),
          failure,
        });
      };
      const withinMs = init.withinMs ?? DEFAULT_WITHIN_MS;
      const deadline = setTimeout(() => this.outgoing.destroy(new Error(`no end within ${withinMs} ms`)), withinMs);
      this.outgoing.once('response', (response) => {
        status = response.statusCode ?? 0;
        received = response.headers;
        headersAt = Date.now();
        this.headersCame?.();
        response.on('data', (chunk: Buffer) => {
          chunks.push(chunk);
          this.text += decoder.decode(chunk, { stream: true });
          lastBytesAt = Date.now();
          this.bytesCame?.();
          this.tellReaders();
        });
        response.on('error', () => undefined);
        response.once('close', () =>
          finish(response.complete ? undefined : 'the connection closed before the answer ended'),
        );
      });
      this.outgoing.once('error', (error) => finish(error.message));
      if (body !== undefined && init.chunked === true) {
        for (let offset = 0; offset < body.length; offset += CHUNK_BYTES) {
          this.outgoing.write(body.subarray(offset, offset + CHUNK_BYTES));
        }
        this.outgoing.end();
      } else {
        this.outgoing.end(body);
      }
    });
  }

  /** Resolves once the status and headers came (or the exchange ended without them). */
  headers(): Promise<void> {
    return this.headersArrived;
  }

  /** Resolves once the first body bytes came (or the exchange ended without any). */
  firstBytes(): Promise<void> {
    return this.bytesArrived;
  }

  /**
   * Resolves with the body read so far as soon as it contains `wanted`, checked on every read; undefined when the
   * exchange ended without it.
   */
  textSoFar(wanted: string): Promise<string | undefined> {
    return new Promise((resolve) => {
      const reader = (text: string, ended: boolean): void => {
        if (text.includes(wanted) || ended) {
          this.readers.splice(this.readers.indexOf(reader), 1);
          resolve(text.includes(wanted) ? text : undefined);
        }
      };
      this.readers.push(reader);
      this.tellReaders();
    });
  }

  private tellReaders(): void {
    for (const reader of [...this.readers]) {
      reader(this.text, this.ended);
    }
  }

  /** Goes away: destroys the request and its socket. Returns when (`Date.now()`). */
  abort(): number {
    const at = Date.now();
    this.outgoing.destroy(new Error('the client aborted'));
    return at;
  }
}

/** Sends one request and reads the whole answer. */
export function exchange(url: string, init: ClientRequestInit = {}): Promise<ClientExchange> {
  return new ClientCall(url, init).done;
}

/** The `data:` payloads of an event stream, in order (comments such as `: ping` left out). */
export function sseData(text: string): string[] {
  return text
    .split(/\r?\n\r?\n/)
    .map((frame) =>
      frame
        .split(/\r?\n/)
        .filter((line) => line.startsWith('data:'))
        .map((line) => line.slice('data:'.length).trimStart())
        .join('\n'),
    )
    .filter((data) => data !== '');
}

const errorFrameSchema = z.object({
  error: z.object({ message: z.string(), type: z.string(), code: z.string().nullable() }),
});

/** The OpenAI error a `data:` payload carries, or undefined when it is not an error frame. */
export function errorOfFrame(data: string): z.output<typeof errorFrameSchema>['error'] | undefined {
  try {
    const parsed = errorFrameSchema.safeParse(JSON.parse(data));
    return parsed.success ? parsed.data.error : undefined;
  } catch {
    return undefined;
  }
}

const chunkSchema = z.object({
  choices: z.array(
    z.object({ delta: z.object({ content: z.string().nullish() }), finish_reason: z.string().nullish() }),
  ),
});

/** The text of the content deltas of an OpenAI chat stream's `data:` payloads. */
export function streamedText(data: readonly string[]): string {
  return data
    .map((payload) => {
      try {
        const parsed = chunkSchema.safeParse(JSON.parse(payload));
        return parsed.success ? parsed.data.choices.map((choice) => choice.delta.content ?? '').join('') : '';
      } catch {
        return '';
      }
    })
    .join('');
}

/** The finish reasons the chunks of an OpenAI chat stream carried, in order. */
export function finishReasons(data: readonly string[]): string[] {
  return data.flatMap((payload) => {
    try {
      const parsed = chunkSchema.safeParse(JSON.parse(payload));
      return parsed.success ? parsed.data.choices.flatMap((choice) => choice.finish_reason ?? []) : [];
    } catch {
      return [];
    }
  });
}

/** How an OpenAI chat stream ended, as its client read it. */
export interface StreamEnding {
  /** True when its last `data:` payload is `[DONE]`, and it is the only one. */
  endsWithDone: boolean;
  /** The error frame just before that `[DONE]`, if there is one: how a failed stream must end. */
  finalError: ReturnType<typeof errorOfFrame>;
  /** Every error frame it carried, in order. */
  errors: Array<NonNullable<ReturnType<typeof errorOfFrame>>>;
}

/** How the stream whose body is `text` ended. */
export function streamEnding(text: string): StreamEnding {
  const data = sseData(text);
  const done = data.filter((payload) => payload === '[DONE]').length;
  const endsWithDone = done === 1 && data.at(-1) === '[DONE]';
  return {
    endsWithDone,
    finalError: endsWithDone ? errorOfFrame(data.at(-2) ?? '') : undefined,
    errors: data.flatMap((payload) => errorOfFrame(payload) ?? []),
  };
}
