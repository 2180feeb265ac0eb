const DAY_MS = 86_400_000;
const DAY_PATTERN = /^\d{4}-\d{2}-\d{2}$/;

/** The UTC midnight a `YYYY-MM-DD` date names; undefined when the text is not a real date (`2026-02-30`). */
export function parseUtcDay(text: string): Date | undefined {
  if (!DAY_PATTERN.test(text)) {
    return undefined;
  }
  const midnight = new Date(`${text}T00:00:00.000Z`);
  return Number.isNaN(midnight.getTime()) || utcDay(midnight) !== text ? undefined : midnight;
}

/** The UTC date of a moment, `YYYY-MM-DD`. */
export function utcDay(time: Date): string {
  return time.toISOString().slice(0, 10);
}

/** The first day of the moment's UTC month, `YYYY-MM-01`. */
export function utcMonthStart(time: Date): string {
  return `${utcDay(time).slice(0, 7)}-01`;
}

/** Whole days from one UTC midnight to another (negative when `end` is earlier). */
export function daysBetween(start: Date, end: Date): number {
  return Math.round((end.getTime() - start.getTime()) / DAY_MS);
}

/** The UTC midnight `days` days after `start`. */
export function addDays(start: Date, days: number): Date {
  return new Date(start.getTime() + days * DAY_MS);
}

/** The UTC midnight of every date from `start` to `end`, both included; none when either is not a date or `end` comes first. */
export function utcMidnightsFrom(start: string, end: string): Date[] {
  const first = parseUtcDay(start);
  const last = parseUtcDay(end);
  if (first === undefined || last === undefined) {
    return [];
  }
  return Array.from({ length: Math.max(0, daysBetween(first, last) + 1) }, (_, index) => addDays(first, index));
}
