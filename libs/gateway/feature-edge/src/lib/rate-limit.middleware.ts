import { Inject, Injectable, type NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { ClientAddressService, setEdgeHeader } from '@openai-proxy/feature-platform';
import { ErrorCode, GatewayException } from '@openai-proxy/util-errors';
import { GATEWAY_SETTINGS, type GatewaySettings } from './gateway.settings';

const WINDOW_SECONDS = 60;
const OPERATIONAL_PATHS: ReadonlySet<string> = new Set(['/healthz', '/readyz', '/metrics']);

/**
 * Optional per-client-address limit (`RATE_LIMIT_PER_MINUTE`), a fixed 60 s window like the original. The
 * address comes from ClientAddressService, so `TRUST_PROXY` decides whether `X-Forwarded-For` counts. Every
 * method gets 429 with `Retry-After` when over; every counted response carries `X-RateLimit-*` (reset in epoch ms).
 */
@Injectable()
export class RateLimitPolicy {
  private readonly limiter: RateLimiterMemory | undefined;
  private readonly limit: number;

  constructor(
    @Inject(GATEWAY_SETTINGS) settings: GatewaySettings,
    private readonly addresses: ClientAddressService,
  ) {
    this.limit = settings.rateLimitPerMinute ?? 0;
    this.limiter =
      settings.rateLimitPerMinute === undefined
        ? undefined
        : new RateLimiterMemory({ points: settings.rateLimitPerMinute, duration: WINDOW_SECONDS });
  }

  /**
   * Counts the request; throws a 429 GatewayException when the client is over its limit. A WebSocket upgrade
   * has no response to carry the `X-RateLimit-*` headers (`undefined`): it is counted all the same.
   */
  async admit(request: IncomingMessage, response: ServerResponse | undefined, pathname: string): Promise<void> {
    if (this.limiter === undefined || OPERATIONAL_PATHS.has(pathname)) {
      return;
    }
    try {
      this.setHeaders(response, await this.limiter.consume(this.addresses.client(request)));
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) {
        throw rejection;
      }
      this.setHeaders(response, rejection);
      const retryAfter = String(Math.max(1, Math.ceil(rejection.msBeforeNext / 1000)));
      throw new GatewayException(ErrorCode.RateLimited, `Rate limit of ${this.limit} requests per minute exceeded`, {
        headers: { 'retry-after': retryAfter },
      });
    }
  }

  private setHeaders(response: ServerResponse | undefined, state: RateLimiterRes): void {
    if (response === undefined) {
      return;
    }
    setEdgeHeader(response, 'x-ratelimit-limit', String(this.limit));
    setEdgeHeader(response, 'x-ratelimit-remaining', String(Math.max(0, state.remainingPoints)));
    setEdgeHeader(response, 'x-ratelimit-reset', String(Date.now() + state.msBeforeNext));
  }
}

/** RateLimitPolicy for the Nest routes (the raw routes call it themselves). */
@Injectable()
export class RateLimitMiddleware implements NestMiddleware {
  constructor(private readonly rateLimit: RateLimitPolicy) {}

  use(request: Request, response: Response, next: NextFunction): void {
    this.rateLimit.admit(request, response, request.path).then(() => next(), next);
  }
}
