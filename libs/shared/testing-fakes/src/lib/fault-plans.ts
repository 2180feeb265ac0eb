/**
 * How an answer's body stops before its end: `stall` writes nothing more and keeps the connection open until the
 * client leaves; `close` ends the HTTP answer cleanly, as if the stream were over (its terminator never sent);
 * `reset` sends a TCP RST.
 */
export type CutHow = 'stall' | 'close' | 'reset';

/** Where an answer's body stops: after this many writes (0: right after the headers). */
export interface AnswerCut {
  afterWrites: number;
  how: CutHow;
}

/** An answer with a status, headers and a body, which the plan may delay, split, encode, lie about or cut. */
export interface AnswerPlan {
  kind: 'answer';
  status: number;
  headers: Readonly<Record<string, string>>;
  /** The body as the pieces the fake writes one at a time (a stream's frames; one piece for a plain body). */
  body: ReadonlyArray<string | Uint8Array>;
  /** Waits this long before sending the status line and headers. */
  headersAfterMs?: number;
  /** Waits this long between two writes. */
  gapMs?: number;
  /** Byte offsets into the bytes sent (after gzip) where one write ends and the next begins, instead of the pieces. */
  splitAt?: readonly number[];
  /** Sends the body gzip-encoded (`Content-Encoding: gzip`), each piece flushed so it can be decoded on its own. */
  gzip?: boolean;
  /**
   * Sends a `Content-Length` instead of chunked encoding: `exact` for the bytes sent, or a number that may lie
   * (a lie also sends `Connection: close`, so the answer ends when the fake closes the connection).
   */
  contentLength?: number | 'exact';
  cut?: AnswerCut;
}

/** Never sends the status line: the request stays unanswered until the client goes away (or the fake closes). */
export interface StalledHeadersPlan {
  kind: 'stall-headers';
}

/**
 * Closes the connection on arrival without any answer, with a FIN (`close`) or a TCP RST (`reset`): a connection
 * error before the first byte, and on a reused connection what a client sees when the server's keep-alive close
 * raced its request.
 */
export interface HangUpPlan {
  kind: 'hang-up';
  how: 'close' | 'reset';
}

/** What a fault upstream does with one request. */
export type FaultPlan = AnswerPlan | StalledHeadersPlan | HangUpPlan;

/** The parts of an answer plan a builder leaves to the test. */
export type AnswerOptions = Partial<Omit<AnswerPlan, 'kind' | 'body'>>;

const JSON_HEADERS = { 'content-type': 'application/json' };
const SSE_HEADERS = { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' };

/** A JSON answer with an exact `Content-Length`, as a provider sends a non-streamed body. */
export function jsonAnswer(status: number, payload: unknown, options: AnswerOptions = {}): AnswerPlan {
  return {
    kind: 'answer',
    status,
    contentLength: 'exact',
    ...options,
    headers: { ...JSON_HEADERS, ...options.headers },
    body: [JSON.stringify(payload)],
  };
}

/** A 200 event stream whose frames are written one per write (chunked), as a provider streams. */
export function streamAnswer(frames: ReadonlyArray<string | Uint8Array>, options: AnswerOptions = {}): AnswerPlan {
  return {
    kind: 'answer',
    status: 200,
    ...options,
    headers: { ...SSE_HEADERS, ...options.headers },
    body: frames,
  };
}

/** A `Retry-After` value: whole seconds, or an HTTP date. */
export function retryAfterValue(after: number | Date): string {
  return typeof after === 'number' ? String(after) : after.toUTCString();
}

/** A 429 or 503 JSON answer with a `Retry-After` in seconds or as an HTTP date. */
export function retryAfterAnswer(
  status: 429 | 503,
  after: number | Date,
  payload: unknown = { error: { message: 'try again later', type: 'rate_limit_error', param: null, code: null } },
): AnswerPlan {
  return jsonAnswer(status, payload, { headers: { 'retry-after': retryAfterValue(after) } });
}

/** A body whose `Content-Length` says `declared` bytes whatever the body's real size. */
export function lyingLength(declared: number, body: string, status = 200): AnswerPlan {
  return { kind: 'answer', status, headers: { 'content-type': 'text/plain' }, body: [body], contentLength: declared };
}

/**
 * The byte offset inside the first `character` of `text` (one byte into its UTF-8 encoding), for `splitAt`: a
 * write ending there leaves the character split across two writes. Throws when `text` has no such multi-byte
 * character.
 */
export function offsetInside(text: string, character: string): number {
  const index = text.indexOf(character);
  if (index === -1 || Buffer.byteLength(character) < 2) {
    throw new Error(`${JSON.stringify(character)} is not a multi-byte character of the text`);
  }
  return Buffer.byteLength(text.slice(0, index)) + 1;
}
