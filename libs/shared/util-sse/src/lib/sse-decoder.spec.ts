import { SseDecoder, type SseEvent } from './sse-decoder';
import { SSE_DONE_FRAME, encodeSseData, encodeSseEvent, isEventStream } from './sse-encoder';

const STREAM = [
  'event: message_start\ndata: {"type":"message_start"}\n\n',
  ': ping\n\n',
  'data: {"text":"你好，世界"}\r\n\r\n',
  'data: {"text":"emoji 👩‍💻🚀 done"}\n\n',
  'id: 7\ndata: line one\ndata: line two\n\n',
  SSE_DONE_FRAME,
].join('');

const EXPECTED: SseEvent[] = [
  { event: 'message_start', data: '{"type":"message_start"}', id: undefined },
  { event: undefined, data: '{"text":"你好，世界"}', id: undefined },
  { event: undefined, data: '{"text":"emoji 👩‍💻🚀 done"}', id: undefined },
  { event: undefined, data: 'line one\nline two', id: '7' },
  { event: undefined, data: '[DONE]', id: undefined },
];

function decodeInPieces(bytes: Buffer, cuts: number[]): SseEvent[] {
  const decoder = new SseDecoder();
  const events: SseEvent[] = [];
  let previous = 0;
  for (const cut of [...cuts, bytes.length]) {
    events.push(...decoder.push(bytes.subarray(previous, cut)));
    previous = cut;
  }
  events.push(...decoder.end());
  return events;
}

describe(SseDecoder.name, () => {
  const bytes = Buffer.from(STREAM, 'utf8');

  it('should decode a whole stream in one read', () => {
    expect(decodeInPieces(bytes, [])).toEqual(EXPECTED);
  });

  it('should decode the same events when the stream is split at every byte offset', () => {
    for (let offset = 1; offset < bytes.length; offset += 1) {
      expect(decodeInPieces(bytes, [offset])).toEqual(EXPECTED);
    }
  });

  it('should decode the same events when every byte arrives alone (UTF-8 split inside CJK and emoji)', () => {
    const cuts = Array.from({ length: bytes.length - 1 }, (_, index) => index + 1);
    const events = decodeInPieces(bytes, cuts);
    expect(events).toEqual(EXPECTED);
    expect(JSON.stringify(events)).not.toContain('\uFFFD');
  });

  it('should count comment lines without emitting events for them', () => {
    const decoder = new SseDecoder();
    expect(decoder.push(': ping\n\n: ping\n\n')).toEqual([]);
    expect(decoder.comments).toBe(2);
  });

  it('should dispatch several frames from one read', () => {
    const decoder = new SseDecoder();
    expect(decoder.push('data: a\n\ndata: b\n\ndata: c').map((event) => event.data)).toEqual(['a', 'b']);
    expect(decoder.push('\n\n').map((event) => event.data)).toEqual(['c']);
  });

  it('should dispatch a last frame with no blank line after it when the stream ends (end() dropped it)', () => {
    for (const tail of ['data: c', 'data: c\n', 'data: c\r', 'data: c\r\n', 'event: x\ndata: c']) {
      const decoder = new SseDecoder();
      expect(decoder.push(`data: a\n\n${tail}`).map((event) => event.data)).toEqual(['a']);
      expect(decoder.end().map((event) => event.data)).toEqual(['c']);
    }
  });

  it('should dispatch nothing at the end when the last frame was complete or only a comment', () => {
    for (const tail of ['', ': ping', 'event: x\n', '\n']) {
      const decoder = new SseDecoder();
      decoder.push(`data: a\n\n${tail}`);
      expect(decoder.end()).toEqual([]);
    }
  });
});

describe('sse encoder', () => {
  it('should frame data and named events', () => {
    expect(encodeSseData({ a: 1 })).toBe('data: {"a":1}\n\n');
    expect(encodeSseEvent('ping', { type: 'ping' })).toBe('event: ping\ndata: {"type":"ping"}\n\n');
  });

  it('should recognise event-stream content types', () => {
    expect(isEventStream('text/event-stream; charset=utf-8')).toBe(true);
    expect(isEventStream('application/json')).toBe(false);
    expect(isEventStream(undefined)).toBe(false);
  });
});
