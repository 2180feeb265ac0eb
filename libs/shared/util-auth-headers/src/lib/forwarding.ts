import { SSE_RESPONSE_HEADERS, isEventStream } from '@openai-proxy/util-sse';
import { HOP_BY_HOP_HEADERS, INTERNAL_HEADER_PREFIX } from './header-names';

/** Incoming headers as Node gives them. */
export type IncomingHeaders = Record<string, string | string[] | undefined>;
/** Headers to send: every value defined. */
export type OutgoingHeaders = Record<string, string | string[]>;

export interface ForwardedFor {
  /** The client chain as we trust it, nearest last (what Express computes from `trust proxy`). */
  clientAddresses: readonly string[];
  protocol: string;
  host: string | undefined;
}

export interface RequestForwardingPolicy {
  /** Provider relays drop the client's cookies; the internal hop to our own services keeps them. */
  dropCookie: boolean;
  /** Request header name prefixes (lower case) to drop as well, such as the WebSocket handshake's. */
  dropPrefixes?: readonly string[];
  /** Request header names (lower case) to drop as well, such as the credentials a gateway replaces with its own. */
  dropNames?: ReadonlySet<string>;
}

const NONE: ReadonlySet<string> = new Set();

/** Names listed in a `Connection` header are hop-by-hop for this message too. */
function connectionListed(headers: IncomingHeaders): ReadonlySet<string> {
  const value = headers['connection'];
  if (value === undefined || value === 'keep-alive' || value === 'close') {
    return NONE;
  }
  const joined = Array.isArray(value) ? value.join(',') : value;
  return new Set(
    joined
      .split(',')
      .map((name) => name.trim().toLowerCase())
      .filter((name) => name.length > 0),
  );
}

function isDroppedRequestHeader(name: string, listed: ReadonlySet<string>, policy: RequestForwardingPolicy): boolean {
  return (
    HOP_BY_HOP_HEADERS.has(name) ||
    listed.has(name) ||
    name === 'host' ||
    name.startsWith('x-forwarded-') ||
    name === 'forwarded' ||
    name.startsWith(INTERNAL_HEADER_PREFIX) ||
    (policy.dropCookie && name === 'cookie') ||
    (policy.dropNames?.has(name) ?? false) ||
    (policy.dropPrefixes?.some((prefix) => name.startsWith(prefix)) ?? false)
  );
}

/**
 * The headers a transparent relay sends upstream: every end-to-end header the client sent, except hop-by-hop
 * ones, `Host` (the dispatcher sets it from the configured upstream), client-sent `X-Forwarded-*` (replaced by
 * ours), internal headers and, for provider relays, `Cookie`.
 */
export function buildForwardedRequestHeaders(
  incoming: IncomingHeaders,
  forwarded: ForwardedFor,
  policy: RequestForwardingPolicy,
): OutgoingHeaders {
  const listed = connectionListed(incoming);
  const outgoing: OutgoingHeaders = {};
  for (const name of Object.keys(incoming)) {
    const value = incoming[name];
    if (value !== undefined && !isDroppedRequestHeader(name, listed, policy)) {
      outgoing[name] = value;
    }
  }
  if (forwarded.clientAddresses.length > 0) {
    outgoing['x-forwarded-for'] = forwarded.clientAddresses.join(', ');
  }
  outgoing['x-forwarded-proto'] = forwarded.protocol;
  if (forwarded.host !== undefined) {
    outgoing['x-forwarded-host'] = forwarded.host;
  }
  return outgoing;
}

export interface ResponseForwardingPolicy {
  /** Extra response header names (lower case) to drop, such as upstream CORS headers at the edge. */
  dropPrefixes?: readonly string[];
  /**
   * The relay may add bytes to the body (`: ping` and error frames on an event stream): the upstream length no
   * longer describes it, and is dropped so that the body goes out chunked.
   */
  dropContentLength?: boolean;
}

/**
 * The headers a relay sends back: the upstream's, except hop-by-hop ones and `Set-Cookie`. A body passed through
 * unchanged keeps its `Content-Length` and `Content-Encoding`; one we may add bytes to loses the length. An event
 * stream goes on with the `Cache-Control` every stream of ours has (`no-cache, no-transform`), whatever the
 * upstream sent: no cache may keep it and no proxy may compress or otherwise transform it.
 */
export function buildForwardedResponseHeaders(
  upstream: IncomingHeaders,
  policy: ResponseForwardingPolicy = {},
): OutgoingHeaders {
  const listed = connectionListed(upstream);
  const prefixes = policy.dropPrefixes ?? [];
  const outgoing: OutgoingHeaders = {};
  for (const name of Object.keys(upstream)) {
    const value = upstream[name];
    if (
      value === undefined ||
      HOP_BY_HOP_HEADERS.has(name) ||
      listed.has(name) ||
      name === 'set-cookie' ||
      (name === 'content-length' && policy.dropContentLength === true) ||
      name.startsWith(INTERNAL_HEADER_PREFIX) ||
      prefixes.some((prefix) => name.startsWith(prefix))
    ) {
      continue;
    }
    outgoing[name] = value;
  }
  if (isEventStream(upstream['content-type'])) {
    outgoing['cache-control'] = SSE_RESPONSE_HEADERS['cache-control'];
  }
  return outgoing;
}
