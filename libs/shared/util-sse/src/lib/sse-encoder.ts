/** Response headers for every event stream we send: no proxy may buffer, compress or transform it (docs/data-plane.md). */
export const SSE_RESPONSE_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache, no-transform',
  'x-accel-buffering': 'no',
};

export const SSE_DONE_FRAME = 'data: [DONE]\n\n';
export const SSE_PING_FRAME = ': ping\n\n';

/** `data: <json>\n\n`. */
export function encodeSseData(payload: unknown): string {
  return `data: ${JSON.stringify(payload)}\n\n`;
}

/** `event: <name>\ndata: <json>\n\n`, the framing Anthropic's streams use. */
export function encodeSseEvent(event: string, payload: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(payload)}\n\n`;
}

/** True when the content type names an event stream. */
export function isEventStream(contentType: string | string[] | undefined): boolean {
  const value = Array.isArray(contentType) ? contentType[0] : contentType;
  return value !== undefined && value.toLowerCase().startsWith('text/event-stream');
}
