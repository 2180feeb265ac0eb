import type { ServerResponse } from 'node:http';
import { UpstreamExchange } from './upstream-exchange';

/**
 * An AbortSignal for the upstream calls made on behalf of one client: it fires when the client's response
 * closes before it finished (the client left), or at once when the connection is already gone.
 */
export function clientLeftSignal(response: ServerResponse): AbortSignal {
  return new UpstreamExchange(response).signal;
}
