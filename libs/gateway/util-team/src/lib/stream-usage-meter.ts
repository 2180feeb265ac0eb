import type { PromptUsage } from '@openai-proxy/util-openai-schema';
import type { ReportedUsage, WireDialect } from './usage-meter';
import {
  anthropicCacheWrite1h,
  anthropicPromptTokens,
  geminiCompletionTokens,
  isCount,
  isRecord,
  openAiUsage,
} from './usage-counts';
import {
  isAnthropicCounts,
  isGeminiCounts,
  isRecordList,
  RESPONSES_FINAL_EVENTS,
  RESPONSES_TEXT_EVENTS,
} from './stream-events';

/** One SSE event as decoded: its `event:` name, when it has one, and its data. */
export interface StreamEvent {
  event?: string;
  data: string;
}

/** Anthropic reports its counts in parts, over `message_start` and `message_delta`; each part is kept as last given. */
export interface AnthropicCounts {
  input_tokens?: number;
  cache_creation_input_tokens?: number;
  cache_read_input_tokens?: number;
  output_tokens?: number;
  /** `cache_creation.ephemeral_1h_input_tokens`: the 1-hour part of the cache writes. */
  cache_creation_1h?: number;
}

/** The parts of Anthropic's counts that `message_start` gives: the prompt's (its output count is a placeholder). */
const MESSAGE_START_PARTS = ['input_tokens', 'cache_creation_input_tokens', 'cache_read_input_tokens'] as const;
/** The parts of Anthropic's counts that `message_delta` gives: any, the output count cumulative. */
const MESSAGE_DELTA_PARTS = [...MESSAGE_START_PARTS, 'output_tokens'] as const;

