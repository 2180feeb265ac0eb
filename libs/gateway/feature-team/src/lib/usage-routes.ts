import { Inject, Injectable } from '@nestjs/common';
import type { IncomingHttpHeaders } from 'node:http';
import {
  type JsonRoute,
  type JsonRouteAnswer,
  type RouteSink,
  registerJsonRoutes,
} from '@openai-proxy/data-access-upstream';
import {
  type GatewayKeyRecord,
  billingSubscriptionAnswer,
  billingUsageAnswer,
  parseUsageQuery,
  usageAnswer,
} from '@openai-proxy/gateway-util-team';
import { ErrorCode, GatewayException } from '@openai-proxy/util-errors';
import { USAGE_QUERY_PARAMETERS, invalidInput } from './admin-routes';
import { readRequestCredential } from './gateway-credential';
import { ProviderKeys } from './provider-keys';
import { TeamAccess } from './team-access';
import { TeamState } from './team-state';
import { TEAM_SETTINGS, type TeamSettings } from './team.settings';
import { billingSubscriptionSchema, billingUsageSchema, jsonSchemaOf, usageAnswerSchema } from './usage-routes.schemas';

const TAG = 'team';
/** The billing dashboard's paths are answered at the root, as OpenAI's were, and under `/v1` (where SDKs point). */
const BILLING_PREFIXES: readonly string[] = ['', '/v1'];
/** The billing usage query reads only the dates (it has no grouping). */
const BILLING_QUERY_PARAMETERS: readonly string[] = ['start_date', 'end_date'];

function gatewayKeyNeeded(): GatewayException {
  return new GatewayException(
    ErrorCode.InvalidApiKey,
    'This route answers for a gateway key: send Authorization: Bearer gk-…',
  );
}

/** The query's dates alone, so that a billing tool's other parameters change nothing. */
function datesOf(query: URLSearchParams): URLSearchParams {
  const dates = new URLSearchParams();
  for (const name of BILLING_QUERY_PARAMETERS) {
    const value = query.get(name);
    if (value !== null) {
      dates.set(name, value);
    }
  }
  return dates;
}

/**
 * What a gateway key may ask of its own account (README "Team gateway"): its usage (`GET /v1/usage`, the shape of
 * `/admin/usage` for that key only) and its balance as balance tools read OpenAI's old billing dashboard
 * (`/dashboard/billing/subscription` from its budget, `/dashboard/billing/usage` in US cents, both also under
 * `/v1`). The key travels where a provider key would (`Authorization: Bearer gk-…`); without one the answer is
 * 401. With `GATEWAY_KEYS=off` nothing is registered: the paths are unknown routes (404).
 */
@Injectable()
export class UsageRoutes {
  constructor(
    private readonly state: TeamState,
    private readonly access: TeamAccess,
    private readonly providerKeys: ProviderKeys,
    @Inject(TEAM_SETTINGS) private readonly settings: TeamSettings,
  ) {}

  register(sink: RouteSink): void {
    if (this.settings.mode === 'off') {
      return;
    }
    registerJsonRoutes(sink, this.routes());
  }

  private routes(): JsonRoute[] {
    const common = { tag: TAG, security: 'gateway-key', method: 'GET' } as const;
    return [
      {
        ...common,
        path: '/v1/usage',
        summary: "The calling gateway key's usage by key, model or day (UTC dates, both inclusive; default this month)",
        queryParameters: USAGE_QUERY_PARAMETERS,
        responseSchema: jsonSchemaOf(usageAnswerSchema),
        handle: async (context) => this.usage(await this.caller(context.headers), context.query),
      },
      ...BILLING_PREFIXES.flatMap((prefix): JsonRoute[] => [
        {
          ...common,
          path: `${prefix}/dashboard/billing/subscription`,
          summary: "The calling gateway key's budget, as OpenAI's billing dashboard answered it",
          responseSchema: jsonSchemaOf(billingSubscriptionSchema),
          handle: async (context) => ({
            status: 200,
            body: billingSubscriptionAnswer(await this.caller(context.headers)),
          }),
        },
        {
          ...common,
          path: `${prefix}/dashboard/billing/usage`,
          summary: "The calling gateway key's costs per day and model, in US cents (UTC dates, both inclusive)",
          queryParameters: BILLING_QUERY_PARAMETERS,
          responseSchema: jsonSchemaOf(billingUsageSchema),
          handle: async (context) => this.billingUsage(await this.caller(context.headers), context.query),
        },
      ]),
    ];
  }

  /** The gateway key the request carries, checked (401 when there is none, or it is unknown, revoked or expired). */
  private async caller(headers: IncomingHttpHeaders): Promise<GatewayKeyRecord> {
    const credential = readRequestCredential(headers, '', this.providerKeys.keyHeaders());
    if (credential.kind !== 'gateway') {
      throw gatewayKeyNeeded();
    }
    return this.access.authenticate(credential.key);
  }

  private async usage(key: GatewayKeyRecord, query: URLSearchParams): Promise<JsonRouteAnswer> {
    const parsed = parseUsageQuery(query, new Date());
    if (!parsed.ok) {
      throw invalidInput(parsed);
    }
    // Rows are written in batches: the ones still queued are written first, so the answer counts them.
    await this.state.ledger.flush();
    const report = await this.state.ledger.usage({ ...parsed.query, keyId: key.id });
    return { status: 200, body: usageAnswer(parsed.query, report) };
  }

  private async billingUsage(key: GatewayKeyRecord, query: URLSearchParams): Promise<JsonRouteAnswer> {
    const parsed = parseUsageQuery(datesOf(query), new Date());
    if (!parsed.ok) {
      throw invalidInput(parsed);
    }
    const { startDate, endDate } = parsed.query;
    await this.state.ledger.flush();
    const costs = await this.state.ledger.dailyCosts(key.id, startDate, endDate);
    return { status: 200, body: billingUsageAnswer(costs, startDate, endDate) };
  }
}
