import type { FinishReason } from '@openai-proxy/util-openai-schema';
import type { AnthropicStopReason } from './anthropic.types';

const FINISH_REASONS: Readonly<Record<AnthropicStopReason, FinishReason>> = {
  end_turn: 'stop',
  stop_sequence: 'stop',
  pause_turn: 'stop',
  max_tokens: 'length',
  // The context window filled before max_tokens: a length stop all the same.
  model_context_window_exceeded: 'length',
  tool_use: 'tool_calls',
  refusal: 'content_filter',
};

/** Anthropic `stop_reason` → OpenAI `finish_reason` (unknown reasons read as `stop`). */
export function toFinishReason(reason: string | null | undefined): FinishReason {
  return typeof reason === 'string' && Object.hasOwn(FINISH_REASONS, reason)
    ? FINISH_REASONS[reason as AnthropicStopReason]
    : 'stop';
}
