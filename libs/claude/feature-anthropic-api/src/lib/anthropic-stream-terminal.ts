import type { StreamTerminal } from '@openai-proxy/data-access-upstream';
import { pathnameOf } from '@openai-proxy/feature-platform';

/** A Messages stream ends with `message_stop`, or with an `error` event when it failed. */
const MESSAGES_TERMINAL: StreamTerminal = { finalEvents: ['message_stop', 'error'] };

/** How the Anthropic API's streams end, by endpoint; other endpoints are not assumed to have a terminal. */
export function anthropicStreamTerminal(path: string): StreamTerminal | undefined {
  const pathname = pathnameOf(path).replace(/\/+$/, '');
  return pathname.endsWith('/v1/messages') ? MESSAGES_TERMINAL : undefined;
}
