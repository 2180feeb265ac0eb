import type { StreamTerminal } from '@openai-proxy/data-access-upstream';

/** A Messages stream ends with `message_stop`, or with an `error` event when it failed. */
const MESSAGES_TERMINAL: StreamTerminal = { finalEvents: ['message_stop', 'error'] };

/** How the Anthropic API's streams end, by endpoint; other endpoints are not assumed to have a terminal. */
export function anthropicStreamTerminal(path: string): StreamTerminal | undefined {
  const query = path.indexOf('?');
  const pathname = (query === -1 ? path : path.slice(0, query)).replace(/\/+$/, '');
  return pathname.endsWith('/v1/messages') ? MESSAGES_TERMINAL : undefined;
}
