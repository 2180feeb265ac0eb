const DATA_URL = /^data:([^;,]+);base64,(.*)$/s;

/** A base64 `data:` URL's media type and data, or undefined for anything else. */
export function parseDataUrl(url: string): { mimeType: string; data: string } | undefined {
  const match = DATA_URL.exec(url);
  return match === null ? undefined : { mimeType: match[1] ?? '', data: match[2] ?? '' };
}
