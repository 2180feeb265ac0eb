import type { BudgetPeriod, GatewayKeyRecord, UsageGroup, UsageGroupBy, UsageQuery, UsageTotals } from './team.types';

/** USD amounts are answered to 6 decimals (a millionth of a dollar: a few tokens of the cheapest model). */
const USD_SCALE = 1e6;

/** A USD amount rounded to 6 decimals. */
export function roundUsd(usd: number): number {
  return Math.round(usd * USD_SCALE) / USD_SCALE;
}

function isoOrNull(time: Date | null): string | null {
  return time === null ? null : time.toISOString();
}

/** A key's settings as every admin answer shows them. */
interface KeySettingsAnswer {
  object: 'gateway_key';
  id: string;
  name: string;
  models: string[];
  rpm: number | null;
  tpm: number | null;
  budget_usd: number | null;
  budget_period: BudgetPeriod;
  expires_at: string | null;
  created_at: string;
}

/** A key as the admin API lists it: never its secret, with its prefix, what it spent and when it was revoked. */
export interface GatewayKeyAnswer extends KeySettingsAnswer {
  key_prefix: string;
  revoked_at: string | null;
  spent_usd: number;
}

/** The 201 answer to `POST /admin/keys`: the settings and the key itself, the one time it is shown. */
export interface CreatedKeyAnswer extends KeySettingsAnswer {
  key: string;
}

function settingsAnswer(record: GatewayKeyRecord): KeySettingsAnswer {
  return {
    object: 'gateway_key',
    id: record.id,
    name: record.name,
    models: [...record.models],
    rpm: record.rpm,
    tpm: record.tpm,
    budget_usd: record.budgetUsd,
    budget_period: record.budgetPeriod,
    expires_at: isoOrNull(record.expiresAt),
    created_at: record.createdAt.toISOString(),
  };
}

/** A key for `GET`, `PATCH` and `DELETE /admin/keys/:id` and the list; `spentUsd` in its current budget period. */
export function keyAnswer(record: GatewayKeyRecord, spentUsd: number): GatewayKeyAnswer {
  return {
    ...settingsAnswer(record),
    key_prefix: record.keyPrefix,
    revoked_at: isoOrNull(record.revokedAt),
    spent_usd: roundUsd(spentUsd),
  };
}

/** `GET /admin/keys`: every key, as `keyAnswer` shows it. */
export function keyListAnswer(keys: readonly { record: GatewayKeyRecord; spentUsd: number }[]): {
  object: 'list';
  data: GatewayKeyAnswer[];
} {
  return { object: 'list', data: keys.map(({ record, spentUsd }) => keyAnswer(record, spentUsd)) };
}

/** The 201 body of `POST /admin/keys`, the only answer that carries the key. */
export function createdKeyAnswer(record: GatewayKeyRecord, key: string): CreatedKeyAnswer {
  const { object, id, ...settings } = settingsAnswer(record);
  return { object, id, key, ...settings };
}

/** Usage counts as the usage routes answer them. */
export interface UsageTotalsAnswer {
  requests: number;
  prompt_tokens: number;
  completion_tokens: number;
  cost_usd: number;
}

/** One group of a usage answer; `name` is the key's name, for `group_by=key`. */
export interface UsageGroupAnswer extends UsageTotalsAnswer {
  group: string;
  name?: string;
}

/** The answer of `GET /v1/usage` and `GET /admin/usage`. */
export interface UsageAnswer {
  object: 'list';
  start_date: string;
  end_date: string;
  group_by: UsageGroupBy;
  data: UsageGroupAnswer[];
  total: UsageTotalsAnswer;
}

function totalsAnswer(totals: UsageTotals): UsageTotalsAnswer {
  return {
    requests: totals.requests,
    prompt_tokens: totals.promptTokens,
    completion_tokens: totals.completionTokens,
    cost_usd: roundUsd(totals.costUsd),
  };
}

/** A usage report as the usage routes answer it. */
export function usageAnswer(
  query: UsageQuery,
  report: { data: readonly UsageGroup[]; total: UsageTotals },
): UsageAnswer {
  return {
    object: 'list',
    start_date: query.startDate,
    end_date: query.endDate,
    group_by: query.groupBy,
    data: report.data.map((group) => ({
      group: group.group,
      ...(group.name === undefined ? {} : { name: group.name }),
      ...totalsAnswer(group),
    })),
    total: totalsAnswer(report.total),
  };
}
