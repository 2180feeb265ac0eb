import { randomUUID } from 'node:crypto';
import { type FileHandle, open, unlink } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { ErrorCode, GatewayException } from '@openai-proxy/util-errors';
import { type ReadAbort, payloadTooLarge } from './request-body';

/**
 * A request body of unknown length (`Transfer-Encoding: chunked`) read to its end before the upstream call, so
 * that one over the limit is refused before any upstream contact and the upstream gets a `Content-Length`: kept
 * in memory while small, else in a temporary file that is unlinked as soon as it is opened (nothing is left on
 * disk, whatever happens to the process) and read back once.
 */
export type SpooledBody = { kind: 'memory'; bytes: Buffer } | { kind: 'file'; size: number; stream: Readable };

/**
 * The bytes all the spools of one service hold at once (memory and files), against one cap (`MAX_SPOOL_BYTES`):
 * chunked uploads cannot fill the temp folder (a tmpfs is memory) however many arrive together.
 */
export class SpoolBudget {
  private held = 0;

  constructor(readonly limitBytes: number) {}

  /** The bytes held now. */
  get heldBytes(): number {
    return this.held;
  }

  /** Takes `bytes` more: false (nothing taken) when that would pass the cap. */
  take(bytes: number): boolean {
    if (this.held + bytes > this.limitBytes) {
      return false;
    }
    this.held += bytes;
    return true;
  }

  give(bytes: number): void {
    this.held = Math.max(0, this.held - bytes);
  }
}

/** Where and how much a spool keeps. */
export interface SpoolOptions {
  /** A body larger than this is refused with 413. */
  limitBytes: number;
  /** A body up to this size stays in memory; a larger one goes to a file. */
  memoryBytes: number;
  /** The folder of the temporary files (the process's temp folder: `TMPDIR`, `/tmp` in the images). */
  directory: string;
  /** What every spool of the service holds together. */
  budget: SpoolBudget;
}

/** How many seconds a client whose upload found the spool budget spent is asked to wait. */
const BUSY_RETRY_AFTER_S = 1;

/** The 503 for an upload that would pass the budget while others hold it: it may fit in a moment. */
function spoolBusy(): GatewayException {
  return new GatewayException(
    ErrorCode.ServerBusy,
    'Too many chunked uploads are being received at once; retry shortly (or send the body with a Content-Length)',
    { headers: { 'retry-after': String(BUSY_RETRY_AFTER_S) } },
  );
}

/** The 413 for a chunked body larger than the whole budget: it can never be held, only streamed. */
function tooLargeToHold(budgetBytes: number): GatewayException {
  return new GatewayException(
    ErrorCode.PayloadTooLarge,
    `A request body without a Content-Length is held whole before it is sent on, up to ${budgetBytes} bytes, and this one is larger: send it with a Content-Length`,
  );
}

/** The 500 for a body that could not be written to the temporary file (a full or read-only disk). */
function notStored(error: unknown): GatewayException {
  return new GatewayException(ErrorCode.Internal, 'The request body could not be stored before it was sent on', {
    cause: error,
  });
}

/** Writes all of `bytes` at `position` (a write may take fewer bytes than it was given). */
async function writeAll(file: FileHandle, bytes: Buffer, position: number): Promise<void> {
  let written = 0;
  while (written < bytes.length) {
    const { bytesWritten } = await file.write(bytes, written, bytes.length - written, position + written);
    written += bytesWritten;
  }
}

/** Opens a new private temporary file in `directory` and unlinks it at once: only its handle reaches it. */
async function openUnlinked(directory: string): Promise<FileHandle> {
  const path = join(directory, `openai-proxy-body-${randomUUID()}`);
  const file = await open(path, 'wx+', 0o600);
  try {
    await unlink(path);
  } catch (error) {
    await file.close();
    throw error;
  }
  return file;
}

/**
 * The bytes of one body as they arrive, in memory up to `memoryBytes`, then in an unlinked file; the writes are
 * made one after another, the request paused while one is under way.
 */
class BodySpool {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  private file: FileHandle | undefined;
  private written = 0;
  private writes: Promise<void> = Promise.resolve();
  private discarded = false;
  /** The bytes taken from the budget, given back once (release) when the body is sent or let go. */
  private taken = 0;
  private released = false;

  constructor(
    private readonly options: SpoolOptions,
    private readonly request: IncomingMessage,
    private readonly failed: (error: GatewayException) => void,
  ) {}

