import { redactText } from '@openai-proxy/util-auth-headers';
import { ErrorCode, GatewayException } from '@openai-proxy/util-errors';
import type { ChatCompletionChunk, FinishReason } from '@openai-proxy/util-openai-schema';
import {
  type SseEvent,
  type StreamItem,
  type StreamTransformer,
  chunkItem,
  cutStreamItem,
  parseEventData,
  unreadableEventItem,
} from '@openai-proxy/util-sse';
import { completionEventSchema } from './claude-web.schema';

function finishReason(stopReason: string): FinishReason {
  return stopReason === 'max_tokens' ? 'length' : 'stop';
}

export interface ClaudeWebStreamOptions {
  id: string;
  createdSeconds: number;
  model: string;
}

/**
 * claude.ai completion events → OpenAI chunks: each `completion` delta is one chunk as it arrives. The stream
 * ends at the first stop_reason or error; events after it yield nothing.
 */
export class ClaudeWebStreamTransformer implements StreamTransformer<SseEvent> {
  private started = false;
  private finished = false;

  constructor(private readonly options: ClaudeWebStreamOptions) {}

  transform(event: SseEvent): StreamItem[] {
    if (this.finished) {
      // The client already read the end (its finish reason or an error): whatever claude.ai sends after it
      // would be a chunk after the end, a second finish or a second error.
      return [];
    }
    const payload = parseEventData(completionEventSchema, event.data);
    if (payload === undefined) {
      this.finished = true;
      return [unreadableEventItem('claude.ai')];
    }
    if (payload.error !== undefined) {
      this.finished = true;
      return [
        {
          kind: 'error',
          error: new GatewayException(
            ErrorCode.UpstreamBadResponse,
            redactText(payload.error.message ?? 'claude.ai reported an error'),
          ),
        },
      ];
    }
    const items: StreamItem[] = [];
    if (!this.started) {
      this.started = true;
      items.push(this.chunk({ role: 'assistant', content: '' }, null));
    }
    if (typeof payload.completion === 'string' && payload.completion !== '') {
      items.push(this.chunk({ content: payload.completion }, null));
    }
    if (typeof payload.stop_reason === 'string') {
      this.finished = true;
      items.push(this.chunk({}, finishReason(payload.stop_reason)));
    }
    return items;
  }

  flush(): StreamItem[] {
    if (this.finished) {
      return [];
    }
    this.finished = true;
    return [cutStreamItem('claude.ai', 'its stop_reason')];
  }

  private chunk(delta: ChatCompletionChunk['choices'][number]['delta'], reason: FinishReason | null): StreamItem {
    return chunkItem(
      { id: this.options.id, created: this.options.createdSeconds, model: this.options.model },
      delta,
      reason,
    );
  }
}
