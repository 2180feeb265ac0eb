import type { JsonRoute, JsonRouteAnswer, JsonRouteContext } from '@openai-proxy/data-access-upstream';
import { type BillingErrorBody, effectiveRangeText } from '@openai-proxy/openai-util-billing';
import { BillingError, type BillingService } from './billing.service';

/** The billing query's path: under the OpenAI relay's prefix, served by its own declared route first. */
export const BILLING_PATH = '/openai/billing/credit_grants';

/** The query's answer, or a billing failure in the original's `{error, start_date, end_date}` shape. */
async function creditGrants(billing: BillingService, context: JsonRouteContext): Promise<JsonRouteAnswer> {
  const now = new Date();
  const query = {
    startDate: context.query.get('start_date') ?? undefined,
    endDate: context.query.get('end_date') ?? undefined,
  };
  try {
    const body = await billing.creditGrants(
      {
        authorization: context.headers.authorization,
        contentType: context.headers['content-type'],
        ...query,
        signal: context.signal,
      },
      now,
    );
    return { status: 200, body };
  } catch (error) {
    if (!(error instanceof BillingError)) {
      throw error;
    }
    const range = effectiveRangeText(query, now);
    const body: BillingErrorBody = { error: error.message, start_date: range.startDate, end_date: range.endDate };
    return { status: error.status, body, headers: error.headers };
  }
}

/**
 * `GET /openai/billing/credit_grants?start_date&end_date` (YYYY-MM-DD; default the last 90 days, UTC): several
 * control-plane calls combined, so a declared JSON route rather than a provider adapter. Other methods: 405.
 */
export function billingRoute(billing: BillingService): JsonRoute {
  return {
    method: 'GET',
    path: BILLING_PATH,
    summary:
      'How much of the key was used: key mode (sk-) sums usage, session mode (sess-) passes through ' +
      '(start_date and end_date as YYYY-MM-DD, default the last 90 days).',
    tag: 'openai',
    handle: (context) => creditGrants(billing, context),
  };
}
