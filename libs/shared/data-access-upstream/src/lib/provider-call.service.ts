import { Inject, Injectable } from '@nestjs/common';
import type { ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
import { MetricsService, PLATFORM_SETTINGS, ShutdownService, withEdgeHeaders } from '@openai-proxy/feature-platform';
import type { PlatformSettings } from '@openai-proxy/util-config';
import type { ChatCompletionChunk, ProviderUsage } from '@openai-proxy/util-openai-schema';
import { ErrorCode, GatewayException, classifyUpstreamError, parseJsonText } from '@openai-proxy/util-errors';
import {
  SSE_RESPONSE_HEADERS,
  SseDecoder,
  type SseEvent,
  type StreamTransformer,
  guardTransformer,
} from '@openai-proxy/util-sse';
import type {
  AnswerProblem,
  CallReport,
  EncodedBody,
  ErrorTranslator,
  PreparedCall,
  UpstreamRequest,
  WholeAnswer,
} from '@openai-proxy/util-provider-contract';
import { readAnswerText } from './answer-text';
import type { RelayTarget } from './relay.types';
import { EventStreamWriter } from './stream-watch';
import { pipeTranslatedStream } from './translated-stream';
import { UpstreamExchange, runExchange, shuttingDown } from './upstream-exchange';
import { pipeWatchedStream } from './watched-stream';

/** One call to a provider API: the adapter's request to one upstream target. */
export interface ProviderCall extends UpstreamRequest {
  target: RelayTarget;
}

function header(headers: Dispatcher.ResponseData['headers'], name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function isSuccess(upstream: Dispatcher.ResponseData): boolean {
  return upstream.statusCode >= 200 && upstream.statusCode < 300;
}

/** The request body as sent: the encoded one, else the JSON one, else none. */
function encodedBodyOf(call: UpstreamRequest): EncodedBody | undefined {
  if (call.encodedBody !== undefined) {
    return call.encodedBody;
  }
  return call.body === undefined ? undefined : { contentType: 'application/json', text: JSON.stringify(call.body) };
}

/** An answer with the route's own headers and the edge's: `body` as JSON, or none when it is undefined. */
function sendJson(client: ServerResponse, body: unknown, headers: Record<string, string>, status = 200): void {
  if (body === undefined) {
    client.writeHead(status, withEdgeHeaders(client, { ...headers }));
    client.end();
    return;
  }
  sendText(client, JSON.stringify(body), 'application/json; charset=utf-8', headers, status);
}

function sendText(
  client: ServerResponse,
  text: string,
  contentType: string,
  headers: Record<string, string>,
  status = 200,
): void {
  client.writeHead(
    status,
    withEdgeHeaders(client, { ...headers, 'content-type': contentType, 'content-length': Buffer.byteLength(text) }),
  );
  client.end(text);
}

/**
 * The shared pipeline of the translating bridges: the I/O to the provider, cancellation when the client
 * leaves, the drain for the whole call, the provider's errors before the first byte as OpenAI errors with
 * their status, 2xx bodies checked against the adapter's schema (502 when they do not fit), SSE decoding,
 * each translated chunk written as soon as its source event arrives, heartbeats, and mid-stream failures as
 * an error frame then `[DONE]`. Adapters stay pure: they only map objects.
 */
@Injectable()
export class ProviderCallService {
  constructor(
    @Inject(PLATFORM_SETTINGS) private readonly settings: PlatformSettings,
    private readonly metrics: MetricsService,
    private readonly shutdown: ShutdownService,
  ) {}

  /**
   * One prepared call from its preparation to its `finish`, as one exchange for `client`: `prepare` runs inside
   * it (its control-plane calls end when the client leaves, and at the drain cap), the answer is sent the way
   * the call says, and the report (the usage, or the failure) goes to `finish` and back to the caller.
   */
  run(
    target: RelayTarget,
    translateError: ErrorTranslator,
    client: ServerResponse,
    prepare: (signal: AbortSignal) => PreparedCall | Promise<PreparedCall>,
  ): Promise<CallReport> {
    return this.exchange(client, async (exchange) => {
      const prepared = await this.prepared(prepare, target.name, exchange);
      const report: CallReport = { usage: undefined };
      try {
        report.usage = await this.answer(target, prepared, client, translateError, exchange);
        return report;
      } catch (error) {
        report.error = error instanceof GatewayException ? error : undefined;
        throw error;
      } finally {
        await prepared.finish?.(report).catch(() => undefined);
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
      if (exchange.shuttingDown) {
        throw shuttingDown();
      }
      if (exchange.clientLeft) {
        this.metrics.clientAborts.inc({ upstream: name });
      }
      throw error;
    }
  }

  /** Sends the client the answer the prepared call describes; resolves with the usage it reported. */
  private async answer(
    target: RelayTarget,
    prepared: PreparedCall,
    client: ServerResponse,
    translateError: ErrorTranslator,
    exchange: UpstreamExchange,
  ): Promise<ProviderUsage | undefined> {
    const headers = prepared.responseHeaders ?? {};
    if (prepared.answer === 'ready') {
      sendJson(client, prepared.body, headers, prepared.status);
      return undefined;
    }
    const call: ProviderCall = { ...prepared.request, target };
    switch (prepared.answer) {
      case 'whole': {
        const reading = await this.whole(call, prepared.read, translateError, exchange);
        sendJson(client, reading.body, headers);
        return reading.usage;
      }
      case 'stream':
        await this.streamWithin(call, client, prepared.transformer, translateError, exchange, headers);
        return prepared.transformer.usage?.();
      case 'collect': {
        const chunks = await this.collectWithin(call, prepared.transformer, translateError, exchange);
        const body = prepared.complete(chunks);
        if (prepared.textType === undefined) {
          sendJson(client, body, headers);
        } else {
          sendText(client, String(body), prepared.textType, headers);
        }
        return prepared.transformer.usage?.();
      }
      case 'relay':
        await this.relayWithin(call, client, translateError, exchange, prepared.watch, headers);
        return undefined;
    }
  }

  /** A call whose whole answer is read at once: a 2xx answer read by the adapter, else the provider's error. */
  private async whole(
    call: ProviderCall,
    read: WholeAnswer,
    translateError: ErrorTranslator,
    exchange: UpstreamExchange,
  ): Promise<{ body: unknown; usage: ProviderUsage | undefined }> {
    const upstream = await this.send(call, exchange);
    const text = await this.readAnswer(upstream, call.target.name, exchange);
    if (!isSuccess(upstream)) {
      throw translateError(upstream.statusCode, parseJsonText(text), header(upstream.headers, 'retry-after'));
    }
    const reading = read.read(text);
    if ('problem' in reading) {
      throw this.badResponse(call.target.name, reading.problem);
    }
    return reading;
  }

  private async relayWithin(
    call: ProviderCall,
    client: ServerResponse,
    translateError: ErrorTranslator,
    exchange: UpstreamExchange,
    watch: StreamTransformer<SseEvent> | undefined,
    extraHeaders: Record<string, string> = {},
  ): Promise<void> {
    const upstream = await this.open(call, translateError, exchange);
    client.writeHead(200, withEdgeHeaders(client, { ...SSE_RESPONSE_HEADERS, ...extraHeaders }));
    client.flushHeaders();
    await this.inFlight(() =>
      pipeWatchedStream({
        provider: call.target.name,
        source: upstream.body,
        client,
        watch: watch === undefined ? undefined : guardTransformer(watch, call.target.name),
        writer: new EventStreamWriter(client, this.settings.heartbeatMs, false),
        exchange,
        failure: (error) => this.failure(error, call.target.name, exchange),
      }),
    );
  }

  private async streamWithin(
    call: ProviderCall,
    client: ServerResponse,
    transformer: StreamTransformer<SseEvent>,
    translateError: ErrorTranslator,
    exchange: UpstreamExchange,
    extraHeaders: Record<string, string> = {},
  ): Promise<void> {
    const upstream = await this.open(call, translateError, exchange);
    client.writeHead(200, withEdgeHeaders(client, { ...SSE_RESPONSE_HEADERS, ...extraHeaders }));
    client.flushHeaders();
    await this.inFlight(() =>
      pipeTranslatedStream({
        provider: call.target.name,
        source: upstream.body,
        client,
        transformer: guardTransformer(transformer, call.target.name),
        writer: new EventStreamWriter(client, this.settings.heartbeatMs, false),
        exchange,
        failure: (error) => this.failure(error, call.target.name, exchange),
      }),
    );
  }

  private async collectWithin(
    call: ProviderCall,
    transformer: StreamTransformer<SseEvent>,
    translateError: ErrorTranslator,
    exchange: UpstreamExchange,
  ): Promise<ChatCompletionChunk[]> {
    const upstream = await this.open(call, translateError, exchange);
    const text = await this.readAnswer(upstream, call.target.name, exchange);
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

  /** Runs one call registered with the drain, from its start to its last byte. */
  private exchange<T>(client: ServerResponse, run: (exchange: UpstreamExchange) => Promise<T>): Promise<T> {
    return runExchange(this.shutdown, new UpstreamExchange(client), run);
  }

  private async inFlight(run: () => Promise<void>): Promise<void> {
    this.metrics.streamsInFlight.inc();
    try {
      await run();
    } finally {
      this.metrics.streamsInFlight.dec();
    }
  }

  /** Starts a streamed call: a 2xx answer to read, or the provider's error (status kept) thrown. */
  private async open(
    call: ProviderCall,
    translateError: ErrorTranslator,
    exchange: UpstreamExchange,
  ): Promise<Dispatcher.ResponseData> {
    const upstream = await this.send(call, exchange);
    if (!isSuccess(upstream)) {
      throw translateError(
        upstream.statusCode,
        parseJsonText(await this.readAnswer(upstream, call.target.name, exchange)),
        header(upstream.headers, 'retry-after'),
      );
    }
    return upstream;
  }

  /** A 2xx answer the adapter could not read: 502 upstream_bad_response (the body itself is never echoed). */
  private badResponse(name: string, problem: AnswerProblem): GatewayException {
    this.metrics.upstreamErrors.inc({ upstream: name, kind: ErrorCode.UpstreamBadResponse });
    return new GatewayException(
      ErrorCode.UpstreamBadResponse,
      problem === 'not JSON'
        ? `Upstream ${name} answered with something that is not JSON`
        : `Upstream ${name} answered with a body of an unexpected shape`,
    );
  }

  /** Reads a whole answer; a reset or an idle stall while reading is classified like a failed call. */
  private async readAnswer(
    upstream: Dispatcher.ResponseData,
    name: string,
    exchange: UpstreamExchange,
  ): Promise<string> {
    try {
      return await readAnswerText(upstream.body);
    } catch (error) {
      throw this.failure(error, name, exchange);
    }
  }

  /**
   * What a failed call means: the drain cap (503), a client that left (counted as a client abort, not as an
   * upstream error: nobody reads the answer), or an upstream failure classified and counted by kind.
   */
  private failure(error: unknown, name: string, exchange: UpstreamExchange): GatewayException {
    if (exchange.shuttingDown) {
      return shuttingDown();
    }
    const exception = classifyUpstreamError(error, name);
    if (exchange.clientLeft) {
      this.metrics.clientAborts.inc({ upstream: name });
    } else if (exception.code !== ErrorCode.PayloadTooLarge) {
      this.metrics.upstreamErrors.inc({ upstream: name, kind: exception.code });
    }
    return exception;
  }

  private async send(call: ProviderCall, exchange: UpstreamExchange): Promise<Dispatcher.ResponseData> {
    const encoded = encodedBodyOf(call);
    try {
      return await call.target.dispatcher.request({
        origin: call.target.origin,
        path: `${call.target.basePath}${call.path}`,
        method: call.method,
        headers: encoded === undefined ? call.headers : { ...call.headers, 'content-type': encoded.contentType },
        body: encoded?.text,
        signal: exchange,
      });
    } catch (error) {
      throw this.failure(error, call.target.name, exchange);
    }
  }
}
