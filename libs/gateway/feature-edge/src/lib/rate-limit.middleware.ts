import { Inject, Injectable, type NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { ErrorCode, GatewayException } from '@openai-proxy/util-errors';
import { GATEWAY_SETTINGS, type GatewaySettings } from './gateway.settings';

const WINDOW_SECONDS = 60;
const OPERATIONAL_PATHS: ReadonlySet<string> = new Set(['/healthz', '/readyz', '/metrics']);

/**
 * Optional per-client-address limit (`RATE_LIMIT_PER_MINUTE`), a fixed 60 s window like the original. The
 * address is Express' `req.ip`, so `TRUST_PROXY` decides whether `X-Forwarded-For` counts. Every method gets
 * 429 with `Retry-After` when over; every counted response carries `X-RateLimit-*` (reset in epoch ms).
 */
@Injectable()
export class RateLimitMiddleware implements NestMiddleware {
  private readonly limiter: RateLimiterMemory | undefined;
  private readonly limit: number;

  constructor(@Inject(GATEWAY_SETTINGS) settings: GatewaySettings) {
    this.limit = settings.rateLimitPerMinute ?? 0;
    this.limiter =
      settings.rateLimitPerMinute === undefined
        ? undefined
        : new RateLimiterMemory({ points: settings.rateLimitPerMinute, duration: WINDOW_SECONDS });
  }

  async use(request: Request, response: Response, next: NextFunction): Promise<void> {
    if (this.limiter === undefined || OPERATIONAL_PATHS.has(request.path)) {
      next();
      return;
    }
    const key = request.ip ?? request.socket.remoteAddress ?? 'unknown';
    try {
      this.setHeaders(response, await this.limiter.consume(key));
      next();
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) {
        next(rejection);
        return;
      }
      this.setHeaders(response, rejection);
      const retryAfter = String(Math.max(1, Math.ceil(rejection.msBeforeNext / 1000)));
      next(
        new GatewayException(ErrorCode.RateLimited, `Rate limit of ${this.limit} requests per minute exceeded`, {
          headers: { 'retry-after': retryAfter },
        }),
      );
    }
  }

  private setHeaders(response: Response, state: RateLimiterRes): void {
    response.setHeader('x-ratelimit-limit', String(this.limit));
    response.setHeader('x-ratelimit-remaining', String(Math.max(0, state.remainingPoints)));
    response.setHeader('x-ratelimit-reset', String(Date.now() + state.msBeforeNext));
  }
}
