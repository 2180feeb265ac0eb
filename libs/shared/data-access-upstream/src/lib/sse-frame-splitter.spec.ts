import fc from 'fast-check';
import { SseDecoder, type SseEvent } from '@openai-proxy/util-sse';
import { SseFrameSplitter } from './sse-frame-splitter';

const LINE_ENDS = ['\n', '\r\n', '\r'] as const;
/** Events of this name are the ones a watcher drops. */
const DROPPED = 'usage';

/** One frame as generated: its text, the event it must dispatch, and whether the watcher drops it. */
interface GeneratedFrame {
  text: string;
  event: SseEvent | undefined;
  dropped: boolean;
}

/** Text of one field value: any characters (CJK, emoji, joined graphemes) but no line ends. */
const valueText = fc.string({ unit: 'grapheme', maxLength: 12 }).map((text) => text.replace(/[\r\n]/g, ''));

/** Joins lines with the given line ends; a CR is never followed by a line end that is an LF (that is one CR LF). */
function joinLines(lines: readonly string[], ends: readonly string[]): string {
  let text = '';
  let previous = '';
  lines.forEach((line, index) => {
    let end = ends[index % ends.length] ?? '\n';
    if (line === '' && previous.endsWith('\r') && end === '\n') {
      end = '\r\n';
    }
    text += line + end;
    previous = end;
  });
  return text;
}

const dataFrame = fc
  .record({
    name: fc.option(fc.constantFrom('delta', 'message', DROPPED), { nil: undefined }),
    data: fc.array(valueText, { minLength: 1, maxLength: 3 }),
    comment: fc.boolean(),
    ends: fc.array(fc.constantFrom(...LINE_ENDS), { minLength: 1, maxLength: 6 }),
  })
  .map(({ name, data, comment, ends }): GeneratedFrame => {
    const lines = [
      ...(comment ? [': note'] : []),
      ...(name === undefined ? [] : [`event: ${name}`]),
      ...data.map((line) => `data: ${line}`),
      '',
    ];
    return {
      text: joinLines(lines, ends),
      event: { event: name, data: data.join('\n'), id: undefined },
      dropped: name === DROPPED,
    };
  });

const commentFrame = fc
  .constantFrom(...LINE_ENDS)
  .map((end): GeneratedFrame => ({ text: `: ping${end}${end}`, event: undefined, dropped: false }));

/** A stream of whole frames, and maybe a last frame cut before its blank line. */
const eventStream = fc.record({
  frames: fc.array(fc.oneof(dataFrame, commentFrame), { maxLength: 8 }),
  cut: fc.constantFrom('', 'data: {"te', 'event: x\r\ndata: y\r\n', 'data: 你'),
});

/** Feeds `bytes` in the pieces `cuts` makes; returns the events seen, the kept bytes, and the rest at the end. */
function splitInPieces(bytes: Buffer, cuts: readonly number[]): { events: SseEvent[]; kept: Buffer; rest: Buffer } {
  const splitter = new SseFrameSplitter();
  const events: SseEvent[] = [];
  const kept: Buffer[] = [];
  const offsets = [...new Set(cuts.map((cut) => cut % (bytes.length + 1)))].sort((a, b) => a - b);
  let previous = 0;
  const take = (frames: ReturnType<SseFrameSplitter['push']>): void => {
    for (const frame of frames) {
      if (frame.event !== undefined) {
        events.push(frame.event);
      }
      if (frame.event?.event !== DROPPED) {
        kept.push(frame.bytes);
      }
    }
  };
  for (const offset of [...offsets, bytes.length]) {
    take(splitter.push(bytes.subarray(previous, offset)));
    previous = offset;
  }
  const atEnd = splitter.end();
  take(atEnd.frames);
  return { events, kept: Buffer.concat(kept), rest: atEnd.rest };
}

describe(SseFrameSplitter.name, () => {
  it('should give the same events, kept bytes and cut rest for any split of any event stream', () => {
    fc.assert(
      fc.property(eventStream, fc.array(fc.nat(), { maxLength: 12 }), ({ frames, cut }, cuts) => {
        const bytes = Buffer.from(frames.map((frame) => frame.text).join('') + cut, 'utf8');
        const split = splitInPieces(bytes, cuts);
        const expectedEvents = frames.flatMap((frame) => (frame.event === undefined ? [] : [frame.event]));
        const keptText = frames
          .filter((frame) => !frame.dropped)
          .map((frame) => frame.text)
          .join('');
        expect(split.events).toEqual(expectedEvents);
        expect(split.kept.toString('utf8')).toBe(keptText);
        expect(split.rest.toString('utf8')).toBe(cut);
      }),
      { numRuns: 300 },
    );
  });

  it('should read the same events as the stream decoder does from the whole stream', () => {
    fc.assert(
      fc.property(eventStream, fc.array(fc.nat(), { maxLength: 12 }), ({ frames }, cuts) => {
        const bytes = Buffer.from(frames.map((frame) => frame.text).join(''), 'utf8');
        const decoder = new SseDecoder();
        const whole = [...decoder.push(bytes), ...decoder.end()];
        expect(splitInPieces(bytes, cuts).events).toEqual(whole);
      }),
      { numRuns: 200 },
    );
  });

  it('should hold a frame that ends on a CR until the next byte, and take an LF there as its own', () => {
    const splitter = new SseFrameSplitter();
    expect(splitter.push(Buffer.from('data: a\r\r'))).toEqual([]);
    const [frame] = splitter.push(Buffer.from('\ndata: b\n\n'));
    expect(frame?.bytes.toString()).toBe('data: a\r\r\n');
    expect(frame?.event?.data).toBe('a');
  });

  it('should complete a frame that ends on a CR when the stream ends there', () => {
    const splitter = new SseFrameSplitter();
    splitter.push(Buffer.from('data: a\r\r'));
    const atEnd = splitter.end();
    expect(atEnd.frames.map((frame) => frame.event?.data)).toEqual(['a']);
    expect(atEnd.rest.length).toBe(0);
  });

  it('should join a UTF-8 character split between reads, with no U+FFFD', () => {
    const bytes = Buffer.from('data: 你好🚀\n\n', 'utf8');
    for (let offset = 1; offset < bytes.length; offset += 1) {
      const splitter = new SseFrameSplitter();
      const frames = [...splitter.push(bytes.subarray(0, offset)), ...splitter.push(bytes.subarray(offset))];
      expect(frames.map((frame) => frame.event?.data)).toEqual(['你好🚀']);
    }
  });
});
