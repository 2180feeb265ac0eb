import { createHash, randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { mkdtempSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { type IncomingMessage, type Server, createServer, request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import fc from 'fast-check';
import { closeServer, listenOnLoopback } from '@openai-proxy/testing-fakes';
import { ErrorCode, GatewayException } from '@openai-proxy/util-errors';
import { SpoolBudget, type SpoolOptions, type SpooledBody, spoolRequestBody } from './request-spool';

/** What the test server made of one request's body. */
type Outcome =
  | { kind: 'memory' | 'file'; size: number; sha256: string; filesInFolder: number }
  | { kind: 'gone' }
  /** The body went to the test (takeNextBody) instead. */
  | { kind: 'taken' }
  | { kind: 'refused'; code: string; status: number; message: string; retryAfter?: string };

const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) {
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** Open descriptors of this process that point into `folder` (an unlinked spool file shows as `… (deleted)`). */
function descriptorsInto(folder: string): number {
  let count = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(join('/proc/self/fd', fd)).startsWith(folder)) {
        count += 1;
      }
    } catch {
      // The descriptor closed while the folder was listed.
    }
  }
  return count;
}

/** Waits (bounded) until `check` holds; fails the test with `what` when it never does. */
async function eventually(check: () => boolean, what: string): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt += 1) {
    if (check()) {
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`never: ${what}`);
}

type TestAbort = EventEmitter & { aborted: boolean };

/** An abort that fires only when a test says so (an exchange whose client stays until then). */
function newAbort(): TestAbort {
  return Object.assign(new EventEmitter(), { aborted: false });
}

let folder: string;
let server: Server;
let base: string;
let options: SpoolOptions;
let abort: TestAbort;
/** Set by a test that wants the next body itself, unread. */
let takeNextBody: ((body: SpooledBody | undefined) => void) | undefined;
const outcomes: Outcome[] = [];

async function describeBody(body: SpooledBody): Promise<Outcome> {
  const filesInFolder = readdirSync(folder).length;
  const bytes = body.kind === 'memory' ? body.bytes : await readAll(body.stream);
  const size = body.kind === 'memory' ? body.bytes.length : body.size;
  return { kind: body.kind, size, sha256: sha256(bytes), filesInFolder };
}

async function serve(request: IncomingMessage): Promise<Outcome> {
  try {
    const body = await spoolRequestBody(request, options, abort);
    const take = takeNextBody;
    takeNextBody = undefined;
    if (take !== undefined) {
      take(body);
      return { kind: 'taken' };
    }
    return body === undefined ? { kind: 'gone' } : await describeBody(body);
  } catch (error) {
    if (!(error instanceof GatewayException)) {
      throw error;
    }
    request.resume();
    const retryAfter = error.headers['retry-after'];
    return {
      kind: 'refused',
      code: error.code,
      status: error.status,
      message: error.message,
      ...(retryAfter === undefined ? {} : { retryAfter: String(retryAfter) }),
    };
  }
}

beforeAll(async () => {
  folder = mkdtempSync(join(tmpdir(), 'spool-spec-'));
  server = createServer((request, response) => {
    serve(request).then(
      (outcome) => {
        outcomes.push(outcome);
        response.setHeader('connection', 'close');
        response.end(JSON.stringify(outcome));
      },
      (error: unknown) => {
        // Not a GatewayException: the spool threw what it never should; the client sees it and the test fails.
        response.statusCode = 599;
        response.end(String(error));
      },
    );
  });
  base = (await listenOnLoopback(server)).url;
});

afterAll(async () => {
  await closeServer(server);
  rmSync(folder, { recursive: true, force: true });
});

const BUDGET_BYTES = 4 * 1024 * 1024;

beforeEach(() => {
  options = {
    limitBytes: 1024 * 1024,
    memoryBytes: 64 * 1024,
    directory: folder,
    budget: new SpoolBudget(BUDGET_BYTES),
  };
  abort = newAbort();
});

afterEach(async () => {
  // Whatever became of the body, its bytes went back to the budget.
  await eventually(() => options.budget.heldBytes === 0, 'the budget was given back');
});

/** Sends `chunks` as a chunked body (no Content-Length) and resolves with the server's outcome. */
function sendChunked(chunks: readonly Buffer[]): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const headers = { 'transfer-encoding': 'chunked' };
    const client = httpRequest(`${base}/upload`, { method: 'POST', agent: false, headers }, (response) => {
      void readAll(response).then((text) => {
        expect(response.statusCode).toBe(200);
        resolve(JSON.parse(text.toString('utf8')) as Outcome);
      }, reject);
    });
    client.once('error', reject);
    for (const chunk of chunks) {
      client.write(chunk);
    }
    client.end();
  });
}

/** `size` random bytes in pieces of `piece` bytes. */
function pieces(size: number, piece: number): { whole: Buffer; chunks: Buffer[] } {
  const whole = randomBytes(size);
  const chunks: Buffer[] = [];
  for (let start = 0; start < size; start += piece) {
    chunks.push(whole.subarray(start, start + piece));
  }
  return { whole, chunks };
}

/** The outcome of a body held whole (`kind`) and given back as `bytes`, its temp file already unlinked. */
function held(kind: 'memory' | 'file', bytes: Buffer): Outcome {
  return { kind, size: bytes.length, sha256: sha256(bytes), filesInFolder: 0 };
}

