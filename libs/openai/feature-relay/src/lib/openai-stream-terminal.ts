import type { StreamTerminal } from '@openai-proxy/data-access-upstream';
import { pathnameOf } from '@openai-proxy/feature-platform';

/** Chat and legacy completions end a complete stream with `data: [DONE]`. */
const DONE_TERMINAL: StreamTerminal = { lastData: '[DONE]' };

/** The Responses API ends with one of these events (an `error` event ends a failed stream too). */
const RESPONSES_TERMINAL: StreamTerminal = {
  finalEvents: ['response.completed', 'response.failed', 'response.incomplete', 'error'],
};

/**
 * How OpenAI's streams end, by endpoint. Other endpoints that stream (runs, audio, images) end in ways of their
 * own: for them no terminal is assumed, so a complete stream never gets an error frame added.
 */
export function openAiStreamTerminal(path: string): StreamTerminal | undefined {
  const pathname = pathnameOf(path).replace(/\/+$/, '');
  if (pathname.endsWith('/completions')) {
    return DONE_TERMINAL;
  }
  if (pathname.endsWith('/v1/responses')) {
    return RESPONSES_TERMINAL;
  }
  return undefined;
}
