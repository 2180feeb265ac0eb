import { setTimeout as sleep } from 'node:timers/promises';
import { CompiledQuery, type Insertable, type Kysely, type SelectQueryBuilder, sql } from 'kysely';
import { z } from 'zod';
import type { LedgerEntry, UsageGroup, UsageGroupBy, UsageQuery, UsageTotals } from '@openai-proxy/gateway-util-team';
import { type TeamTables, type UsageLedgerTable, databaseInteger } from './team-migrations';
import type { DailyCost, UsageLedger, UsageReport } from './team-store.types';

/** When rows are written: this many queued, or this long after the first of them was queued. */
const DEFAULT_BATCH_SIZE = 100;
const DEFAULT_FLUSH_INTERVAL_MS = 250;
/** Rows kept queued while the database does not take them; past this the oldest are dropped (and counted). */
const DEFAULT_MAX_QUEUED_ROWS = 100_000;
/**
 * How long close() keeps trying to write what is queued while the database refuses it, and the pauses between its
 * tries: the first, doubled after each failed try, up to the longest.
 */
const DEFAULT_CLOSE_RETRY_MS = 5_000;
const CLOSE_FIRST_PAUSE_MS = 50;
const CLOSE_LONGEST_PAUSE_MS = 1_000;

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
  /** How long close() keeps trying while writes fail (default 5 s); then what is still queued is dropped. */
  closeRetryMs?: number;
  /** Told once, at close, of the rows dropped because the database still refused them, with the last failure. */
  onDroppedAtClose?: (rows: number, error: unknown) => void;
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

/**
 * A row for building the INSERT: Kysely takes the columns in the order of its keys, the order `QueuedRows.add`
 * queues a row's parameters in. Its values are never bound.
 */
const COLUMN_ORDER_ROW: Required<Omit<Insertable<UsageLedgerTable>, 'id'>> = {
  time: 0,
  key_id: '',
  provider: '',
  model_requested: null,
  model_served: null,
  route: '',
  prompt_tokens: 0,
  completion_tokens: 0,
  cached_prompt_tokens: 0,
  cache_write_prompt_tokens: 0,
  cache_write_1h_prompt_tokens: 0,
  reasoning_tokens: 0,
  prompt_source: '',
  completion_source: '',
  cost_micro_usd: 0,
  latency_ms: 0,
  first_token_ms: null,
  status: 0,
  outcome: '',
  client_aborted: 0,
};

const COLUMNS = Object.keys(COLUMN_ORDER_ROW);
const PARAMETERS_PER_ROW = COLUMNS.length;
/** Where a queued row's time, key id and cost are among its parameters. */
const TIME_PARAMETER = COLUMNS.indexOf('time');
const KEY_ID_PARAMETER = COLUMNS.indexOf('key_id');
const COST_PARAMETER = COLUMNS.indexOf('cost_micro_usd');

/**
 * The most parameters one statement binds: SQLite's limit (Postgres allows 65 535), so one INSERT holds on both
 * databases. A batch of more rows is written in several.
 */
const MAX_PARAMETERS_PER_STATEMENT = 32_766;
const MAX_ROWS_PER_STATEMENT = Math.floor(MAX_PARAMETERS_PER_STATEMENT / PARAMETERS_PER_ROW);
/** INSERT texts kept, one per row count (with the default batch size there are at most 100). */
const INSERT_SQL_CACHE_SIZE = 128;
/** The largest value of an `integer` column on Postgres (SQLite's are wider); a larger one fails its batch. */
const MAX_INTEGER_COLUMN = 2_147_483_647;

/** One bound value of a ledger row. */
type LedgerParameter = string | number | null;

/**
 * How many of `queued` rows the next INSERT writes: a whole statement's worth when that many are queued, else the
 * largest power of two that fits, so INSERTs come in a few sizes only (a database prepares each size once; a
 * 100-row INSERT took SQLite longer to prepare than to run, and timer flushes write any count).
 */
function statementRows(queued: number, rowsPerStatement: number): number {
  if (queued < 1) {
    return 0;
  }
  if (queued >= rowsPerStatement) {
    return rowsPerStatement;
  }
  let rows = 1;
  while (rows * 2 <= queued) {
    rows *= 2;
  }
  return rows;
}

/** A count or a duration in milliseconds that an `integer` column takes. */
function fitsIntegerColumn(value: number): boolean {
  return Number.isInteger(value) && value >= 0 && value <= MAX_INTEGER_COLUMN;
}

/**
 * The queued rows, each as its parameters one after the other (no object per row), oldest first. Rows leave from
 * the front by moving a start index, so taking a batch off a long queue copies the batch, not the queue.
 */
class QueuedRows {
  private parameters: LedgerParameter[] = [];
  private start = 0;

  /** Rows queued. */
  get count(): number {
    return (this.parameters.length - this.start) / PARAMETERS_PER_ROW;
  }

