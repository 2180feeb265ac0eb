import { type Insertable, type Kysely, type SelectQueryBuilder, sql } from 'kysely';
import { z } from 'zod';
import type { LedgerEntry, UsageGroup, UsageGroupBy, UsageQuery, UsageTotals } from '@openai-proxy/gateway-util-team';
import { type TeamTables, type UsageLedgerTable, databaseInteger } from './team-migrations';
import type { DailyCost, UsageLedger, UsageReport } from './team-store.types';

/** When rows are written: this many queued, or this long after the first of them was queued. */
const DEFAULT_BATCH_SIZE = 100;
const DEFAULT_FLUSH_INTERVAL_MS = 250;
/** Rows kept queued while the database does not take them; past this the oldest are dropped (and counted). */
const DEFAULT_MAX_QUEUED_ROWS = 100_000;

const DAY_MS = 86_400_000;
const MICROS_PER_USD = 1_000_000;
/** The usage group of rows whose request named no model. */
export const NO_MODEL_GROUP = '(none)';

/** How a ledger batches its writes (small values for tests), and whom it tells of a failed write. */
export interface UsageLedgerOptions {
  /** Rows that make a batch be written at once (default 100). */
  batchSize?: number;
  /** How long after the first queued row a batch is written anyway (default 250 ms). */
  flushIntervalMs?: number;
  /** Rows kept while writes fail; the oldest are dropped past it (default 100 000). */
  maxQueuedRows?: number;
  /** Told of each failed write (the rows stay queued and are written again on the next flush). */
  onWriteError?: (error: unknown) => void;
}

/** What the ledger holds back and what it lost, for metrics. */
export interface UsageLedgerStats {
  /** Rows queued, not yet written. */
  queuedRows: number;
  /** Rows lost: the queue was full, the entry could not be stored (not a finite count or cost), or the ledger was closed. */
  droppedRows: number;
  /** Batches the database refused (their rows stayed queued). */
  failedWrites: number;
}

const count = z.number().int().nonnegative().safe();

/** A ledger entry as the database can store it; anything else would fail its whole batch. */
const storableEntry = z.object({
  time: z.date(),
  keyId: z.string(),
  provider: z.string(),
  modelRequested: z.string().nullable(),
  modelServed: z.string().nullable(),
  route: z.string(),
  promptTokens: count,
  completionTokens: count,
  cachedPromptTokens: count,
  reasoningTokens: count,
  promptSource: z.enum(['provider', 'estimated']),
  completionSource: z.enum(['provider', 'estimated']),
  costUsd: z.number().nonnegative().finite(),
  latencyMs: z.number().nonnegative().finite(),
  firstTokenMs: z.number().nonnegative().finite().nullable(),
  status: z.number().int(),
  outcome: z.enum(['completed', 'failed', 'aborted']),
  clientAborted: z.boolean(),
});

function toRow(entry: z.infer<typeof storableEntry>): Insertable<UsageLedgerTable> {
  return {
    time: entry.time.getTime(),
    key_id: entry.keyId,
    provider: entry.provider,
    model_requested: entry.modelRequested,
    model_served: entry.modelServed,
    route: entry.route,
    prompt_tokens: entry.promptTokens,
    completion_tokens: entry.completionTokens,
    cached_prompt_tokens: entry.cachedPromptTokens,
    reasoning_tokens: entry.reasoningTokens,
    prompt_source: entry.promptSource,
    completion_source: entry.completionSource,
    cost_micro_usd: Math.round(entry.costUsd * MICROS_PER_USD),
    latency_ms: Math.round(entry.latencyMs),
    first_token_ms: entry.firstTokenMs === null ? null : Math.round(entry.firstTokenMs),
    status: entry.status,
    outcome: entry.outcome,
    client_aborted: entry.clientAborted ? 1 : 0,
  };
}

