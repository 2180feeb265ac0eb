import { Inject, Injectable, type NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
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

const EXPOSED_HEADERS = [
  'x-request-id',
  'x-ratelimit-limit',
  'x-ratelimit-remaining',
  'x-ratelimit-reset',
  'retry-after',
  'openai-processing-ms',
].join(', ');

function requestedHeaders(request: Request): string[] {
  const value = request.headers['access-control-request-headers'];
  return typeof value === 'string'
    ? value
        .split(',')
        .map((name) => name.trim())
        .filter((name) => /^[A-Za-z0-9-]+$/.test(name))
    : [];
}

/** CORS as the original: OPTIONS answered for every path before anything else, the origin header on all. */
@Injectable()
export class CorsMiddleware implements NestMiddleware {
  constructor(@Inject(GATEWAY_SETTINGS) private readonly settings: GatewaySettings) {}

  use(request: Request, response: Response, next: NextFunction): void {
    response.setHeader('access-control-allow-origin', this.settings.allowOrigin);
    response.setHeader('access-control-expose-headers', EXPOSED_HEADERS);
    if (request.method !== 'OPTIONS') {
      next();
      return;
    }
    const headers = new Set([...ALLOWED_HEADERS, ...requestedHeaders(request)]);
    response.setHeader('access-control-allow-methods', ALLOWED_METHODS);
    response.setHeader('access-control-allow-headers', [...headers].join(', '));
    response.setHeader('access-control-max-age', '86400');
    response.status(200).end();
  }
}
