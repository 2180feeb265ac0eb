import type { IncomingMessage } from 'node:http';
import type { ClientAddressService } from '@openai-proxy/feature-platform';
import { type OutgoingHeaders, buildForwardedRequestHeaders } from '@openai-proxy/util-auth-headers';
import type { RelayTarget } from './relay.types';

/**
 * The headers that describe the client's body (lower case): a body read and sent again whole does not keep them,
 * the HTTP client sets its own.
 */
export const BODY_LENGTH_HEADERS: readonly string[] = ['content-length', 'transfer-encoding'];

/** Headers a relayed request loses beyond the usual ones: by name prefix and by name (both lower case). */
export interface DroppedRequestHeaders {
  prefixes?: readonly string[];
  names?: ReadonlySet<string>;
}

/**
 * The headers a relayed request (HTTP or a WebSocket upgrade) carries to `target`: the client's end-to-end
 * ones, our `X-Forwarded-*` from the client chain as we trust it, no cookies for a provider, and none that
 * `dropped` names or whose name starts with one of its prefixes. (Dropping while copying keeps the headers a
 * plain object: a `delete` afterwards makes V8 keep it as a slow dictionary, which every later copy pays for.)
 */
export function forwardedRequestHeaders(
  request: IncomingMessage,
  target: RelayTarget,
  addresses: ClientAddressService,
  dropped: DroppedRequestHeaders = {},
): OutgoingHeaders {
  return buildForwardedRequestHeaders(
    request.headers,
    { clientAddresses: addresses.chain(request), protocol: addresses.protocol(request), host: request.headers.host },
    { dropCookie: target.kind === 'provider', dropPrefixes: dropped.prefixes, dropNames: dropped.names },
  );
}