  /**
   * Queues an entry's row, or answers false (queueing nothing) when a column would refuse a value of it (a date,
   * count, duration or cost that is not a finite non-negative number of its range): it would fail its whole batch.
   * The entry's fields are typed by our own code, so only the numbers, which arithmetic makes, are checked.
   */
  add(entry: LedgerEntry): boolean {
    const time = entry.time.getTime();
    const costMicroUsd = Math.round(entry.costUsd * MICROS_PER_USD);
    const latencyMs = Math.round(entry.latencyMs);
    const firstTokenMs = entry.firstTokenMs === null ? null : Math.round(entry.firstTokenMs);
    const storable =
      Number.isSafeInteger(time) &&
      Number.isSafeInteger(costMicroUsd) &&
      costMicroUsd >= 0 &&
      fitsIntegerColumn(entry.promptTokens) &&
      fitsIntegerColumn(entry.completionTokens) &&
      fitsIntegerColumn(entry.cachedPromptTokens) &&
      fitsIntegerColumn(entry.cacheWritePromptTokens) &&
      fitsIntegerColumn(entry.cacheWrite1hPromptTokens) &&
      fitsIntegerColumn(entry.reasoningTokens) &&
      fitsIntegerColumn(latencyMs) &&
      (firstTokenMs === null || fitsIntegerColumn(firstTokenMs)) &&
      fitsIntegerColumn(entry.status);
    if (!storable) {
      return false;
    }
    // In the order of COLUMN_ORDER_ROW's keys.
    this.parameters.push(
      time,
      entry.keyId,
      entry.provider,
      entry.modelRequested,
      entry.modelServed,
      entry.route,
      entry.promptTokens,
      entry.completionTokens,
      entry.cachedPromptTokens,
      entry.cacheWritePromptTokens,
      entry.cacheWrite1hPromptTokens,
      entry.reasoningTokens,
      entry.promptSource,
      entry.completionSource,
      costMicroUsd,
      latencyMs,
      firstTokenMs,
      entry.status,
      entry.outcome,
      entry.clientAborted ? 1 : 0,
    );
    return true;
  }

  /** Takes the oldest `rows` rows off the queue: their parameters, in order. */
  take(rows: number): LedgerParameter[] {
    const end = this.start + rows * PARAMETERS_PER_ROW;
    const taken = this.parameters.slice(this.start, end);
    this.start = end;
    this.compact();
    return taken;
  }

  /** Puts rows taken off the queue back at its front (their write failed). */
  putBack(parameters: readonly LedgerParameter[]): void {
    this.parameters = parameters.concat(this.parameters.slice(this.start));
    this.start = 0;
  }

  /** Drops the oldest `rows` rows. */
  dropOldest(rows: number): void {
    this.start += rows * PARAMETERS_PER_ROW;
    this.compact();
  }

  /** The cost, in micro-dollars, of the queued rows of a key at or after `sinceMs`. */
  costMicroUsd(keyId: string, sinceMs: number): number {
    let micros = 0;
    for (let at = this.start; at < this.parameters.length; at += PARAMETERS_PER_ROW) {
      if (this.parameters[at + KEY_ID_PARAMETER] === keyId && Number(this.parameters[at + TIME_PARAMETER]) >= sinceMs) {
        micros += Number(this.parameters[at + COST_PARAMETER]);
      }
    }
    return micros;
  }

  /** Lets go of the rows before the start once they are half the array (each row is copied at most once more). */
  private compact(): void {
    if (this.start * 2 >= this.parameters.length) {
      this.parameters = this.parameters.slice(this.start);
      this.start = 0;
    }
  }
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
 * one multi-row INSERT when `batchSize` are queued or `flushIntervalMs` after the first (a batch of more rows
 * than one statement may bind is written in several). A write that fails keeps its rows queued (up to
 * `maxQueuedRows`, the oldest dropped past it) for the next flush, which a timer brings. Call `close()` at
 * shutdown, after the last request: it writes what is queued, trying again for a while when the database
 * refuses (a restart, a dropped connection), and drops, counts and tells what it still could not write.
 */
export class KyselyUsageLedger implements UsageLedger {
  private readonly batchSize: number;
  /** Rows one INSERT writes at most: a batch, or fewer when a batch would bind too many parameters. */
  private readonly rowsPerStatement: number;
  private readonly flushIntervalMs: number;
  private readonly maxQueuedRows: number;
  private readonly onWriteError: (error: unknown) => void;
  private readonly closeRetryMs: number;
  private readonly onDroppedAtClose: (rows: number, error: unknown) => void;
  private readonly queue = new QueuedRows();
  /**
   * The INSERT of each row count written so far, built by Kysely once: building it for every batch was most of
   * a row's cost. Its parameters are the queued ones as they are.
   */
  private readonly insertSqlByRows = new Map<number, string>();
  private timer: NodeJS.Timeout | undefined;
  private draining: Promise<void> | undefined;
  /** Writes and `spentUsd` take turns, so a row is counted either queued or written, never both nor neither. */
  private turn: Promise<void> = Promise.resolve();
  private closed = false;
  private closing: Promise<void> | undefined;
  /** The last write failed: until one succeeds, only the timer tries again (not every record past batchSize). */
  private writeFailing = false;
  private droppedRows = 0;
  private failedWrites = 0;

