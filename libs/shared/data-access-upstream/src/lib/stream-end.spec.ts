import type { StreamTerminal } from './relay.types';
import { StreamEndWatch } from './stream-end';

const DONE: StreamTerminal = { lastData: '[DONE]' };
const ANTHROPIC: StreamTerminal = { finalEvents: ['message_stop', 'error'] };

/** Feeds `text` in pieces cut at `cuts` (byte offsets) and says whether the watch saw a complete stream. */
function completedWhenCutAt(terminal: StreamTerminal, text: string, cuts: readonly number[]): boolean {
  const bytes = Buffer.from(text, 'utf8');
  const watch = new StreamEndWatch(terminal);
  let from = 0;
  for (const cut of [...cuts, bytes.length]) {
    watch.observe(bytes.subarray(from, cut));
    from = cut;
  }
  return watch.completed();
}

/** Every way to cut `text` in two, and in pieces of one byte. */
function cuttings(text: string): number[][] {
  const length = Buffer.byteLength(text, 'utf8');
  const inTwo = Array.from({ length: length + 1 }, (_, cut) => [cut]);
  return [...inTwo, Array.from({ length }, (_, cut) => cut)];
}

const anthropicStream = (last: string): string =>
  'event: message_start\ndata: {"type":"message_start"}\n\n' +
  'event: content_block_delta\ndata: {"type":"content_block_delta","delta":{"text":"event: message_stop \\n"}}\n\n' +
  last;

describe(StreamEndWatch.name, () => {
  it.each([
    ['LF', 'data: {"a":1}\n\ndata: [DONE]\n\n'],
    ['CRLF', 'data: {"a":1}\r\n\r\ndata: [DONE]\r\n\r\n'],
    ['no space after the colon', 'data: {"a":1}\n\ndata:[DONE]\n\n'],
    ['only the terminal', 'data: [DONE]\n\n'],
  ])('should see data: [DONE] as the end when it is the last frame (%s), however the reads are cut', (_name, text) => {
    for (const cuts of cuttings(text)) {
      expect(completedWhenCutAt(DONE, text, cuts)).toBe(true);
    }
  });

  it.each([
    ['no terminal', 'data: {"a":1}\n\n'],
    ['a frame after the terminal', 'data: [DONE]\n\ndata: {"a":1}\n\n'],
    ['the terminal inside data', 'data: {"text":"data: [DONE]"}\n\n'],
    ['nothing at all', ''],
  ])('should not see an end in a stream with %s', (_name, text) => {
    for (const cuts of cuttings(text)) {
      expect(completedWhenCutAt(DONE, text, cuts)).toBe(false);
    }
  });

  it('should see a final event however the reads are cut, and not one quoted inside data', () => {
    const complete = anthropicStream('event: message_stop\r\ndata: {"type":"message_stop"}\r\n\r\n');
    const failed = anthropicStream('event: error\ndata: {"type":"error"}\n\n');
    const cut = anthropicStream('event: message_delta\ndata: {"type":"message_delta"}\n\n');
    for (const cuts of cuttings(complete)) {
      expect(completedWhenCutAt(ANTHROPIC, complete, cuts)).toBe(true);
    }
    for (const cuts of cuttings(failed)) {
      expect(completedWhenCutAt(ANTHROPIC, failed, cuts)).toBe(true);
    }
    for (const cuts of cuttings(cut)) {
      expect(completedWhenCutAt(ANTHROPIC, cut, cuts)).toBe(false);
    }
  });

  it('should see a final event at the very start of the stream and after a long data line', () => {
    expect(completedWhenCutAt(ANTHROPIC, 'event: message_stop\ndata: {}\n\n', [])).toBe(true);
    const long = `event: delta\ndata: {"text":"${'x'.repeat(100_000)}"}\n\nevent: message_stop\ndata: {}\n\n`;
    expect(completedWhenCutAt(ANTHROPIC, long, [50_000, 100_030])).toBe(true);
  });

  it('should not take an event whose name only starts like a final one', () => {
    expect(completedWhenCutAt(ANTHROPIC, 'event: message_stopped\ndata: {}\n\n', [])).toBe(false);
  });
});
