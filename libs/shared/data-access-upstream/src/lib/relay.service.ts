import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import {
  ClientAddressService,
  MetricsService,
  PLATFORM_SETTINGS,
  ShutdownService,
  toGatewayException,
  withEdgeHeaders,
} from '@openai-proxy/feature-platform';
import { type OutgoingHeaders, buildForwardedResponseHeaders } from '@openai-proxy/util-auth-headers';
import type { PlatformSettings } from '@openai-proxy/util-config';
import { GatewayException } from '@openai-proxy/util-errors';
import { isEventStream } from '@openai-proxy/util-sse';
import { copyBody } from './body-copy';
import { scrubbedErrorBody } from './error-scrub';
import { forwardedRequestHeaders } from './forwarded-request';
import { RelayCopy, type WatchedProgress, WatchedRelayCopy, upstreamFailure } from './relay-copy';
import {
  BodyLimitStream,
  WHOLE_BODY_MAX_BYTES,
  bodyHandling,
  payloadTooLarge,
  readWholeBody,
  watchUploadIdle,
} from './request-body';
import { SpoolBudget, type SpoolOptions, spoolRequestBody } from './request-spool';
import type {
  RelayTarget,
  RelayTargetOptions,
  RelayWatcher,
  ShapedCall,
  ShapedCalls,
  StreamTerminal,
} from './relay.types';
import { noCall, relayReport, shapedHeaders } from './shaped-relay';
import { StreamEndWatch } from './stream-end';
import { CALLER_RETRIES_HEADER, forbidsResend, retryScope } from './retry-policy';
import { EventStreamWriter } from './stream-watch';
import { requestUpstream } from './upstream-call';
import { UpstreamDispatchers } from './upstream-dispatchers';
import { UpstreamExchange, shuttingDown } from './upstream-exchange';
import { type RetryGrant, UpstreamGuards } from './upstream-guard';

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

/** The answer a shaped relay sends on: the upstream's, and the target and path of the call that got it. */
interface ShapedAnswer {
  target: RelayTarget;
  path: string;
  upstream: Dispatcher.ResponseData;
}

/** True when the upstream compressed the body: we relay it, but cannot add frames to it. */
function isEncoded(headers: Dispatcher.ResponseData['headers']): boolean {
  const encoding = headers['content-encoding'];
  return encoding !== undefined && encoding !== 'identity';
}

/** The call to send after one that failed, and whether its upstream counts it as a first attempt. */
interface NextCall {
  call: ShapedCall;
  first: boolean;
}

/**
 * The next of `calls` after `failed` failed one: another key of the same pool, or a model fallback served by the
 * same upstream (nextSharesUpstream), is a retry there, paid from `failed`'s budget (when it is spent, the calls
 * skip to their next fallback if they have one); a fallback to another upstream is a first attempt there,
 * counted (`model_fallback`) but never refused by the failed upstream's budget, so a dead primary does not hold
 * back the fallbacks that are there for it. Nothing is paid when no call comes after all.
 */
