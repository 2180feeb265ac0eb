import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { REQUEST_ID_HEADER } from '@openai-proxy/util-auth-headers';
import type { MetricsService } from './metrics.service';
import type { ShutdownService } from './shutdown.service';

const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

/** Keeps a well-formed client `x-request-id` or makes one; it is passed on and echoed in the response. */
export function ensureRequestId(request: Request): string {
  const given = request.headers[REQUEST_ID_HEADER];
  const id = typeof given === 'string' && REQUEST_ID_PATTERN.test(given) ? given : randomUUID();
  request.headers[REQUEST_ID_HEADER] = id;
  return id;
}

/** The route pattern Express matched (`req.route` is unset when no route matched). */
function routeLabel(request: Request): string {
  const route = request.route as { path?: unknown } | undefined;
  const path = route?.path;
  if (typeof path === 'string') {
    return path;
  }
  if (Array.isArray(path)) {
    return path.join('|');
  }
  return 'unmatched';
}

/**
 * First middleware of every service: request id, in-flight accounting for the drain, `Connection: close`
 * while draining, and the request metrics (recorded once when the response closes).
 */
export function createRequestContextMiddleware(metrics: MetricsService, shutdown: ShutdownService) {
  return (request: Request, response: Response, next: NextFunction): void => {
    const started = process.hrtime.bigint();
    response.setHeader(REQUEST_ID_HEADER, ensureRequestId(request));
    if (shutdown.isDraining) {
      response.setHeader('connection', 'close');
    }
    shutdown.requestStarted();
    metrics.requestsInFlight.inc();
    response.once('close', () => {
      shutdown.requestFinished();
      metrics.requestsInFlight.dec();
      const route = routeLabel(request);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      metrics.requests.inc({ method: request.method, route, status: String(response.statusCode) });
      metrics.duration.observe({ method: request.method, route }, seconds);
    });
    next();
  };
}