  constructor(
    private readonly db: Kysely<TeamTables>,
    options: UsageLedgerOptions = {},
  ) {
    this.batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
    this.rowsPerStatement = Math.max(1, Math.min(this.batchSize, MAX_ROWS_PER_STATEMENT));
    this.flushIntervalMs = options.flushIntervalMs ?? DEFAULT_FLUSH_INTERVAL_MS;
    this.maxQueuedRows = options.maxQueuedRows ?? DEFAULT_MAX_QUEUED_ROWS;
    this.onWriteError = options.onWriteError ?? (() => undefined);
    this.closeRetryMs = options.closeRetryMs ?? DEFAULT_CLOSE_RETRY_MS;
    this.onDroppedAtClose = options.onDroppedAtClose ?? (() => undefined);
  }

  /** Rows queued, dropped, and failed writes. */
  stats(): UsageLedgerStats {
    return { queuedRows: this.queue.count, droppedRows: this.droppedRows, failedWrites: this.failedWrites };
  }

  record(entry: LedgerEntry): void {
    if (this.closed || !this.queue.add(entry)) {
      this.droppedRows += 1;
      return;
    }
    this.dropOverflow();
    if (this.queue.count >= this.batchSize && !this.writeFailing) {
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
      if (this.queue.count > 0) {
        await this.drain();
      }
    } catch (error) {
      this.startTimer();
      throw error;
    }
  }

  /**
   * Writes what is queued, trying again with growing pauses while the database refuses it, for up to
   * `closeRetryMs`; then drops what is still queued, counts it and tells `onDroppedAtClose` once. Never rejects.
   * Rows recorded afterwards are dropped (and counted). Closing again waits for the same close.
   */
  close(): Promise<void> {
    this.closed = true;
    this.stopTimer();
    this.closing ??= this.writeAtClose();
    return this.closing;
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
      const queued = this.queue.costMicroUsd(keyId, sinceMs);
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

  /** close()'s tries (bounded by its deadline: each failed try waits, and the last one is at the deadline). */
  private async writeAtClose(): Promise<void> {
    const deadline = Date.now() + this.closeRetryMs;
    let pauseMs = CLOSE_FIRST_PAUSE_MS;
    for (;;) {
      try {
        await this.flush();
        return;
      } catch (error) {
        const leftMs = deadline - Date.now();
        if (leftMs <= 0) {
          this.dropQueuedAtClose(error);
          return;
        }
        await sleep(Math.min(pauseMs, leftMs));
        pauseMs = Math.min(pauseMs * 2, CLOSE_LONGEST_PAUSE_MS);
      }
    }
  }

  private dropQueuedAtClose(error: unknown): void {
    const rows = this.queue.count;
    this.queue.dropOldest(rows);
    this.droppedRows += rows;
    this.onDroppedAtClose(rows, error);
  }

  private dropOverflow(): void {
    const excess = this.queue.count - this.maxQueuedRows;
    if (excess > 0) {
      this.queue.dropOldest(excess);
      this.droppedRows += excess;
    }
  }

  /** A flush no caller waits for; its failure was told to onWriteError already, and the timer tries again. */
  private flushInBackground(): void {
    this.flush().catch(() => undefined);
  }

  private startTimer(): void {
    if (this.timer === undefined && !this.closed && this.queue.count > 0) {
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
    while (this.queue.count > 0) {
      await this.takeTurn(() => this.writeBatch());
    }
  }

  private async writeBatch(): Promise<void> {
    const rows = statementRows(this.queue.count, this.rowsPerStatement);
    if (rows === 0) {
      return;
    }
    const parameters = this.queue.take(rows);
    try {
      await this.db.executeQuery(CompiledQuery.raw(this.insertSql(rows), parameters));
      this.writeFailing = false;
    } catch (error) {
      this.writeFailing = true;
      this.failedWrites += 1;
      this.queue.putBack(parameters);
      this.dropOverflow();
      this.onWriteError(error);
      throw error;
    }
  }

  /** The INSERT of `rows` rows, its parameters in the order of COLUMN_ORDER_ROW's keys. */
  private insertSql(rows: number): string {
    const cached = this.insertSqlByRows.get(rows);
    if (cached !== undefined) {
      return cached;
    }
    if (this.insertSqlByRows.size >= INSERT_SQL_CACHE_SIZE) {
      this.insertSqlByRows.clear();
    }
    const built = this.db
      .insertInto('usage_ledger')
      .values(new Array<typeof COLUMN_ORDER_ROW>(rows).fill(COLUMN_ORDER_ROW))
      .compile().sql;
    this.insertSqlByRows.set(rows, built);
    return built;
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
