import type { SseEvent } from '@openai-proxy/util-sse';
import { ClaudeWebStreamEndWatch } from './stream-end.watch';

function event(data: string, name?: string): SseEvent {
  return { event: name, data, id: undefined };
}

function verdict(events: SseEvent[]): string[] {
  const watch = new ClaudeWebStreamEndWatch();
  const during = events.flatMap((item) => watch.transform(item));
  return [...during, ...watch.flush()].map((item) => (item.kind === 'error' ? item.error.code : 'chunk'));
}

describe(ClaudeWebStreamEndWatch.name, () => {
  it('should pass a completion stream when its last event has a stop_reason', () => {
    expect(
      verdict([event('{"completion":"Hi","stop_reason":null}'), event('{"stop_reason":"stop_sequence"}')]),
    ).toEqual([]);
  });

  it('should pass a Messages-shaped stream when it ends with message_stop', () => {
    const events = [
      event('{"type":"message_delta","delta":{"stop_reason":"end_turn"}}', 'message_delta'),
      event('{"type":"message_stop"}', 'message_stop'),
    ];
    expect(verdict(events)).toEqual([]);
  });

  it('should pass a stream when claude.ai ends it with its own error event', () => {
    expect(verdict([event('{"completion":"Hi"}'), event('{"error":{"type":"overloaded_error"}}')])).toEqual([]);
  });

  it('should yield nothing for a non-JSON line when a proper end follows it', () => {
    expect(verdict([event('not json'), event('[1,2]'), event('{"stop_reason":"max_tokens"}')])).toEqual([]);
  });

  it('should flag the stream when no end event came', () => {
    expect(
      verdict([event('{"completion":"Hi","stop_reason":null}'), event('{"type":"message_delta"}', 'message_delta')]),
    ).toEqual(['upstream_connection_reset']);
  });

  it('should flag the stream when its end event was cut in the middle of its JSON', () => {
    expect(
      verdict([event('{"completion":"","stop_reason":"stop_seq'), event('{"type":"message_st', 'message_stop')]),
    ).toEqual(['upstream_connection_reset']);
  });
});
