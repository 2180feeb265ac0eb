/**
 * Anthropic Messages API wire types, the subset the bridge reads and writes: the body and answer of
 * `POST /v1/messages` and the events of its stream. A field the bridge does not use yet is not here: Anthropic's
 * reference lists them all (https://docs.anthropic.com/en/api/messages for the body and answer,
 * https://docs.anthropic.com/en/api/messages-streaming for the events). How each one maps to OpenAI's is in
 * docs/provider-mapping.md.
 */

export interface AnthropicTextBlock {
  type: 'text';
  text: string;
}

export interface AnthropicImageBlock {
  type: 'image';
  source: { type: 'base64'; media_type: string; data: string } | { type: 'url'; url: string };
}

export interface AnthropicToolUseBlock {
  type: 'tool_use';
  id: string;
  name: string;
  input: unknown;
}

export interface AnthropicToolResultBlock {
  type: 'tool_result';
  tool_use_id: string;
  content: string | AnthropicTextBlock[];
  is_error?: boolean;
}

export interface AnthropicThinkingBlock {
  type: 'thinking';
  thinking: string;
}

export type AnthropicRequestBlock =
  AnthropicTextBlock | AnthropicImageBlock | AnthropicToolUseBlock | AnthropicToolResultBlock;
export type AnthropicResponseBlock = AnthropicTextBlock | AnthropicToolUseBlock | AnthropicThinkingBlock;

export interface AnthropicMessage {
  role: 'user' | 'assistant';
  content: AnthropicRequestBlock[];
}

export interface AnthropicTool {
  name: string;
  description?: string;
  input_schema: Record<string, unknown>;
}

export type AnthropicToolChoice =
  | { type: 'auto' | 'any' | 'none'; disable_parallel_tool_use?: boolean }
  | { type: 'tool'; name: string; disable_parallel_tool_use?: boolean };

export interface AnthropicMessagesRequest {
  model: string;
  max_tokens: number;
  messages: AnthropicMessage[];
  system?: string;
  temperature?: number;
  top_p?: number;
  stop_sequences?: string[];
  stream?: boolean;
  tools?: AnthropicTool[];
  tool_choice?: AnthropicToolChoice;
  metadata?: { user_id: string };
}

/**
 * Why a message ended: the model finished (`end_turn`), hit `max_tokens` or one of the `stop_sequences`, called
 * a tool, paused a long turn for the client to resume (`pause_turn`), refused, or filled the context window.
 * The OpenAI finish_reason of each is in finish-reason.map.ts (docs/provider-mapping.md, "Finish reasons").
 */
export type AnthropicStopReason =
  'end_turn' | 'max_tokens' | 'stop_sequence' | 'tool_use' | 'pause_turn' | 'refusal' | 'model_context_window_exceeded';

/** Counts may be null: a `message_delta` reports only what changed (its SDK types say `number | null`). */
export interface AnthropicUsage {
  input_tokens?: number | null;
  output_tokens?: number | null;
  cache_creation_input_tokens?: number | null;
  cache_read_input_tokens?: number | null;
  /** How the cache writes split by lifetime: the 1-hour ones are billed above the 5-minute ones. */
  cache_creation?: { ephemeral_5m_input_tokens?: number | null; ephemeral_1h_input_tokens?: number | null } | null;
}

export interface AnthropicMessagesResponse {
  id: string;
  type: 'message';
  role: 'assistant';
  model: string;
  content: AnthropicResponseBlock[];
  /** An AnthropicStopReason, or a reason added later (read as `stop`). */
  stop_reason: string | null;
  stop_sequence: string | null;
  usage: AnthropicUsage;
}

export interface AnthropicErrorBody {
  type: 'error';
  error: { type: string; message: string };
}

export interface AnthropicModel {
  type: 'model';
  id: string;
  display_name?: string;
  created_at?: string;
}

export interface AnthropicModelList {
  data: AnthropicModel[];
  has_more?: boolean;
}