/** A JSON object as an event's data holds it. */
type JsonRecord = Readonly<Record<string, unknown>>;

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

  /**
   * Takes one SSE event's data as parsed (the caller parses it once for all its readers; undefined when it is
   * not JSON, as `[DONE]` is); a value of any other shape is passed over.
   */
  observe(data: unknown): void {
    if (!isRecord(data)) {
      return;
    }
    switch (this.dialect) {
      case 'openai':
        this.observeOpenAi(data);
        return;
      case 'anthropic':
        this.observeAnthropic(data);
        return;
      case 'gemini':
        this.observeGemini(data);
        return;
    }
  }

  /**
   * Takes the prompt's counts a translating service sent before the answer (PROMPT_USAGE_EVENT): they stand until
   * the stream's own usage, which replaces them, so a stream cut after them still records the provider's prompt.
   * Undefined (the event's data unreadable) is passed over.
   */
  observePromptUsage(prompt: PromptUsage | undefined): void {
    if (prompt !== undefined && this.reported.promptTokens === undefined) {
      this.reported = { ...prompt };
    }
  }

  /** What the provider has reported so far; undefined when it has reported nothing. */
  usage(): ReportedUsage | undefined {
    const usage = this.dialect === 'anthropic' ? anthropicStreamUsage(this.anthropic) : { ...this.reported };
    return Object.keys(usage).length === 0 ? undefined : usage;
  }

  /** Every piece of text the answer has delivered so far, joined. */
  deliveredText(): string {
    return this.delivered.join('');
  }

  private keep(piece: unknown): void {
    if (typeof piece === 'string' && piece !== '') {
      this.delivered.push(piece);
    }
  }

  /** A chat completion chunk's deltas and usage, or a Responses API event's delta or final usage (or both). */
  private observeOpenAi(value: JsonRecord): void {
    const choices = value['choices'];
    if (isRecordList(choices)) {
      for (const choice of choices) {
        this.keepOpenAiDelta(choice['delta']);
      }
    }
    this.reported = openAiUsage(value['usage']) ?? this.reported;
    const type = value['type'];
    if (typeof type !== 'string') {
      return;
    }
    if (RESPONSES_TEXT_EVENTS.has(type)) {
      this.keep(value['delta']);
    }
    const response = value['response'];
    if (RESPONSES_FINAL_EVENTS.has(type) && isRecord(response)) {
      this.reported = openAiUsage(response['usage']) ?? this.reported;
    }
  }

  private keepOpenAiDelta(delta: unknown): void {
    if (!isRecord(delta)) {
      return;
    }
    this.keep(delta['content']);
    this.keep(delta['reasoning_content']);
    const calls = delta['tool_calls'];
    if (!isRecordList(calls)) {
      return;
    }
    for (const call of calls) {
      const called = call['function'];
      if (isRecord(called)) {
        this.keep(called['arguments']);
      }
    }
  }

  /** `message_start` gives the prompt's counts (its output count is a placeholder); `message_delta` the rest. */
  private observeAnthropic(value: JsonRecord): void {
    switch (value['type']) {
      case 'content_block_delta': {
        const delta = value['delta'];
        if (isRecord(delta)) {
          this.keep(delta['text']);
          this.keep(delta['partial_json']);
          this.keep(delta['thinking']);
        }
        return;
      }
      case 'message_start': {
        const message = value['message'];
        this.takeAnthropicCounts(isRecord(message) ? message['usage'] : undefined, MESSAGE_START_PARTS);
        return;
      }
      case 'message_delta':
        this.takeAnthropicCounts(value['usage'], MESSAGE_DELTA_PARTS);
        return;
    }
  }

  /**
   * Keeps each of `parts` that the usage gives as a count, and the 1-hour part of its cache writes, when the
   * usage is well formed.
   */
  private takeAnthropicCounts(usage: unknown, parts: readonly (keyof AnthropicCounts)[]): void {
    if (!isAnthropicCounts(usage)) {
      return;
    }
    for (const part of parts) {
      const given = usage[part];
      if (isCount(given)) {
        this.anthropic[part] = given;
      }
    }
    const written1h = anthropicCacheWrite1h(usage);
    if (written1h !== undefined) {
      this.anthropic.cache_creation_1h = written1h;
    }
  }

  /** A chunk's candidates' parts' text, and its `usageMetadata`: each count it gives replaces the one before. */
  private observeGemini(value: JsonRecord): void {
    const candidates = value['candidates'];
    if (isRecordList(candidates)) {
      for (const candidate of candidates) {
        const content = candidate['content'];
        const parts = isRecord(content) ? content['parts'] : undefined;
        if (isRecordList(parts)) {
          for (const part of parts) {
            this.keep(part['text']);
          }
        }
      }
    }
    const usage = value['usageMetadata'];
    if (!isGeminiCounts(usage)) {
      return;
    }
    const prompt = usage['promptTokenCount'];
    const answer = usage['candidatesTokenCount'];
    const thoughts = usage['thoughtsTokenCount'];
    const cached = usage['cachedContentTokenCount'];
    const completion = geminiCompletionTokens({
      candidatesTokenCount: isCount(answer) ? answer : undefined,
      thoughtsTokenCount: isCount(thoughts) ? thoughts : undefined,
    });
    if (isCount(prompt)) {
      this.reported.promptTokens = prompt;
    }
    if (completion !== undefined) {
      this.reported.completionTokens = completion;
    }
    if (isCount(cached)) {
      this.reported.cachedPromptTokens = cached;
    }
    if (isCount(thoughts)) {
      this.reported.reasoningTokens = thoughts;
    }
  }
}

/**
 * What Anthropic's counts, as a stream has given them so far, report: the prompt (its input, cache reads and cache
 * writes together) and each cache part only once the prompt is known, the output as last given.
 */
export function anthropicStreamUsage(counts: AnthropicCounts): ReportedUsage {
  const prompt = anthropicPromptTokens(counts);
  const {
    output_tokens: output,
    cache_read_input_tokens: cacheRead,
    cache_creation_input_tokens: cacheWrite,
    cache_creation_1h: cacheWrite1h,
  } = counts;
  return {
    ...(prompt === undefined ? {} : { promptTokens: prompt }),
    ...(output === undefined ? {} : { completionTokens: output }),
    ...(prompt === undefined || cacheRead === undefined ? {} : { cachedPromptTokens: cacheRead }),
    ...(prompt === undefined || cacheWrite === undefined ? {} : { cacheWritePromptTokens: cacheWrite }),
    ...(prompt === undefined || cacheWrite1h === undefined ? {} : { cacheWrite1hPromptTokens: cacheWrite1h }),
  };
}
