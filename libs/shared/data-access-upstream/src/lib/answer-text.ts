import type { Readable } from 'node:stream';
import { ErrorCode, GatewayException } from '@openai-proxy/util-errors';

/** Largest upstream answer read whole (non-streamed completions, model lists, control-plane pages). */
export const MAX_ANSWER_BYTES = 64 * 1024 * 1024;

/** Reads an upstream body whole as UTF-8; past `limitBytes` it is destroyed and a 502 is thrown. */
export async function readAnswerText(body: Readable, limitBytes = MAX_ANSWER_BYTES): Promise<string> {
  return (await readAnswerBytes(body, limitBytes)).toString('utf8');
}

/** Reads an upstream body whole; past `limitBytes` it is destroyed and a 502 is thrown. */
export async function readAnswerBytes(body: Readable, limitBytes = MAX_ANSWER_BYTES): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limitBytes) {
      body.destroy();
      throw new GatewayException(ErrorCode.UpstreamBadResponse, 'Provider answer is too large');
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
