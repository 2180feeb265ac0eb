import { isCount, isRecord } from './usage-counts';

/*
 * The parts of the providers' stream events the stream meter reads, checked by type (`typeof`) as each event
 * passes rather than with a zod parse, which costs a copy of every event. They take exactly what the lenient zod
 * schemas of the same shapes would (the specs check it on any JSON): a part of the wrong type is simply not
 * there, never a throw.
 */

/**
 * Whether a value is a list of objects, as an event's `choices`, `tool_calls`, `candidates` or `parts` are. A list
 * with one item of another kind is not one at all (zod's array of objects fails on it, and the meter then reads
 * none of its items).
 */
export function isRecordList(value: unknown): value is readonly Readonly<Record<string, unknown>>[] {
  if (!Array.isArray(value)) {
    return false;
  }
  for (let index = 0; index < value.length; index += 1) {
    if (!isRecord(value[index])) {
      return false;
    }
  }
  return true;
}

/** Whether a count is missing, null or a token count: what zod's `count.nullish()` takes. */
function isCountOrNothing(value: unknown): boolean {
  return value === undefined || value === null || isCount(value);
}

/**
 * Whether a value is usage an Anthropic stream event may carry (`message_start`'s `message.usage`,
 * `message_delta`'s `usage`): an object whose input and output counts are each missing, null or a count. Its
 * cache counts are read where they are counts and passed over otherwise.
 */
export function isAnthropicCounts(value: unknown): value is Readonly<Record<string, unknown>> {
  return isRecord(value) && isCountOrNothing(value['input_tokens']) && isCountOrNothing(value['output_tokens']);
}

/**
 * Whether a value is a Gemini chunk's `usageMetadata`: an object whose prompt count is missing, null or a count.
 * Its other counts are read where they are counts and passed over otherwise.
 */
export function isGeminiCounts(value: unknown): value is Readonly<Record<string, unknown>> {
  return isRecord(value) && isCountOrNothing(value['promptTokenCount']);
}

/** Responses API events whose `delta` is delivered text. */
export const RESPONSES_TEXT_EVENTS: ReadonlySet<string> = new Set([
  'response.output_text.delta',
  'response.function_call_arguments.delta',
  'response.reasoning_summary_text.delta',
]);

/** Responses API events that end the stream with the response and its usage. */
export const RESPONSES_FINAL_EVENTS: ReadonlySet<string> = new Set([
  'response.completed',
  'response.incomplete',
  'response.failed',
]);
