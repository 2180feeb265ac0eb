import { z } from 'zod';
import { FakeUpstream, type RecordedRequest, sse } from '@openai-proxy/testing-fakes';
import { SSE_DONE_FRAME } from '@openai-proxy/util-sse';
import { ServiceProcess, gatewayServiceUrls } from './support/service-process';
import { HeldRequest, waitUntilRefused } from './support/shutdown-probes';
import {
  type StreamRead,
  ClientStream,
  STREAMED_CHAT_BODY,
  USAGE_FRAME,
  chatChunkFrame,
  chatStreamFrames,
} from './support/slow-streams';

// The built gateway and openai-relay (apps/*/dist/main.js, what `npm start` runs) as real processes, so that
// SIGTERM, the drain and the exit code are the production ones, not a call to shutdownServiceApp in the test.

const STREAMS = 20;
const CHUNKS = 20;
/** 20 chunks 100 ms apart: each stream lasts about 2 s, well inside DRAIN_MS. */
const CHUNK_GAP_MS = 100;
const DRAIN_MS = 5_000;
/** After the drain: one more second for what is left to end, the closing of the app, the process exit. */
const EXIT_SLACK_MS = 2_000;
/** How long a client reads one stream at most. */
const READ_WITHIN_MS = 15_000;
/** How soon after SIGTERM a service must stop accepting connections. */
const REFUSE_WITHIN_MS = 1_000;

const CHAT_PATH = '/v1/chat/completions';

const errorFrameSchema = z.object({ error: z.object({ code: z.unknown() }) });

/** The `error.code` of an OpenAI error frame (`data: {"error":…}`); undefined for any other frame. */
function errorCodeOf(frame: string): unknown {
  if (!frame.startsWith('data: {"error"')) {
    return undefined;
  }
  return errorFrameSchema.safeParse(JSON.parse(frame.slice('data: '.length))).data?.error.code;
}

/** The frames of an event stream's text, each with its blank-line terminator. */
function framesOf(text: string): string[] {
  return text
    .split('\n\n')
    .filter((frame) => frame !== '')
    .map((frame) => `${frame}\n\n`);
}