  /**
   * Takes one chunk; nothing taken, and the error to answer, when the body grows over the limit (413) or the
   * budget is spent (503, or 413 when the body alone is larger than the whole budget).
   */
  add(chunk: Buffer): GatewayException | undefined {
    this.size += chunk.length;
    if (this.size > this.options.limitBytes) {
      return payloadTooLarge(this.options.limitBytes);
    }
    const { budget } = this.options;
    if (!budget.take(chunk.length)) {
      return this.size > budget.limitBytes ? tooLargeToHold(budget.limitBytes) : spoolBusy();
    }
    this.taken += chunk.length;
    if (this.file === undefined && this.size <= this.options.memoryBytes) {
      this.chunks.push(chunk);
      return undefined;
    }
    this.request.pause();
    this.writes = this.writes
      .then(() => this.store(chunk))
      .then(
        () => {
          this.request.resume();
        },
        (error: unknown) => this.failed(notStored(error)),
      );
    return undefined;
  }

  /**
   * The whole body, once the writes under way are done: a body in memory gives its bytes back to the budget
   * now (it is a small body like any other from here), a file when its stream closes.
   */
  async body(): Promise<SpooledBody> {
    await this.writes;
    const file = this.file;
    if (file === undefined) {
      this.release();
      return { kind: 'memory', bytes: this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks) };
    }
    this.file = undefined;
    const stream = file.createReadStream({ start: 0, autoClose: true });
    stream.once('close', () => this.release());
    return { kind: 'file', size: this.written, stream };
  }

  /**
   * Lets go of the body when it is not sent (refused, the client left, a write failed): a write under way ends
   * first (no later one is made), then the file is closed.
   */
  discard(): void {
    this.discarded = true;
    this.chunks.length = 0;
    this.writes = this.writes
      .then(() => this.closeFile())
      .catch(() => undefined)
      .finally(() => this.release());
  }

  private release(): void {
    if (!this.released) {
      this.released = true;
      this.options.budget.give(this.taken);
    }
  }

  private async closeFile(): Promise<void> {
    const file = this.file;
    this.file = undefined;
    await file?.close();
  }

  private async store(chunk: Buffer): Promise<void> {
    if (this.discarded) {
      return;
    }
    if (this.file === undefined) {
      this.file = await openUnlinked(this.options.directory);
      const held = Buffer.concat(this.chunks);
      this.chunks.length = 0;
      await writeAll(this.file, held, 0);
      this.written = held.length;
    }
    await writeAll(this.file, chunk, this.written);
    this.written += chunk.length;
  }
}

/**
 * Reads the body of `request` (one of unknown length) to its end, as a SpooledBody; undefined when the request
 * closes before its end (the client left, or its upload stalled past the idle budget) or `abort` fires first.
 * Rejects with 413 as soon as the body grows over `options.limitBytes` (the rest is left unread, for the error
 * answer to drop), with 503 (or 413) when the service's spool budget cannot take it, with 500 when it could not
 * be stored.
 */
export function spoolRequestBody(
  request: IncomingMessage,
  options: SpoolOptions,
  abort: ReadAbort,
): Promise<SpooledBody | undefined> {
  if (request.destroyed || abort.aborted) {
    return Promise.resolve(undefined);
  }
  return new Promise((resolve, reject) => {
    let settled = false;
    const stop = (): boolean => {
      if (settled) {
        return false;
      }
      settled = true;
      request.off('data', onData);
      request.off('end', onEnd);
      request.off('close', onGone);
      request.off('error', onGone);
      abort.off('abort', onGone);
      return true;
    };
    const fail = (error: GatewayException): void => {
      if (stop()) {
        spool.discard();
        reject(error);
      }
    };
    const spool = new BodySpool(options, request, fail);
    const onData = (chunk: Buffer): void => {
      const refused = spool.add(chunk);
      if (refused !== undefined) {
        fail(refused);
      }
    };
    const onEnd = (): void => {
      // The request closes once its body has ended: from here only the exchange's abort stops the spool.
      request.off('close', onGone);
      request.off('error', onGone);
      spool.body().then(
        (body) => {
          if (stop()) {
            resolve(body);
          } else if (body.kind === 'file') {
            body.stream.destroy();
          }
        },
        (error: unknown) => fail(notStored(error)),
      );
    };
    const onGone = (): void => {
      if (stop()) {
        spool.discard();
        resolve(undefined);
      }
    };
    request.on('data', onData);
    request.once('end', onEnd);
    request.once('close', onGone);
    request.once('error', onGone);
    abort.once('abort', onGone);
  });
}
