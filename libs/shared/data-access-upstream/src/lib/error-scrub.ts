import type { Readable } from 'node:stream';
import { brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib';
import { ErrorCode, GatewayException } from '@openai-proxy/util-errors';
import { readAnswerBytes } from './answer-text';

/** The largest error answer read whole to take credentials out of it, before and after decoding. */
export const MAX_SCRUBBED_ERROR_BYTES = 1024 * 1024;
/** What stands in a scrubbed body where a credential was. */
export const SCRUBBED = '[REDACTED]';

function unreadable(why: string): GatewayException {
  return new GatewayException(
    ErrorCode.UpstreamBadResponse,
    `The provider's error answer could not be checked: ${why}`,
  );
}

/** A body decoded from its one content-encoding (identity, gzip, deflate, br); anything else is a 502. */
function decoded(body: Buffer, encoding: string | undefined): Buffer {
  const limits = { maxOutputLength: MAX_SCRUBBED_ERROR_BYTES };
  try {
    switch ((encoding ?? 'identity').trim().toLowerCase()) {
      case 'identity':
      case '':
        return body;
      case 'gzip':
      case 'x-gzip':
        return gunzipSync(body, limits);
      case 'deflate':
        return inflateSync(body, limits);
      case 'br':
        return brotliDecompressSync(body, limits);
      default:
        throw unreadable('its encoding is not one the gateway reads');
    }
  } catch (error) {
    throw error instanceof GatewayException ? error : unreadable('its encoding does not decode');
  }
}

/**
 * An error answer's body, as read whole, with every one of `secrets` (the credentials the gateway attached)
 * replaced by SCRUBBED, decoded (the caller sends it without a content-encoding). Bytes are kept as they came
 * otherwise: the replacement works on latin1 text, in which every byte is one character.
 */
export function scrubbedErrorBytes(body: Buffer, encoding: string | undefined, secrets: readonly string[]): Buffer {
  if (body.length > MAX_SCRUBBED_ERROR_BYTES) {
    throw unreadable('it is too large');
  }
  let text = decoded(body, encoding).toString('latin1');
  for (const secret of secrets) {
    if (secret !== '') {
      text = text.split(secret).join(SCRUBBED);
    }
  }
  return Buffer.from(text, 'latin1');
}

/** scrubbedErrorBytes of an upstream body read whole (bounded: past the limit it is destroyed, a 502). */
export async function scrubbedErrorBody(
  body: Readable,
  encoding: string | undefined,
  secrets: readonly string[],
): Promise<Buffer> {
  return scrubbedErrorBytes(await readAnswerBytes(body, MAX_SCRUBBED_ERROR_BYTES), encoding, secrets);
}
