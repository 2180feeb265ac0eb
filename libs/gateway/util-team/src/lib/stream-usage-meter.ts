import { parseJsonText } from '@openai-proxy/util-errors';
import type { ReportedUsage, WireDialect } from './usage-meter';
import {
  anthropicPromptTokens,
  anthropicUsageSchema,
  geminiCompletionTokens,
  geminiUsageSchema,
  openAiUsage,
} from './usage-counts';
import {
  anthropicEvent,
  geminiChunk,
  openAiChunk,
  openAiResponsesEvent,
  RESPONSES_FINAL_EVENTS,
  RESPONSES_TEXT_EVENTS,
} from './stream-events.schema';

/** One SSE event as decoded: its `event:` name, when it has one, and its data. */
export interface StreamEvent {
  event?: string;
  data: string;
}

/** Anthropic reports its counts in parts, over `message_start` and `message_delta`; each part is kept as last given. */
interface AnthropicCounts {
  input_tokens?: number;
  cache_creation_input_tokens?: number;
  cache_read_input_tokens?: number;
  output_tokens?: number;
}

/**
 * Reads one answer stream as it passes: the usage the provider reports (OpenAI's usage chunk or the Responses
 * API's final event; Anthropic's `message_start` prompt counts and `message_delta` cumulative output count;
 * Gemini's `usageMetadata`, the last one counting), and the text delivered (content, tool-call arguments and
 * thinking), from which a stream that ends before its usage is estimated. One per stream; never throws.
 */
export class StreamUsageMeter {
  private reported: ReportedUsage = {};
  private readonly anthropic: AnthropicCounts = {};
  private readonly delivered: string[] = [];

  constructor(private readonly dialect: WireDialect) {}

  /** Takes one SSE event of the answer; `[DONE]` and any frame of another shape is passed over. */
  observe(event: StreamEvent): void {
    const value = parseJsonText(event.data);
    switch (this.dialect) {
      case 'openai':
        this.observeOpenAi(value);
        return;
      case 'anthropic':
        this.observeAnthropic(value);
        return;
      case 'gemini':
        this.observeGemini(value);
        return;
    }
  }

  /** What the provider has reported so far; undefined when it has reported nothing. */
  usage(): ReportedUsage | undefined {
    const usage = this.dialect === 'anthropic' ? this.anthropicUsage() : this.reported;
    return Object.keys(usage).length === 0 ? undefined : usage;
  }

  /** Every piece of text the answer has delivered so far, joined. */
  deliveredText(): string {
    return this.delivered.join('');
  }

  private keep(...pieces: readonly (string | null | undefined)[]): void {
    for (const piece of pieces) {
      if (typeof piece === 'string' && piece !== '') {
        this.delivered.push(piece);
      }
    }
  }

  private observeOpenAi(value: unknown): void {
    const chunk = openAiChunk.safeParse(value);
    if (chunk.success) {
      for (const { delta } of chunk.data.choices ?? []) {
        this.keep(delta?.content, delta?.reasoning_content);
        this.keep(...(delta?.tool_calls ?? []).map((call) => call.function?.arguments));
      }
      this.reported = openAiUsage(chunk.data.usage) ?? this.reported;
    }
    const event = openAiResponsesEvent.safeParse(value);
    if (event.success && RESPONSES_TEXT_EVENTS.has(event.data.type) && typeof event.data.delta === 'string') {
      this.keep(event.data.delta);
    }
    if (event.success && RESPONSES_FINAL_EVENTS.has(event.data.type)) {
      this.reported = openAiUsage(event.data.response?.usage) ?? this.reported;
    }
  }

  /** `message_start` gives the prompt's counts (its output count is a placeholder); `message_delta` the rest. */
  private observeAnthropic(value: unknown): void {
    const parsed = anthropicEvent.safeParse(value);
    if (!parsed.success) {
      return;
    }
    const { type, message, usage, delta } = parsed.data;
    if (type === 'content_block_delta') {
      this.keep(delta?.text, delta?.partial_json, delta?.thinking);
    }
    const counts = anthropicUsageSchema.safeParse(type === 'message_start' ? message?.usage : usage);
    if (!counts.success || (type !== 'message_start' && type !== 'message_delta')) {
      return;
    }
    const parts = ['input_tokens', 'cache_creation_input_tokens', 'cache_read_input_tokens', 'output_tokens'] as const;
    for (const part of type === 'message_start' ? parts.slice(0, 3) : parts) {
      this.anthropic[part] = counts.data[part] ?? this.anthropic[part];
    }
  }

  private anthropicUsage(): ReportedUsage {
    const prompt = anthropicPromptTokens(this.anthropic);
    const { output_tokens: output, cache_read_input_tokens: cacheRead } = this.anthropic;
    return {
      ...(prompt === undefined ? {} : { promptTokens: prompt }),
      ...(output === undefined ? {} : { completionTokens: output }),
      ...(prompt === undefined || cacheRead === undefined ? {} : { cachedPromptTokens: cacheRead }),
    };
  }

  private observeGemini(value: unknown): void {
    const chunk = geminiChunk.safeParse(value);
    if (!chunk.success) {
      return;
    }
    for (const candidate of chunk.data.candidates ?? []) {
      this.keep(...(candidate.content?.parts ?? []).map((part) => part.text));
    }
    const usage = geminiUsageSchema.safeParse(chunk.data.usageMetadata);
    if (!usage.success) {
      return;
    }
    const { promptTokenCount, cachedContentTokenCount, thoughtsTokenCount } = usage.data;
    const completion = geminiCompletionTokens(usage.data);
    this.reported = {
      ...this.reported,
      ...(typeof promptTokenCount === 'number' ? { promptTokens: promptTokenCount } : {}),
      ...(completion === undefined ? {} : { completionTokens: completion }),
      ...(typeof cachedContentTokenCount === 'number' ? { cachedPromptTokens: cachedContentTokenCount } : {}),
      ...(typeof thoughtsTokenCount === 'number' ? { reasoningTokens: thoughtsTokenCount } : {}),
    };
  }
}
