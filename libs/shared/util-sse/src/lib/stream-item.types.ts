import type { GatewayException } from '@openai-proxy/util-errors';
import type { ChatCompletionChunk } from '@openai-proxy/util-openai-schema';

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
}
