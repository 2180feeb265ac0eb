import { streamAnswer } from '@openai-proxy/testing-fakes';
import {
  type FaultStack,
  STREAM_ROUTE_NAMES,
  type StreamRoute,
  type StreamRouteName,
  framesThrough,
  recordWith,
  recordsWith,
  routeNamed,
  startChat,
  startFaultStack,
} from './support/fault-stack';

// The cancellation rule, proven through the whole product (client → gateway → relay or bridge → fault upstream):
// a client that goes away, before the upstream answered or after its first token, closes the upstream's socket
// within a second. The fake records when its socket closed; the test, when the client left.

/** How soon after the client left the upstream's socket must be closed. */
const CLOSE_WITHIN_MS = 1_000;
const FIRST_WORD = 'Hel';
const WORDS = [FIRST_WORD, 'lo', ' world'];

let faults: FaultStack;

beforeAll(async () => {
  faults = await startFaultStack();
});

afterAll(async () => {
  await faults.close();
});

function route(name: StreamRouteName): StreamRoute {
  return routeNamed(faults.routes, name);
}

describe('rule: a client that goes away aborts the upstream request at once', () => {
  describe.each(STREAM_ROUTE_NAMES)('%s', (name) => {
    it('should close the upstream socket within a second when the client leaves before the headers', async () => {
      const chat = route(name);
      const marker = `leave-early-${name}`;
      const call = startChat(faults, chat, marker, { kind: 'stall-headers' });
      const record = await recordWith(chat.upstream, marker);
      const abortedAt = call.abort();
      const closedAt = await chat.upstream.waitForSocketClose(record, CLOSE_WITHIN_MS * 2);
      expect(closedAt - abortedAt).toBeLessThan(CLOSE_WITHIN_MS);
      expect(record.headersSentAt).toBeUndefined();
      expect(record.request.closedEarly).toBe(true);
      expect((await call.done).headersAt).toBeUndefined();
      expect(recordsWith(chat.upstream, marker)).toHaveLength(1);
    });

    it('should close the upstream socket within a second when the client leaves after the first token', async () => {
      const chat = route(name);
      const frames = chat.answers.complete(WORDS);
      const afterWrites = framesThrough(frames, FIRST_WORD);
      const marker = `leave-late-${name}`;
      const call = startChat(faults, chat, marker, streamAnswer(frames, { cut: { afterWrites, how: 'stall' } }));
      expect(await call.textSoFar(FIRST_WORD)).toBeDefined();
      const record = await recordWith(chat.upstream, marker);
      const abortedAt = call.abort();
      const closedAt = await chat.upstream.waitForSocketClose(record, CLOSE_WITHIN_MS * 2);
      expect(closedAt - abortedAt).toBeLessThan(CLOSE_WITHIN_MS);
      expect(record.request.closedEarly).toBe(true);
      expect(record.writes).toHaveLength(afterWrites);
      const client = await call.done;
      expect([client.status, client.failure]).toEqual([200, 'the client aborted']);
      expect(recordsWith(chat.upstream, marker)).toHaveLength(1);
    });
  });
});
