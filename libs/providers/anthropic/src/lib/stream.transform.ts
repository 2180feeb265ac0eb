import type {
  ChatChunkToolCall,
  ChatCompletionChunk,
  FinishReason,
  PromptUsage,
  ProviderUsage,
} from '@openai-proxy/util-openai-schema';
import {
  type ChunkIdentity,
  type SseEvent,
  type StreamItem,
  type StreamTransformer,
  chunkItem,
  cutStreamItem,
  parseEventData,
  promptPartOf,
  unreadableEventItem,
  usageItem,
} from '@openai-proxy/util-sse';
import { type AnthropicStreamEvent, anthropicStreamEventSchema } from './anthropic.schema';
import type { AnthropicUsage } from './anthropic.types';
import { toGatewayError } from './error.transform';
import { toFinishReason } from './finish-reason.map';
import { toChatUsage, toProviderUsage } from './response.transform';

type StreamEventPayload = AnthropicStreamEvent;

/** The counts a usage report carries: a null means "not reported here" and must not replace an earlier count. */
function reportedCounts(usage: AnthropicUsage | undefined): AnthropicUsage {
  return Object.fromEntries(Object.entries(usage ?? {}).filter(([, count]) => count !== null && count !== undefined));
}

export interface AnthropicStreamOptions {
  createdSeconds: number;
  /** The requested model, until message_start names the one that answers. */
  model: string;
  includeUsage: boolean;
}

/**
 * Anthropic stream events → OpenAI chat.completion.chunk objects, one transformer per stream
 * (docs/provider-mapping.md). Each source event yields its chunks at once.
 */
export class AnthropicStreamTransformer implements StreamTransformer<SseEvent> {
  private id = 'chatcmpl-anthropic';
  private model: string;
  private counts: AnthropicUsage = {};
  private usageSeen = false;
  private readonly toolIndexByBlock = new Map<number, number>();
  /** Tool blocks that have received input JSON; one without any gets `{}` (what the non-streamed answer says). */
  private readonly toolsWithInput = new Set<number>();
  private finished = false;

  constructor(private readonly options: AnthropicStreamOptions) {
    this.model = options.model;
  }

  transform(event: SseEvent): StreamItem[] {
    const payload = parseEventData(anthropicStreamEventSchema, event.data);
    if (payload === undefined) {
      this.finished = true;
      return [unreadableEventItem('Anthropic API')];
    }
    switch (payload.type ?? event.event ?? '') {
      case 'message_start':
        return this.onMessageStart(payload);
      case 'content_block_start':
        return this.onBlockStart(payload);
      case 'content_block_delta':
        return this.onBlockDelta(payload);
      case 'content_block_stop':
        return this.onBlockStop(payload);
      case 'message_delta':
        return this.onMessageDelta(payload);
      case 'message_stop':
        return this.onMessageStop();
      case 'error':
        this.finished = true;
        return [{ kind: 'error', error: toGatewayError(undefined, payload) }];
      default:
        return [];
    }
  }

  /** What message_start and the message_delta events reported; undefined before any of them. */
  usage(): ProviderUsage | undefined {
    return this.usageSeen ? toProviderUsage(this.counts) : undefined;
  }

  /** The prompt's counts, from message_start on (its input count is the prompt's, before any of the answer). */
  promptUsage(): PromptUsage | undefined {
    return typeof this.counts.input_tokens === 'number' ? promptPartOf(toProviderUsage(this.counts)) : undefined;
  }

  /** The stream ended: without message_stop it was cut, which must not look like a success. */
  flush(): StreamItem[] {
    if (this.finished) {
      return [];
    }
    this.finished = true;
    return [cutStreamItem('Anthropic API', 'message_stop')];
  }

  private chunk(
    delta: ChatCompletionChunk['choices'][number]['delta'],
    finishReason: FinishReason | null = null,
  ): StreamItem {
    return chunkItem(this.identity(), delta, finishReason);
  }

  private identity(): ChunkIdentity {
    return { id: this.id, created: this.options.createdSeconds, model: this.model };
  }

  private onMessageStart(payload: StreamEventPayload): StreamItem[] {
    this.id = `chatcmpl-${payload.message?.id ?? 'anthropic'}`;
    this.model = payload.message?.model ?? this.model;
    this.counts = { ...payload.message?.usage };
    this.usageSeen = payload.message?.usage !== undefined;
    return [this.chunk({ role: 'assistant', content: '' })];
  }

  private onBlockStart(payload: StreamEventPayload): StreamItem[] {
    const block = payload.content_block;
    if (block?.type !== 'tool_use' || payload.index === undefined) {
      return [];
    }
    const toolIndex = this.toolIndexByBlock.size;
    this.toolIndexByBlock.set(payload.index, toolIndex);
    const call: ChatChunkToolCall = {
      index: toolIndex,
      id: block.id ?? '',
      type: 'function',
      function: { name: block.name ?? '', arguments: '' },
    };
    return [this.chunk({ tool_calls: [call] })];
  }

  private onBlockDelta(payload: StreamEventPayload): StreamItem[] {
    const delta = payload.delta;
    if (delta?.type === 'text_delta' && typeof delta.text === 'string') {
      return [this.chunk({ content: delta.text })];
    }
    if (delta?.type === 'input_json_delta' && typeof delta.partial_json === 'string' && payload.index !== undefined) {
      const toolIndex = this.toolIndexByBlock.get(payload.index);
      if (delta.partial_json === '') {
        return [];
      }
      this.toolsWithInput.add(payload.index);
      return toolIndex === undefined
        ? []
        : [this.chunk({ tool_calls: [{ index: toolIndex, function: { arguments: delta.partial_json } }] })];
    }
    return [];
  }

  private onBlockStop(payload: StreamEventPayload): StreamItem[] {
    const toolIndex = payload.index === undefined ? undefined : this.toolIndexByBlock.get(payload.index);
    if (toolIndex === undefined || payload.index === undefined || this.toolsWithInput.has(payload.index)) {
      return [];
    }
    return [this.chunk({ tool_calls: [{ index: toolIndex, function: { arguments: '{}' } }] })];
  }

  private onMessageDelta(payload: StreamEventPayload): StreamItem[] {
    this.counts = { ...this.counts, ...reportedCounts(payload.usage) };
    this.usageSeen ||= payload.usage !== undefined;
    return [this.chunk({}, toFinishReason(payload.delta?.stop_reason))];
  }

  private onMessageStop(): StreamItem[] {
    this.finished = true;
    return this.options.includeUsage ? [usageItem(this.identity(), toChatUsage(this.counts))] : [];
  }
}
