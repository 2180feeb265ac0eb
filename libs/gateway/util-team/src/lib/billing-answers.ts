import type { GatewayKeyRecord } from './team.types';
import { utcDay, utcMidnightsFrom } from './utc-days';

/** US cents (the billing dashboard's unit) to 4 decimals: a millionth of a dollar, as `cost_usd` elsewhere. */
const CENT_SCALE = 1e4;
const CENTS_PER_USD = 100;
const MS_PER_SECOND = 1000;

/**
 * What the balance routes answer as the limit of a key with no budget: the large figure one-api and new-api
 * publish for an unlimited token, so that a balance tool, which shows `hard_limit_usd - total_usage / 100` or
 * divides by the limit, shows a large balance rather than nothing or a division by zero.
 */
export const UNLIMITED_USD = 100_000_000;

function usdToCents(usd: number): number {
  return Math.round(usd * CENTS_PER_USD * CENT_SCALE) / CENT_SCALE;
}

function unixSeconds(time: Date): number {
  return Math.floor(time.getTime() / MS_PER_SECOND);
}

/** The answer of `GET /dashboard/billing/subscription`, which balance tools read. */
export interface BillingSubscriptionAnswer {
  object: 'billing_subscription';
  has_payment_method: true;
  soft_limit_usd: number;
  hard_limit_usd: number;
  system_hard_limit_usd: number;
  /** When the key stops working, in unix seconds; 0 for a key that does not expire (as one-api answers). */
  access_until: number;
}

/** A key's budget as a billing subscription: each limit is the budget, or `UNLIMITED_USD` without one. */
export function billingSubscriptionAnswer(
  record: Pick<GatewayKeyRecord, 'budgetUsd' | 'expiresAt'>,
): BillingSubscriptionAnswer {
  const limit = record.budgetUsd ?? UNLIMITED_USD;
  return {
    object: 'billing_subscription',
    has_payment_method: true,
    soft_limit_usd: limit,
    hard_limit_usd: limit,
    system_hard_limit_usd: limit,
    access_until: record.expiresAt === null ? 0 : unixSeconds(record.expiresAt),
  };
}

/** One model's cost on one UTC day (`YYYY-MM-DD`). */
export interface DayModelCost {
  day: string;
  model: string;
  costUsd: number;
}

/** The answer of `GET /dashboard/billing/usage`, in US cents. */
export interface BillingUsageAnswer {
  object: 'list';
  total_usage: number;
  daily_costs: { timestamp: number; line_items: { name: string; cost: number }[] }[];
}

/**
 * Costs as the billing dashboard answered them: one entry for each UTC day from `startDate` to `endDate` (both
 * inclusive; callers validate the range with `parseUsageQuery`), its timestamp the day's midnight in unix seconds,
 * a line item for each model used that day; each cost and the total in US cents. Costs outside the range are left
 * out.
 */
export function billingUsageAnswer(
  dailyCosts: readonly DayModelCost[],
  startDate: string,
  endDate: string,
): BillingUsageAnswer {
  const byDay = new Map<string, Map<string, number>>();
  for (const { day, model, costUsd } of dailyCosts) {
    const models = byDay.get(day) ?? new Map<string, number>();
    models.set(model, (models.get(model) ?? 0) + costUsd);
    byDay.set(day, models);
  }
  const days = utcMidnightsFrom(startDate, endDate).map((midnight) => ({
    midnight,
    models: [...(byDay.get(utcDay(midnight)) ?? [])],
  }));
  const daily = days.map(({ midnight, models }) => ({
    timestamp: unixSeconds(midnight),
    line_items: models.map(([name, usd]) => ({ name, cost: usdToCents(usd) })),
  }));
  const totalUsd = days.flatMap(({ models }) => models).reduce((sum, [, usd]) => sum + usd, 0);
  return { object: 'list', total_usage: usdToCents(totalUsd), daily_costs: daily };
}
