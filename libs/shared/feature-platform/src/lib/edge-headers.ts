import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';

const COLLECTED = Symbol('openai-proxy.edgeHeaders');

type Collecting = ServerResponse & { [COLLECTED]?: Record<string, string> };

/**
 * The headers the edge puts on every response (request id, CORS, rate limit, `Connection: close` while
 * draining). On a raw route they are collected and handed to `writeHead` with the route's own headers: Node's
 * `writeHead` takes a much slower path once any header was set before it (measured with callgrind: ~10k
 * instructions of a relayed request's ~287k went to echoing the request id with setHeader). On the Nest routes
 * they are set at once, as Express expects.
 */
export function collectEdgeHeaders(response: ServerResponse): void {
  (response as Collecting)[COLLECTED] = {};
}

/** Adds one edge header: collected on a raw route, set on the response elsewhere. */
export function setEdgeHeader(response: ServerResponse, name: string, value: string): void {
  const collected = (response as Collecting)[COLLECTED];
  if (collected === undefined) {
    response.setHeader(name, value);
  } else {
    collected[name] = value;
  }
}

/**
 * Every `writeHead` of ours passes its headers through here: the collected edge headers are added to `own`
 * (in place) where `own` has no header of that name, so a route's own header wins as it does over setHeader.
 */
export function withEdgeHeaders<T extends OutgoingHttpHeaders>(response: ServerResponse, own: T): T {
  const collected = (response as Collecting)[COLLECTED];
  if (collected !== undefined) {
    const headers: OutgoingHttpHeaders = own;
    for (const name of Object.keys(collected)) {
      if (headers[name] === undefined) {
        headers[name] = collected[name];
      }
    }
  }
  return own;
}
