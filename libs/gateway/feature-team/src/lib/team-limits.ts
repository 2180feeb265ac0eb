import { Injectable, Logger } from '@nestjs/common';
import type { ServerResponse } from 'node:http';
import { SHOULD_RETRY_HEADER } from '@openai-proxy/data-access-upstream';
import { setEdgeHeader } from '@openai-proxy/feature-platform';
import {
  type GatewayKeyRecord,
  type GrantedReservation,
  type Reservation,
  budgetPeriodKey,
  budgetPeriodStart,
  rateLimitHeaders,
  retryAfterSeconds,
} from '@openai-proxy/gateway-util-team';
import { ErrorCode, GatewayException } from '@openai-proxy/util-errors';
import { TeamState } from './team-state';

type Refusal = Extract<Reservation, { granted: false }>;

/** While the limit store is down, its refusals are logged at most this often. */
const UNAVAILABLE_LOG_MS = 10_000;

/** The reservation of a key without limits: granted, with no window to report and nothing to settle. */
function unlimited(key: GatewayKeyRecord, ask: { tokens: number; costUsd: number }): GrantedReservation {
  return {
    granted: true,
    keyId: key.id,
    limits: key,
    tokens: ask.tokens,
    costUsd: ask.costUsd,
    budgetPeriodKey: budgetPeriodKey(key.budgetPeriod, new Date()),
    requests: undefined,
    tokensWindow: undefined,
  };
}

/**
 * The 429 a refused reservation becomes: OpenAI's codes, its `x-ratelimit-*` headers and Retry-After. A refusal no
 * wait within an SDK's retries can lift (a request larger than the whole limit, a spent budget) also says
 * `x-should-retry: false`, so that the SDKs do not send it again (they retry any 429 twice by default).
 */
function refusalException(refusal: Refusal, ask: { tokens: number; costUsd: number }): GatewayException {
  const headers: Record<string, string> = { ...rateLimitHeaders(refusal.requests, refusal.tokensWindow) };
  if (refusal.retryAfterMs !== null) {
    headers['retry-after'] = String(retryAfterSeconds(refusal.retryAfterMs));
  }
  if (refusal.tooLarge || refusal.refusedBy === 'budget') {
    headers[SHOULD_RETRY_HEADER] = 'false';
  }
  switch (refusal.refusedBy) {
    case 'budget':
      return new GatewayException(
        ErrorCode.InsufficientQuota,
        refusal.tooLarge
          ? `This request could cost up to $${ask.costUsd.toFixed(6)}, more than the key's whole budget`
          : "This gateway key's budget is spent: ask the team's admin to raise it, or wait for the next period",
        { headers },
      );
    case 'tokens':
      return new GatewayException(
        ErrorCode.RateLimited,
        refusal.tooLarge
          ? `Request too large: it may use ${ask.tokens} tokens, more than the key's tokens per minute`
          : "Rate limit reached for this gateway key's tokens per minute",
        { headers },
      );
    case 'requests':
      return new GatewayException(
        ErrorCode.RateLimited,
        "Rate limit reached for this gateway key's requests per minute",
        {
          headers,
        },
      );
  }
}

/**
 * The limits of gateway keys: a reservation before the upstream call (refused: 429 with OpenAI's headers; the
 * limit store unreachable: 503, never a per-replica fallback), the `x-ratelimit-*` headers on the answer, and the
 * settlement on real usage after it (off the request path).
 */
@Injectable()
export class TeamLimits {
  private readonly logger = new Logger('TeamLimits');
  /** When the last "limit store unreachable" line was logged, and how many refusals since went unlogged. */
  private lastUnavailableLog = Number.NEGATIVE_INFINITY;
  private unloggedRefusals = 0;

  constructor(private readonly state: TeamState) {}

  async reserve(
    key: GatewayKeyRecord,
    ask: { tokens: number; costUsd: number },
    response: ServerResponse | undefined,
  ): Promise<GrantedReservation> {
    if (key.rpm === null && key.tpm === null && key.budgetUsd === null) {
      // A key without limits has nothing to reserve: its requests never wait on the limit store.
      return unlimited(key, ask);
    }
    let reservation: Reservation;
    try {
      reservation = await this.state.limiter.reserve(
        { keyId: key.id, limits: key, tokens: ask.tokens, costUsd: ask.costUsd },
        () => this.state.ledger.spentUsd(key.id, budgetPeriodStart(key.budgetPeriod, new Date())),
      );
    } catch (error) {
      if (this.state.isLimiterUnavailable(error)) {
        this.logUnavailable(error);
        throw new GatewayException(
          ErrorCode.UpstreamUnavailable,
          'The gateway cannot check its limits right now (its limit store is unreachable); try again shortly',
          { headers: { 'retry-after': '1' } },
        );
      }
      throw error;
    }
    if (!reservation.granted) {
      throw refusalException(reservation, ask);
    }
    if (response !== undefined) {
      const headers = rateLimitHeaders(reservation.requests, reservation.tokensWindow);
      for (const name of Object.keys(headers)) {
        setEdgeHeader(response, name, headers[name]);
      }
    }
    return reservation;
  }

  /** One line per UNAVAILABLE_LOG_MS at most while the store is down, with the number of refusals in between. */
  private logUnavailable(error: unknown): void {
    const now = Date.now();
    if (now - this.lastUnavailableLog < UNAVAILABLE_LOG_MS) {
      this.unloggedRefusals += 1;
      return;
    }
    const since = this.unloggedRefusals > 0 ? ` (${this.unloggedRefusals} more refused since the last line)` : '';
    const reason = error instanceof Error ? error.message : String(error);
    this.logger.error(`${reason}: refusing gateway-key requests with 503${since}`);
    this.lastUnavailableLog = now;
    this.unloggedRefusals = 0;
  }

  /** Settles in the background: a failure is logged (the reservation then counts as spent until its window passes). */
  settle(reservation: GrantedReservation, tokens: number, costUsd: number): void {
    if (reservation.limits.tpm === null && reservation.limits.budgetUsd === null) {
      // Only tokens and money settle; a request counted against rpm stays counted.
      return;
    }
    this.state.limiter.settle(reservation, { tokens, costUsd }).catch((error: unknown) => {
      this.logger.warn(
        `could not settle a reservation of ${reservation.keyId}: ${error instanceof Error ? error.message : String(error)}`,
      );
    });
  }
}
