import { Inject, Injectable, type NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { setEdgeHeader, withEdgeHeaders } from '@openai-proxy/feature-platform';
import { GATEWAY_SETTINGS, type GatewaySettings } from './gateway.settings';

const ALLOWED_METHODS = 'GET, POST, PUT, PATCH, DELETE, OPTIONS';

/** What browser clients of the three providers send; a preflight's own list is allowed on top. */
const ALLOWED_HEADERS = [
  'Content-Type',
  'Accept',
  'Authorization',
  'x-api-key',
  'anthropic-version',
  'anthropic-beta',
  'anthropic-dangerous-direct-browser-access',
  'x-goog-api-key',
  'OpenAI-Organization',
  'OpenAI-Project',
  'OpenAI-Beta',
  'x-request-id',
];

/**
 * The answer headers a browser client may read: the request id, OpenAI's rate-limit headers (a gateway key's six,
 * and the older three), the waits an SDK honours (`retry-after`, `retry-after-ms`), `x-should-retry` (the
 * official SDKs obey it: without it exposed, a browser SDK resends an answer that says not to), and the model that
 * served a team request.
 */
const EXPOSED_HEADERS = [
  'x-request-id',
  'x-ratelimit-limit-requests',
  'x-ratelimit-remaining-requests',
  'x-ratelimit-reset-requests',
  'x-ratelimit-limit-tokens',
  'x-ratelimit-remaining-tokens',
  'x-ratelimit-reset-tokens',
  'x-ratelimit-limit',
  'x-ratelimit-remaining',
  'x-ratelimit-reset',
  'retry-after',
  'retry-after-ms',
  'x-should-retry',
  'x-openai-proxy-model',
  'openai-processing-ms',
].join(', ');

function requestedHeaders(request: IncomingMessage): string[] {
  const value = request.headers['access-control-request-headers'];
  return typeof value === 'string'
    ? value
        .split(',')
        .map((name) => name.trim())
        .filter((name) => /^[A-Za-z0-9-]+$/.test(name))
    : [];
}

/** CORS as the original: the origin header on every response, OPTIONS answered for every path. */
@Injectable()
export class CorsPolicy {
  constructor(@Inject(GATEWAY_SETTINGS) private readonly settings: GatewaySettings) {}

  /** Sets the CORS headers; answers a preflight itself and returns true, else returns false. */
  apply(request: IncomingMessage, response: ServerResponse): boolean {
    setEdgeHeader(response, 'access-control-allow-origin', this.settings.allowOrigin);
    setEdgeHeader(response, 'access-control-expose-headers', EXPOSED_HEADERS);
    if (request.method !== 'OPTIONS') {
      return false;
    }
    const headers = new Set([...ALLOWED_HEADERS, ...requestedHeaders(request)]);
    response.writeHead(
      200,
      withEdgeHeaders(response, {
        'access-control-allow-methods': ALLOWED_METHODS,
        'access-control-allow-headers': [...headers].join(', '),
        'access-control-max-age': '86400',
        'content-length': '0',
      }),
    );
    response.end();
    return true;
  }
}

/** CorsPolicy for the Nest routes (the raw routes call it themselves). */
@Injectable()
export class CorsMiddleware implements NestMiddleware {
  constructor(private readonly cors: CorsPolicy) {}

  use(request: Request, response: Response, next: NextFunction): void {
    if (!this.cors.apply(request, response)) {
      next();
    }
  }
}
