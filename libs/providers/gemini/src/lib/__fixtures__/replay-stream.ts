import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SseDecoder, type StreamItem } from '@openai-proxy/util-sse';
import { GeminiStreamTransformer } from '../stream.transform';

/** A golden fixture's text (this folder). */
export const fixture = (name: string): string => readFileSync(join(__dirname, name), 'utf8');
/** A golden fixture read as JSON. */
export const fixtureJson = <T>(name: string): T => JSON.parse(fixture(name)) as T;

/**
 * A Gemini stream fixture through the decoder and a fresh transformer, in one piece or cut in two at `cut`:
 * the chunks (and the error item, if there is one) the client would get.
 */
export function replayGeminiStream(bytes: Buffer, cut: number | undefined, id: string): unknown[] {
  const decoder = new SseDecoder();
  const transformer = new GeminiStreamTransformer({
    id,
    createdSeconds: 1_700_000_000,
    model: 'requested',
    includeUsage: true,
    candidates: 1,
  });
  const items: StreamItem[] = [];
  for (const piece of cut === undefined ? [bytes] : [bytes.subarray(0, cut), bytes.subarray(cut)]) {
    for (const event of decoder.push(piece)) items.push(...transformer.transform(event));
  }
  for (const event of decoder.end()) items.push(...transformer.transform(event));
  items.push(...transformer.flush());
  return items.map((item) => (item.kind === 'chunk' ? item.chunk : item));
}
