import type { BudgetPeriod } from './team.types';

/** When a key's current budget period began: the first of this month (UTC), or never (the whole life). */
export function budgetPeriodStart(period: BudgetPeriod, now: Date): Date | null {
  return period === 'monthly' ? new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1)) : null;
}

/** When the current period ends (the next month's first day, UTC); null for a whole-life budget. */
export function budgetPeriodEnd(period: BudgetPeriod, now: Date): Date | null {
  return period === 'monthly' ? new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1)) : null;
}

/** A name for the current period, for counters kept per period: `2026-12`, or `total`. */
export function budgetPeriodKey(period: BudgetPeriod, now: Date): string {
  if (period === 'total') {
    return 'total';
  }
  return `${now.getUTCFullYear()}-${String(now.getUTCMonth() + 1).padStart(2, '0')}`;
}
