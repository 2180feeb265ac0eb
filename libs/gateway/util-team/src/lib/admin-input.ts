import { z } from 'zod';
import { MODEL_PATTERN } from './model-patterns';
import type { KeySettings, UsageGroupBy, UsageQuery } from './team.types';
import { daysBetween, parseUtcDay, utcDay, utcMonthStart } from './utc-days';

/** Why an admin or usage input was refused: a message naming the field, and the field (OpenAI's `param`). */
export interface InputProblem {
  ok: false;
  message: string;
  param: string;
}

/** A key's settings as read from an admin body, or why the body was refused. */
export type KeyInputResult<Settings> = { ok: true; settings: Settings } | InputProblem;

/** A usage query as read from a query string, or why it was refused. */
export type UsageQueryResult = { ok: true; query: UsageQuery } | InputProblem;

const NAME_MAX_LENGTH = 100;
/** The longest usage range: a year, a leap day included (`end_date` - `start_date`, in days). */
export const MAX_USAGE_RANGE_DAYS = 366;
/**
 * `group_by` when a usage query names none: by UTC day, the timeline OpenAI's own usage API answers with first,
 * and the one grouping that reads the same for one key (`/v1/usage`) and for all (`/admin/usage`).
 */
export const DEFAULT_USAGE_GROUP_BY: UsageGroupBy = 'day';
const GROUPS: readonly UsageGroupBy[] = ['key', 'model', 'day'];

const required = (expected: string) => (issue: { input: unknown }) =>
  issue.input === undefined ? 'is required' : expected;

const nameField = z
  .string({ error: required(`must be a text of 1 to ${NAME_MAX_LENGTH} characters`) })
  .trim()
  .min(1, 'must not be empty')
  .max(NAME_MAX_LENGTH, `must be at most ${NAME_MAX_LENGTH} characters`);
const modelsField = z.array(
  z.string({ error: 'must be a model name' }).regex(MODEL_PATTERN, 'must be a model name, or a prefix and one "*"'),
  { error: 'must be a list of model names or prefixes (such as ["gpt-*"])' },
);
const perMinute = 'must be a positive integer or null';
const perMinuteField = z.number({ error: perMinute }).int(perMinute).positive(perMinute).nullable();
const budget = 'must be a number of USD, 0 or more, or null';
const budgetField = z.number({ error: budget }).nonnegative(budget).nullable();
const periodField = z.enum(['monthly', 'total'], { error: 'must be "monthly" or "total"' });
const expiresField = z.iso
  .datetime({ offset: true, error: 'must be an ISO-8601 date-time such as 2026-12-31T23:59:59Z, or null' })
  .nullable()
  .transform((text) => (text === null ? null : new Date(text)));

/** `PATCH /admin/keys/:id`: some or all of the settings, unknown fields refused. */
export const keyPatchSchema = z.strictObject({
  name: nameField.optional(),
  models: modelsField.optional(),
  rpm: perMinuteField.optional(),
  tpm: perMinuteField.optional(),
  budget_usd: budgetField.optional(),
  budget_period: periodField.optional(),
  expires_at: expiresField.optional(),
});

/** `POST /admin/keys`: a name, and any of the other settings, unknown fields refused. */
export const keyCreateSchema = keyPatchSchema.extend({ name: nameField });

/** The settings a body sent, and only those, by their names in code. */
function sentSettings(fields: z.infer<typeof keyPatchSchema>): Partial<KeySettings> {
  return {
    ...(fields.name === undefined ? {} : { name: fields.name }),
    ...(fields.models === undefined ? {} : { models: fields.models }),
    ...(fields.rpm === undefined ? {} : { rpm: fields.rpm }),
    ...(fields.tpm === undefined ? {} : { tpm: fields.tpm }),
    ...(fields.budget_usd === undefined ? {} : { budgetUsd: fields.budget_usd }),
    ...(fields.budget_period === undefined ? {} : { budgetPeriod: fields.budget_period }),
    ...(fields.expires_at === undefined ? {} : { expiresAt: fields.expires_at }),
  };
}

/** `models[2]` for the path `['models', 2]`. */
function paramOf(path: readonly PropertyKey[]): string {
  return path
    .map((part, index) => (typeof part === 'number' ? `[${part}]` : `${index > 0 ? '.' : ''}${String(part)}`))
    .join('');
}

/** The first issue of a refused body, as a message that names its field. */
function problemOf(error: z.ZodError): InputProblem {
  const issue = error.issues[0];
  if (issue?.code === 'unrecognized_keys') {
    const field = issue.keys[0] ?? 'body';
    return { ok: false, message: `${field} is not a setting of a key`, param: field };
  }
  if (issue === undefined || issue.path.length === 0) {
    return { ok: false, message: 'The body must be a JSON object', param: 'body' };
  }
  const param = paramOf(issue.path);
  return { ok: false, message: `${param} ${issue.message}`, param };
}

/** A `POST /admin/keys` body as the settings a new key gets (no models: every model; no limit: none; monthly). */
export function parseKeyCreate(body: unknown): KeyInputResult<KeySettings> {
  const parsed = keyCreateSchema.safeParse(body);
  if (!parsed.success) {
    return problemOf(parsed.error);
  }
  const defaults: Omit<KeySettings, 'name'> = {
    models: [],
    rpm: null,
    tpm: null,
    budgetUsd: null,
    budgetPeriod: 'monthly',
    expiresAt: null,
  };
  return { ok: true, settings: { ...defaults, ...sentSettings(parsed.data), name: parsed.data.name } };
}

/** A `PATCH /admin/keys/:id` body as the settings it changes (only those it sent). */
export function parseKeyPatch(body: unknown): KeyInputResult<Partial<KeySettings>> {
  const parsed = keyPatchSchema.safeParse(body);
  return parsed.success ? { ok: true, settings: sentSettings(parsed.data) } : problemOf(parsed.error);
}

function refused(param: string, message: string): InputProblem {
  return { ok: false, message: `${param} ${message}`, param };
}

/**
 * A usage query string: `start_date` and `end_date` (`YYYY-MM-DD`, UTC, both inclusive, real dates, start not
 * after end, at most `MAX_USAGE_RANGE_DAYS` apart) and `group_by` (`key`, `model` or `day`, default `day`).
 * `end_date` defaults to today (UTC), `start_date` to the first of `end_date`'s month: the current month so far.
 */
export function parseUsageQuery(query: URLSearchParams, now: Date): UsageQueryResult {
  const endText = query.get('end_date') ?? utcDay(now);
  const end = parseUtcDay(endText);
  if (end === undefined) {
    return refused('end_date', 'must be a date YYYY-MM-DD');
  }
  const startText = query.get('start_date') ?? utcMonthStart(end);
  const start = parseUtcDay(startText);
  if (start === undefined) {
    return refused('start_date', 'must be a date YYYY-MM-DD');
  }
  if (start > end) {
    return refused('start_date', 'must not be after end_date');
  }
  if (daysBetween(start, end) > MAX_USAGE_RANGE_DAYS) {
    return refused('end_date', `must be at most ${MAX_USAGE_RANGE_DAYS} days after start_date`);
  }
  const groupBy = query.get('group_by') ?? DEFAULT_USAGE_GROUP_BY;
  const group = GROUPS.find((name) => name === groupBy);
  if (group === undefined) {
    return refused('group_by', 'must be key, model or day');
  }
  return { ok: true, query: { startDate: startText, endDate: endText, groupBy: group } };
}
