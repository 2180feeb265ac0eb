import type { FinishReason } from '@openai-proxy/util-openai-schema';

/**
 * Policy stops: a safety, recitation, blocklist, prohibited-content or personal-data (SPII) filter blocked or cut
 * the answer, text or image. A reason not listed here (one Gemini adds later too) is not taken for a filter.
 */
const FILTERED: ReadonlySet<string> = new Set([
  'SAFETY',
  'RECITATION',
  'BLOCKLIST',
  'PROHIBITED_CONTENT',
  'SPII',
  'IMAGE_SAFETY',
  'IMAGE_PROHIBITED_CONTENT',
  'IMAGE_RECITATION',
]);

/**
 * Gemini `finishReason` → OpenAI `finish_reason`: MAX_TOKENS → `length`, policy stops → `content_filter`, a turn
 * with function calls → `tool_calls`, every other reason → `stop`. That includes MALFORMED_FUNCTION_CALL (the
 * model failed to write a call; none reaches the client, so `tool_calls` would promise calls that are not
 * there, and it is no policy block) and OTHER (Gemini's "all other reasons", no claim that a filter acted).
 */
export function toFinishReason(reason: string | undefined, calledFunctions: boolean): FinishReason {
  if (reason === 'MAX_TOKENS') {
    return 'length';
  }
  if (reason !== undefined && FILTERED.has(reason)) {
    return 'content_filter';
  }
  return calledFunctions ? 'tool_calls' : 'stop';
}
