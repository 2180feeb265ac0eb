import type { FinishReason } from '@openai-proxy/util-openai-schema';

const FILTERED: ReadonlySet<string> = new Set([
  'SAFETY',
  'RECITATION',
  'BLOCKLIST',
  'PROHIBITED_CONTENT',
  'SPII',
  'IMAGE_SAFETY',
]);

/** Gemini `finishReason` → OpenAI `finish_reason`; a turn with function calls ends in `tool_calls`. */
export function toFinishReason(reason: string | undefined, calledFunctions: boolean): FinishReason {
  if (reason === 'MAX_TOKENS') {
    return 'length';
  }
  if (reason !== undefined && FILTERED.has(reason)) {
    return 'content_filter';
  }
  return calledFunctions ? 'tool_calls' : 'stop';
}
