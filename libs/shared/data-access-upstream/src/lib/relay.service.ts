import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import {
  ClientAddressService,
  MetricsService,
  PLATFORM_SETTINGS,
  ShutdownService,
  withEdgeHeaders,
} from '@openai-proxy/feature-platform';
import { buildForwardedResponseHeaders } from '@openai-proxy/util-auth-headers';
import type { PlatformSettings } from '@openai-proxy/util-config';
import { ErrorCode, GatewayException, classifyUpstreamError } from '@openai-proxy/util-errors';
import { isEventStream } from '@openai-proxy/util-sse';
import { type BodyCopyHooks, copyBody } from './body-copy';
import { forwardedRequestHeaders } from './forwarded-request';
import { BodyLimitStream, bodyHandling, payloadTooLarge, readWholeBody, watchUploadIdle } from './request-body';
import type { RelayTarget, RelayTargetOptions, StreamTerminal } from './relay.types';
import { StreamEndWatch } from './stream-end';
import { EventStreamWriter } from './stream-watch';
import { UpstreamDispatchers } from './upstream-dispatchers';
import { UpstreamExchange, shuttingDown } from './upstream-exchange';

/** The base path followed by the request's rest: `/v1/x?y`, `?y` or nothing. */
export function joinPath(basePath: string, rest: string): string {
  const needsSlash = !rest.startsWith('/') && basePath === '';
  return `${basePath}${needsSlash ? '/' : ''}${rest}`;
}

/** How a relayed event stream is watched: not at all when compressed, else for the provider's terminal if known. */
interface RelayedStream {
  opaque: boolean;
  terminal: StreamTerminal | undefined;
}

/** True when the upstream compressed the body: we relay it, but cannot add frames to it. */
function isEncoded(headers: Dispatcher.ResponseData['headers']): boolean {
  const encoding = headers['content-encoding'];
  return encoding !== undefined && encoding !== 'identity';
}

/**
 * The transparent streaming relay shared by `/openai/**`, `/anthropic/**`, `/gemini/**` and the gateway's hop
 * to each service: bytes in both directions unparsed and unbuffered, end-to-end headers kept, a client abort
 * closes the upstream request, failures before the first byte become OpenAI errors with the right status,
 * failures after it end an event stream with an error frame (any other body is cut, never completed).
 */
@Injectable()
export class RelayService implements OnModuleDestroy {
  readonly dispatchers: UpstreamDispatchers;

  constructor(
    @Inject(PLATFORM_SETTINGS) private readonly settings: PlatformSettings,
    private readonly metrics: MetricsService,
    private readonly shutdown: ShutdownService,
    private readonly addresses: ClientAddressService,
  ) {
    this.dispatchers = new UpstreamDispatchers(settings.upstream);
  }

  async onModuleDestroy(): Promise<void> {
    await this.dispatchers.destroy();
  }

  /** Resolves a configured upstream once: origin, base path and the pool (proxied or direct), for HTTP and WebSocket. */
  target(options: RelayTargetOptions): RelayTarget {
    const url = new URL(options.baseUrl);
    const provider = options.kind === 'provider';
    return {
      name: options.name,
      kind: options.kind,
      origin: url.origin,
      basePath: url.pathname.replace(/\/+$/, ''),
      dispatcher: provider ? this.dispatchers.forProvider(url) : this.dispatchers.direct,
      webSocketAgent: provider ? this.dispatchers.webSocketAgentFor(url) : undefined,
      dropResponseHeaderPrefixes: options.dropResponseHeaderPrefixes ?? [],
      streamTerminal: options.streamTerminal,
    };
  }

  /** Relays one request to `target` + `path` (path and query, as received after the route prefix). */
  async relay(request: IncomingMessage, response: ServerResponse, target: RelayTarget, path: string): Promise<void> {
    const limit = this.settings.maxRelayBodyBytes;
    if (Number(request.headers['content-length'] ?? 0) > limit) {
      throw payloadTooLarge(limit);
    }
    // While waiting for the upstream, a shutdown at the drain cap aborts the call (503); pipeBody takes over after.
    // Registered here rather than through runExchange: one closure and one promise less on the hot path.
    const exchange = new UpstreamExchange(response);
    const unregister = this.shutdown.registerStream(exchange);
    try {
      const upstream = await this.send(request, target, path, exchange);
      if (exchange.shuttingDown) {
        throw shuttingDown();
      }
      if (upstream !== undefined) {
        await this.answer(request, response, target, path, upstream, exchange);
      }
    } finally {
      unregister();
    }
  }

  /** Sends the upstream's status and headers on, then its body. */
  private answer(
    request: IncomingMessage,
    response: ServerResponse,
    target: RelayTarget,
    path: string,
    upstream: Dispatcher.ResponseData,
    exchange: UpstreamExchange,
  ): Promise<void> {
    const eventStream = isEventStream(upstream.headers['content-type']);
    const encoded = eventStream && isEncoded(upstream.headers);
    const headers = buildForwardedResponseHeaders(upstream.headers, {
      dropPrefixes: target.dropResponseHeaderPrefixes,
      dropContentLength: eventStream && !encoded,
    });
    if (eventStream) {
      headers['x-accel-buffering'] = 'no';
    }
    response.writeHead(upstream.statusCode, withEdgeHeaders(response, headers));
    if (eventStream) {
      response.flushHeaders();
    }
    const stream = eventStream ? this.relayedStream(request, upstream.statusCode, encoded, target, path) : undefined;
    return this.pipeBody(upstream.body, response, target, stream, exchange);
  }

