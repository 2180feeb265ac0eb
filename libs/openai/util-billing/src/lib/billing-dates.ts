/** Days are whole UTC days counted from 1970-01-01: the arithmetic is exact in every time zone. */
const MILLISECONDS_PER_DAY = 86_400_000;
const ISO_DAY_PATTERN = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Each usage chunk spans this many days after its first day (91 days inclusive), as the original did. */
export const CHUNK_SPAN_DAYS = 90;
/** Without `start_date`, the range starts this many days before the end. */
export const DEFAULT_RANGE_DAYS = 90;
/** The longest range one query may ask for (five years, 21 chunks): each chunk is one upstream call. */
export const MAX_RANGE_DAYS = 1827;

export class BillingDateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BillingDateError';
  }
}

/** `YYYY-MM-DD` to a day number; a wrong format or an impossible date (2023-02-30) is an error. */
export function parseIsoDay(text: string, name: string): number {
  const match = ISO_DAY_PATTERN.exec(text);
  if (match === null) {
    throw new BillingDateError(`${name} must be a date in the form YYYY-MM-DD`);
  }
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const check = new Date(0);
  check.setUTCFullYear(year, month - 1, day);
  const milliseconds = check.getTime();
  if (check.getUTCFullYear() !== year || check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day) {
    throw new BillingDateError(`${name} is not a valid date`);
  }
  return Math.round(milliseconds / MILLISECONDS_PER_DAY);
}

export function formatIsoDay(day: number): string {
  return new Date(day * MILLISECONDS_PER_DAY).toISOString().slice(0, 10);
}

export function todayUtc(now: Date): number {
  return Math.floor(now.getTime() / MILLISECONDS_PER_DAY);
}

export interface DayRange {
  start: number;
  end: number;
}

export interface RangeQuery {
  startDate: string | undefined;
  endDate: string | undefined;
}

/** The effective range as text (what errors echo), even before it is validated. */
export function effectiveRangeText(query: RangeQuery, now: Date): { startDate: string; endDate: string } {
  const endDate = query.endDate ?? formatIsoDay(todayUtc(now));
  if (query.startDate !== undefined) {
    return { startDate: query.startDate, endDate };
  }
  try {
    return { startDate: formatIsoDay(parseIsoDay(endDate, 'end_date') - DEFAULT_RANGE_DAYS), endDate };
  } catch {
    return { startDate: '', endDate };
  }
}

/** Defaults (today UTC, and 90 days before the end) then validation: both dates real, start <= end. */
export function resolveRange(query: RangeQuery, now: Date): DayRange {
  const end = query.endDate === undefined ? todayUtc(now) : parseIsoDay(query.endDate, 'end_date');
  const start = query.startDate === undefined ? end - DEFAULT_RANGE_DAYS : parseIsoDay(query.startDate, 'start_date');
  if (start > end) {
    throw new BillingDateError('end_date must come after start_date');
  }
  if (end - start + 1 > MAX_RANGE_DAYS) {
    throw new BillingDateError(`The range may cover at most ${MAX_RANGE_DAYS} days; split the query`);
  }
  return { start, end };
}

/**
 * Splits an inclusive range into chunks of up to 91 days: each chunk ends 90 days after it starts, the next
 * starts the day after, and the last one is cut at the range end.
 */
export function splitIntoChunks(range: DayRange): DayRange[] {
  const chunks: DayRange[] = [];
  for (let current = range.start; current <= range.end; current += CHUNK_SPAN_DAYS + 1) {
    chunks.push({ start: current, end: Math.min(current + CHUNK_SPAN_DAYS, range.end) });
  }
  return chunks;
}