/** Midnight (UTC) of a `YYYY-MM-DD` date, in epoch milliseconds. */
function utcDayStartMs(date: string): number {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  const ms = match === null ? NaN : Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]));
  if (Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 10) !== date) {
    throw new Error(`not a date (YYYY-MM-DD): ${date}`);
  }
  return ms;
}

/** The UTC date of a day number (epoch milliseconds divided by a day). */
function utcDate(dayNumber: number): string {
  return new Date(dayNumber * DAY_MS).toISOString().slice(0, 10);
}

/** A row's UTC day number: integer division of epoch milliseconds, the same on SQLite and Postgres. */
const dayNumber = sql<string | number>`time / ${sql.lit(DAY_MS)}`;

const sums = z.object({
  requests: databaseInteger,
  prompt_tokens: databaseInteger.nullable(),
  completion_tokens: databaseInteger.nullable(),
  cost_micro_usd: databaseInteger.nullable(),
});

/** Summed integers; micro-dollars are turned into USD only at the end, so totals are exact sums. */
interface MicroTotals {
  requests: number;
  promptTokens: number;
  completionTokens: number;
  costMicroUsd: number;
}

const groupRowSchema = sums
  .extend({ group_value: z.union([z.string(), databaseInteger]).nullable(), name: z.string().nullable() })
  .transform((row) => ({
    group: row.group_value,
    name: row.name,
    totals: {
      requests: row.requests,
      promptTokens: row.prompt_tokens ?? 0,
      completionTokens: row.completion_tokens ?? 0,
      costMicroUsd: row.cost_micro_usd ?? 0,
    },
  }));

type GroupRow = z.output<typeof groupRowSchema>;

const dailyCostRowSchema = z.object({
  day_number: databaseInteger,
  model: z.string().nullable(),
  cost_micro_usd: databaseInteger.nullable(),
});

const spentRowSchema = z.object({ cost_micro_usd: databaseInteger.nullable() });

function inUsd(totals: MicroTotals): UsageTotals {
  return {
    requests: totals.requests,
    promptTokens: totals.promptTokens,
    completionTokens: totals.completionTokens,
    costUsd: totals.costMicroUsd / MICROS_PER_USD,
  };
}

function addTotals(a: MicroTotals, b: MicroTotals): MicroTotals {
  return {
    requests: a.requests + b.requests,
    promptTokens: a.promptTokens + b.promptTokens,
    completionTokens: a.completionTokens + b.completionTokens,
    costMicroUsd: a.costMicroUsd + b.costMicroUsd,
  };
}

const NO_TOTALS: MicroTotals = { requests: 0, promptTokens: 0, completionTokens: 0, costMicroUsd: 0 };

/** A group's name as answered: the model (or `(none)`), the key id, or the UTC date. */
function groupName(groupBy: UsageGroupBy, value: string | number | null): string {
  if (groupBy === 'day') {
    return utcDate(Number(value));
  }
  return value === null ? NO_MODEL_GROUP : String(value);
}

function byText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

type LedgerQuery = SelectQueryBuilder<TeamTables, 'usage_ledger', object>;

/**
 * The usage ledger in the team database. `record` only queues (never waits, never throws); rows are written in
 * one multi-row INSERT when `batchSize` are queued or `flushIntervalMs` after the first. A write that fails keeps
 * its rows queued (up to `maxQueuedRows`, the oldest dropped past it) for the next flush, which a timer brings.
 * Call `close()` at shutdown, after the last request: it writes what is queued.
 */
export class KyselyUsageLedger implements UsageLedger {
  private readonly batchSize: number;
  private readonly flushIntervalMs: number;
  private readonly maxQueuedRows: number;
  private readonly onWriteError: (error: unknown) => void;
  private queue: Insertable<UsageLedgerTable>[] = [];
  private timer: NodeJS.Timeout | undefined;
  private draining: Promise<void> | undefined;
  /** Writes and `spentUsd` take turns, so a row is counted either queued or written, never both nor neither. */
  private turn: Promise<void> = Promise.resolve();
  private closed = false;
  /** The last write failed: until one succeeds, only the timer tries again (not every record past batchSize). */
  private writeFailing = false;
  private droppedRows = 0;
  private failedWrites = 0;

