import { z } from 'zod';
import type { AnthropicMessagesResponse, AnthropicModelList, AnthropicUsage } from './anthropic.types';

/**
 * What the bridge reads from the Anthropic API, checked where it enters: every field it uses must have its
 * type (a usage count that is text, a delta text that is a number, a content list that is not a list are
 * refused). Objects stay loose, and event, block and stop-reason kinds added later pass through.
 */
const usage: z.ZodType<AnthropicUsage> = z.looseObject({
  input_tokens: z.number().nullish(),
  output_tokens: z.number().nullish(),
  cache_creation_input_tokens: z.number().nullish(),
  cache_read_input_tokens: z.number().nullish(),
  cache_creation: z
    .looseObject({
      ephemeral_5m_input_tokens: z.number().nullish(),
      ephemeral_1h_input_tokens: z.number().nullish(),
    })
    .nullish(),
});

/** One stream event's data: the fields of every event type the transformer reads, each with its type. */
export const anthropicStreamEventSchema = z.looseObject({
  type: z.string().optional(),
  index: z.number().int().nonnegative().optional(),
  message: z
    .looseObject({ id: z.string().optional(), model: z.string().optional(), usage: usage.optional() })
    .optional(),
  content_block: z.looseObject({ type: z.string(), id: z.string().optional(), name: z.string().optional() }).optional(),
  delta: z
    .looseObject({
      type: z.string().optional(),
      text: z.string().optional(),
      partial_json: z.string().optional(),
      stop_reason: z.string().nullish(),
    })
    .optional(),
  usage: usage.optional(),
  error: z.looseObject({ type: z.string().optional(), message: z.string().optional() }).optional(),
});

export type AnthropicStreamEvent = z.infer<typeof anthropicStreamEventSchema>;

const KNOWN_BLOCKS: ReadonlySet<string> = new Set(['text', 'tool_use', 'thinking']);

const knownBlock = z.discriminatedUnion('type', [
  z.looseObject({ type: z.literal('text'), text: z.string() }),
  z.looseObject({ type: z.literal('tool_use'), id: z.string(), name: z.string(), input: z.unknown() }),
  z.looseObject({ type: z.literal('thinking'), thinking: z.string() }),
]);

/** A block of a kind the bridge does not translate (redacted thinking, server tools) reads as undefined. */
const block = z.union([
  knownBlock,
  z.looseObject({ type: z.string().refine((type) => !KNOWN_BLOCKS.has(type)) }).transform(() => undefined),
]);

function isKnownBlock(candidate: z.infer<typeof block>): candidate is z.infer<typeof knownBlock> {
  return candidate !== undefined;
}

/** A Messages API answer; blocks of kinds the bridge does not translate are left out. */
export const anthropicMessagesResponseSchema: z.ZodType<AnthropicMessagesResponse> = z.looseObject({
  id: z.string(),
  type: z.literal('message'),
  role: z.literal('assistant'),
  model: z.string(),
  content: z.array(block).transform((blocks) => blocks.filter(isKnownBlock)),
  stop_reason: z.string().nullable(),
  stop_sequence: z
    .string()
    .nullish()
    .transform((value) => value ?? null),
  usage,
});

export const anthropicModelListSchema: z.ZodType<AnthropicModelList> = z.looseObject({
  data: z.array(
    z.looseObject({
      type: z.literal('model'),
      id: z.string(),
      display_name: z.string().optional(),
      created_at: z.string().optional(),
    }),
  ),
  has_more: z.boolean().optional(),
});