describe('SIGTERM with 20 streams open (the built gateway and openai-relay as processes)', () => {
  let openai: FakeUpstream;
  const started: ServiceProcess[] = [];

  beforeAll(async () => {
    openai = await FakeUpstream.start();
  });

  afterEach(async () => {
    await Promise.all(started.splice(0).map((service) => service.stop()));
  });

  afterAll(async () => {
    await openai.close();
  });

  /** The relay in front of the fake OpenAI, then the gateway in front of the relay, both with `drainMs`. */
  async function startServices(drainMs: number): Promise<{ relay: ServiceProcess; gateway: ServiceProcess }> {
    const drain = { SHUTDOWN_DRAIN_MS: String(drainMs) };
    const relay = await ServiceProcess.start('openai-relay', { ...drain, OPENAI_API_BASE: openai.url });
    started.push(relay);
    const gateway = await ServiceProcess.start('gateway', {
      ...drain,
      ...gatewayServiceUrls({ 'openai-relay': relay.url }),
    });
    started.push(gateway);
    return { relay, gateway };
  }

  /** Opens STREAMS chat streams through the gateway and resolves once each one's first bytes arrived. */
  async function openStreams(gateway: ServiceProcess): Promise<ClientStream[]> {
    const streams = ClientStream.openMany(
      STREAMS,
      `${gateway.url}/openai${CHAT_PATH}`,
      STREAMED_CHAT_BODY,
      READ_WITHIN_MS,
    );
    await Promise.all(streams.map((stream) => stream.firstBytes));
    return streams;
  }

  /** The fake's chat calls from `from` on, each once its connection closed. */
  async function closedChatCalls(from: number): Promise<RecordedRequest[]> {
    const calls = openai.requests.slice(from).filter((request) => request.url === CHAT_PATH);
    await Promise.all(calls.map((call) => openai.waitForClose(call, 2_000)));
    return calls;
  }

  /**
   * SIGTERM to `stopped` while every stream is open: it must stop accepting at once and tell a request on an open
   * connection that it is shutting down (503), while the streams go on. Resolves with what the clients read, when
   * readiness was seen failing, and how the process ended.
   */
  async function terminateDuringStreams(
    stopped: ServiceProcess,
    streams: ClientStream[],
  ): Promise<{
    reads: StreamRead[];
    signalledAt: number;
    refusedAt: number;
    exit: { code: number | null; at: number };
  }> {
    const held = await HeldRequest.open(stopped.port, '/readyz');
    try {
      const signalledAt = stopped.signal('SIGTERM');
      await waitUntilRefused(stopped.port, REFUSE_WITHIN_MS);
      const readiness = await held.finish(2_000);
      const refusedAt = performance.now();
      expect(readiness.status).toBe(503);
      expect(JSON.parse(readiness.body)).toMatchObject({ status: 'shutting_down' });
      const reads = await Promise.all(streams.map((stream) => stream.read));
      return { reads, signalledAt, refusedAt, exit: await stopped.exit };
    } finally {
      held.close();
    }
  }

  it.each(['gateway', 'openai-relay'] as const)(
    'should fail readiness at once, refuse new connections, finish all 20 streams with their usage and [DONE], and exit 0 when the %s gets SIGTERM',
    async (name) => {
      openai.on('POST', CHAT_PATH, sse({ frames: chatStreamFrames(CHUNKS), intervalMs: CHUNK_GAP_MS }));
      const services = await startServices(DRAIN_MS);
      const stopped = name === 'gateway' ? services.gateway : services.relay;
      const callsBefore = openai.requests.length;
      const streams = await openStreams(services.gateway);

      const { reads, signalledAt, refusedAt, exit } = await terminateDuringStreams(stopped, streams);

      // Readiness failed and connections were refused before any stream had ended.
      expect(reads.filter((read) => read.endedAt <= refusedAt)).toEqual([]);
      const whole = chatStreamFrames(CHUNKS).join('');
      expect(reads.map((read) => ({ status: read.status, failure: read.failure, whole: read.text === whole }))).toEqual(
        Array.from({ length: STREAMS }, () => ({ status: 200, failure: undefined, whole: true })),
      );
      expect(reads.every((read) => read.text.endsWith(USAGE_FRAME + SSE_DONE_FRAME))).toBe(true);
      expect(reads.filter((read) => read.endedAt - signalledAt >= DRAIN_MS)).toEqual([]);
      expect(exit.code).toBe(0);
      expect(exit.at - signalledAt).toBeLessThan(DRAIN_MS + EXIT_SLACK_MS);
      // The fake saw 20 calls, each answered to its end (none cut by the shutdown).
      const calls = await closedChatCalls(callsBefore);
      expect(calls.map((call) => call.closedEarly)).toEqual(Array.from({ length: STREAMS }, () => false));
    },
    30_000,
  );

  it('should end streams longer than the drain cap with a server_shutting_down error frame then [DONE], and exit 0', async () => {
    const drainMs = 1_000;
    // About 5 s per stream: every stream is still open when the 1-second cap is reached.
    openai.on('POST', CHAT_PATH, sse({ frames: chatStreamFrames(CHUNKS), intervalMs: 250 }));
    const { gateway } = await startServices(drainMs);
    const callsBefore = openai.requests.length;
    const streams = await openStreams(gateway);

    const { reads, signalledAt, exit } = await terminateDuringStreams(gateway, streams);

    for (const read of reads) {
      const frames = framesOf(read.text);
      expect(read).toMatchObject({ status: 200, failure: undefined });
      expect(frames[0]).toBe(chatChunkFrame('w0 '));
      expect(frames.slice(-2).map(errorCodeOf)).toEqual(['server_shutting_down', undefined]);
      expect(frames.at(-1)).toBe(SSE_DONE_FRAME);
      expect(frames.filter((frame) => frame === USAGE_FRAME || errorCodeOf(frame) !== undefined)).toHaveLength(1);
      // Let run up to the cap (the cap's timer starts in the process, after the signal was sent), then ended.
      expect(read.endedAt - signalledAt).toBeGreaterThanOrEqual(drainMs - 50);
    }
    expect(exit.code).toBe(0);
    expect(exit.at - signalledAt).toBeLessThan(drainMs + EXIT_SLACK_MS);
    // The gateway gave up the relay hop, and the relay its upstream call: no stream is left running at the fake.
    const calls = await closedChatCalls(callsBefore);
    expect(calls.map((call) => call.closedEarly)).toEqual(Array.from({ length: STREAMS }, () => true));
  }, 30_000);
});