  constructor(
    private readonly db: Kysely<TeamTables>,
    options: UsageLedgerOptions = {},
  ) {
    this.batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
    this.flushIntervalMs = options.flushIntervalMs ?? DEFAULT_FLUSH_INTERVAL_MS;
    this.maxQueuedRows = options.maxQueuedRows ?? DEFAULT_MAX_QUEUED_ROWS;
    this.onWriteError = options.onWriteError ?? (() => undefined);
  }

  /** Rows queued, dropped, and failed writes. */
  stats(): UsageLedgerStats {
    return { queuedRows: this.queue.length, droppedRows: this.droppedRows, failedWrites: this.failedWrites };
  }

  record(entry: LedgerEntry): void {
    const parsed = storableEntry.safeParse(entry);
    if (this.closed || !parsed.success) {
      this.droppedRows += 1;
      return;
    }
    this.queue.push(toRow(parsed.data));
    this.dropOverflow();
    if (this.queue.length >= this.batchSize && !this.writeFailing) {
      this.flushInBackground();
    } else {
      this.startTimer();
    }
  }

  async flush(): Promise<void> {
    this.stopTimer();
    try {
      await this.drain();
      // A row queued just as the drain in flight finished is written too.
      if (this.queue.length > 0) {
        await this.drain();
      }
    } catch (error) {
      this.startTimer();
      throw error;
    }
  }

  /** Writes what is queued and stops the timer; rows recorded afterwards are dropped (and counted). */
  async close(): Promise<void> {
    this.closed = true;
    try {
      await this.flush();
    } finally {
      this.stopTimer();
    }
  }

  async usage(query: UsageQuery): Promise<UsageReport> {
    const rows = await this.grouped(query.groupBy, this.between(query.startDate, query.endDate, query.keyId));
    const data: UsageGroup[] = rows
      .map((row) => ({
        group: groupName(query.groupBy, row.group),
        ...(query.groupBy === 'key' && row.name !== null && { name: row.name }),
        ...inUsd(row.totals),
      }))
      .sort((a, b) => byText(a.group, b.group));
    return { data, total: inUsd(rows.reduce((total, row) => addTotals(total, row.totals), NO_TOTALS)) };
  }

  async spentUsd(keyId: string, since: Date | null): Promise<number> {
    const sinceMs = since?.getTime() ?? Number.NEGATIVE_INFINITY;
    const micros = await this.takeTurn(async () => {
      const queued = this.queue
        .filter((row) => row.key_id === keyId && row.time >= sinceMs)
        .reduce((sum, row) => sum + row.cost_micro_usd, 0);
      let query = this.db
        .selectFrom('usage_ledger')
        .select((eb) => eb.fn.sum<string | number | null>('cost_micro_usd').as('cost_micro_usd'))
        .where('key_id', '=', keyId);
      if (since !== null) {
        query = query.where('time', '>=', since.getTime());
      }
      const written = spentRowSchema.parse(await query.executeTakeFirstOrThrow()).cost_micro_usd ?? 0;
      return written + queued;
    });
    return micros / MICROS_PER_USD;
  }

  async dailyCosts(keyId: string, startDate: string, endDate: string): Promise<DailyCost[]> {
    const rows = await this.between(startDate, endDate, keyId)
      .select((eb) => [
        dayNumber.as('day_number'),
        'model_requested as model',
        eb.fn.sum<string | number | null>('cost_micro_usd').as('cost_micro_usd'),
      ])
      .groupBy([dayNumber, 'model_requested'])
      .execute();
    return rows
      .map((row) => dailyCostRowSchema.parse(row))
      .map((row) => ({
        day: utcDate(row.day_number),
        model: row.model ?? NO_MODEL_GROUP,
        costUsd: (row.cost_micro_usd ?? 0) / MICROS_PER_USD,
      }))
      .sort((a, b) => byText(a.day, b.day) || byText(a.model, b.model));
  }

