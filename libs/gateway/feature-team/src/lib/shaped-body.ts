import type { IncomingMessage } from 'node:http';
import { readLimitedBody } from '@openai-proxy/data-access-upstream';
import { parseJsonText } from '@openai-proxy/util-errors';

/** A request body as team mode forwards it: read whole when it is JSON (to meter and rewrite it), else streamed. */
export type ShapedBody = { kind: 'json'; bytes: Buffer; value: Record<string, unknown> } | { kind: 'client' };

const METHODS_WITHOUT_BODY: ReadonlySet<string> = new Set(['GET', 'HEAD', 'DELETE', 'OPTIONS']);

/** Methods whose requests team mode treats as bodiless (listings, reads, deletes). */
export function carriesNoBody(method: string | undefined): boolean {
  return METHODS_WITHOUT_BODY.has(method ?? 'GET');
}

function isJsonType(contentType: string | undefined): boolean {
  return contentType !== undefined && /^application\/(?:[\w.+-]+\+)?json\b/i.test(contentType.trim());
}

/** A JSON object's properties, or undefined for any other value. */
export function jsonObject(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

/**
 * Reads a JSON request body whole (413 over `limitBytes`, before any upstream contact); any other body (an
 * upload, a body that is not a JSON object) is forwarded as it came.
 */
export async function readShapedBody(request: IncomingMessage, limitBytes: number): Promise<ShapedBody> {
  if (carriesNoBody(request.method) || !isJsonType(request.headers['content-type'])) {
    return { kind: 'client' };
  }
  const bytes = await readLimitedBody(request, limitBytes);
  const value = jsonObject(parseJsonText(bytes.toString('utf8')));
  return value === undefined ? { kind: 'json', bytes, value: {} } : { kind: 'json', bytes, value };
}

/**
 * The body of an OpenAI chat request that streams, with `stream_options.include_usage` asked of the upstream;
 * `hidden` is true when the client did not ask for it (its usage chunk is then kept from it).
 */
export function withStreamUsage(body: Record<string, unknown>): { body: Record<string, unknown>; hidden: boolean } {
  if (body['stream'] !== true) {
    return { body, hidden: false };
  }
  const options = jsonObject(body['stream_options']) ?? {};
  if (options['include_usage'] === true) {
    return { body, hidden: false };
  }
  return { body: { ...body, stream_options: { ...options, include_usage: true } }, hidden: true };
}
