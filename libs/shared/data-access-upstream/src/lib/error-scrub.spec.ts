import { Readable } from 'node:stream';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { ErrorCode, GatewayException } from '@openai-proxy/util-errors';
import { MAX_SCRUBBED_ERROR_BYTES, SCRUBBED, scrubbedErrorBody } from './error-scrub';

const KEY = 'sk-held-0123456789abcdef';

function scrub(body: Buffer, encoding: string | undefined, secrets: readonly string[] = [KEY]): Promise<Buffer> {
  return scrubbedErrorBody(Readable.from([body]), encoding, secrets);
}

async function failureOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (error: unknown) => error,
  );
}

describe(scrubbedErrorBody.name, () => {
  it.each([
    ['identity', (text: string) => Buffer.from(text)],
    ['gzip', (text: string) => gzipSync(text)],
    ['deflate', (text: string) => deflateSync(text)],
    ['br', (text: string) => brotliCompressSync(text)],
  ])('should decode a %s body and take every quote of the key out of it', async (encoding, encode) => {
    const text = `{"error":{"message":"key ${KEY} refused (${KEY})"}}`;
    const scrubbed = await scrub(encode(text), encoding === 'identity' ? undefined : encoding);
    expect(scrubbed.toString()).toBe(`{"error":{"message":"key ${SCRUBBED} refused (${SCRUBBED})"}}`);
  });

  it('should keep any bytes that hold no key as they came, and leave no key in any that do', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 256 }), fc.uint8Array({ maxLength: 64 }), async (before, after) => {
        const plain = Buffer.from(before);
        if (!plain.includes(KEY)) {
          expect((await scrub(plain, undefined)).equals(plain)).toBe(true);
        }
        const quoted = Buffer.concat([plain, Buffer.from(KEY), Buffer.from(after)]);
        expect((await scrub(quoted, undefined)).includes(KEY)).toBe(false);
      }),
      { numRuns: 200 },
    );
  });

  it.each([
    ['an encoding it does not read', Buffer.from('x'), 'zstd'],
    ['a gzip body that does not decode', Buffer.from('not gzip'), 'gzip'],
    ['two encodings', gzipSync(brotliCompressSync('x')), 'br, gzip'],
    ['a body above the limit', Buffer.alloc(MAX_SCRUBBED_ERROR_BYTES + 1), undefined],
    ['a body that decodes above the limit', gzipSync(Buffer.alloc(MAX_SCRUBBED_ERROR_BYTES + 1)), 'gzip'],
  ])('should refuse %s with a 502, never passing it on unchecked', async (_what, body, encoding) => {
    const failure = await failureOf(scrub(body, encoding));
    expect(failure).toBeInstanceOf(GatewayException);
    expect((failure as GatewayException).code).toBe(ErrorCode.UpstreamBadResponse);
  });
});