  /** Sends the request; undefined when the client went away first. */
  private async send(
    request: IncomingMessage,
    target: RelayTarget,
    path: string,
    signal: UpstreamExchange,
  ): Promise<Dispatcher.ResponseData | undefined> {
    const bodyKind = bodyHandling(request);
    if (bodyKind !== 'none') {
      watchUploadIdle(request, this.settings.upstream.idleTimeoutMs);
    }
    let body: Buffer | Readable | undefined;
    let bodyError: unknown;
    if (bodyKind === 'whole') {
      body = await readWholeBody(request, signal);
      if (body === undefined) {
        return undefined;
      }
    } else if (bodyKind === 'stream') {
      // undici destroys a body it could not send; it gets a counting pipe, never the request itself, so that a
      // refused body can still be read to its end (sendErrorResponse) and the client gets the answer.
      body = request.pipe(new BodyLimitStream(this.settings.maxRelayBodyBytes));
      body.once('error', (error: unknown) => {
        bodyError = error;
      });
    }
    try {
      return await target.dispatcher.request({
        origin: target.origin,
        path: joinPath(target.basePath, path),
        method: request.method as Dispatcher.HttpMethod,
        headers: forwardedRequestHeaders(request, target, this.addresses),
        body,
        signal,
      });
    } catch (error) {
      if (bodyError instanceof GatewayException) {
        throw bodyError;
      }
      if (signal.aborted) {
        return undefined;
      }
      throw this.upstreamFailure(error, target);
    }
  }

  /** An event stream's handling: opaque when compressed; the provider's terminal for a 200 answer with a body. */
  private relayedStream(
    request: IncomingMessage,
    status: number,
    encoded: boolean,
    target: RelayTarget,
    path: string,
  ): RelayedStream {
    const expectsTerminal = !encoded && status === 200 && request.method !== 'HEAD';
    return { opaque: encoded, terminal: expectsTerminal ? target.streamTerminal?.(path) : undefined };
  }

  private upstreamFailure(error: unknown, target: RelayTarget): GatewayException {
    const exception = classifyUpstreamError(error, target.name);
    this.metrics.upstreamErrors.inc({ upstream: target.name, kind: exception.code });
    return exception;
  }

  /** An event stream that ended without its terminal, or in the middle of a frame, lost its end. */
  private cutShort(target: RelayTarget): GatewayException {
    this.metrics.upstreamErrors.inc({ upstream: target.name, kind: ErrorCode.UpstreamConnectionReset });
    return new GatewayException(ErrorCode.UpstreamConnectionReset, `Upstream ${target.name} ended the stream early`);
  }

  /**
   * Copies the upstream body to the client with backpressure; ends or fails the response as the rules say.
   * `stream` is undefined for bodies that are not event streams.
   */
  private pipeBody(
    source: Readable,
    response: ServerResponse,
    target: RelayTarget,
    stream: RelayedStream | undefined,
    exchange: UpstreamExchange,
  ): Promise<void> {
    const writer =
      stream === undefined ? undefined : new EventStreamWriter(response, this.settings.heartbeatMs, stream.opaque);
    const watch = stream?.terminal === undefined ? undefined : new StreamEndWatch(stream.terminal);
    if (writer !== undefined) {
      this.metrics.streamsInFlight.inc();
    }
    exchange.onTerminate(() => {
      source.destroy();
      if (writer === undefined) {
        response.destroy();
      } else {
        writer.fail(shuttingDown());
      }
    });
    return copyBody(source, response, this.copyHooks(response, target, writer, watch, stream?.opaque === false));
  }

  /** What the copy does: `writer` for event streams (`framed` when we may add frames to it), else plain bytes. */
  private copyHooks(
    response: ServerResponse,
    target: RelayTarget,
    writer: EventStreamWriter | undefined,
    watch: StreamEndWatch | undefined,
    framed: boolean,
  ): BodyCopyHooks {
    return {
      write: (chunk) => {
        if (writer === undefined) {
          return response.write(chunk);
        }
        watch?.observe(chunk);
        return writer.write(chunk);
      },
      onEnd: () => {
        // A close-delimited body ends cleanly when the upstream closes early: only its bytes tell.
        if (writer !== undefined && framed && (!writer.atFrameBoundary || watch?.completed() === false)) {
          writer.fail(this.cutShort(target));
        } else {
          response.end();
        }
      },
      onError: (error) => {
        if (response.destroyed || response.writableEnded) {
          return;
        }
        const failure = this.upstreamFailure(error, target);
        if (writer === undefined) {
          response.destroy();
        } else {
          writer.fail(failure);
        }
      },
      onSettled: () => {
        if (writer !== undefined) {
          writer.stop();
          this.metrics.streamsInFlight.dec();
        }
      },
    };
  }
}