describe('spoolRequestBody', () => {
  it('should keep a small chunked body in memory, byte for byte', async () => {
    const { whole, chunks } = pieces(10_000, 1_000);
    await expect(sendChunked(chunks)).resolves.toEqual(held('memory', whole));
  });

  it('should keep an empty chunked body as an empty one', async () => {
    await expect(sendChunked([])).resolves.toEqual(held('memory', Buffer.alloc(0)));
  });

  it('should spool a larger body to an unlinked file that is read back whole and then closed', async () => {
    const { whole, chunks } = pieces(900_000, 16_384);
    await expect(sendChunked(chunks)).resolves.toEqual(held('file', whole));
    await eventually(() => descriptorsInto(folder) === 0, 'the spool file was closed');
  });

  it('should refuse a body that grows over the limit with 413, leaving no file open', async () => {
    const { chunks } = pieces(1024 * 1024 + 1, 32 * 1024);
    await expect(sendChunked(chunks)).resolves.toMatchObject({
      kind: 'refused',
      code: ErrorCode.PayloadTooLarge,
      status: 413,
    });
    await eventually(() => descriptorsInto(folder) === 0, 'the spool file was closed');
    expect(readdirSync(folder)).toEqual([]);
  });

  it('should answer 500 when the body cannot be stored, with nothing of the path in the message', async () => {
    options = { ...options, directory: join(folder, 'missing') };
    const { chunks } = pieces(200_000, 50_000);
    const outcome = await sendChunked(chunks);
    expect(outcome).toMatchObject({ kind: 'refused', code: ErrorCode.Internal, status: 500 });
    expect(JSON.stringify(outcome)).not.toContain(folder);
  });

  it('should answer 503 with Retry-After while other uploads hold the budget, and take the body once they let go', async () => {
    const holder = options.budget;
    expect(holder.take(BUDGET_BYTES - 100_000)).toBe(true);
    const { whole, chunks } = pieces(200_000, 50_000);
    await expect(sendChunked(chunks)).resolves.toMatchObject({
      kind: 'refused',
      code: ErrorCode.ServerBusy,
      status: 503,
      retryAfter: '1',
    });
    holder.give(BUDGET_BYTES - 100_000);
    await expect(sendChunked(chunks)).resolves.toEqual(held('file', whole));
  });

  it('should refuse with 413 a body larger than the whole budget, which could never be held', async () => {
    options = { ...options, limitBytes: 8 * 1024 * 1024, budget: new SpoolBudget(300_000) };
    const { chunks } = pieces(400_000, 50_000);
    const outcome = await sendChunked(chunks);
    expect(outcome).toMatchObject({ kind: 'refused', code: ErrorCode.PayloadTooLarge, status: 413 });
    expect(JSON.stringify(outcome)).toContain('Content-Length');
  });

  it('should hold the bytes of a file body against the budget until its stream closes', async () => {
    const seen = new Promise<SpooledBody | undefined>((resolve) => {
      takeNextBody = resolve;
    });
    await expect(sendChunked(pieces(150_000, 50_000).chunks)).resolves.toEqual({ kind: 'taken' });
    const body = await seen;
    expect(body?.kind).toBe('file');
    expect(options.budget.heldBytes).toBe(150_000);
    if (body?.kind === 'file') {
      body.stream.destroy();
    }
    await eventually(() => options.budget.heldBytes === 0, 'the budget was given back');
  });

  it('should resolve as gone, and close its file, when the client leaves halfway', async () => {
    const before = outcomes.length;
    const client = httpRequest(`${base}/upload`, { method: 'POST', agent: false });
    client.once('error', () => undefined);
    client.write(randomBytes(300_000));
    await eventually(() => descriptorsInto(folder) === 1, 'the spool file was opened');
    client.destroy();
    await eventually(() => outcomes.length === before + 1, 'the server saw the request end');
    expect(outcomes[before]).toEqual({ kind: 'gone' });
    await eventually(() => descriptorsInto(folder) === 0, 'the spool file was closed');
  });

  it('should resolve as gone when the exchange is aborted before the body ends', async () => {
    const before = outcomes.length;
    const client = httpRequest(`${base}/upload`, { method: 'POST', agent: false });
    client.once('error', () => undefined);
    client.write(randomBytes(200_000));
    await eventually(() => descriptorsInto(folder) === 1, 'the spool file was opened');
    abort.aborted = true;
    abort.emit('abort');
    await eventually(() => outcomes.length === before + 1, 'the spool ended');
    expect(outcomes[before]).toEqual({ kind: 'gone' });
    client.destroy();
    await eventually(() => descriptorsInto(folder) === 0, 'the spool file was closed');
  });

  it('should give back exactly the bytes sent, in memory or in a file, however they were split', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: 40_000 }), { maxLength: 8 }),
        fc.integer({ min: 0, max: 100_000 }),
        async (sizes, memoryBytes) => {
          options = { ...options, memoryBytes };
          const chunks = sizes.map((size) => randomBytes(size));
          const whole = Buffer.concat(chunks);
          const outcome = await sendChunked(chunks);
          expect(outcome).toEqual(held(whole.length > memoryBytes ? 'file' : 'memory', whole));
        },
      ),
      { numRuns: 40 },
    );
    await eventually(() => descriptorsInto(folder) === 0, 'every spool file was closed');
  });
});