  /** The rows of the UTC days `startDate`..`endDate` (both inclusive), of one key if given. */
  private between(startDate: string, endDate: string, keyId: string | undefined): LedgerQuery {
    const query = this.db
      .selectFrom('usage_ledger')
      .where('usage_ledger.time', '>=', utcDayStartMs(startDate))
      .where('usage_ledger.time', '<', utcDayStartMs(endDate) + DAY_MS);
    return keyId === undefined ? query : query.where('usage_ledger.key_id', '=', keyId);
  }

  private async grouped(groupBy: UsageGroupBy, rows: LedgerQuery): Promise<GroupRow[]> {
    const summed = rows.select((eb) => [
      eb.fn.countAll<string | number>().as('requests'),
      eb.fn.sum<string | number | null>('usage_ledger.prompt_tokens').as('prompt_tokens'),
      eb.fn.sum<string | number | null>('usage_ledger.completion_tokens').as('completion_tokens'),
      eb.fn.sum<string | number | null>('usage_ledger.cost_micro_usd').as('cost_micro_usd'),
    ]);
    const grouped = await this.groupedBy(groupBy, summed);
    return grouped.map((row) => groupRowSchema.parse(row));
  }

  private groupedBy(groupBy: UsageGroupBy, rows: LedgerQuery): Promise<unknown[]> {
    switch (groupBy) {
      case 'model':
        return rows
          .select(['usage_ledger.model_requested as group_value', sql<null>`null`.as('name')])
          .groupBy('usage_ledger.model_requested')
          .execute();
      case 'key':
        return rows
          .leftJoin('gateway_keys', 'gateway_keys.id', 'usage_ledger.key_id')
          .select(['usage_ledger.key_id as group_value', 'gateway_keys.name as name'])
          .groupBy(['usage_ledger.key_id', 'gateway_keys.name'])
          .execute();
      case 'day':
        return rows
          .select([dayNumber.as('group_value'), sql<null>`null`.as('name')])
          .groupBy(dayNumber)
          .execute();
    }
  }

  private dropOverflow(): void {
    const excess = this.queue.length - this.maxQueuedRows;
    if (excess > 0) {
      this.queue.splice(0, excess);
      this.droppedRows += excess;
    }
  }

  /** A flush no caller waits for; its failure was told to onWriteError already, and the timer tries again. */
  private flushInBackground(): void {
    this.flush().catch(() => undefined);
  }

  private startTimer(): void {
    if (this.timer === undefined && !this.closed && this.queue.length > 0) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.flushInBackground();
      }, this.flushIntervalMs);
    }
  }

  private stopTimer(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** One drain at a time: it writes batches until the queue is empty (a flush joins the one in flight). */
  private drain(): Promise<void> {
    this.draining ??= this.writeQueued().finally(() => {
      this.draining = undefined;
    });
    return this.draining;
  }

  private async writeQueued(): Promise<void> {
    // Bounded: each pass writes rows out of the queue or throws.
    while (this.queue.length > 0) {
      await this.takeTurn(() => this.writeBatch());
    }
  }

  private async writeBatch(): Promise<void> {
    const batch = this.queue.splice(0, this.batchSize);
    if (batch.length === 0) {
      return;
    }
    try {
      await this.db.insertInto('usage_ledger').values(batch).execute();
      this.writeFailing = false;
    } catch (error) {
      this.writeFailing = true;
      this.failedWrites += 1;
      this.queue.unshift(...batch);
      this.dropOverflow();
      this.onWriteError(error);
      throw error;
    }
  }

  private takeTurn<T>(work: () => Promise<T>): Promise<T> {
    const run = this.turn.then(work);
    this.turn = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }
}
