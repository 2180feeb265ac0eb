import fc from 'fast-check';
import type { ServerResponse } from 'node:http';
import { ErrorCode, GatewayException } from '@openai-proxy/util-errors';
import { EventStreamWriter, MAX_HELD_FRAME_BYTES, lastFrameEnd } from './stream-watch';

/** Just what EventStreamWriter touches on a response, with the time of every write. */
class RecordingResponse {
  readonly writes: Array<{ at: number; text: string }> = [];
  writableEnded = false;
  writableNeedDrain = false;
  destroyed = false;

  write(chunk: Buffer | string): boolean {
    this.writes.push({ at: Date.now(), text: typeof chunk === 'string' ? chunk : chunk.toString('latin1') });
    return true;
  }

  end(chunk?: string): void {
    if (chunk !== undefined) {
      this.write(chunk);
    }
    this.writableEnded = true;
  }

  destroy(): void {
    this.destroyed = true;
  }

  /** Everything written, as latin1 text. */
  text(): string {
    return this.writes.map((write) => write.text).join('');
  }

  largestGap(from: number, to: number): number {
    const times = [from, ...this.writes.map((write) => write.at), to];
    return Math.max(...times.slice(1).map((time, index) => time - (times[index] ?? time)));
  }
}

function writerOn(response: RecordingResponse, heartbeatMs: number): EventStreamWriter {
  return new EventStreamWriter(response as unknown as ServerResponse, heartbeatMs, false);
}

