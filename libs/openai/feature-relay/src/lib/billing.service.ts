import { Inject, Injectable } from '@nestjs/common';
import { CircuitOpenException, type ControlPlaneAnswer, ControlPlaneClient } from '@openai-proxy/data-access-upstream';
import { ErrorCode, GatewayException, parseJsonText } from '@openai-proxy/util-errors';
import {
  BillingDateError,
  type DayRange,
  type KeyModeCreditSummary,
  centsToUsd,
  formatIsoDay,
  resolveRange,
  splitIntoChunks,
} from '@openai-proxy/openai-util-billing';
import { OPENAI_RELAY_SETTINGS, type OpenAiRelaySettings } from './openai-relay.settings';

/** Usage chunks fetched at once; the rest wait their turn (a five-year query is 21 calls). */
const CHUNK_CONCURRENCY = 6;

/**
 * The upstream name of the billing calls: their own circuit breaker and retry budget, apart from the relayed
 * `openai` traffic on the same host. OpenAI retired these dashboard endpoints, so they fail on their own, and a
 * balance tool polling them must never open the circuit (or spend the retries) of the chat traffic. The slash
 * keeps it apart from every configured provider's name (`[a-z0-9-]`).
 */
export const BILLING_UPSTREAM = 'openai/billing';

/** A billing failure with the status to answer; the controller wraps it in `{error,start_date,end_date}`. */
export class BillingError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'BillingError';
  }
}

/** Runs `task` over the items with at most `limit` at a time; the first failure rejects (the caller aborts the rest). */
async function mapConcurrently<Item, Result>(
  items: readonly Item[],
  limit: number,
  task: (item: Item) => Promise<Result>,
): Promise<Result[]> {
  const results = new Array<Result>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next;
      next += 1;
      results[index] = await task(items[index]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

export interface CreditGrantsRequest {
  authorization: string | undefined;
  contentType: string | undefined;
  startDate: string | undefined;
  endDate: string | undefined;
  /** Aborted when the client goes away: every outstanding upstream call stops. */
  signal: AbortSignal;
}

interface UpstreamErrorBody {
  error?: { message?: unknown };
}

/**
 * The legacy cost query (docs/legacy-routes.md): session keys get the dashboard's
 * credit grants as they are; API keys get usage summed over 91-day chunks fetched in parallel, and the hard
 * limit of the subscription.
 */
@Injectable()
export class BillingService {
  constructor(
    private readonly controlPlane: ControlPlaneClient,
    @Inject(OPENAI_RELAY_SETTINGS) private readonly relaySettings: OpenAiRelaySettings,
  ) {}

  async creditGrants(request: CreditGrantsRequest, now: Date): Promise<unknown> {
    if (request.authorization === undefined || request.authorization.trim() === '') {
      throw new BillingError(401, 'Missing Authorization header: send "Authorization: Bearer sk-…" or "Bearer sess-…"');
    }
    const range = this.validRange(request, now);
    if (!request.authorization.startsWith('Bearer sk-')) {
      return this.fetchJson('/dashboard/billing/credit_grants', request, request.signal);
    }
    // The first failure (or the client leaving) stops every call still outstanding.
    const calls = new AbortController();
    const stop = (): void => calls.abort();
    request.signal.addEventListener('abort', stop, { once: true });
    try {
      return await this.keyModeSummary(range, request, calls.signal);
    } catch (error) {
      calls.abort();
      throw error;
    } finally {
      request.signal.removeEventListener('abort', stop);
    }
  }

  private validRange(request: CreditGrantsRequest, now: Date): DayRange {
    try {
      return resolveRange({ startDate: request.startDate, endDate: request.endDate }, now);
    } catch (error) {
      if (error instanceof BillingDateError) {
        throw new BillingError(400, error.message);
      }
      throw error;
    }
  }

  private async keyModeSummary(
    range: DayRange,
    request: CreditGrantsRequest,
    signal: AbortSignal,
  ): Promise<KeyModeCreditSummary> {
    const chunks = splitIntoChunks(range);
    const [subscription, usages] = await Promise.all([
      this.fetchJson('/v1/dashboard/billing/subscription', request, signal),
      mapConcurrently(chunks, CHUNK_CONCURRENCY, (chunk) =>
        this.fetchJson(
          `/v1/dashboard/billing/usage?end_date=${formatIsoDay(chunk.end + 1)}&start_date=${formatIsoDay(chunk.start)}`,
          request,
          signal,
        ),
      ),
    ]);
    const listUsed = chunks.map((chunk, index) => ({
      start_date: formatIsoDay(chunk.start),
      end_date: formatIsoDay(chunk.end),
      used: centsToUsd(readNumber(usages[index], 'total_usage')),
    }));
    return {
      list_used: listUsed,
      total_used: listUsed.reduce((sum, chunk) => sum + chunk.used, 0),
      total_granted: readNumber(subscription, 'system_hard_limit_usd'),
      start_date: formatIsoDay(range.start),
      end_date: formatIsoDay(range.end),
    };
  }

  /**
   * GETs one dashboard path; the upstream's refusal keeps its status (and `Retry-After`), a timeout is a 504,
   * an unreachable upstream 502/503, anything unreadable (a redirect included) a 502.
   */
  private async fetchJson(path: string, request: CreditGrantsRequest, signal: AbortSignal): Promise<unknown> {
    const url = new URL(`${this.relaySettings.apiBase}${path}`);
    const headers: Record<string, string> = { authorization: request.authorization ?? '' };
    if (request.contentType !== undefined) {
      headers['content-type'] = request.contentType;
    }
    let answer: ControlPlaneAnswer;
    try {
      answer = await this.controlPlane.request({ name: BILLING_UPSTREAM, method: 'GET', url, headers, signal });
    } catch (error) {
      throw billingCallFailure(error);
    }
    const { status, text, retryAfter } = answer;
    const body = parseJsonText(text);
    if (status < 200 || status >= 300) {
      const message = (body as UpstreamErrorBody | undefined)?.error?.message;
      throw new BillingError(
        // A refusal (4xx, 5xx) keeps its status; any other (a redirect, say) is no answer we can give: 502.
        status >= 400 && status <= 599 ? status : 502,
        typeof message === 'string' ? message : `OpenAI billing upstream answered ${status}`,
        retryAfter === undefined ? {} : { 'retry-after': retryAfter },
      );
    }
    if (body === undefined) {
      throw new BillingError(502, 'OpenAI billing upstream answered with something that is not JSON');
    }
    return body;
  }
}

/**
 * A billing call that got no answer: 504 when it took too long, 503 with the breaker's Retry-After while the
 * billing calls' circuit is open (their own failures opened it), else 502.
 */
function billingCallFailure(error: unknown): BillingError {
  if (error instanceof GatewayException && error.code === ErrorCode.UpstreamTimeout) {
    return new BillingError(504, 'OpenAI billing upstream did not answer in time');
  }
  if (error instanceof CircuitOpenException) {
    const retryAfter = error.headers['retry-after'];
    return new BillingError(
      503,
      'OpenAI billing upstream is failing and is not called for now',
      retryAfter === undefined ? {} : { 'retry-after': retryAfter },
    );
  }
  return new BillingError(502, 'OpenAI billing upstream is unreachable');
}

function readNumber(body: unknown, field: string): number {
  const value = typeof body === 'object' && body !== null ? (body as Record<string, unknown>)[field] : undefined;
  if (typeof value !== 'number') {
    throw new BillingError(502, `OpenAI billing upstream answered without ${field}`);
  }
  return value;
}
