import { type ServerResponse, createServer } from 'node:http';
import { PassThrough } from 'node:stream';
import { ErrorCode, GatewayException } from '@openai-proxy/util-errors';
import { closeServer, listenOnLoopback } from '@openai-proxy/testing-fakes';
import {
  PROMPT_USAGE_EVENT,
  type SseEvent,
  type StreamItem,
  type StreamTransformer,
  SseDecoder,
  chunkItem,
  decodePromptUsageEvent,
} from '@openai-proxy/util-sse';
import { EventStreamWriter } from './stream-watch';
import { pipeTranslatedStream } from './translated-stream';
import { UpstreamExchange } from './upstream-exchange';

const EVENTS = ['data', 'end', 'error', 'close'] as const;

/** One chunk per event, and an end that counts as complete. */
const echo: StreamTransformer<SseEvent> = {
  transform: (event: SseEvent): StreamItem[] => [
    chunkItem({ id: 'c', created: 1, model: 'm' }, { content: event.data }),
  ],
  flush: () => [],
};

/** The listeners still on the upstream body once its copy settled, by event. */
function listenersLeft(source: PassThrough): Record<string, number> {
  return Object.fromEntries(EVENTS.map((event) => [event, source.listenerCount(event)]));
}

/** An upstream body that, like undici's, errors when it is destroyed before its end. */
class AbortingBody extends PassThrough {
  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    callback(error ?? new Error('Request aborted'));
  }
}

describe(pipeTranslatedStream.name, () => {
  let failures = 0;
  let settled: Promise<Record<string, number>> | undefined;
  let ending: (source: PassThrough) => void = (source) => source.end('data: one\n\n');
  let transformer: StreamTransformer<SseEvent> = echo;
  let promptUsage = false;
  const bridge = createServer((_request, response: ServerResponse) => {
    const source = new AbortingBody();
    response.writeHead(200, { 'content-type': 'text/event-stream' });
    settled = pipeTranslatedStream({
      provider: 'fake',
      source,
      client: response,
      transformer,
      writer: new EventStreamWriter(response, 0, false),
      exchange: new UpstreamExchange(response),
      failure: () => {
        failures += 1;
        return new GatewayException(ErrorCode.UpstreamConnectionReset, 'reset');
      },
      promptUsage,
    }).then(() => listenersLeft(source));
    ending(source);
  });
  let url = '';

  beforeAll(async () => {
    url = (await listenOnLoopback(bridge)).url;
  });

  afterAll(async () => {
    await closeServer(bridge);
  });

  // Regression: the translated stream left its data/end/error/close listeners on the upstream body, which the
  // HTTP client keeps after the exchange, and with them the client's response.
  it.each([
    ['ended', (source: PassThrough) => source.end('data: one\n\n')],
    ['failed', (source: PassThrough) => source.destroy(new Error('reset'))],
  ])('should take its listeners off the upstream body when the body %s', async (_name, end) => {
    ending = end;
    const text = await (await fetch(url, { signal: AbortSignal.timeout(5_000) })).text();
    expect(text.endsWith('data: [DONE]\n\n')).toBe(true);
    expect(await settled).toEqual({ data: 0, end: 0, error: 1, close: 0 });
  });

  // Regression: a chunk that cannot be encoded threw out of the upstream body's 'data' listener.
  it('should end the stream with an error frame when a chunk cannot be encoded as JSON', async () => {
    ending = (source) => source.end('data: one\n\n');
    transformer = {
      transform: () => [chunkItem({ id: 'c', created: 1, model: 'm' }, { content: 1n as unknown as string })],
      flush: () => [],
    };
    try {
      const text = await (await fetch(url, { signal: AbortSignal.timeout(5_000) })).text();
      expect(text).toContain('"code":"upstream_bad_response"');
      expect(text.endsWith('data: [DONE]\n\n')).toBe(true);
    } finally {
      transformer = echo;
    }
  });

  // Regression: after an error item the stream lets the upstream body go (destroy), and the abort error that
  // body then emits was classified as an upstream failure: upstream_errors_total counted one more per such stream.
  it('should count no upstream failure when it destroyed the upstream body itself after an error item', async () => {
    failures = 0;
    ending = (source) => source.write('data: one\n\ndata: stop\n\n');
    transformer = {
      transform: (event: SseEvent): StreamItem[] =>
        event.data === 'stop'
          ? [{ kind: 'error', error: new GatewayException(ErrorCode.UpstreamServerError, 'provider error') }]
          : [chunkItem({ id: 'c', created: 1, model: 'm' }, { content: event.data })],
      flush: () => [],
    };
    try {
      const text = await (await fetch(url, { signal: AbortSignal.timeout(5_000) })).text();
      expect(text).toContain('"code":"upstream_server_error"');
      await settled;
      expect(failures).toBe(0);
    } finally {
      transformer = echo;
    }
  });

  describe('the prompt counts asked for early', () => {
    /** Echoes each event; knows the prompt's counts from the event `two` on, as Anthropic's message_start gives them. */
    function countingAfterTwo(): StreamTransformer<SseEvent> {
      let seenTwo = false;
      return {
        transform: (event: SseEvent): StreamItem[] => {
          seenTwo ||= event.data === 'two';
          return [chunkItem({ id: 'c', created: 1, model: 'm' }, { content: event.data })];
        },
        flush: () => [],
        promptUsage: () => (seenTwo ? { promptTokens: 1500, cachedPromptTokens: 300 } : undefined),
      };
    }

    /** The stream's events in order: each chunk's content, or the prompt event's counts. */
    function eventsOf(text: string): unknown[] {
      const decoder = new SseDecoder();
      return [...decoder.push(text), ...decoder.end()].map((event) =>
        event.event === PROMPT_USAGE_EVENT
          ? decodePromptUsageEvent(JSON.parse(event.data))
          : event.data === '[DONE]'
            ? event.data
            : (JSON.parse(event.data) as { choices: { delta: { content: string } }[] }).choices[0]?.delta.content,
      );
    }

    afterEach(() => {
      transformer = echo;
      promptUsage = false;
    });

    it('should send them once, after the chunks of the read that brought them, when asked', async () => {
      promptUsage = true;
      transformer = countingAfterTwo();
      ending = (source) => {
        source.write('data: one\n\n');
        setTimeout(() => source.end('data: two\n\ndata: three\n\n'), 20);
      };
      const text = await (await fetch(url, { signal: AbortSignal.timeout(5_000) })).text();
      expect(eventsOf(text)).toEqual([
        'one',
        'two',
        'three',
        { promptTokens: 1500, cachedPromptTokens: 300 },
        '[DONE]',
      ]);
    });

    it('should send them after the first read that brought them, before the chunks of later reads', async () => {
      promptUsage = true;
      transformer = countingAfterTwo();
      ending = (source) => {
        source.write('data: two\n\n');
        setTimeout(() => source.end('data: three\n\n'), 20);
      };
      const text = await (await fetch(url, { signal: AbortSignal.timeout(5_000) })).text();
      expect(eventsOf(text)).toEqual(['two', { promptTokens: 1500, cachedPromptTokens: 300 }, 'three', '[DONE]']);
    });

    it('should send no such event when not asked', async () => {
      transformer = countingAfterTwo();
      ending = (source) => source.end('data: two\n\ndata: three\n\n');
      const text = await (await fetch(url, { signal: AbortSignal.timeout(5_000) })).text();
      expect(text).not.toContain(PROMPT_USAGE_EVENT);
      expect(eventsOf(text)).toEqual(['two', 'three', '[DONE]']);
    });
  });
});