describe(EventStreamWriter.name, () => {
  beforeEach(() => {
    jest.useFakeTimers({ now: 0 });
  });

  afterEach(() => {
    jest.useRealTimers();
  });

  it('should ping no later than the heartbeat after the last write when a frame arrived just after a tick (gaps reached twice the heartbeat)', () => {
    const response = new RecordingResponse();
    const writer = writerOn(response, 1_000);
    jest.advanceTimersByTime(1_001);
    writer.writeText('data: {"a":1}\n\n');
    jest.advanceTimersByTime(6_000);
    writer.stop();
    expect(response.writes.filter((write) => write.text === ': ping\n\n').length).toBeGreaterThanOrEqual(5);
    expect(response.largestGap(0, 7_001)).toBeLessThanOrEqual(1_100);
  });

  it('should not ping while frames keep arriving within the heartbeat', () => {
    const response = new RecordingResponse();
    const writer = writerOn(response, 1_000);
    for (let tick = 0; tick < 10; tick += 1) {
      jest.advanceTimersByTime(600);
      writer.writeText('data: {"a":1}\n\n');
    }
    writer.stop();
    expect(response.writes.every((write) => write.text !== ': ping\n\n')).toBe(true);
  });

  it('should hold an unfinished frame back when the stream stalls mid-frame, pinging between the frames sent', () => {
    const response = new RecordingResponse();
    const writer = writerOn(response, 1_000);
    writer.write(Buffer.from('data: {"a":1}\n\ndata: {"a":'));
    jest.advanceTimersByTime(2_500);
    writer.write(Buffer.from('2}\n\n'));
    writer.stop();
    expect(response.writes.map((write) => write.text)).toEqual([
      'data: {"a":1}\n\n',
      ': ping\n\n',
      ': ping\n\n',
      'data: {"a":2}\n\n',
    ]);
  });

  it('should stop pinging once stopped', () => {
    const response = new RecordingResponse();
    const writer = writerOn(response, 1_000);
    writer.stop();
    jest.advanceTimersByTime(5_000);
    expect(response.writes).toEqual([]);
    expect(jest.getTimerCount()).toBe(0);
  });

  it.each([
    ['LF LF', 'data: x\n\n'],
    ['CRLF CRLF', 'data: x\r\n\r\n'],
    ['CR CR', 'data: x\r\r'],
    ['LF then CRLF', 'data: x\n\r\n'],
    ['CR then CRLF', 'data: x\r\r\n'],
    ['CRLF then LF', 'data: x\r\n\n'],
    ['LF then CR', 'data: x\n\r'],
  ])('should see a frame boundary when a frame ends with %s (mixed line ends read as a cut frame)', (_name, text) => {
    const writer = writerOn(new RecordingResponse(), 0);
    writer.write(Buffer.from(text));
    expect(writer.atFrameBoundary).toBe(true);
  });

  it.each([
    ['one LF', 'data: x\n'],
    ['one CRLF', 'data: x\r\n'],
    ['no line end', 'data: x'],
  ])('should see no frame boundary when the bytes end with %s', (_name, text) => {
    const writer = writerOn(new RecordingResponse(), 0);
    writer.write(Buffer.from(text));
    expect(writer.atFrameBoundary).toBe(false);
  });

  it('should write a stream split anywhere as it came, once it ends between frames', () => {
    fc.assert(
      fc.property(streamText, splits, (text, cuts) => {
        const response = new RecordingResponse();
        const writer = writerOn(response, 0);
        for (const piece of piecesOf(text, cuts)) {
          writer.write(Buffer.from(piece, 'latin1'));
        }
        expect(writer.atFrameBoundary).toBe(true);
        writer.end();
        expect(response.text()).toBe(text);
      }),
    );
  });

  it('should never write part of a frame, and on a cut drop it for the error frame, however the stream is split', () => {
    fc.assert(
      fc.property(
        streamText,
        fc.string({ unit: fc.constantFrom('a', ':', ' ', '{'), minLength: 1 }),
        splits,
        (text, partial, cuts) => {
          const response = new RecordingResponse();
          const writer = writerOn(response, 0);
          for (const piece of piecesOf(text + partial, cuts)) {
            writer.write(Buffer.from(piece, 'latin1'));
            expect(endsBetweenFrames(response.text())).toBe(true);
          }
          expect(writer.atFrameBoundary).toBe(false);
          writer.fail(new GatewayException(ErrorCode.UpstreamConnectionReset, 'cut'));
          expect(response.text().startsWith(text)).toBe(true);
          expect(response.text().slice(text.length)).toMatch(/^data: \{"error":.*\n\ndata: \[DONE\]\n\n$/);
        },
      ),
    );
  });

  it('should let a frame longer than it holds go on as it comes, and close it before the error frame', () => {
    const response = new RecordingResponse();
    const writer = writerOn(response, 0);
    const long = `data: ${'x'.repeat(MAX_HELD_FRAME_BYTES)}`;
    writer.write(Buffer.from('data: 1\n\n'));
    writer.write(Buffer.from(long));
    expect(response.text()).toBe(`data: 1\n\n${long}`);
    writer.fail(new GatewayException(ErrorCode.UpstreamConnectionReset, 'cut'));
    expect(response.text().slice(`data: 1\n\n${long}`.length)).toMatch(/^\n\ndata: \{"error":/);
  });

  it('should send the blank line that closes an overlong frame at once, and ping again after it', () => {
    const response = new RecordingResponse();
    const writer = writerOn(response, 1_000);
    const long = `data: ${'x'.repeat(MAX_HELD_FRAME_BYTES)}\n`;
    writer.write(Buffer.from(long));
    writer.write(Buffer.from('\n'));
    expect(response.text()).toBe(`${long}\n`);
    jest.advanceTimersByTime(1_000);
    writer.stop();
    expect(response.text()).toBe(`${long}\n: ping\n\n`);
  });

  it('should send whole frames handed to it as such at once, a frame ending in a CR included', () => {
    const response = new RecordingResponse();
    const writer = writerOn(response, 0);
    expect(writer.hasSent).toBe(false);
    writer.writeFrames(Buffer.from('data: a\r\r'));
    expect(response.text()).toBe('data: a\r\r');
    expect(writer.hasSent).toBe(true);
  });

  it('should not count held bytes as sent', () => {
    const writer = writerOn(new RecordingResponse(), 0);
    writer.write(Buffer.from('data: a'));
    expect(writer.hasSent).toBe(false);
    writer.write(Buffer.from('\n\n'));
    expect(writer.hasSent).toBe(true);
  });

  it.each([
    ['a frame ending with LF LF', 'data: a\n\n', 9],
    ['a frame, then part of the next', 'data: a\n\ndata: b', 9],
    ['CRLF CRLF', 'data: a\r\n\r\nda', 11],
    ['a CR then a byte that is no LF', 'data: a\r\rd', 9],
    ['a CR on the last byte (an LF may follow)', 'data: a\r\n\r', 0],
    ['no blank line', 'data: a\n', 0],
  ])('should find where the last whole frame ends: %s', (_name, text, end) => {
    expect(lastFrameEnd(Buffer.from(text))).toBe(end);
  });
});

/** Event-stream text: frames of data and comment lines, then a blank line; one kind of line end per stream. */
const streamText = fc.constantFrom('\n', '\r\n', '\r').chain((lineEnd) => {
  const line = fc
    .tuple(fc.constantFrom('data: ', ': ', 'event: '), fc.string({ unit: fc.constantFrom('a', '{', '"', ' ', 'é') }))
    .map(([field, value]) => field + value + lineEnd);
  return fc
    .array(fc.array(line, { minLength: 1, maxLength: 3 }), { maxLength: 6 })
    .map((frames) => frames.map((lines) => lines.join('') + lineEnd).join(''));
});
const splits = fc.array(fc.nat({ max: 400 }), { maxLength: 8 });

/** Whether `text` is empty or ends with a blank line (CR LF, LF and CR all line ends). */
function endsBetweenFrames(text: string): boolean {
  return text === '' || text.replace(/\r\n/g, '\n').replace(/\r/g, '\n').endsWith('\n\n');
}

/** `text` cut at the given offsets (taken in order, any that fall outside ignored). */
function piecesOf(text: string, cuts: readonly number[]): string[] {
  const points = [...new Set(cuts.filter((cut) => cut > 0 && cut < text.length))].sort((a, b) => a - b);
  return [0, ...points].map((start, index) => text.slice(start, points[index] ?? text.length));
}
