import { ErrorCode, GatewayException } from '@openai-proxy/util-errors';
import type {
  ChatCompletionChunk,
  ChatUsage,
  FinishReason,
  PromptUsage,
  ProviderUsage,
} from '@openai-proxy/util-openai-schema';

/**
 * What a provider stream transformer yields for each source event: a chunk to send, or an error that ends
 * the stream with an OpenAI error frame. Transformers return these objects; only the encoder writes bytes.
 */
export type StreamItem = { kind: 'chunk'; chunk: ChatCompletionChunk } | { kind: 'error'; error: GatewayException };

/** A per-stream transformer (one object per stream, holding its own state). */
export interface StreamTransformer<Event> {
  transform(event: Event): StreamItem[];
  /** The source ended: whatever is left, or an error when the end came too early. */
  flush(): StreamItem[];
  /**
   * The usage the provider reported in this stream so far (undefined when none): read by the pipeline after the
   * stream, whether or not the client asked for a usage chunk.
   */
  usage?(): ProviderUsage | undefined;
  /**
   * The prompt's counts once the provider reported them, before the answer's end (undefined until then, and for a
   * provider that reports them only at the end): what a stream cut after them still tells of the prompt.
   */
  promptUsage?(): PromptUsage | undefined;
}

/** What every chunk of one stream shares (OpenAI requires one id and one created for a whole stream). */
export interface ChunkIdentity {
  id: string;
  created: number;
  model: string;
}

/** A chunk item of one stream: its identity, the choices and, on the last one, the usage. */
function streamChunk(identity: ChunkIdentity, choices: ChatCompletionChunk['choices'], usage?: ChatUsage): StreamItem {
  return {
    kind: 'chunk',
    chunk: {
      id: identity.id,
      object: 'chat.completion.chunk',
      created: identity.created,
      model: identity.model,
      choices,
      ...(usage === undefined ? {} : { usage }),
    },
  };
}

/** A chunk item with one choice. */
export function chunkItem(
  identity: ChunkIdentity,
  delta: ChatCompletionChunk['choices'][number]['delta'],
  finishReason: FinishReason | null = null,
  choiceIndex = 0,
): StreamItem {
  return streamChunk(identity, [{ index: choiceIndex, delta, logprobs: null, finish_reason: finishReason }]);
}

/** The last chunk of a stream with `stream_options.include_usage`: no choices, the usage. */
export function usageItem(identity: ChunkIdentity, usage: ChatUsage): StreamItem {
  return streamChunk(identity, [], usage);
}

/** A provider stream that ended before its own end marker: an error, never a clean success. */
export function cutStreamItem(provider: string, endMarker: string): StreamItem {
  return {
    kind: 'error',
    error: new GatewayException(ErrorCode.UpstreamConnectionReset, `${provider} stream ended before ${endMarker}`),
  };
}
