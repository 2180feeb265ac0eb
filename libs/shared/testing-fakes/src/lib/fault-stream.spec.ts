import { type IncomingMessage, get } from 'node:http';
import { connect } from 'node:net';
import { constants, gunzipSync } from 'node:zlib';
import { Agent, request } from 'undici';
import { SseDecoder } from '@openai-proxy/util-sse';
import { readChunks } from './body-chunks';
import { anthropicFrames, anthropicStreamError, errorAfter, openAiChatFrames, openAiStreamError } from './fault-frames';
import { offsetInside, streamAnswer } from './fault-plans';
import { FaultUpstream } from './fault-upstream';

const FRAMES = openAiChatFrames(['Hel', 'lo', '!']);

let fault: FaultUpstream;
let agent: Agent;

beforeEach(async () => {
  fault = await FaultUpstream.start();
  agent = new Agent({ headersTimeout: 2_000, bodyTimeout: 2_000 });
});

afterEach(async () => {
  await agent.close();
  await fault.close();
});

/** Sends a GET on a raw socket; resolves with the bytes that came and how the socket ended (`end`, or the error code). */
function rawGet(url: string): Promise<{ received: string; ending: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname);
    const chunks: Buffer[] = [];
    const settle = (ending: string): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ received: Buffer.concat(chunks).toString('latin1'), ending });
    };
    const timer = setTimeout(() => settle('timeout'), 5_000);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.once('end', () => settle('end'));
    socket.once('error', (error: NodeJS.ErrnoException) => settle(error.code ?? error.message));
    socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
  });
}

function nodeGet(url: string): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => get(url, resolve).once('error', reject));
}

function byteLengths(chunks: readonly Buffer[]): number[] {
  return chunks.map((chunk) => chunk.length);
}

function text(chunks: readonly Buffer[]): string {
  return Buffer.concat(chunks).toString('utf8');
}

describe(`${FaultUpstream.name} streams`, () => {
  it('should stall after the planned chunks, so a client with a body timeout gives up', async () => {
    fault.next(streamAnswer(FRAMES, { cut: { afterWrites: 2, how: 'stall' } }));
    const impatient = new Agent({ bodyTimeout: 200 });
    try {
      const answer = await request(fault.url, { dispatcher: impatient });
      const read = await readChunks(answer.body);
      expect(text(read.chunks)).toBe(FRAMES.slice(0, 2).join(''));
      expect(read.error).toMatchObject({ code: 'UND_ERR_BODY_TIMEOUT' });
    } finally {
      await impatient.close();
    }
    const record = await fault.waitForRecord();
    await fault.waitForSocketClose(record);
    expect(record.writes).toEqual(byteLengths(FRAMES.slice(0, 2).map((frame) => Buffer.from(frame))));
    expect(record.request.closedEarly).toBe(true);
  });

  it('should end the answer cleanly after the planned chunks, without the stream terminator', async () => {
    fault.next(streamAnswer(FRAMES, { cut: { afterWrites: 3, how: 'close' } }));
    const answer = await request(fault.url, { dispatcher: agent });
    const read = await readChunks(answer.body);
    expect(read.error).toBeUndefined();
    expect(text(read.chunks)).toBe(FRAMES.slice(0, 3).join(''));
    expect(text(read.chunks)).not.toContain('[DONE]');
    const record = await fault.waitForRecord();
    expect(record.writes).toHaveLength(3);
    expect(record.request.closedEarly).toBe(false);
  });

  it('should reset the connection after the planned chunks, so the client sees ECONNRESET', async () => {
    fault.next(streamAnswer(FRAMES, { cut: { afterWrites: 2, how: 'reset' } }));
    const { received, ending } = await rawGet(fault.url);
    expect(received).toContain(FRAMES[1]);
    expect(received).not.toContain(FRAMES[2]);
    expect(ending).toBe('ECONNRESET');
    const record = await fault.waitForRecord();
    await fault.waitForSocketClose(record);
    expect(record.writes).toHaveLength(2);
    expect(record.request.closedEarly).toBe(true);
  });

  it.each([
    [
      'Anthropic',
      errorAfter(anthropicFrames(['Hi', ' there']), 3, anthropicStreamError('overloaded_error', 'Overloaded')),
    ],
    ['OpenAI', errorAfter(FRAMES, 2, openAiStreamError('The server had an error'))],
  ])('should send the %s error event in the middle of a stream and end it', async (_provider, frames) => {
    fault.next(streamAnswer(frames));
    const answer = await request(fault.url, { dispatcher: agent });
    const read = await readChunks(answer.body);
    const decoder = new SseDecoder();
    const events = [...read.chunks.flatMap((chunk) => decoder.push(chunk)), ...decoder.end()];
    expect(read.error).toBeUndefined();
    expect(events).toHaveLength(frames.length);
    expect(events.at(-1)?.data).toMatch(/"error":\{"(message|type)"/);
    expect(events.slice(0, -1).map((event) => event.data)).not.toContainEqual(expect.stringContaining('"error"'));
    expect((await fault.waitForRecord()).writes).toHaveLength(frames.length);
  });

  it('should split the frames across writes at the chosen byte offsets', async () => {
    const body = FRAMES.join('');
    fault.next(streamAnswer(FRAMES, { splitAt: [5, 40, 41] }));
    const answer = await request(fault.url, { dispatcher: agent });
    const read = await readChunks(answer.body);
    expect(text(read.chunks)).toBe(body);
    expect(byteLengths(read.chunks)).toEqual([5, 35, 1, Buffer.byteLength(body) - 41]);
    expect((await fault.waitForRecord()).writes).toEqual([5, 35, 1, Buffer.byteLength(body) - 41]);
  });

  it('should split a UTF-8 character across writes, so only a streaming decoder reads it whole', async () => {
    const frame = 'data: {"content":"h\u00e9llo \u4e16\u754c"}\n\n';
    fault.next(streamAnswer([frame], { splitAt: [offsetInside(frame, '\u4e16')] }));
    const read = await readChunks(await nodeGet(fault.url));
    expect(read.chunks).toHaveLength(2);
    expect(read.chunks[0]?.toString('utf8')).toMatch(/\uFFFD$/);
    const decoder = new TextDecoder();
    expect(read.chunks.map((chunk) => decoder.decode(chunk, { stream: true })).join('')).toBe(frame);
    const record = await fault.waitForRecord();
    expect(record.writes).toEqual(byteLengths(read.chunks));
  });

  it('should gzip the body, each frame flushed so it decodes on its own', async () => {
    fault.next(streamAnswer(FRAMES, { gzip: true }), streamAnswer(FRAMES, { gzip: true }));
    const raw = await request(fault.url, { dispatcher: agent });
    expect(raw.headers['content-encoding']).toBe('gzip');
    const read = await readChunks(raw.body);
    expect(read.chunks).toHaveLength(FRAMES.length);
    expect(gunzipSync(read.chunks[0] ?? Buffer.alloc(0), { finishFlush: constants.Z_SYNC_FLUSH }).toString()).toBe(
      FRAMES[0],
    );
    expect(gunzipSync(Buffer.concat(read.chunks)).toString()).toBe(FRAMES.join(''));

    const decoded = await fetch(fault.url);
    expect(await decoded.text()).toBe(FRAMES.join(''));
    const records = await fault.waitFor(() => (fault.records.length === 2 ? fault.records : undefined));
    expect(records.map((record) => record.writes)).toEqual([byteLengths(read.chunks), byteLengths(read.chunks)]);
  });
});
