import fc from 'fast-check';
import type { StreamTerminal } from './relay.types';
import { type StreamEnd, StreamEndWatch } from './stream-end';

const DONE: StreamTerminal = { lastData: '[DONE]' };
const ANTHROPIC: StreamTerminal = { finalEvents: ['message_stop', 'error'] };

/** Feeds `text` in pieces cut at `cuts` (byte offsets, ascending) and says how the watch saw the stream end. */
function endingWhenCutAt(terminal: StreamTerminal, text: string, cuts: readonly number[]): StreamEnd {
  const bytes = Buffer.from(text, 'utf8');
  const watch = new StreamEndWatch(terminal);
  let from = 0;
  for (const cut of [...cuts, bytes.length]) {
    watch.observe(bytes.subarray(from, cut));
    from = cut;
  }
  return watch.ending();
}

/** Whether the watch saw a complete stream in `text` cut at `cuts`. */
function completedWhenCutAt(terminal: StreamTerminal, text: string, cuts: readonly number[]): boolean {
  return endingWhenCutAt(terminal, text, cuts) === 'complete';
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

  describe('a provider error frame at the end of a [DONE] stream', () => {
    const chunk = (text: string): string =>
      `data: {"choices":[{"delta":{"content":${JSON.stringify(text)}},"index":0}]}\n\n`;
    const openAiError = (message: string): string =>
      `data: ${JSON.stringify({ error: { message, type: 'server_error', param: null, code: null } })}\n\n`;
    const anthropicError = (message: string): string =>
      `event: error\r\ndata: ${JSON.stringify({ type: 'error', error: { type: 'overloaded_error', message } })}\r\n\r\n`;

    it.each([
      ['an OpenAI error frame', chunk('Hel') + openAiError('the model fell over')],
      ['an error event', chunk('Hel') + anthropicError('Overloaded')],
      ['an error frame as the whole stream', openAiError('at once')],
      ['an error frame and a ping after it', `${chunk('Hel')}${openAiError('fell over')}: ping\n\n`],
    ])('should see %s as the end of a failed stream, however the reads are cut', (_name, text) => {
      for (const cuts of cuttings(text)) {
        expect(endingWhenCutAt(DONE, text, cuts)).toBe('provider-error');
      }
    });

    it.each([
      ['a frame after the error frame', openAiError('first') + chunk('then more')],
      ['an error quoted inside a chunk', chunk('data: {"error":{"message":"no"}}\n\n')],
      ['an error that is not an object', 'data: {"error":"a string"}\n\n'],
      ['an error frame cut in its middle', chunk('Hel') + openAiError('cut').slice(0, 30)],
    ])('should not see a provider error end in a stream with %s', (_name, text) => {
      for (const cuts of cuttings(text)) {
        expect(endingWhenCutAt(DONE, text, cuts)).toBe('cut');
      }
    });

    it("should see the upstream's own [DONE] after its error frame as a complete stream", () => {
      expect(endingWhenCutAt(DONE, `${openAiError('fell over')}data: [DONE]\n\n`, [])).toBe('complete');
    });

    it('should see the error frame that ends any stream, whatever its text and length and however its reads are cut', () => {
      fc.assert(
        fc.property(
          fc.array(fc.string({ unit: 'grapheme', maxLength: 40 }), { maxLength: 8 }),
          fc.nat({ max: 12_000 }),
          fc.string({ unit: 'grapheme', maxLength: 200 }),
          fc.boolean(),
          fc.array(fc.nat(), { maxLength: 12 }),
          (words, filler, message, asEvent, rawCuts) => {
            // The filler makes the stream longer than the tail kept, and not only at its start.
            const frames = [...words, 'x'.repeat(filler), ...words].map(chunk).join('');
            const text = frames + (asEvent ? anthropicError(message) : openAiError(message));
            const length = Buffer.byteLength(text, 'utf8');
            const cuts = [...new Set(rawCuts.map((cut) => cut % (length + 1)))].sort((a, b) => a - b);
            expect(endingWhenCutAt(DONE, text, cuts)).toBe('provider-error');
            expect(endingWhenCutAt(DONE, text + chunk('after'), cuts)).toBe('cut');
          },
        ),
      );
    });
  });
});
