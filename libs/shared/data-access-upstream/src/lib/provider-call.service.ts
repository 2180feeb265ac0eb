import { Inject, Injectable } from '@nestjs/common';
import type { ServerResponse } from 'node:http';
import {
  MetricsService,
  PLATFORM_SETTINGS,
  ShutdownService,
  toGatewayException,
  withEdgeHeaders,
} from '@openai-proxy/feature-platform';
import type { PlatformSettings } from '@openai-proxy/util-config';
import type { ChatCompletionChunk, ProviderUsage } from '@openai-proxy/util-openai-schema';
import type { GatewayException } from '@openai-proxy/util-errors';
import {
  PROMPT_USAGE_HEADER,
  SSE_RESPONSE_HEADERS,
  SseDecoder,
  type SseEvent,
  type StreamTransformer,
  guardTransformer,
} from '@openai-proxy/util-sse';
import type { CallReport, ErrorTranslator, PreparedCall, WholeAnswer } from '@openai-proxy/util-provider-contract';
import { sendJson, sendText } from './client-answer';
import { type ProviderCall, ProviderUpstream } from './provider-upstream';
import type { RelayTarget } from './relay.types';
import { CALLER_RETRIES_HEADER } from './retry-policy';
import { EventStreamWriter } from './stream-watch';
import { pipeTranslatedStream } from './translated-stream';
import { UpstreamExchange, exchangeError, runExchange } from './upstream-exchange';
import { pipeWatchedStream } from './watched-stream';

export type { ProviderCall } from './provider-upstream';

/** How a streamed answer reaches the client: translated chunk by chunk, or relayed as it came (watched). */
type StreamedAnswer =
  | { answer: 'stream'; transformer: StreamTransformer<SseEvent> }
  | { answer: 'relay'; watch?: StreamTransformer<SseEvent> };

/** What sending the answer came to: the usage delivered, and the error a stream ended on after its first byte. */
type AnswerOutcome = Pick<CallReport, 'usage' | 'error'>;

/**
 * The shared pipeline of the translating bridges: the I/O to the provider, cancellation when the client
 * leaves, the drain for the whole call, the provider's errors before the first byte as OpenAI errors with
 * their status, 2xx bodies checked against the adapter's schema (502 when they do not fit), SSE decoding,
 * each translated chunk written as soon as its source event arrives, heartbeats, and mid-stream failures as
 * an error frame then `[DONE]`. Adapters stay pure: they only map objects.
 */
/** Runs a call's `finish`; whatever it throws or rejects with (its own clean-up failing) changes nothing. */
async function finishQuietly(prepared: PreparedCall | undefined, report: CallReport): Promise<void> {
  try {
    await prepared?.finish?.(report);
  } catch {
    // The call's outcome stands; a finish reports its own failures (claude.ai logs a delete that failed).
  }
}

@Injectable()
export class ProviderCallService {
  private readonly upstream: ProviderUpstream;

  constructor(
    @Inject(PLATFORM_SETTINGS) private readonly settings: PlatformSettings,
    private readonly metrics: MetricsService,
    private readonly shutdown: ShutdownService,
  ) {
    this.upstream = new ProviderUpstream(metrics);
  }

  /**
   * One prepared call from its preparation to its `finish`, as one exchange for `client`: `prepare` runs inside
   * it (its control-plane calls end when the client leaves, and at the drain cap), the answer is sent the way
   * the call says, and the report (the usage, the failure, its preparation's and a stream's after its first
   * byte included, and whether the client left) goes to `finish`, then to `reported`, and back to the caller.
   */
  run(
    target: RelayTarget,
    translateError: ErrorTranslator,
    client: ServerResponse,
    prepare: (signal: AbortSignal) => PreparedCall | Promise<PreparedCall>,
    reported: (report: CallReport) => void = () => undefined,
  ): Promise<CallReport> {
    return runExchange(this.shutdown, new UpstreamExchange(client), async (exchange) => {
      const report: CallReport = { usage: undefined, clientLeft: false };
      let prepared: PreparedCall | undefined;
      try {
        prepared = await this.prepared(prepare, target.name, exchange);
        const outcome = await this.answer(target, prepared, client, translateError, exchange);
        report.usage = outcome.usage;
        if (outcome.error !== undefined) {
          report.error = outcome.error;
        }
        return report;
      } catch (error) {
        report.error = toGatewayException(error);
        throw error;
      } finally {
        report.clientLeft = exchange.clientLeft;
        await finishQuietly(prepared, report);
        reported(report);
      }
    });
  }

