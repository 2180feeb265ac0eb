import type { ChatCompletionChunk, FinishReason, PromptUsage, ProviderUsage } from '@openai-proxy/util-openai-schema';
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
import { toGatewayError } from './error.transform';
import { geminiStreamFrameSchema } from './gemini.schema';
import type { GeminiCandidate, GeminiUsage } from './gemini.types';
import { toFinishReason } from './finish-reason.map';
import { callId, toChatUsage, toProviderUsage } from './response.transform';
import { withThoughtSignature } from './thought-signature.transform';

export interface GeminiStreamOptions {
  id: string;
  createdSeconds: number;
  model: string;
  includeUsage: boolean;
  /** `n`: how many candidates must finish before the stream is complete. */
  candidates: number;
}

interface CandidateState {
  toolCalls: number;
  finished: boolean;
}

/**
 * `streamGenerateContent?alt=sse` frames → OpenAI chunks, one transformer per stream. Each candidate is a
 * choice with its own index; text parts are deltas; a function call arrives whole and becomes one tool_calls
 * delta; the stream is complete (usage chunk, then [DONE]) once every candidate has its finishReason.
 */
export class GeminiStreamTransformer implements StreamTransformer<SseEvent> {
  private readonly states = new Map<number, CandidateState>();
  private finishedCount = 0;
  private complete = false;
  private counts: GeminiUsage | undefined;
  private model: string;

  constructor(private readonly options: GeminiStreamOptions) {
    this.model = options.model;
  }

  transform(event: SseEvent): StreamItem[] {
    const frame = parseEventData(geminiStreamFrameSchema, event.data);
    if (frame === undefined) {
      this.complete = true;
      return [unreadableEventItem('Gemini API')];
    }
    if (frame.error !== undefined) {
      this.complete = true;
      return [{ kind: 'error', error: toGatewayError(frame.error.code ?? 500, frame, undefined) }];
    }
    this.model = frame.modelVersion ?? this.model;
    this.counts = frame.usageMetadata ?? this.counts;
    if (frame.promptFeedback?.blockReason !== undefined && (frame.candidates ?? []).length === 0) {
      this.complete = true;
      return [...this.start(0), this.chunk({}, 'content_filter', 0), ...this.usageChunk()];
    }
    const items = (frame.candidates ?? []).flatMap((candidate, position) =>
      this.onCandidate(candidate, candidate.index ?? position),
    );
    if (!this.complete && this.finishedCount >= Math.max(1, this.options.candidates)) {
      this.complete = true;
      items.push(...this.usageChunk());
    }
    return items;
  }

  /** The last usageMetadata the stream carried; undefined before any. */
  usage(): ProviderUsage | undefined {
    return this.counts === undefined ? undefined : toProviderUsage(this.counts);
  }

  /** The prompt's counts, from the first usageMetadata that gives `promptTokenCount` (every chunk's does). */
  promptUsage(): PromptUsage | undefined {
    return this.counts?.promptTokenCount === undefined ? undefined : promptPartOf(toProviderUsage(this.counts));
  }

  flush(): StreamItem[] {
    if (this.complete) {
      return [];
    }
    this.complete = true;
    return [cutStreamItem('Gemini API', 'its finishReason')];
  }

  private start(index: number): StreamItem[] {
    if (this.states.has(index)) {
      return [];
    }
    this.states.set(index, { toolCalls: 0, finished: false });
    return [this.chunk({ role: 'assistant', content: '' }, null, index)];
  }

  private onCandidate(candidate: GeminiCandidate, index: number): StreamItem[] {
    const items = this.start(index);
    const state = this.states.get(index) as CandidateState;
    if (state.finished) {
      return items;
    }
    for (const part of candidate.content?.parts ?? []) {
      if (part.thought === true) {
        continue;
      }
      if (typeof part.text === 'string' && part.text !== '') {
        items.push(this.chunk({ content: part.text }, null, index));
      }
      if (part.functionCall !== undefined) {
        const call = {
          index: state.toolCalls,
          id: withThoughtSignature(callId(`${this.options.id}_${index}`, state.toolCalls), part.thoughtSignature),
          type: 'function' as const,
        };
        state.toolCalls += 1;
        items.push(
          this.chunk(
            {
              tool_calls: [
                {
                  ...call,
                  function: { name: part.functionCall.name, arguments: JSON.stringify(part.functionCall.args ?? {}) },
                },
              ],
            },
            null,
            index,
          ),
        );
      }
    }
    if (candidate.finishReason !== undefined) {
      state.finished = true;
      this.finishedCount += 1;
      items.push(this.chunk({}, toFinishReason(candidate.finishReason, state.toolCalls > 0), index));
    }
    return items;
  }

  private usageChunk(): StreamItem[] {
    return this.options.includeUsage ? [usageItem(this.identity(), toChatUsage(this.counts))] : [];
  }

  private identity(): ChunkIdentity {
    return { id: `chatcmpl-${this.options.id}`, created: this.options.createdSeconds, model: this.model };
  }

  private chunk(
    delta: ChatCompletionChunk['choices'][number]['delta'],
    reason: FinishReason | null,
    index: number,
  ): StreamItem {
    return chunkItem(this.identity(), delta, reason, index);
  }
}
