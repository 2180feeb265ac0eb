import type { IncomingMessage } from 'node:http';
import type { ClientAddressService } from '@openai-proxy/feature-platform';
import { type OutgoingHeaders, buildForwardedRequestHeaders } from '@openai-proxy/util-auth-headers';
import type { RelayTarget } from './relay.types';

/**
 * The headers a relayed request (HTTP or a WebSocket upgrade) carries to `target`: the client's end-to-end
 * ones, our `X-Forwarded-*` from the client chain as we trust it, no cookies for a provider, and none whose
 * name starts with one of `dropPrefixes`.
 */
export function forwardedRequestHeaders(
  request: IncomingMessage,
  target: RelayTarget,
  addresses: ClientAddressService,
  dropPrefixes?: readonly string[],
): OutgoingHeaders {
  return buildForwardedRequestHeaders(
    request.headers,
    { clientAddresses: addresses.chain(request), protocol: addresses.protocol(request), host: request.headers.host },
    { dropCookie: target.kind === 'provider', dropPrefixes },
  );
}
