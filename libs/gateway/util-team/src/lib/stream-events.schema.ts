import { z } from 'zod';

/** A part of an event that may be missing, null or malformed: then it is simply not there. */
function lenient<Schema extends z.ZodType>(schema: Schema) {
  return schema.nullish().catch(undefined);
}

const text = lenient(z.string());

/** An OpenAI chat completion chunk: its deltas' text (content, thinking, tool-call arguments) and its usage. */
export const openAiChunk = z.looseObject({
  choices: lenient(
    z.array(
      z.looseObject({
        delta: lenient(
          z.looseObject({
            content: text,
            /** DeepSeek's (and other compatible providers') thinking, billed as completion. */
            reasoning_content: text,
            tool_calls: lenient(z.array(z.looseObject({ function: lenient(z.looseObject({ arguments: text })) }))),
          }),
        ),
      }),
    ),
  ),
  usage: z.unknown().optional(),
});

/** A Responses API event: a text or tool-call argument delta, or the final response with its usage. */
export const openAiResponsesEvent = z.looseObject({
  type: z.string(),
  delta: z.unknown().optional(),
  response: lenient(z.looseObject({ usage: z.unknown().optional() })),
});

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

/** An Anthropic stream event: `message_start` (usage in `message`), `message_delta` (usage), a block's delta. */
export const anthropicEvent = z.looseObject({
  type: z.string(),
  message: lenient(z.looseObject({ usage: z.unknown().optional() })),
  usage: z.unknown().optional(),
  delta: lenient(z.looseObject({ text, partial_json: text, thinking: text })),
});

/** A Gemini stream chunk: its candidates' parts' text, and its `usageMetadata`. */
export const geminiChunk = z.looseObject({
  candidates: lenient(
    z.array(z.looseObject({ content: lenient(z.looseObject({ parts: lenient(z.array(z.looseObject({ text }))) })) })),
  ),
  usageMetadata: z.unknown().optional(),
});
