import type { ServerResponse } from 'node:http';
import { withEdgeHeaders } from '@openai-proxy/feature-platform';

/** A whole answer to the client with the route's own headers and the edge's: `text` with its content type. */
export function sendText(
  client: ServerResponse,
  text: string,
  contentType: string,
  headers: Readonly<Record<string, string>>,
  status = 200,
): void {
  client.writeHead(
    status,
    withEdgeHeaders(client, { ...headers, 'content-type': contentType, 'content-length': Buffer.byteLength(text) }),
  );
  client.end(text);
}

/** A whole answer to the client with the route's own headers and the edge's: `body` as JSON, or none when undefined. */
export function sendJson(
  client: ServerResponse,
  body: unknown,
  headers: Readonly<Record<string, string>>,
  status = 200,
): void {
  if (body === undefined) {
    client.writeHead(status, withEdgeHeaders(client, { ...headers }));
    client.end();
    return;
  }
  sendText(client, JSON.stringify(body), 'application/json; charset=utf-8', headers, status);
}
