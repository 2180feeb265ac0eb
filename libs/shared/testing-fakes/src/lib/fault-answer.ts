import type { ServerResponse } from 'node:http';
import { constants, createGzip } from 'node:zlib';
import type { AnswerCut, AnswerPlan, FaultPlan } from './fault-plans';

/** What a fault upstream learns while one plan answers, so it can record it. */
export interface AnswerProgress {
  /** Aborted when the answer must stop: the client went away or the fake is closing. Clears every wait. */
  signal: AbortSignal;
  headersSent(): void;
  wrote(bytes: number): void;
}

/** Upper bound on any scripted wait, so no plan can hold a test forever. */
const MAX_WAIT_MS = 30_000;

/**
 * How long a reset waits after the last write: bytes and a RST that arrive together read as a clean end on
 * Linux (the receiver drains the data and sees a hang-up), so the client must have read the bytes first.
 */
const RESET_AFTER_DATA_MS = 20;

/** Resolves true after `milliseconds`, or false as soon as the signal aborts (the timer is then cleared). */
function sleep(milliseconds: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal.aborted) {
      resolve(false);
      return;
    }
    const settle = (elapsed: boolean): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      resolve(elapsed);
    };
    const onAbort = (): void => settle(false);
    const timer = setTimeout(() => settle(true), Math.min(milliseconds, MAX_WAIT_MS));
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

function untilAborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) {
      resolve();
      return;
    }
    signal.addEventListener('abort', () => resolve(), { once: true });
  });
}

/** Resolves true once the bytes were handed to the socket, false when the answer stopped first. */
function write(response: ServerResponse, bytes: Buffer, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal.aborted || response.destroyed) {
      resolve(false);
      return;
    }
    const onAbort = (): void => resolve(false);
    signal.addEventListener('abort', onAbort, { once: true });
    response.write(bytes, (error) => {
      signal.removeEventListener('abort', onAbort);
      resolve(!(error instanceof Error));
    });
  });
}

/** Each piece gzip-encoded and flushed (so it decodes on its own); the gzip trailer goes with the last piece. */
async function gzipPieces(pieces: readonly Buffer[]): Promise<Buffer[]> {
  const gzip = createGzip();
  let pending: Buffer[] = [];
  gzip.on('data', (chunk: Buffer) => pending.push(chunk));
  const encoded: Buffer[] = [];
  for (const piece of pieces) {
    gzip.write(piece);
    await new Promise<void>((resolve) => gzip.flush(constants.Z_SYNC_FLUSH, () => resolve()));
    encoded.push(Buffer.concat(pending));
    pending = [];
  }
  const ended = new Promise<void>((resolve) => gzip.once('end', () => resolve()));
  gzip.end();
  await ended;
  const trailer = Buffer.concat(pending);
  const last = encoded.pop() ?? Buffer.alloc(0);
  return [...encoded, Buffer.concat([last, trailer])];
}

/** The bytes cut at the given offsets (those strictly inside them, in order). */
function splitBytes(bytes: Buffer, offsets: readonly number[]): Buffer[] {
  const inside = [...new Set(offsets)].filter((offset) => offset > 0 && offset < bytes.length).sort((a, b) => a - b);
  const bounds = [0, ...inside, bytes.length];
  return bounds.slice(1).map((end, index) => bytes.subarray(bounds[index], end));
}

/** The writes an answer plan sends, in order: its pieces (maybe gzip-encoded), maybe cut at byte offsets. */
async function writesOf(plan: AnswerPlan): Promise<Buffer[]> {
  const pieces = plan.body.map((piece) =>
    typeof piece === 'string' ? Buffer.from(piece, 'utf8') : Buffer.from(piece),
  );
  const encoded = plan.gzip === true ? await gzipPieces(pieces) : pieces;
  return plan.splitAt === undefined ? encoded : splitBytes(Buffer.concat(encoded), plan.splitAt);
}

function headersOf(plan: AnswerPlan, bodyBytes: number): Record<string, string> {
  const headers: Record<string, string> = { ...plan.headers };
  if (plan.gzip === true) {
    headers['content-encoding'] = 'gzip';
  }
  if (plan.contentLength !== undefined) {
    const declared = plan.contentLength === 'exact' ? bodyBytes : plan.contentLength;
    headers['content-length'] = String(declared);
    if (declared !== bodyBytes) {
      headers.connection = 'close';
    }
  }
  return headers;
}

async function applyCut(cut: AnswerCut, response: ServerResponse, signal: AbortSignal): Promise<void> {
  switch (cut.how) {
    case 'stall':
      await untilAborted(signal);
      return;
    case 'close':
      response.end();
      return;
    case 'reset':
      // The timer, then a turn of the loop: a client in this process has read the bytes once its poll ran.
      if (await sleep(RESET_AFTER_DATA_MS, signal)) {
        await new Promise((resolve) => setImmediate(resolve));
        response.socket?.resetAndDestroy();
      }
      return;
  }
}

async function answer(plan: AnswerPlan, response: ServerResponse, progress: AnswerProgress): Promise<void> {
  const { signal } = progress;
  const writes = await writesOf(plan);
  if (plan.headersAfterMs !== undefined && !(await sleep(plan.headersAfterMs, signal))) {
    return;
  }
  const bodyBytes = writes.reduce((sum, piece) => sum + piece.length, 0);
  response.writeHead(plan.status, headersOf(plan, bodyBytes));
  response.flushHeaders();
  progress.headersSent();
  for (const [index, piece] of writes.entries()) {
    if (plan.cut?.afterWrites === index) {
      await applyCut(plan.cut, response, signal);
      return;
    }
    if (index > 0 && plan.gapMs !== undefined && !(await sleep(plan.gapMs, signal))) {
      return;
    }
    if (!(await write(response, piece, signal))) {
      return;
    }
    progress.wrote(piece.length);
  }
  if (plan.cut !== undefined) {
    await applyCut(plan.cut, response, signal);
    return;
  }
  response.end();
}

/** Carries out one plan on a response; resolves when the plan is done or stopped (it never throws for a fault). */
export async function carryOut(plan: FaultPlan, response: ServerResponse, progress: AnswerProgress): Promise<void> {
  switch (plan.kind) {
    case 'answer':
      await answer(plan, response, progress);
      return;
    case 'stall-headers':
      await untilAborted(progress.signal);
      return;
    case 'hang-up':
      if (plan.how === 'reset') {
        response.socket?.resetAndDestroy();
      } else {
        response.socket?.destroy();
      }
      return;
  }
}
