import { ErrorCode, GatewayException } from '@openai-proxy/util-errors';
import type { ChatCompletionChunk, FinishReason } from '@openai-proxy/util-openai-schema';
import {
  type ChunkIdentity,
  type SseEvent,
  type StreamItem,
  type StreamTransformer,
  chunkItem,
  cutStreamItem,
  usageItem,
} from '@openai-proxy/util-sse';
import type { GeminiResponse, GeminiUsage } from './gemini.types';
import { toFinishReason } from './finish-reason.map';
import { callId, toChatUsage } from './response.transform';

export interface GeminiStreamOptions {
  id: string;
  createdSeconds: number;
  model: string;
  includeUsage: boolean;
}

/**
 * `streamGenerateContent?alt=sse` frames → OpenAI chunks, one transformer per stream. Text parts are deltas;
 * a function call arrives whole and becomes one tool_calls delta; the frame with a finishReason ends it.
 */
export class GeminiStreamTransformer implements StreamTransformer<SseEvent> {
  private started = false;
  private finished = false;
  private toolCalls = 0;
  private usage: GeminiUsage | undefined;
  private model: string;

  constructor(private readonly options: GeminiStreamOptions) {
    this.model = options.model;
  }

  transform(event: SseEvent): StreamItem[] {
    let frame: GeminiResponse & { error?: unknown };
    try {
      frame = JSON.parse(event.data) as GeminiResponse & { error?: unknown };
    } catch {
      return [
        {
          kind: 'error',
          error: new GatewayException(ErrorCode.UpstreamBadResponse, 'Gemini API sent an unreadable event'),
        },
      ];
    }
    if (frame.error !== undefined) {
      this.finished = true;
      const message = (frame.error as { message?: unknown }).message;
      return [
        {
          kind: 'error',
          error: new GatewayException(
            ErrorCode.UpstreamServerError,
            typeof message === 'string' ? message : 'Gemini API reported an error',
          ),
        },
      ];
    }
    this.model = frame.modelVersion ?? this.model;
    this.usage = frame.usageMetadata ?? this.usage;
    const items: StreamItem[] = [];
    if (!this.started) {
      this.started = true;
      items.push(this.chunk({ role: 'assistant', content: '' }, null));
    }
    const candidate = frame.candidates?.[0];
    for (const part of candidate?.content?.parts ?? []) {
      if (part.thought === true) {
        continue;
      }
      if (typeof part.text === 'string' && part.text !== '') {
        items.push(this.chunk({ content: part.text }, null));
      }
      if (part.functionCall !== undefined) {
        const index = this.toolCalls;
        this.toolCalls += 1;
        items.push(
          this.chunk(
            {
              tool_calls: [
                {
                  index,
                  id: callId(this.options.id, index),
                  type: 'function',
                  function: { name: part.functionCall.name, arguments: JSON.stringify(part.functionCall.args ?? {}) },
                },
              ],
            },
            null,
          ),
        );
      }
    }
    const blocked = frame.promptFeedback?.blockReason !== undefined && frame.candidates === undefined;
    if ((candidate?.finishReason !== undefined || blocked) && !this.finished) {
      this.finished = true;
      items.push(
        this.chunk({}, blocked ? 'content_filter' : toFinishReason(candidate?.finishReason, this.toolCalls > 0)),
      );
      if (this.options.includeUsage) {
        items.push(usageItem(this.identity(), toChatUsage(this.usage)));
      }
    }
    return items;
  }

  flush(): StreamItem[] {
    if (this.finished) {
      return [];
    }
    this.finished = true;
    return [cutStreamItem('Gemini API', 'its finishReason')];
  }

  private identity(): ChunkIdentity {
    return { id: `chatcmpl-${this.options.id}`, created: this.options.createdSeconds, model: this.model };
  }

  private chunk(delta: ChatCompletionChunk['choices'][number]['delta'], reason: FinishReason | null): StreamItem {
    return chunkItem(this.identity(), delta, reason);
  }
}
