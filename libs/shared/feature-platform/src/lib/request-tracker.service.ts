import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { REQUEST_ID_HEADER, looksLikeCredential } from '@openai-proxy/util-auth-headers';
import { AccessLog, type LoggedResponse } from './access-log';
import { setEdgeHeader } from './edge-headers';
import { MetricsService } from './metrics.service';
import { ShutdownService } from './shutdown.service';

/** Short and of a safe alphabet: a client id is logged and passed on, so it must not carry anything else. */
const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:-]{1,64}$/;
/** Probes would drown the access log. */
const UNLOGGED_PATHS: ReadonlySet<string> = new Set(['/healthz', '/readyz']);

function isAcceptableRequestId(given: string | string[] | undefined): given is string {
  // A client that puts a key where its request id goes would otherwise have it logged as our request id.
  return typeof given === 'string' && REQUEST_ID_PATTERN.test(given) && !looksLikeCredential(given);
}

/**
 * Keeps a client `x-request-id` that is short, of a safe alphabet and not credential-shaped, or makes one; it
 * is passed on (so the service behind the gateway logs the same id) and echoed in the response.
 */
export function ensureRequestId(request: IncomingMessage): string {
  const given = request.headers[REQUEST_ID_HEADER];
  const id = isAcceptableRequestId(given) ? given : randomUUID();
  request.headers[REQUEST_ID_HEADER] = id;
  return id;
}

/** A WebSocket upgrade as the tracker records it: the status it was answered with (0 until then). */
export interface UpgradeExchange {
  statusCode: number;
}

/**
 * What every request gets, whichever way it is routed: a request id, in-flight accounting for the drain,
 * `Connection: close` while draining, and when the response closes the metrics and one access-log line.
 */
@Injectable()
export class RequestTracker {
  constructor(
    private readonly metrics: MetricsService,
    private readonly shutdown: ShutdownService,
    private readonly accessLog: AccessLog,
  ) {}

  begin(request: IncomingMessage, response: ServerResponse, routeLabel: () => string): void {
    const started = performance.now();
    setEdgeHeader(response, REQUEST_ID_HEADER, ensureRequestId(request));
    if (this.shutdown.isDraining) {
      setEdgeHeader(response, 'connection', 'close');
    }
    this.shutdown.requestStarted();
    this.metrics.requestsInFlight.inc();
    response.once('close', () => this.finish(request, response, routeLabel(), performance.now() - started));
  }

  /**
   * The same for a WebSocket upgrade, which has no ServerResponse: tracked from the upgrade until its socket
   * closes (the whole session), with the status the upgrade was answered with (0 when it was not answered).
   */
  beginUpgrade(request: IncomingMessage, socket: Duplex, routeLabel: () => string): UpgradeExchange {
    const started = performance.now();
    ensureRequestId(request);
    this.shutdown.requestStarted();
    this.metrics.requestsInFlight.inc();
    const exchange: UpgradeExchange = { statusCode: 0 };
    socket.once('close', () => {
      const answered = { statusCode: exchange.statusCode, writableFinished: exchange.statusCode !== 0 };
      this.finish(request, answered, routeLabel(), performance.now() - started);
    });
    return exchange;
  }

  private finish(request: IncomingMessage, response: LoggedResponse, route: string, milliseconds: number): void {
    this.shutdown.requestFinished();
    this.metrics.requestsInFlight.dec();
    const method = request.method ?? 'GET';
    this.metrics.requests.inc({ method, route, status: String(response.statusCode) });
    this.metrics.duration.observe({ method, route }, milliseconds / 1000);
    if (!UNLOGGED_PATHS.has(route)) {
      this.accessLog.record(request, response, milliseconds);
    }
  }
}