async function nextCall(failed: RelayTarget, calls: ShapedCalls): Promise<NextCall | undefined> {
  let reason = calls.nextReason?.() ?? 'key_failover';
  let grant: RetryGrant | undefined;
  // Each turn either pays, ends, or skips one fallback further (skipToFallback): the fallbacks are finite.
  while (grant === undefined && (reason !== 'model_fallback' || calls.nextSharesUpstream?.() === true)) {
    grant = failed.guard.allowRetry(reason);
    if (grant === undefined) {
      if (calls.skipToFallback?.() !== true) {
        return undefined;
      }
      reason = 'model_fallback';
    }
  }
  const call = await calls.next();
  if (call === undefined) {
    grant?.unused();
    return undefined;
  }
  if (grant === undefined) {
    failed.guard.countFallback();
  } else {
    grant.made();
  }
  return { call, first: grant === undefined };
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
  /** Each upstream's circuit breaker and retry budget, by name. */
  readonly guards: UpstreamGuards;
  /** How a body of unknown length is read before its call: up to the relay limit, in the temp folder when large. */
  private readonly spoolOptions: SpoolOptions;

  constructor(
    @Inject(PLATFORM_SETTINGS) private readonly settings: PlatformSettings,
    private readonly metrics: MetricsService,
    private readonly shutdown: ShutdownService,
    private readonly addresses: ClientAddressService,
  ) {
    this.dispatchers = new UpstreamDispatchers(settings.upstream);
    this.guards = new UpstreamGuards(settings.upstream.retry, metrics);
    this.spoolOptions = {
      limitBytes: settings.maxRelayBodyBytes,
      memoryBytes: WHOLE_BODY_MAX_BYTES,
      directory: tmpdir(),
      budget: new SpoolBudget(settings.maxSpoolBytes),
    };
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
      guard: this.guards.for(options.name),
      webSocketAgent: provider ? this.dispatchers.webSocketAgentFor(url) : undefined,
      dropResponseHeaderPrefixes: options.dropResponseHeaderPrefixes ?? [],
      streamTerminal: options.streamTerminal,
    };
  }

  /** Relays one request to `target` + `path` (path and query, as received after the route prefix). */
  async relay(request: IncomingMessage, response: ServerResponse, target: RelayTarget, path: string): Promise<void> {
    this.refuseDeclaredOversize(request);
    // While waiting for the upstream, a shutdown at the drain cap aborts the call (503); pipeBody takes over after.
    // Registered here rather than through runExchange: one closure and one promise less on the hot path.
    const exchange = new UpstreamExchange(response);
    const unregister = this.shutdown.registerStream(exchange);
    try {
      const headers = forwardedRequestHeaders(request, target, this.addresses);
      const upstream = await this.send(request, target, path, headers, 'client', exchange, true);
      if (exchange.shuttingDown) {
        throw shuttingDown();
      }
      if (upstream !== undefined) {
        await this.answer(request, response, target, path, upstream, exchange, undefined);
      }
    } finally {
      unregister();
      exchange.release();
    }
  }

  /**
   * Relays one request the way its caller shaped it (team mode): each call from `calls` goes to `target` with its
   * own path, headers and body, until `watcher.accept` takes an answer or no call is left (the last answer then
   * goes on as it is). That answer reaches the client exactly as `relay` sends one, each event of an event stream
   * (or each byte of any other body) shown to `watcher` on the way, unless `calls.answerInstead` names an error
   * to answer in its place (an error answer goes without the credentials `calls.heldSecrets` names: deliverShaped);
   * `watcher.onEnd` gets the report. Throws as `relay` does (the route answers the
   * error), after the report.
   */
  async relayShaped(
    request: IncomingMessage,
    response: ServerResponse,
    target: RelayTarget,
    calls: ShapedCalls,
    watcher: RelayWatcher,
  ): Promise<void> {
    const progress: WatchedProgress = {
      watcher,
      startedAt: performance.now(),
      firstByteAt: undefined,
      ending: undefined,
    };
    const exchange = new UpstreamExchange(response);
    const unregister = this.shutdown.registerStream(exchange);
    let thrown: GatewayException | undefined;
    try {
      this.refuseDeclaredOversize(request);
      const answer = await this.acceptedAnswer(request, target, calls, watcher, exchange);
      if (exchange.shuttingDown) {
        throw shuttingDown();
      }
      if (answer !== undefined) {
        await this.deliverShaped(request, response, answer, calls, exchange, progress);
      }
    } catch (error) {
      thrown = toGatewayException(error);
      throw error;
    } finally {
      unregister();
      exchange.release();
      watcher.onEnd(relayReport(progress, response, exchange.clientLeft, thrown));
    }
  }

  /**
   * Sends a shaped relay's answer on: the error `calls.answerInstead` names in its place (its body discarded), an
   * error answer without the credentials the gateway put in its call (`calls.heldSecrets`), else as `relay` does.
   */
  private async deliverShaped(
    request: IncomingMessage,
    response: ServerResponse,
    answer: ShapedAnswer,
    calls: ShapedCalls,
    exchange: UpstreamExchange,
    progress: WatchedProgress,
  ): Promise<void> {
    const { upstream } = answer;
    const instead = calls.answerInstead?.(upstream.statusCode);
    if (instead !== undefined) {
      await upstream.body.dump();
      throw instead;
    }
    // Only an error answer is read for the held credentials: a success goes on untouched.
    const secrets = upstream.statusCode >= 400 ? calls.heldSecrets?.() : undefined;
    if (secrets !== undefined && secrets.length > 0 && !isEventStream(upstream.headers['content-type'])) {
      await this.answerScrubbed(response, answer, secrets, progress.watcher);
      return;
    }
    await this.answer(request, response, answer.target, answer.path, upstream, exchange, progress);
  }

  /**
   * An error answer to a call that carried the gateway's own credentials: read whole (bounded), decoded, and
   * sent without them (scrubbedErrorBody), with its status and headers otherwise as `answer` sends them.
   */
  private async answerScrubbed(
    response: ServerResponse,
    answer: ShapedAnswer,
    secrets: readonly string[],
    watcher: RelayWatcher,
  ): Promise<void> {
    const { upstream, target } = answer;
    const encoding = upstream.headers['content-encoding'];
    const body = await scrubbedErrorBody(
      upstream.body,
      Array.isArray(encoding) ? encoding.join(',') : encoding,
      secrets,
    );
    const headers = buildForwardedResponseHeaders(upstream.headers, {
      dropPrefixes: target.dropResponseHeaderPrefixes,
      dropContentLength: true,
    });
    delete headers['content-encoding'];
    headers['content-length'] = String(body.length);
    response.writeHead(upstream.statusCode, withEdgeHeaders(response, headers));
    watcher.onBytes(body);
    response.end(body);
  }

  /** A body declared larger than the relay limit is refused before any upstream contact. */
  private refuseDeclaredOversize(request: IncomingMessage): void {
    const limit = this.settings.maxRelayBodyBytes;
    if (Number(request.headers['content-length'] ?? 0) > limit) {
      throw payloadTooLarge(limit);
    }
  }

  /**
   * Sends the calls in turn, each to its own target if it names one: the answer to send on is the first one
   * `accept` takes, else the last one sent (when no call is left, or the retry budget is spent); undefined when
   * the client went away first. A call that throws is answered with its error unless `calls.failed` moves on.
   * Each call goes through the retry layer itself (connection errors); moving on to the next call is a retry of
   * the budget of the upstream that failed, except a model fallback to another upstream (nextCall).
   */
  private async acceptedAnswer(
    request: IncomingMessage,
    target: RelayTarget,
    calls: ShapedCalls,
    watcher: RelayWatcher,
    exchange: UpstreamExchange,
  ): Promise<ShapedAnswer | undefined> {
    let call = await calls.next();
    let first = true;
    while (call !== undefined) {
      const callTarget = call.target ?? target;
      let upstream: Dispatcher.ResponseData | undefined;
      try {
        upstream = await this.send(request, callTarget, call.path, shapedHeaders(call), call.body, exchange, first);
      } catch (error) {
        const next = await this.retryAfterFailure(callTarget, error, call, calls);
        if (next === undefined) {
          throw error;
        }
        ({ call, first } = next);
        continue;
      }
      if (upstream === undefined) {
        return undefined;
      }
      const next = await this.retryWith(callTarget, upstream, call, calls, watcher);
      if (next === undefined) {
        return { target: callTarget, path: call.path, upstream };
      }
      ({ call, first } = next);
    }
    throw noCall(target);
  }

  /**
   * The call to try instead of this answer: none when `accept` takes it, when its request cannot be sent again
   * (a streamed body, or an answer that says so: NOT_RESENDABLE_HEADER), when the target's retry budget is
   * spent, or when no call is left. A refused answer's body is read and dropped (its connection stays reusable).
   */
  private async retryWith(
    target: RelayTarget,
    upstream: Dispatcher.ResponseData,
    call: ShapedCall,
    calls: ShapedCalls,
    watcher: RelayWatcher,
  ): Promise<NextCall | undefined> {
    try {
      const accepted = watcher.accept(upstream.statusCode, upstream.headers);
      if (accepted || call.body === 'client' || forbidsResend(upstream.headers)) {
        return undefined;
      }
      const next = await nextCall(target, calls);
      if (next !== undefined) {
        await upstream.body.dump();
      }
      return next;
    } catch (error) {
      upstream.body.destroy();
      throw error;
    }
  }

  /**
   * The call to try instead of a call that threw: none unless `calls.failed` moves on, the request can be sent
   * again (not a streamed body, not an error that says so: NOT_RESENDABLE_HEADER) and the target's retry budget
   * allows it.
   */
  private async retryAfterFailure(
    target: RelayTarget,
    error: unknown,
    call: ShapedCall,
    calls: ShapedCalls,
  ): Promise<NextCall | undefined> {
    if (
      calls.failed === undefined ||
      call.body === 'client' ||
      !(error instanceof GatewayException) ||
      forbidsResend(error.headers)
    ) {
      return undefined;
    }
    return calls.failed(error) ? nextCall(target, calls) : undefined;
  }

  /** Sends the upstream's status and headers on, then its body (shown to the watcher of `progress`, if any). */
  private answer(
    request: IncomingMessage,
    response: ServerResponse,
    target: RelayTarget,
    path: string,
    upstream: Dispatcher.ResponseData,
    exchange: UpstreamExchange,
    progress: WatchedProgress | undefined,
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
    return this.pipeBody(upstream.body, response, target, stream, exchange, progress);
  }

  /**
   * Sends the request with `headers` and `body` (`client`: the client's, read whole when small, spooled when
   * chunked, else streamed through the body limit) to `target` + `path` through the retry layer (a streamed body,
   * or one read back from its spool file, is never sent again; `first`: the request's first call); undefined when
   * the client went away first.
   */
  private async send(
    request: IncomingMessage,
    target: RelayTarget,
    path: string,
    headers: OutgoingHeaders,
    body: ShapedCall['body'],
    signal: UpstreamExchange,
    first: boolean,
  ): Promise<Dispatcher.ResponseData | undefined> {
    let sent: Buffer | Readable | undefined;
    let bodyError: unknown;
    let resendable = true;
    if (body !== 'client') {
      sent = body;
    } else {
      const bodyKind = bodyHandling(request);
      if (bodyKind !== 'none') {
        watchUploadIdle(request, this.settings.upstream.idleTimeoutMs);
      }
      if (bodyKind === 'whole') {
        sent = await readWholeBody(request, signal);
        if (sent === undefined) {
          return undefined;
        }
      } else if (bodyKind === 'spool') {
        const spooled = await spoolRequestBody(request, this.spoolOptions, signal);
        if (spooled === undefined) {
          return undefined;
        }
        // The headers are this request's own (a client body is sent once); they had no length (hop-by-hop framing
        // is never forwarded).
        if (spooled.kind === 'memory') {
          sent = spooled.bytes;
          headers['content-length'] = String(spooled.bytes.length);
        } else {
          resendable = false;
          sent = spooled.stream;
          headers['content-length'] = String(spooled.size);
          // Whatever becomes of the call, the file's handle is closed when the exchange ends.
          signal.holdBody(spooled.stream);
        }
      } else if (bodyKind === 'stream') {
        resendable = false;
        // undici destroys a body it could not send; it gets a counting pipe, never the request itself, so that a
        // refused body can still be read to its end (sendErrorResponse) and the client gets the answer.
        sent = request.pipe(new BodyLimitStream(this.settings.maxRelayBodyBytes));
        sent.once('error', (error: unknown) => {
          bodyError = error;
        });
      }
    }
    const callerRetries = request.headers[CALLER_RETRIES_HEADER] !== undefined;
    try {
      return await requestUpstream(
        target,
        {
          origin: target.origin,
          path: joinPath(target.basePath, path),
          method: request.method as Dispatcher.HttpMethod,
          headers,
          body: sent,
          signal,
        },
        retryScope(target.kind, resendable, callerRetries),
        signal,
        first,
      );
    } catch (error) {
      if (bodyError instanceof GatewayException) {
        throw bodyError;
      }
      if (signal.aborted) {
        return undefined;
      }
      throw upstreamFailure(this.metrics, error, target);
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

  /**
   * Copies the upstream body to the client with backpressure; ends or fails the response as the rules say.
   * `stream` is undefined for bodies that are not event streams; `progress` only for a watched relay.
   */
  private pipeBody(
    source: Readable,
    response: ServerResponse,
    target: RelayTarget,
    stream: RelayedStream | undefined,
    exchange: UpstreamExchange,
    progress: WatchedProgress | undefined,
  ): Promise<void> {
    const writer =
      stream === undefined ? undefined : new EventStreamWriter(response, this.settings.heartbeatMs, stream.opaque);
    const watch = stream?.terminal === undefined ? undefined : new StreamEndWatch(stream.terminal);
    if (writer !== undefined) {
      this.metrics.streamsInFlight.inc();
    }
    const framed = stream?.opaque === false;
    const copy =
      progress === undefined
        ? new RelayCopy(response, source, target, this.metrics, writer, watch, framed)
        : new WatchedRelayCopy(response, source, target, this.metrics, writer, watch, framed, progress);
    exchange.onTerminate(() => copy.shutDown());
    return copyBody(source, response, copy);
  }
}
