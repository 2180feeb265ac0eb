import { z } from 'zod';
import {
  type SseEvent,
  type StreamItem,
  type StreamTransformer,
  cutStreamItem,
  parseEventData,
} from '@openai-proxy/util-sse';

/**
 * The fields of a raw append_message event that tell whether it ends the stream, in either shape claude.ai
 * answers with: completion events (the last one has a `stop_reason` text) or Messages events (the last one is
 * `message_stop`; its `stop_reason` sits inside `message_delta.delta`, one event earlier). An error event also
 * ends a stream: the client already reads the provider's own error. Every other field is left unread.
 */
const endFieldsSchema = z.looseObject({
  type: z.string().optional(),
  stop_reason: z.string().nullish(),
  error: z.unknown().optional(),
});

/** True for an event that ends the stream; its `data` must be a whole JSON object (a cut frame is not an end). */
function endsStream(event: SseEvent): boolean {
  const fields = parseEventData(endFieldsSchema, event.data);
  if (fields === undefined) {
    return false;
  }
  const { type, stop_reason: stopReason, error } = fields;
  return (
    event.event === 'message_stop' ||
    event.event === 'error' ||
    typeof stopReason === 'string' ||
    type === 'message_stop' ||
    type === 'error' ||
    (typeof error === 'object' && error !== null)
  );
}

/**
 * Watches the raw append_message / retry_message pass-through, whose events reach the client untouched: it
 * yields nothing while the stream runs (a line it cannot read is the client's to read, not an error) and, at
 * the end, an error only when no end event came whole: the stream stopped early, or in the middle of its last
 * frame (a cut JSON text is not an end event). What follows a whole end event adds nothing the client needs.
 */
export class ClaudeWebStreamEndWatch implements StreamTransformer<SseEvent> {
  private ended = false;

  transform(event: SseEvent): StreamItem[] {
    this.ended ||= endsStream(event);
    return [];
  }

  flush(): StreamItem[] {
    return this.ended ? [] : [cutStreamItem('claude.ai', 'its end event')];
  }
}
