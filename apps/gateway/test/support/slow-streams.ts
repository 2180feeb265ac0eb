import { type ServerResponse, request } from 'node:http';
import type { FakeHandler } from '@openai-proxy/testing-fakes';
import { SSE_DONE_FRAME, encodeSseData } from '@openai-proxy/util-sse';

/** The usage a slow fake stream reports in its last chunk. */
export const SLOW_STREAM_USAGE = { prompt_tokens: 7, completion_tokens: 20, total_tokens: 27 };

/** One streamed chat chunk carrying `content`. */
export function chatChunkFrame(content: string): string {
  return encodeSseData({
    id: 'chatcmpl-slow',
    object: 'chat.completion.chunk',
    created: 1,
    model: 'gpt-4o-mini',
    choices: [{ index: 0, delta: { content }, finish_reason: null }],
  });
}

/** The usage chunk OpenAI sends last when asked for it (`stream_options.include_usage`). */
export const USAGE_FRAME = encodeSseData({
  id: 'chatcmpl-slow',
  object: 'chat.completion.chunk',
  created: 1,
  model: 'gpt-4o-mini',
  choices: [],
  usage: SLOW_STREAM_USAGE,
});

/** A whole chat stream: `count` content chunks (`w0 `, `w1 `, …), the usage chunk, then `data: [DONE]`. */
export function chatStreamFrames(count: number): string[] {
  return [...Array.from({ length: count }, (_, index) => chatChunkFrame(`w${index} `)), USAGE_FRAME, SSE_DONE_FRAME];
}

/** The request body of a streamed chat completion that asks for the usage chunk. */
export const STREAMED_CHAT_BODY = JSON.stringify({
  model: 'gpt-4o-mini',
  stream: true,
  stream_options: { include_usage: true },
  messages: [{ role: 'user', content: 'hi' }],
});

/** Resolves after `milliseconds`, or as soon as the response closed (the client left): no timer outlives it. */
function quietFor(response: ServerResponse, milliseconds: number): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      response.off('close', done);
      resolve();
    };
    const timer = setTimeout(done, milliseconds);
    response.once('close', done);
  });
}

/**
 * An event stream that writes `before` at once, stays silent for `quietMs` (not a byte), then writes `after` and
 * ends: a model thinking in the middle of its answer.
 */
export function quietStream(before: readonly string[], quietMs: number, after: readonly string[]): FakeHandler {
  return async (_request, response) => {
    response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    response.write(before.join(''));
    await quietFor(response, quietMs);
    if (!response.destroyed) {
      response.end(after.join(''));
    }
  };
}

/** What a client read from one streamed answer: the status, every byte as text, and how the reading ended. */
export interface StreamRead {
  status: number;
  text: string;
  /** When the body ended or failed (`performance.now()`). */
  endedAt: number;
  /** Why reading failed (the connection was cut), or undefined when the body ended cleanly. */
  failure: string | undefined;
}

/** The key a client stream sends as its bearer token unless told otherwise. */
const CLIENT_API_KEY = 'sk-test-0123456789';

/**
 * One streamed request (a POST of `body` with `apiKey` as bearer token) read to its end by a client on a
 * connection of its own, bounded by `withinMs`. `firstBytes` resolves once the first body bytes arrived (rejects
 * when the answer ended or failed before any).
 */
export class ClientStream {
  readonly read: Promise<StreamRead>;
  readonly firstBytes: Promise<void>;
  private firstBytesArrived: () => void = () => undefined;
  private noBytes: (error: Error) => void = () => undefined;

  constructor(url: string, body: string, withinMs: number, apiKey = CLIENT_API_KEY) {
    this.firstBytes = new Promise<void>((resolve, reject) => {
      this.firstBytesArrived = resolve;
      this.noBytes = reject;
    });
    // Only a test that waits for the first bytes cares that none came; the others read `read`.
    this.firstBytes.catch(() => undefined);
    this.read = this.readAll(url, body, withinMs, apiKey);
  }

  /** `count` streams of the same request, opened at once. */
  static openMany(count: number, url: string, body: string, withinMs: number): ClientStream[] {
    return Array.from({ length: count }, () => new ClientStream(url, body, withinMs));
  }

  private readAll(url: string, body: string, withinMs: number, apiKey: string): Promise<StreamRead> {
    return new Promise((resolve) => {
      let status = 0;
      let text = '';
      let ended = false;
      const finish = (failure: string | undefined): void => {
        if (ended) {
          return;
        }
        ended = true;
        clearTimeout(deadline);
        this.noBytes(new Error(`the stream ended before its first bytes (status ${status})`));
        resolve({ status, text, endedAt: performance.now(), failure });
      };
      // A connection of its own, closed after the answer: no idle connection is left in a pool.
      const outgoing = request(
        url,
        {
          method: 'POST',
          agent: false,
          headers: {
            'content-type': 'application/json',
            'content-length': String(Buffer.byteLength(body)),
            authorization: `Bearer ${apiKey}`,
          },
        },
        (response) => {
          status = response.statusCode ?? 0;
          response.setEncoding('utf8');
          response.on('data', (piece: string) => {
            text += piece;
            this.firstBytesArrived();
          });
          response.on('error', () => undefined);
          response.once('close', () =>
            finish(response.complete ? undefined : 'the connection closed before the answer ended'),
          );
        },
      );
      outgoing.once('error', (error) => finish(String(error)));
      const deadline = setTimeout(() => outgoing.destroy(new Error(`no end after ${withinMs} ms`)), withinMs);
      outgoing.end(body);
    });
  }
}
