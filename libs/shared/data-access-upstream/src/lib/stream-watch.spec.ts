import type { ServerResponse } from 'node:http';
import { EventStreamWriter } from './stream-watch';

/** Just what EventStreamWriter touches on a response, with the time of every write. */
class RecordingResponse {
  readonly writes: Array<{ at: number; text: string }> = [];
  writableEnded = false;
  destroyed = false;

  write(chunk: Buffer | string): boolean {
    this.writes.push({ at: Date.now(), text: chunk.toString() });
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

  it('should not ping inside a frame when the stream stalls mid-frame', () => {
    const response = new RecordingResponse();
    const writer = writerOn(response, 1_000);
    writer.writeText('data: {"a":');
    jest.advanceTimersByTime(5_000);
    writer.stop();
    expect(response.writes.map((write) => write.text)).toEqual(['data: {"a":']);
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
});