  /**
   * The call's preparation: its control-plane calls cut by the drain cap answer 503, and a client that left
   * while they ran is counted as a client abort of the provider.
   */
  private async prepared(
    prepare: (signal: AbortSignal) => PreparedCall | Promise<PreparedCall>,
    name: string,
    exchange: UpstreamExchange,
  ): Promise<PreparedCall> {
    try {
      return await prepare(exchange.signal);
    } catch (error) {
      throw exchangeError(exchange, error, this.metrics, name);
    }
  }

  /** Sends the client the answer the prepared call describes; resolves with the usage and a stream's ending error. */
  private async answer(
    target: RelayTarget,
    prepared: PreparedCall,
    client: ServerResponse,
    translateError: ErrorTranslator,
    exchange: UpstreamExchange,
  ): Promise<AnswerOutcome> {
    const headers = prepared.responseHeaders ?? {};
    if (prepared.answer === 'ready') {
      sendJson(client, prepared.body, headers, prepared.status);
      return { usage: undefined };
    }
    const callerRetries = client.req.headers[CALLER_RETRIES_HEADER] !== undefined;
    const call: ProviderCall = { ...prepared.request, target, callerRetries };
    switch (prepared.answer) {
      case 'whole': {
        const reading = await this.whole(call, prepared.read, translateError, exchange);
        sendJson(client, reading.body, headers);
        return { usage: reading.usage };
      }
      case 'stream':
      case 'relay': {
        const error = await this.streamed(call, client, prepared, translateError, exchange, headers);
        const usage = prepared.answer === 'stream' ? prepared.transformer.usage?.() : undefined;
        return error === undefined ? { usage } : { usage, error };
      }
      case 'collect': {
        const chunks = await this.collected(call, prepared.transformer, translateError, exchange);
        const body = prepared.complete(chunks);
        if (prepared.textType === undefined) {
          sendJson(client, body, headers);
        } else {
          sendText(client, String(body), prepared.textType, headers);
        }
        return { usage: prepared.transformer.usage?.() };
      }
    }
  }

  /** A call whose whole answer is read at once: a 2xx answer read by the adapter, else the provider's error. */
  private async whole(
    call: ProviderCall,
    read: WholeAnswer,
    translateError: ErrorTranslator,
    exchange: UpstreamExchange,
  ): Promise<{ body: unknown; usage: ProviderUsage | undefined }> {
    const reading = read.read(await this.upstream.readWhole(call, translateError, exchange));
    if ('problem' in reading) {
      throw this.upstream.badResponse(call.target.name, reading);
    }
    return reading;
  }

  /**
   * An event stream to the client: its head sent once the provider answered 2xx, then each event as it comes;
   * resolves with the error it ended on (undefined when complete).
   */
  private async streamed(
    call: ProviderCall,
    client: ServerResponse,
    streamed: StreamedAnswer,
    translateError: ErrorTranslator,
    exchange: UpstreamExchange,
    extraHeaders: Record<string, string>,
  ): Promise<GatewayException | undefined> {
    const name = call.target.name;
    const upstream = await this.upstream.open(call, translateError, exchange);
    client.writeHead(200, withEdgeHeaders(client, { ...SSE_RESPONSE_HEADERS, ...extraHeaders }));
    client.flushHeaders();
    const stream = {
      provider: name,
      source: upstream.body,
      client,
      writer: new EventStreamWriter(client, this.settings.heartbeatMs, false),
      exchange,
      failure: (error: unknown) => this.upstream.failure(error, name, exchange),
      promptUsage: client.req.headers[PROMPT_USAGE_HEADER] !== undefined,
    };
    this.metrics.streamsInFlight.inc();
    try {
      if (streamed.answer === 'stream') {
        return await pipeTranslatedStream({ ...stream, transformer: guardTransformer(streamed.transformer, name) });
      }
      const watch = streamed.watch === undefined ? undefined : guardTransformer(streamed.watch, name);
      return await pipeWatchedStream({ ...stream, watch });
    } finally {
      this.metrics.streamsInFlight.dec();
    }
  }

  /** An event stream read whole and translated, for a client that gets one body. */
  private async collected(
    call: ProviderCall,
    transformer: StreamTransformer<SseEvent>,
    translateError: ErrorTranslator,
    exchange: UpstreamExchange,
  ): Promise<ChatCompletionChunk[]> {
    const upstream = await this.upstream.open(call, translateError, exchange);
    const text = await this.upstream.readAnswer(upstream, call.target.name, exchange);
    const guarded = guardTransformer(transformer, call.target.name);
    const decoder = new SseDecoder();
    const items = [...decoder.push(text), ...decoder.end()].flatMap((event) => guarded.transform(event));
    items.push(...guarded.flush());
    return items.map((item) => {
      if (item.kind === 'error') {
        throw item.error;
      }
      return item.chunk;
    });
  }
}
