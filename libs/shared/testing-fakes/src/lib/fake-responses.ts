import type { ServerResponse } from 'node:http';
import type { FakeHandler } from './fake-upstream';

/** Upper bound on any scripted delay, so no fake can hold a test forever. */
const MAX_SCRIPT_MS = 30_000;

function sleep(milliseconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.min(milliseconds, MAX_SCRIPT_MS)));
}

function gone(response: ServerResponse): boolean {
  return response.destroyed || response.writableEnded;
}

export function json(status: number, body: unknown, headers: Record<string, string> = {}): FakeHandler {
  return (_request, response) => {
    response.writeHead(status, { 'content-type': 'application/json', ...headers });
    response.end(JSON.stringify(body));
  };
}

export function text(status: number, body: string, headers: Record<string, string> = {}): FakeHandler {
  return (_request, response) => {
    response.writeHead(status, { 'content-type': 'text/plain', ...headers });
    response.end(body);
  };
}

/** An OpenAI-style error envelope with the given status. */
export function openAiError(
  status: number,
  message: string,
  type: string,
  headers: Record<string, string> = {},
): FakeHandler {
  return json(status, { error: { message, type, param: null, code: null } }, headers);
}

export interface SseScript {
  /** Frames as raw text (`data: …\n\n`); written in order. */
  frames: readonly string[];
  /** Wait before each frame after the first. */
  intervalMs?: number;
  /** Wait before the response headers. */
  headersDelayMs?: number;
  /** Write each frame in pieces of this many bytes (splits lines and UTF-8 characters). */
  splitBytes?: number;
  /** Destroy the socket after this many frames (no terminator, no clean end). */
  resetAfter?: number;
  /** Stop writing after this many frames and keep the connection open until the client leaves. */
  stallAfter?: number;
  headers?: Record<string, string>;
}

/** Resolves once the bytes were handed to the socket, so a following reset cannot swallow them. */
function writeAndWait(response: ServerResponse, bytes: Buffer): Promise<void> {
  return new Promise((resolve) => {
    response.write(bytes, () => resolve());
  });
}

async function writeFrame(response: ServerResponse, frame: string, splitBytes: number | undefined): Promise<void> {
  const bytes = Buffer.from(frame, 'utf8');
  const size = splitBytes === undefined || splitBytes <= 0 ? bytes.length : splitBytes;
  for (let offset = 0; offset < bytes.length && !gone(response); offset += size) {
    await writeAndWait(response, bytes.subarray(offset, offset + size));
  }
}

/** An event stream that can be slow, split, reset or stalled on request. */
export function sse(script: SseScript): FakeHandler {
  return async (_request, response) => {
    if (script.headersDelayMs !== undefined) {
      await sleep(script.headersDelayMs);
    }
    response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', ...script.headers });
    response.flushHeaders();
    for (const [index, frame] of script.frames.entries()) {
      if (gone(response)) {
        return;
      }
      if (script.resetAfter === index) {
        response.socket?.destroy();
        return;
      }
      if (script.stallAfter === index) {
        await new Promise<void>((resolve) => response.once('close', () => resolve()));
        return;
      }
      if (index > 0 && script.intervalMs !== undefined) {
        await sleep(script.intervalMs);
      }
      await writeFrame(response, frame, script.splitBytes);
    }
    if (script.resetAfter !== undefined && script.resetAfter >= script.frames.length) {
      response.socket?.destroy();
      return;
    }
    response.end();
  };
}

/** Closes the connection without any answer. */
export function reset(): FakeHandler {
  return (_request, response) => {
    response.socket?.destroy();
  };
}

/** Never answers; the connection stays open until the client leaves (or the fake closes). */
export function stall(): FakeHandler {
  return (_request, response) => new Promise<void>((resolve) => response.once('close', () => resolve()));
}

/** Runs another handler after a delay. */
export function delayed(milliseconds: number, handler: FakeHandler): FakeHandler {
  return async (request, response) => {
    await sleep(milliseconds);
    if (!gone(response)) {
      await handler(request, response);
    }
  };
}
