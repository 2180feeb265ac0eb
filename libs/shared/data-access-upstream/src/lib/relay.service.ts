import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { MetricsService, PLATFORM_SETTINGS, ShutdownService } from '@openai-proxy/feature-platform';
import { buildForwardedRequestHeaders, buildForwardedResponseHeaders } from '@openai-proxy/util-auth-headers';
import type { PlatformSettings } from '@openai-proxy/util-config';
import { ErrorCode, GatewayException, classifyUpstreamError } from '@openai-proxy/util-errors';
import { isEventStream } from '@openai-proxy/util-sse';
import { BodyLimitStream, payloadTooLarge } from './body-limit';
import type { RelayTarget } from './relay.types';
import { EventStreamWriter } from './stream-watch';
import { UpstreamDispatchers } from './upstream-dispatchers';

/** What Express adds to a Node request that the relay reads. */
export interface RelayRequest extends IncomingMessage {
  ips?: string[];
  ip?: string;
  protocol?: string;
}

function clientAddresses(request: RelayRequest): string[] {
  if (request.ips !== undefined && request.ips.length > 0) {
    return request.ips;
  }
  const address = request.ip ?? request.socket.remoteAddress;
  return address === undefined ? [] : [address];
}

function hasBody(request: IncomingMessage): boolean {
  const length = request.headers['content-length'];
  return request.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/** The base path (without its trailing slash) followed by the request's rest: `/v1/x?y`, `?y` or nothing. */
export function joinPath(base: URL, rest: string): string {
  const prefix = base.pathname.replace(/\/+$/, '');
  const needsSlash = !rest.startsWith('/') && prefix === '';
  return `${prefix}${needsSlash ? '/' : ''}${rest}`;
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
  ) {
    this.dispatchers = new UpstreamDispatchers(settings.upstream);
  }

  async onModuleDestroy(): Promise<void> {
    await this.dispatchers.destroy();
  }

  async relay(request: RelayRequest, response: ServerResponse, target: RelayTarget): Promise<void> {
    const limit = this.settings.maxRelayBodyBytes;
    if (Number(request.headers['content-length'] ?? 0) > limit) {
      throw payloadTooLarge(limit);
    }
    const abort = new AbortController();
    const onClientGone = (): void => {
      if (!response.writableFinished) {
        abort.abort();
      }
    };
    response.once('close', onClientGone);
    const upstream = await this.send(request, target, abort.signal);
    if (upstream === undefined) {
      return;
    }
    response.writeHead(
      upstream.statusCode,
      buildForwardedResponseHeaders(upstream.headers, { dropPrefixes: target.dropResponseHeaderPrefixes ?? [] }),
    );
    response.flushHeaders();
    await this.pipeBody(upstream.body, response, target, isEventStream(upstream.headers['content-type']));
  }

  /** Sends the request; undefined when the client went away first. */
  private async send(
    request: RelayRequest,
    target: RelayTarget,
    signal: AbortSignal,
  ): Promise<Dispatcher.ResponseData | undefined> {
    const url = new URL(target.base);
    const dispatcher = target.kind === 'internal' ? this.dispatchers.direct : this.dispatchers.forProvider(url);
    const body = hasBody(request) ? request.pipe(new BodyLimitStream(this.settings.maxRelayBodyBytes)) : undefined;
    let bodyError: unknown;
    body?.once('error', (error: unknown) => {
      bodyError = error;
    });
    try {
      return await dispatcher.request({
        origin: url.origin,
        path: joinPath(url, target.path),
        method: request.method as Dispatcher.HttpMethod,
        headers: buildForwardedRequestHeaders(
          request.headers,
          {
            clientAddresses: clientAddresses(request),
            protocol: request.protocol ?? 'http',
            host: request.headers.host,
          },
          { dropCookie: target.kind === 'provider' },
        ),
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

  private upstreamFailure(error: unknown, target: RelayTarget): GatewayException {
    const exception = classifyUpstreamError(error, target.name);
    this.metrics.upstreamErrors.inc({ upstream: target.name, kind: exception.code });
    return exception;
  }

  /** Copies the upstream body to the client with backpressure; ends or fails the response as the rules say. */
  private pipeBody(
    source: Readable,
    response: ServerResponse,
    target: RelayTarget,
    eventStream: boolean,
  ): Promise<void> {
    const writer = eventStream ? new EventStreamWriter(response, this.settings.heartbeatMs) : undefined;
    if (eventStream) {
      this.metrics.streamsInFlight.inc();
    }
    const unregister = this.shutdown.registerStream({
      terminate: () => {
        const shuttingDown = new GatewayException(ErrorCode.ShuttingDown, 'Server is shutting down; retry the request');
        source.destroy();
        if (writer === undefined) {
          response.destroy();
        } else {
          writer.fail(shuttingDown);
        }
      },
    });
    return new Promise<void>((resolve) => {
      let settled = false;
      const onDrain = (): void => {
        source.resume();
      };
      const settle = (): void => {
        if (settled) {
          return;
        }
        settled = true;
        writer?.stop();
        unregister();
        response.off('drain', onDrain);
        if (eventStream) {
          this.metrics.streamsInFlight.dec();
        }
        resolve();
      };
      response.on('drain', onDrain);
      source.on('data', (chunk: Buffer) => {
        const flowing = writer === undefined ? response.write(chunk) : writer.write(chunk);
        if (!flowing) {
          source.pause();
        }
      });
      source.once('end', () => {
        response.end();
        settle();
      });
      source.once('error', (error: unknown) => {
        if (!response.destroyed && !response.writableEnded) {
          const failure = this.upstreamFailure(error, target);
          if (writer === undefined) {
            response.destroy();
          } else {
            writer.fail(failure);
          }
        }
        settle();
      });
      source.once('close', settle);
    });
  }
}
