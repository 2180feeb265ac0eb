// Raw HTTP answers read for the OpenAI shape checks: nothing parsed by an SDK, so the bytes a client gets are what
// is checked against OpenAI's own OpenAPI description.
import assert from 'node:assert/strict';
import { type OpenAiShapeName, validateOpenAiShape } from './openapi-shapes';

const REQUEST_TIMEOUT_MS = 10_000;
/** No answer of the fakes comes near this many SSE frames; more means a runaway stream. */
const MAX_FRAMES = 200;

export interface RawAnswer {
  status: number;
  contentType: string;
  text: string;
}

/** One raw HTTP exchange: status, content type and the body as text, nothing parsed (bounded: 10 s). */
export async function rawCall(
  baseUrl: string,
  method: 'GET' | 'POST',
  path: string,
  options: { body?: unknown; authorization?: string } = {},
): Promise<RawAnswer> {
  const headers: Record<string, string> = {};
  if (options.authorization !== undefined) {
    headers['authorization'] = options.authorization;
  }
  if (options.body !== undefined) {
    headers['content-type'] = 'application/json';
  }
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  return {
    status: response.status,
    contentType: response.headers.get('content-type') ?? '',
    text: await response.text(),
  };
}

/** The JSON body of an answer, which must say it is JSON. */
export function answerJson(answer: RawAnswer): unknown {
  assert.ok(answer.contentType.includes('application/json'), `content type ${answer.contentType} is not JSON`);
  return JSON.parse(answer.text) as unknown;
}

/** The `data:` payloads of an SSE body, in order (`[DONE]` included as it is). */
export function sseDataFrames(text: string): string[] {
  const frames = text
    .split(/\r?\n/)
    .filter((line) => line.startsWith('data:'))
    .map((line) => line.slice('data:'.length).trim());
  assert.ok(frames.length <= MAX_FRAMES, `${frames.length} frames: a runaway stream`);
  return frames;
}

/** The JSON chunks of a complete stream: it must end with exactly one `[DONE]`, after every chunk. */
export function streamedChunks(text: string): unknown[] {
  const frames = sseDataFrames(text);
  assert.equal(frames.at(-1), '[DONE]');
  assert.equal(frames.filter((frame) => frame === '[DONE]').length, 1);
  return frames.slice(0, -1).map((frame) => JSON.parse(frame) as unknown);
}

/** Validation errors per chunk, only for the chunks that have any (so a clean stream gives []). */
export function chunkViolations(
  schemaName: OpenAiShapeName,
  chunks: readonly unknown[],
): Array<{ chunk: number; errors: string[] }> {
  return chunks
    .map((chunk, index) => ({ chunk: index, errors: validateOpenAiShape(schemaName, chunk) }))
    .filter((result) => result.errors.length > 0);
}

/** One OpenAI function tool (get_weather with a city), as the shape checks send it. */
export const WEATHER_TOOLS = [
  {
    type: 'function',
    function: {
      name: 'get_weather',
      description: 'Weather',
      parameters: { type: 'object', properties: { city: { type: 'string' } } },
    },
  },
];
