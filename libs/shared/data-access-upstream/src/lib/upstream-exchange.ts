import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type { DrainableStream, MetricsService, ShutdownService } from '@openai-proxy/feature-platform';
import { ErrorCode, GatewayException } from '@openai-proxy/util-errors';

/** What a call ended by the drain cap answers: 503 before the first byte, an error frame after it. */
export function shuttingDown(): GatewayException {
  return new GatewayException(ErrorCode.ShuttingDown, 'Server is shutting down; retry the request');
}

/**
 * One exchange with an upstream on behalf of one client, from its start to its last byte: the relay's
 * request, a bridge's provider call, a WebSocket session, or a bridge's control-plane calls. It is the
 * signal that aborts the upstream request (undici takes an EventEmitter: lighter than an AbortController,
 * and there is one per request), it knows why it was aborted (the client left, or the drain cap came), and
 * it is what the drain ends: registered for the whole exchange, a call still waiting for its upstream is
 * answered 503 instead of being cut when the server closes its connections.
 */
export class UpstreamExchange extends EventEmitter implements DrainableStream {
  aborted = false;
  /** The drain cap ended the exchange. */
  shuttingDown = false;
  /** The client's connection closed before its answer was complete. */
  clientLeft = false;
  /** The call's own time budget ended it (CallDeadline): the upstream's failure to answer, not ours to leave. */
  timedOut = false;
  /** When that budget ends (`performance.now()` ms); undefined without one (the data plane's exchanges). */
  endsAt: number | undefined;
  private endStream: (() => void) | undefined;
  private controller: AbortController | undefined;
  private heldBody: Readable | undefined;

  /**
   * Watches `client` when given: when it leaves (or has already left) the upstream call is aborted. Watches
   * the response's `close`, not the request's: the request ends as soon as its body was read.
   */
  constructor(client?: ServerResponse) {
    super();
    if (client === undefined) {
      return;
    }
    if (client.destroyed || client.socket?.destroyed === true) {
      this.leave();
      return;
    }
    client.once('close', () => {
      if (!client.writableFinished) {
        this.leave();
      }
    });
  }

  /** The same abort as an AbortSignal (control-plane calls pass it to undici); made when asked for. */
  get signal(): AbortSignal {
    this.controller ??= new AbortController();
    if (this.aborted) {
      this.controller.abort();
    }
    return this.controller.signal;
  }

  abort(): void {
    if (!this.aborted) {
      this.aborted = true;
      this.controller?.abort();
      this.emit('abort');
    }
  }

  /** The call's time budget ran out: aborted, and an attempt it cut counts against the upstream (timedOut). */
  expire(): void {
    if (!this.aborted) {
      this.timedOut = true;
    }
    this.abort();
  }

  /** The drain cap: before the stream started the call is aborted (and answered 503), after it `endStream` runs. */
  terminate(): void {
    this.shuttingDown = true;
    if (this.endStream === undefined) {
      this.abort();
    } else {
      this.endStream();
    }
  }

  /** From the first byte on, the drain ends the exchange this way (an error frame, a close) instead. */
  onTerminate(endStream: () => void): void {
    this.endStream = endStream;
  }

  /** A request body read back from a spool file: closed by release(), whatever became of the call. */
  holdBody(body: Readable): void {
    // Its errors are the call's (undici reports them); one after the call (a failed close) must not go unheard.
    body.on('error', () => undefined);
    this.heldBody = body;
  }

  /** The exchange is over: a held request body is closed (a no-op when the call read it to its end). */
  release(): void {
    this.heldBody?.destroy();
    this.heldBody = undefined;
  }

  private leave(): void {
    if (!this.shuttingDown) {
      this.clientLeft = true;
    }
    this.abort();
  }
}

/** Runs `run` with `exchange` registered with the drain, from its start to its end. */
export async function runExchange<T>(
  shutdown: ShutdownService,
  exchange: UpstreamExchange,
  run: (exchange: UpstreamExchange) => Promise<T>,
): Promise<T> {
  const unregister = shutdown.registerStream(exchange);
  try {
    return await run(exchange);
  } finally {
    unregister();
  }
}

/**
 * What an error thrown while an exchange ran means for its client: the drain cap's 503 when that ended it,
 * else the error itself, a client that had left counted as a client abort of `name`.
 */
export function exchangeError(
  exchange: UpstreamExchange,
  error: unknown,
  metrics: MetricsService,
  name: string,
): unknown {
  if (exchange.shuttingDown) {
    return shuttingDown();
  }
  if (exchange.clientLeft) {
    metrics.clientAborts.inc({ upstream: name });
  }
  return error;
}
