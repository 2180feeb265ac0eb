import { HttpService } from '@nestjs/axios';
import { Inject, Injectable } from '@nestjs/common';
import { lastValueFrom } from 'rxjs';
import { PLATFORM_SETTINGS } from '@openai-proxy/feature-platform';
import { controlPlaneRequestConfig } from '@openai-proxy/data-access-upstream';
import type { PlatformSettings } from '@openai-proxy/util-config';
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

/** A billing failure with the status to answer; the controller wraps it in `{error,start_date,end_date}`. */
export class BillingError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'BillingError';
  }
}

export interface CreditGrantsRequest {
  authorization: string | undefined;
  contentType: string | undefined;
  startDate: string | undefined;
  endDate: string | undefined;
}

interface UpstreamErrorBody {
  error?: { message?: unknown };
}

/**
 * The legacy cost query (legacy spec section 4, with section 11's fixes): session keys get the dashboard's
 * credit grants as they are; API keys get usage summed over 91-day chunks fetched in parallel, and the hard
 * limit of the subscription.
 */
@Injectable()
export class BillingService {
  constructor(
    private readonly http: HttpService,
    @Inject(OPENAI_RELAY_SETTINGS) private readonly relaySettings: OpenAiRelaySettings,
    @Inject(PLATFORM_SETTINGS) private readonly platform: PlatformSettings,
  ) {}

  async creditGrants(request: CreditGrantsRequest, now: Date): Promise<unknown> {
    const range = this.validRange(request, now);
    if (request.authorization === undefined || request.authorization.trim() === '') {
      throw new BillingError(401, 'Missing Authorization header: send "Authorization: Bearer sk-…" or "Bearer sess-…"');
    }
    if (!request.authorization.startsWith('Bearer sk-')) {
      return this.fetchJson('/dashboard/billing/credit_grants', request);
    }
    return this.keyModeSummary(range, request);
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

  private async keyModeSummary(range: DayRange, request: CreditGrantsRequest): Promise<KeyModeCreditSummary> {
    const chunks = splitIntoChunks(range);
    const [subscription, ...usages] = await Promise.all([
      this.fetchJson('/v1/dashboard/billing/subscription', request),
      ...chunks.map((chunk) =>
        this.fetchJson(
          `/v1/dashboard/billing/usage?end_date=${formatIsoDay(chunk.end + 1)}&start_date=${formatIsoDay(chunk.start)}`,
          request,
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

  /** GETs one dashboard path; the upstream's refusal keeps its status, anything unreadable is a 502. */
  private async fetchJson(path: string, request: CreditGrantsRequest): Promise<unknown> {
    const url = new URL(`${this.relaySettings.apiBase}${path}`);
    const headers: Record<string, string> = { authorization: request.authorization ?? '' };
    if (request.contentType !== undefined) {
      headers['content-type'] = request.contentType;
    }
    let status: number;
    let text: string;
    try {
      const response = await lastValueFrom(
        this.http.get<string>(url.toString(), { ...controlPlaneRequestConfig(this.platform.upstream, url), headers }),
      );
      status = response.status;
      text = String(response.data);
    } catch {
      throw new BillingError(502, 'OpenAI billing upstream is unreachable');
    }
    const body = parseJson(text);
    if (status < 200 || status >= 300) {
      const message = (body as UpstreamErrorBody | undefined)?.error?.message;
      throw new BillingError(
        status,
        typeof message === 'string' ? message : `OpenAI billing upstream answered ${status}`,
      );
    }
    if (body === undefined) {
      throw new BillingError(502, 'OpenAI billing upstream answered with something that is not JSON');
    }
    return body;
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function readNumber(body: unknown, field: string): number {
  const value = typeof body === 'object' && body !== null ? (body as Record<string, unknown>)[field] : undefined;
  if (typeof value !== 'number') {
    throw new BillingError(502, `OpenAI billing upstream answered without ${field}`);
  }
  return value;
}
