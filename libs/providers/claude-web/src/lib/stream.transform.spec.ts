import fc from 'fast-check';
import { ErrorCode } from '@openai-proxy/util-errors';
import { type SseEvent, SseDecoder, type StreamItem } from '@openai-proxy/util-sse';
import { ClaudeWebStreamTransformer } from './stream.transform';

const OPTIONS = { id: 'chatcmpl-web', createdSeconds: 1_700_000_000, model: 'claude-2.1' };

/** What append_message streams: deltas, then the event with the stop_reason. */
const STREAM = [
  { completion: 'Hello', stop_reason: null, model: 'claude-2.1' },
  { completion: ', 世界 👩‍💻', stop_reason: null, model: 'claude-2.1' },
  { completion: '', stop_reason: 'stop_sequence', model: 'claude-2.1' },
]
  .map((event) => `event: completion\ndata: ${JSON.stringify(event)}\n\n`)
  .join('');

function event(payload: unknown): SseEvent {
  return { event: 'completion', data: JSON.stringify(payload), id: undefined };
}

function run(events: readonly SseEvent[]): StreamItem[] {
  const transformer = new ClaudeWebStreamTransformer(OPTIONS);
  return [...events.flatMap((item) => transformer.transform(item)), ...transformer.flush()];
}

function deltas(items: readonly StreamItem[]): Array<{ content?: string; role?: string; finish: string | null }> {
  return items.map((item) => {
    if (item.kind !== 'chunk') {
      throw new Error(`unexpected error item: ${item.error.message}`);
    }
    const choice = item.chunk.choices[0];
    return { ...choice?.delta, finish: choice?.finish_reason ?? null };
  });
}

function decodeInPieces(bytes: Buffer, cuts: readonly number[]): SseEvent[] {
  const decoder = new SseDecoder();
  const events: SseEvent[] = [];
  let previous = 0;
  for (const cut of [...cuts, bytes.length]) {
    events.push(...decoder.push(bytes.subarray(previous, cut)));
    previous = cut;
  }
  return [...events, ...decoder.end()];
}

describe(ClaudeWebStreamTransformer.name, () => {
  it('should open with the assistant role, send each completion delta as a chunk and end with stop', () => {
    const items = run(decodeInPieces(Buffer.from(STREAM), []));
    expect(deltas(items)).toEqual([
      { role: 'assistant', content: '', finish: null },
      { content: 'Hello', finish: null },
      { content: ', 世界 👩‍💻', finish: null },
      { finish: 'stop' },
    ]);
    expect(items[0]).toEqual({
      kind: 'chunk',
      chunk: expect.objectContaining({ id: 'chatcmpl-web', created: 1_700_000_000, model: 'claude-2.1' }),
    });
  });

  it('should finish with length when claude.ai stops at max_tokens', () => {
    const items = run([event({ completion: 'cut', stop_reason: 'max_tokens' })]);
    expect(deltas(items).at(-1)).toEqual({ finish: 'length' });
  });

  it('should finish only once when claude.ai sends a second stop_reason', () => {
    const items = run([event({ stop_reason: 'stop_sequence' }), event({ stop_reason: 'stop_sequence' })]);
    expect(deltas(items).filter((delta) => delta.finish !== null)).toHaveLength(1);
  });

  it('should send nothing for events that arrive after the stop_reason when claude.ai keeps streaming', () => {
    const items = run([
      event({ completion: 'Hi', stop_reason: null }),
      event({ completion: '', stop_reason: 'stop_sequence' }),
      event({ completion: ' late', stop_reason: null }),
      event({ completion: ' later', stop_reason: 'stop_sequence' }),
      event({ error: { type: 'overloaded_error', message: 'Overloaded' } }),
      { event: 'completion', data: '{"completion":', id: undefined },
    ]);
    expect(deltas(items)).toEqual([
      { role: 'assistant', content: '', finish: null },
      { content: 'Hi', finish: null },
      { finish: 'stop' },
    ]);
  });

  it('should send nothing for events that arrive after an error event when claude.ai keeps streaming', () => {
    const items = run([
      event({ error: { type: 'overloaded_error', message: 'Overloaded' } }),
      event({ completion: 'late', stop_reason: null }),
      event({ error: { type: 'overloaded_error', message: 'Overloaded again' } }),
      event({ completion: '', stop_reason: 'stop_sequence' }),
    ]);
    expect(items).toEqual([
      { kind: 'error', error: expect.objectContaining({ code: ErrorCode.UpstreamBadResponse, message: 'Overloaded' }) },
    ]);
  });

  it('should send nothing for events that arrive after an unreadable event', () => {
    const items = run([
      { event: 'completion', data: 'null', id: undefined },
      event({ completion: 'late', stop_reason: 'stop_sequence' }),
    ]);
    expect(items).toEqual([{ kind: 'error', error: expect.objectContaining({ code: ErrorCode.UpstreamBadResponse }) }]);
  });

  it('should end with claude.ai error message, redacted, when an error event arrives', () => {
    const items = run([
      event({ completion: 'Hi', stop_reason: null }),
      event({
        error: { type: 'permission_error', message: 'Invalid sessionKey sk-ant-sid01-abcdefghijklmnopqrstuvwxyz' },
      }),
    ]);
    const last = items.at(-1);
    expect(last?.kind).toBe('error');
    if (last?.kind === 'error') {
      expect(last.error.code).toBe(ErrorCode.UpstreamBadResponse);
      expect(last.error.message).toContain('Invalid sessionKey');
      expect(last.error.message).not.toContain('abcdefghijklmnopqrstuvwxyz');
    }
    expect(items.filter((item) => item.kind === 'error')).toHaveLength(1);
  });

  it('should name claude.ai when its error event has no message', () => {
    const [item] = run([event({ error: { type: 'overloaded_error' } })]);
    expect(item?.kind === 'error' && item.error.message).toBe('claude.ai reported an error');
  });

  it('should end with upstream_connection_reset when the stream ends before its stop_reason', () => {
    const items = run([event({ completion: 'Hel', stop_reason: null })]);
    expect(items.at(-1)).toEqual({
      kind: 'error',
      error: expect.objectContaining({ code: ErrorCode.UpstreamConnectionReset }),
    });
  });

  it('should yield the same chunks when the stream is split at any byte offsets', () => {
    const bytes = Buffer.from(STREAM);
    const whole = run(decodeInPieces(bytes, []));
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 1, max: bytes.length - 1 }), { maxLength: 12 }), (cuts) => {
        const sorted = [...cuts].sort((left, right) => left - right);
        expect(run(decodeInPieces(bytes, sorted))).toEqual(whole);
      }),
      { numRuns: 300 },
    );
  });

  it('should join the text of any deltas into what claude.ai sent, in order', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: 'grapheme' }), { maxLength: 10 }), (texts) => {
        const items = run([...texts.map((completion) => event({ completion })), event({ stop_reason: 'end' })]);
        const joined = deltas(items)
          .map((delta) => delta.content ?? '')
          .join('');
        expect(joined).toBe(texts.join(''));
        expect(deltas(items).at(-1)?.finish).toBe('stop');
      }),
      { numRuns: 200 },
    );
  });
});
