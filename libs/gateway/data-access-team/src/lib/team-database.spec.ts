import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { type Kysely, type KyselyPlugin, sql } from 'kysely';
import {
  type TestPostgresDatabase,
  createTestPostgresDatabase,
  freeLoopbackPort,
  testPostgresUrl,
} from '@openai-proxy/testing-fakes';
import {
  type KeySettings,
  type LedgerEntry,
  type UsageGroupBy,
  gatewayKeyDigest,
} from '@openai-proxy/gateway-util-team';
import { KyselyKeyStore } from './key-store';
import { type TeamDatabase, openTeamDatabase } from './team-database';
import { type TeamTables, migrateTeamDatabase } from './team-migrations';
import { KyselyUsageLedger, type UsageLedgerOptions } from './usage-ledger';

const DAY_MS = 86_400_000;
/** Long enough that a timer never writes during a test that does not wait for it. */
const NEVER_MS = 600_000;
const SQLITE_MEMORY = ':memory:';

function keySettings(changes: Partial<KeySettings> = {}): KeySettings {
  return {
    name: 'ci',
    models: ['gpt-*', 'claude-sonnet-4-6'],
    rpm: 60,
    tpm: 10_000,
    budgetUsd: 12.5,
    budgetPeriod: 'monthly',
    expiresAt: new Date('2027-01-01T00:00:00.000Z'),
    ...changes,
  };
}

function ledgerEntry(changes: Partial<LedgerEntry> = {}): LedgerEntry {
  return {
    time: new Date('2026-04-02T12:00:00.000Z'),
    keyId: 'key_default',
    provider: 'openai',
    modelRequested: 'gpt-4o',
    modelServed: 'gpt-4o-2024-08-06',
    route: '/v1/chat/completions',
    promptTokens: 10,
    completionTokens: 5,
    cachedPromptTokens: 2,
    cacheWritePromptTokens: 3,
    cacheWrite1hPromptTokens: 1,
    reasoningTokens: 1,
    promptSource: 'provider',
    completionSource: 'estimated',
    costUsd: 0.25,
    latencyMs: 120,
    firstTokenMs: 40,
    status: 200,
    outcome: 'completed',
    clientAborted: false,
    ...changes,
  };
}

/**
 * Makes this file see SQLite errors of a class not its own, in every run, as it does in a Jest worker that ran
 * another spec using SQLite before it. better-sqlite3's native addon is loaded once per process and builds each
 * error with the error class of the copy of its JavaScript that opened a database first; each test file has its
 * own copy (in its own realm, too), so a later file's errors are not `instanceof Database.SqliteError`. Here a copy
 * of its own (isolated modules) opens a database first; the check says whether that took.
 */
async function loadSqliteThroughAnotherCopy(): Promise<void> {
  await jest.isolateModulesAsync(async () => {
    const { default: OtherCopy } = await import('better-sqlite3');
    new OtherCopy(SQLITE_MEMORY).close();
  });
  const probe = new Database(SQLITE_MEMORY);
  try {
    probe.exec('not sql');
  } catch (error) {
    if (error instanceof Database.SqliteError) {
      throw new Error("SQLite errors are still of this file's class: the tests would not see another copy's");
    }
  } finally {
    probe.close();
  }
}

beforeAll(loadSqliteThroughAnotherCopy);

async function ledgerRowCount(db: Kysely<TeamTables>): Promise<number> {
  const row = await db
    .selectFrom('usage_ledger')
    .select((eb) => eb.fn.countAll<string | number>().as('rows'))
    .executeTakeFirstOrThrow();
  return Number(row.rows);
}

/** How many migrations the team database has: the tables (0001), the ledger's cache writes (0002). */
const MIGRATIONS = 3;

async function migrationCount(db: Kysely<TeamTables>): Promise<number> {
  const result = await sql<{
    rows: string | number;
  }>`select count(*) as ${sql.ref('rows')} from kysely_migration`.execute(db);
  return Number(result.rows[0]?.rows);
}

/** Polls until the check holds (bounded: fails after 5 s). */
async function eventually(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let attempt = 0; attempt < 250; attempt += 1) {
    if (await check()) {
      return;
    }
    await sleep(20);
  }
  throw new Error(`never happened: ${what}`);
}

/**
 * The same database, noting the rows each write statement sent through it changed, in order (a statement run
 * from its SQL, as the ledger runs its INSERT, is seen only in its result).
 */
function countingWrites(db: Kysely<TeamTables>): { db: Kysely<TeamTables>; writes: () => number[] } {
  const writes: number[] = [];
  const plugin: KyselyPlugin = {
    transformQuery: (args) => args.node,
    transformResult: (args) => {
      if (args.result.numAffectedRows !== undefined) {
        writes.push(Number(args.result.numAffectedRows));
      }
      return Promise.resolve(args.result);
    },
  };
  return { db: db.withPlugin(plugin), writes: () => [...writes] };
}

/**
 * The store's behaviour, the same on every database: `open` opens one more TeamDatabase on the one database of
 * the suite (two opens are two replicas). Each test starts with empty tables.
 */
function teamDatabaseSuite(open: () => Promise<TeamDatabase>): void {
  const opened: TeamDatabase[] = [];
  const ledgers: KyselyUsageLedger[] = [];
  let main: TeamDatabase;

  async function another(): Promise<TeamDatabase> {
    const database = await open();
    opened.push(database);
    return database;
  }

  function ledgerOn(db: Kysely<TeamTables>, options: UsageLedgerOptions = {}): KyselyUsageLedger {
    const ledger = new KyselyUsageLedger(db, options);
    ledgers.push(ledger);
    return ledger;
  }

  beforeEach(async () => {
    main = await another();
    await main.db.deleteFrom('usage_ledger').execute();
    await main.db.deleteFrom('gateway_keys').execute();
  });

  afterEach(async () => {
    await Promise.allSettled(ledgers.splice(0).map((ledger) => ledger.close()));
    await Promise.all(opened.splice(0).map((database) => database.close()));
  });

  describe('migrations', () => {
    it('should apply nothing the second time and keep the data', async () => {
      const store = new KyselyKeyStore(main.db);
      const { record } = await store.create(keySettings());
      await expect(migrateTeamDatabase(main.db, main.dialect)).resolves.toEqual([]);
      const reopened = await another();
      await expect(new KyselyKeyStore(reopened.db).get(record.id)).resolves.toEqual(record);
      await expect(migrationCount(reopened.db)).resolves.toBe(MIGRATIONS);
    });

    it("should bring a database of the first migration up, its ledger's rows counting no cache writes of either lifetime", async () => {
      const ledger = ledgerOn(main.db, { flushIntervalMs: NEVER_MS });
      ledger.record(ledgerEntry());
      await ledger.flush();
      // The database as the release before 0002 left it: no columns, no record of the migrations.
      await sql`alter table usage_ledger drop column cache_write_1h_prompt_tokens`.execute(main.db);
      await sql`alter table usage_ledger drop column cache_write_prompt_tokens`.execute(main.db);
      await sql`delete from kysely_migration where name in (${'0002_ledger_cache_writes'}, ${'0003_ledger_cache_writes_1h'})`.execute(
        main.db,
      );
      await expect(migrateTeamDatabase(main.db, main.dialect)).resolves.toEqual([
        '0002_ledger_cache_writes',
        '0003_ledger_cache_writes_1h',
      ]);
      const row = await main.db.selectFrom('usage_ledger').selectAll().executeTakeFirstOrThrow();
      expect(row).toMatchObject({
        cached_prompt_tokens: 2,
        cache_write_prompt_tokens: 0,
        cache_write_1h_prompt_tokens: 0,
        prompt_tokens: 10,
      });
      ledger.record(ledgerEntry({ cacheWritePromptTokens: 7, cacheWrite1hPromptTokens: 4 }));
      await ledger.flush();
      const written = await main.db
        .selectFrom('usage_ledger')
        .select(['cache_write_prompt_tokens', 'cache_write_1h_prompt_tokens'])
        .orderBy('id')
        .execute();
      expect(written).toEqual([
        { cache_write_prompt_tokens: 0, cache_write_1h_prompt_tokens: 0 },
        { cache_write_prompt_tokens: 7, cache_write_1h_prompt_tokens: 4 },
      ]);
    });
  });

  describe('key store', () => {
    it('should create a key, give it once, and store its digest and first 8 characters', async () => {
      const store = new KyselyKeyStore(main.db);
      const { record, key } = await store.create(keySettings());
      expect(key).toMatch(/^gk-[A-Za-z0-9_-]{43}$/);
      expect(record).toEqual({
        id: expect.stringMatching(/^key_/),
        name: 'ci',
        keyPrefix: key.slice(0, 8),
        digest: gatewayKeyDigest(key),
        models: ['gpt-*', 'claude-sonnet-4-6'],
        rpm: 60,
        tpm: 10_000,
        budgetUsd: 12.5,
        budgetPeriod: 'monthly',
        expiresAt: new Date('2027-01-01T00:00:00.000Z'),
        createdAt: expect.any(Date),
        revokedAt: null,
      });
      expect(record).not.toHaveProperty('key');
      await expect(store.get(record.id)).resolves.toEqual(record);
    });

    it('should store no column that holds the key', async () => {
      const { key } = await new KyselyKeyStore(main.db).create(keySettings({ name: 'secret-check' }));
      const rows = await main.db.selectFrom('gateway_keys').selectAll().execute();
      expect(rows).toHaveLength(1);
      for (const value of Object.values(rows[0] ?? {})) {
        expect(String(value)).not.toContain(key);
        expect(String(value)).not.toContain(key.slice(8));
      }
    });

    it('should list every key in the order they were created, revoked ones too', async () => {
      const store = new KyselyKeyStore(main.db);
      const ids: string[] = [];
      for (const name of ['first', 'second', 'third']) {
        ids.push((await store.create(keySettings({ name }))).record.id);
      }
      await store.revoke(ids[1] ?? '', new Date());
      const listed = await store.list();
      expect(listed.map((record) => record.id)).toEqual(ids);
      expect(listed[1]?.revokedAt).toBeInstanceOf(Date);
    });

    it('should answer undefined for an unknown id or digest', async () => {
      const store = new KyselyKeyStore(main.db);
      await expect(store.get('key_unknown')).resolves.toBeUndefined();
      await expect(store.update('key_unknown', { name: 'x' })).resolves.toBeUndefined();
      await expect(store.revoke('key_unknown', new Date())).resolves.toBeUndefined();
      await expect(store.findByDigest(gatewayKeyDigest('gk-unknown'))).resolves.toBeUndefined();
    });

    it('should change only the fields an update names', async () => {
      const store = new KyselyKeyStore(main.db);
      const { record } = await store.create(keySettings());
      const renamed = await store.update(record.id, { name: 'renamed', rpm: null });
      expect(renamed).toEqual({ ...record, name: 'renamed', rpm: null });
      const opened = await store.update(record.id, { models: [], expiresAt: null, budgetPeriod: 'total' });
      expect(opened).toEqual({
        ...record,
        name: 'renamed',
        rpm: null,
        models: [],
        expiresAt: null,
        budgetPeriod: 'total',
      });
      await expect(store.update(record.id, {})).resolves.toEqual(opened);
      await expect(store.get(record.id)).resolves.toEqual(opened);
    });

    it('should keep the first revocation time and still find a revoked key by its digest', async () => {
      const store = new KyselyKeyStore(main.db);
      const { record, key } = await store.create(keySettings());
      const first = new Date('2026-05-01T10:00:00.000Z');
      await expect(store.revoke(record.id, first)).resolves.toEqual({ ...record, revokedAt: first });
      await expect(store.revoke(record.id, new Date('2026-06-01T00:00:00.000Z'))).resolves.toEqual({
        ...record,
        revokedAt: first,
      });
      await expect(store.findByDigest(gatewayKeyDigest(key))).resolves.toEqual({ ...record, revokedAt: first });
    });

    it('should refuse a stored row that does not read back as a key', async () => {
      await main.db
        .insertInto('gateway_keys')
        .values({
          id: 'key_broken',
          name: 'broken',
          key_prefix: 'gk-AbCdE',
          digest: 'ab'.repeat(32),
          models: 'not json',
          rpm: null,
          tpm: null,
          budget_usd: null,
          budget_period: 'monthly',
          expires_at: null,
          created_at: Date.now(),
          revoked_at: null,
        })
        .execute();
      await expect(new KyselyKeyStore(main.db).get('key_broken')).rejects.toThrow('models is not JSON');
    });

    it("should let two replicas see each other's keys and revocations at once", async () => {
      const replicaA = new KyselyKeyStore(main.db);
      const replicaB = new KyselyKeyStore((await another()).db);
      const { record, key } = await replicaA.create(keySettings());
      await expect(replicaB.get(record.id)).resolves.toEqual(record);
      await expect(replicaB.findByDigest(gatewayKeyDigest(key))).resolves.toEqual(record);
      const revokedAt = new Date('2026-05-01T10:00:00.000Z');
      await replicaA.revoke(record.id, revokedAt);
      await expect(replicaB.findByDigest(gatewayKeyDigest(key))).resolves.toEqual({ ...record, revokedAt });
    });
  });

  describe('usage ledger', () => {
    it('should write a batch in one INSERT once batchSize rows are queued, and not before', async () => {
      const counted = countingWrites(main.db);
      const ledger = ledgerOn(counted.db, { batchSize: 3, flushIntervalMs: NEVER_MS });
      ledger.record(ledgerEntry());
      ledger.record(ledgerEntry());
      await sleep(50);
      await expect(ledgerRowCount(main.db)).resolves.toBe(0);
      ledger.record(ledgerEntry());
      await eventually(async () => (await ledgerRowCount(main.db)) === 3, 'three rows written');
      expect(counted.writes()).toEqual([3]);
      expect(ledger.stats()).toEqual({ queuedRows: 0, droppedRows: 0, failedWrites: 0 });
    });

    it('should write queued rows in one INSERT when the flush interval has passed', async () => {
      const counted = countingWrites(main.db);
      const ledger = ledgerOn(counted.db, { batchSize: 100, flushIntervalMs: 30 });
      ledger.record(ledgerEntry());
      ledger.record(ledgerEntry());
      await expect(ledgerRowCount(main.db)).resolves.toBe(0);
      await eventually(async () => (await ledgerRowCount(main.db)) === 2, 'two rows written');
      expect(counted.writes()).toEqual([2]);
    });

    it('should write everything queued on flush, a batch per INSERT', async () => {
      const counted = countingWrites(main.db);
      const ledger = ledgerOn(counted.db, { batchSize: 4, flushIntervalMs: NEVER_MS });
      ledger.record(ledgerEntry());
      ledger.record(ledgerEntry());
      ledger.record(ledgerEntry());
      const first = ledger.flush();
      for (let row = 0; row < 7; row += 1) {
        ledger.record(ledgerEntry());
      }
      await Promise.all([first, ledger.flush()]);
      await expect(ledgerRowCount(main.db)).resolves.toBe(10);
      expect(counted.writes()).toEqual([4, 4, 2]);
      expect(ledger.stats().queuedRows).toBe(0);
    });

    it('should write fewer rows than a batch in INSERTs of a few sizes only: powers of two', async () => {
      const counted = countingWrites(main.db);
      const ledger = ledgerOn(counted.db, { batchSize: 100, flushIntervalMs: NEVER_MS });
      for (let row = 0; row < 7; row += 1) {
        ledger.record(ledgerEntry());
      }
      await ledger.flush();
      await expect(ledgerRowCount(main.db)).resolves.toBe(7);
      expect(counted.writes()).toEqual([4, 2, 1]);
    });

    it('should write any number of queued rows whole, each INSERT a full batch or a power of two (property)', async () => {
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 1, max: 230 }), async (rows) => {
          await main.db.deleteFrom('usage_ledger').execute();
          const counted = countingWrites(main.db);
          const ledger = ledgerOn(counted.db, { batchSize: 100, flushIntervalMs: NEVER_MS });
          for (let row = 0; row < rows; row += 1) {
            ledger.record(ledgerEntry());
          }
          await ledger.flush();
          const writes = counted.writes();
          expect(writes.reduce((sum, written) => sum + written, 0)).toBe(rows);
          expect(writes.every((written) => written === 100 || Number.isInteger(Math.log2(written)))).toBe(true);
          await expect(ledgerRowCount(main.db)).resolves.toBe(rows);
        }),
        { numRuns: 15 },
      );
    });

    it('should write a batch that would bind more parameters than one statement may, whole, in several INSERTs', async () => {
      // 18 columns a row: 5000 rows are 90 000 parameters, past SQLite's 32 766 and Postgres's 65 535.
      const rows = 5000;
      const counted = countingWrites(main.db);
      const ledger = ledgerOn(counted.db, { batchSize: rows, flushIntervalMs: NEVER_MS });
      for (let row = 0; row < rows; row += 1) {
        ledger.record(ledgerEntry({ promptTokens: row }));
      }
      await ledger.flush();
      await expect(ledgerRowCount(main.db)).resolves.toBe(rows);
      expect(counted.writes().length).toBeGreaterThan(1);
      expect(counted.writes().reduce((sum, written) => sum + written, 0)).toBe(rows);
      const report = await ledger.usage({ startDate: '2026-04-02', endDate: '2026-04-02', groupBy: 'day' });
      expect(report.total.promptTokens).toBe((rows * (rows - 1)) / 2);
      expect(ledger.stats()).toEqual({ queuedRows: 0, droppedRows: 0, failedWrites: 0 });
    });

    it('should write every queued row on close, for a new store on the same database to read', async () => {
      const ledger = new KyselyUsageLedger(main.db, { batchSize: 100, flushIntervalMs: NEVER_MS });
      for (let row = 0; row < 5; row += 1) {
        ledger.record(ledgerEntry({ promptTokens: row }));
      }
      await ledger.close();
      ledger.record(ledgerEntry());
      expect(ledger.stats()).toEqual({ queuedRows: 0, droppedRows: 1, failedWrites: 0 });
      const reader = new KyselyUsageLedger((await another()).db);
      const report = await reader.usage({ startDate: '2026-04-02', endDate: '2026-04-02', groupBy: 'day' });
      expect(report.total).toEqual({ requests: 5, promptTokens: 10, completionTokens: 25, costUsd: 1.25 });
    });

    it('should keep the rows of a failed write queued (the oldest dropped past the bound) and write them next', async () => {
      const errors: unknown[] = [];
      const ledger = ledgerOn(main.db, {
        batchSize: 100,
        flushIntervalMs: NEVER_MS,
        maxQueuedRows: 3,
        onWriteError: (error) => errors.push(error),
      });
      await main.db.schema.alterTable('usage_ledger').renameTo('usage_ledger_away').execute();
      try {
        ledger.record(ledgerEntry({ promptTokens: 1 }));
        ledger.record(ledgerEntry({ promptTokens: 2 }));
        // Not `rejects.toThrow()`: a SQLite error of another realm's class is no Error to Jest (see above).
        await expect(ledger.flush()).rejects.toHaveProperty('message', expect.stringContaining('usage_ledger'));
        ledger.record(ledgerEntry({ promptTokens: 3 }));
        ledger.record(ledgerEntry({ promptTokens: 4 }));
        expect(ledger.stats()).toEqual({ queuedRows: 3, droppedRows: 1, failedWrites: 1 });
        expect(errors).toHaveLength(1);
      } finally {
        await main.db.schema.alterTable('usage_ledger_away').renameTo('usage_ledger').execute();
      }
      await ledger.flush();
      const rows = await main.db.selectFrom('usage_ledger').select('prompt_tokens').orderBy('id').execute();
      expect(rows.map((row) => row.prompt_tokens)).toEqual([2, 3, 4]);
      expect(ledger.stats().queuedRows).toBe(0);
    });

    it('should write at close the rows whose write failed there, trying again until the database takes them', async () => {
      const errors: unknown[] = [];
      const dropped: number[] = [];
      const ledger = ledgerOn(main.db, {
        flushIntervalMs: NEVER_MS,
        onWriteError: (error) => errors.push(error),
        onDroppedAtClose: (rows) => dropped.push(rows),
      });
      for (let row = 1; row <= 3; row += 1) {
        ledger.record(ledgerEntry({ promptTokens: row }));
      }
      await main.db.schema.alterTable('usage_ledger').renameTo('usage_ledger_away').execute();
      let closed: Promise<unknown>;
      try {
        closed = ledger.close().then(
          () => 'closed',
          (error: unknown) => error,
        );
        await eventually(() => Promise.resolve(errors.length > 0), 'a write at close failed');
      } finally {
        await main.db.schema.alterTable('usage_ledger_away').renameTo('usage_ledger').execute();
      }
      expect(await closed).toBe('closed');
      const rows = await main.db.selectFrom('usage_ledger').select('prompt_tokens').orderBy('id').execute();
      expect(rows.map((row) => row.prompt_tokens)).toEqual([1, 2, 3]);
      expect(ledger.stats()).toEqual({ queuedRows: 0, droppedRows: 0, failedWrites: errors.length });
      expect(dropped).toEqual([]);
    });

    it('should drop, count and tell once at the end of its close deadline the rows the database never took', async () => {
      const errors: unknown[] = [];
      const dropped: number[] = [];
      const ledger = ledgerOn(main.db, {
        flushIntervalMs: NEVER_MS,
        closeRetryMs: 300,
        onWriteError: (error) => errors.push(error),
        onDroppedAtClose: (rows) => dropped.push(rows),
      });
      for (let row = 1; row <= 3; row += 1) {
        ledger.record(ledgerEntry({ promptTokens: row }));
      }
      await main.db.schema.alterTable('usage_ledger').renameTo('usage_ledger_away').execute();
      try {
        await ledger.close();
      } finally {
        await main.db.schema.alterTable('usage_ledger_away').renameTo('usage_ledger').execute();
      }
      expect(dropped).toEqual([3]);
      // Tried more than once, and never after the close.
      expect(errors.length).toBeGreaterThan(1);
      expect(ledger.stats()).toEqual({ queuedRows: 0, droppedRows: 3, failedWrites: errors.length });
      await ledger.close();
      expect(dropped).toEqual([3]);
      await expect(ledgerRowCount(main.db)).resolves.toBe(0);
    });

    it('should try a failing write again on the timer only, not on every row past batchSize', async () => {
      const errors: unknown[] = [];
      const ledger = ledgerOn(main.db, {
        batchSize: 1,
        flushIntervalMs: NEVER_MS,
        onWriteError: (error) => errors.push(error),
      });
      await main.db.schema.alterTable('usage_ledger').renameTo('usage_ledger_away').execute();
      try {
        ledger.record(ledgerEntry());
        await eventually(() => Promise.resolve(errors.length === 1), 'the first write failed');
        ledger.record(ledgerEntry());
        ledger.record(ledgerEntry());
        await sleep(50);
        expect(ledger.stats()).toEqual({ queuedRows: 3, droppedRows: 0, failedWrites: 1 });
      } finally {
        await main.db.schema.alterTable('usage_ledger_away').renameTo('usage_ledger').execute();
      }
      await ledger.flush();
      await expect(ledgerRowCount(main.db)).resolves.toBe(3);
      ledger.record(ledgerEntry());
      await eventually(async () => (await ledgerRowCount(main.db)) === 4, 'a full batch written at once again');
    });

    it('should drop (and count) an entry it cannot store, without throwing, and write the others', async () => {
      const ledger = ledgerOn(main.db, { flushIntervalMs: NEVER_MS });
      expect(() => ledger.record(ledgerEntry({ costUsd: Number.NaN }))).not.toThrow();
      ledger.record(ledgerEntry({ promptTokens: -1 }));
      // Past a Postgres `integer`: it would fail its whole batch there.
      ledger.record(ledgerEntry({ completionTokens: 2 ** 31 }));
      ledger.record(ledgerEntry({ time: new Date(Number.NaN) }));
      ledger.record(ledgerEntry());
      await ledger.flush();
      await expect(ledgerRowCount(main.db)).resolves.toBe(1);
      expect(ledger.stats().droppedRows).toBe(4);
    });

    it('should store every field of an entry', async () => {
      const ledger = ledgerOn(main.db, { flushIntervalMs: NEVER_MS });
      ledger.record(
        ledgerEntry({ modelServed: null, firstTokenMs: null, outcome: 'aborted', clientAborted: true, status: 499 }),
      );
      await ledger.flush();
      const row = await main.db.selectFrom('usage_ledger').selectAll().executeTakeFirstOrThrow();
      expect({ ...row, id: undefined, time: Number(row.time), cost_micro_usd: Number(row.cost_micro_usd) }).toEqual({
        id: undefined,
        time: Date.parse('2026-04-02T12:00:00.000Z'),
        key_id: 'key_default',
        provider: 'openai',
        model_requested: 'gpt-4o',
        model_served: null,
        route: '/v1/chat/completions',
        prompt_tokens: 10,
        completion_tokens: 5,
        cached_prompt_tokens: 2,
        cache_write_prompt_tokens: 3,
        cache_write_1h_prompt_tokens: 1,
        reasoning_tokens: 1,
        prompt_source: 'provider',
        completion_source: 'estimated',
        cost_micro_usd: 250_000,
        latency_ms: 120,
        first_token_ms: null,
        status: 499,
        outcome: 'aborted',
        client_aborted: 1,
      });
    });

    describe('usage', () => {
      let alpha: string;
      let beta: string;
      let ledger: KyselyUsageLedger;

      beforeEach(async () => {
        const store = new KyselyKeyStore(main.db);
        alpha = (await store.create(keySettings({ name: 'alpha' }))).record.id;
        beta = (await store.create(keySettings({ name: 'beta' }))).record.id;
        ledger = ledgerOn(main.db, { flushIntervalMs: NEVER_MS });
        const rows: Partial<LedgerEntry>[] = [
          { time: new Date('2026-03-31T23:59:59.999Z'), keyId: alpha, promptTokens: 1000, costUsd: 1 },
          { time: new Date('2026-04-01T00:00:00.000Z'), keyId: alpha, promptTokens: 10, completionTokens: 5 },
          {
            time: new Date('2026-04-02T12:00:00.000Z'),
            keyId: beta,
            modelRequested: 'claude-x',
            promptTokens: 20,
            completionTokens: 10,
            costUsd: 0.5,
          },
          {
            time: new Date('2026-04-02T13:00:00.000Z'),
            keyId: alpha,
            modelRequested: null,
            promptTokens: 1,
            completionTokens: 0,
            costUsd: 0,
          },
          {
            time: new Date('2026-04-03T23:59:59.999Z'),
            keyId: beta,
            promptTokens: 30,
            completionTokens: 15,
            costUsd: 0.125,
          },
          { time: new Date('2026-04-04T00:00:00.000Z'), keyId: beta, promptTokens: 1000, costUsd: 1 },
        ];
        for (const row of rows) {
          ledger.record(ledgerEntry(row));
        }
        await ledger.flush();
      });

      const april = { startDate: '2026-04-01', endDate: '2026-04-03' };
      const total = { requests: 4, promptTokens: 61, completionTokens: 30, costUsd: 0.875 };

      it('should group by the model asked for, sorted, the first and last day in and the days around out', async () => {
        await expect(ledger.usage({ ...april, groupBy: 'model' })).resolves.toEqual({
          data: [
            { group: '(none)', requests: 1, promptTokens: 1, completionTokens: 0, costUsd: 0 },
            { group: 'claude-x', requests: 1, promptTokens: 20, completionTokens: 10, costUsd: 0.5 },
            { group: 'gpt-4o', requests: 2, promptTokens: 40, completionTokens: 20, costUsd: 0.375 },
          ],
          total,
        });
      });

      it('should group by key id with the key name beside it', async () => {
        const groups = [
          { group: alpha, name: 'alpha', requests: 2, promptTokens: 11, completionTokens: 5, costUsd: 0.25 },
          { group: beta, name: 'beta', requests: 2, promptTokens: 50, completionTokens: 25, costUsd: 0.625 },
        ].sort((a, b) => (a.group < b.group ? -1 : 1));
        await expect(ledger.usage({ ...april, groupBy: 'key' })).resolves.toEqual({ data: groups, total });
      });

      it('should group by UTC day', async () => {
        await expect(ledger.usage({ ...april, groupBy: 'day' })).resolves.toEqual({
          data: [
            { group: '2026-04-01', requests: 1, promptTokens: 10, completionTokens: 5, costUsd: 0.25 },
            { group: '2026-04-02', requests: 2, promptTokens: 21, completionTokens: 10, costUsd: 0.5 },
            { group: '2026-04-03', requests: 1, promptTokens: 30, completionTokens: 15, costUsd: 0.125 },
          ],
          total,
        });
      });

      it("should narrow to one key's rows", async () => {
        await expect(ledger.usage({ ...april, groupBy: 'day', keyId: alpha })).resolves.toEqual({
          data: [
            { group: '2026-04-01', requests: 1, promptTokens: 10, completionTokens: 5, costUsd: 0.25 },
            { group: '2026-04-02', requests: 1, promptTokens: 1, completionTokens: 0, costUsd: 0 },
          ],
          total: { requests: 2, promptTokens: 11, completionTokens: 5, costUsd: 0.25 },
        });
      });

      it('should answer no groups and zero totals for days without rows', async () => {
        for (const groupBy of ['model', 'key', 'day'] as const) {
          await expect(ledger.usage({ startDate: '2026-05-01', endDate: '2026-05-31', groupBy })).resolves.toEqual({
            data: [],
            total: { requests: 0, promptTokens: 0, completionTokens: 0, costUsd: 0 },
          });
        }
      });

      it("should answer a key's cost per UTC day and model", async () => {
        ledger.record(ledgerEntry({ time: new Date('2026-04-01T18:00:00.000Z'), keyId: alpha, costUsd: 0.5 }));
        ledger.record(
          ledgerEntry({
            time: new Date('2026-04-02T01:00:00.000Z'),
            keyId: alpha,
            modelRequested: 'claude-x',
            costUsd: 0.1,
          }),
        );
        await ledger.flush();
        await expect(ledger.dailyCosts(alpha, '2026-04-01', '2026-04-03')).resolves.toEqual([
          { day: '2026-04-01', model: 'gpt-4o', costUsd: 0.75 },
          { day: '2026-04-02', model: '(none)', costUsd: 0 },
          { day: '2026-04-02', model: 'claude-x', costUsd: 0.1 },
        ]);
        await expect(ledger.dailyCosts(alpha, '2026-05-01', '2026-05-31')).resolves.toEqual([]);
      });

      it('should refuse a date that is not YYYY-MM-DD', async () => {
        await expect(ledger.usage({ startDate: '2026-02-30', endDate: '2026-03-01', groupBy: 'day' })).rejects.toThrow(
          'not a date (YYYY-MM-DD): 2026-02-30',
        );
      });
    });

    it('should count queued rows in what a key spent, since a time or ever', async () => {
      const ledger = ledgerOn(main.db, { flushIntervalMs: NEVER_MS });
      const since = new Date('2026-04-01T00:00:00.000Z');
      ledger.record(ledgerEntry({ keyId: 'key_a', time: new Date(since.getTime() - DAY_MS), costUsd: 0.1 }));
      ledger.record(ledgerEntry({ keyId: 'key_a', time: since, costUsd: 0.2 }));
      await ledger.flush();
      ledger.record(ledgerEntry({ keyId: 'key_a', time: since, costUsd: 0.3 }));
      ledger.record(ledgerEntry({ keyId: 'key_b', time: since, costUsd: 5 }));
      expect(ledger.stats().queuedRows).toBe(2);
      await expect(ledger.spentUsd('key_a', since)).resolves.toBe(0.5);
      await expect(ledger.spentUsd('key_a', null)).resolves.toBe(0.6);
      await expect(ledger.spentUsd('key_c', null)).resolves.toBe(0);
      const during = ledger.flush();
      await expect(ledger.spentUsd('key_a', null)).resolves.toBe(0.6);
      await during;
      await expect(ledger.spentUsd('key_a', null)).resolves.toBe(0.6);
    });
  });
}

describe('team database on SQLite', () => {
  let folder: string;

  beforeAll(() => {
    folder = mkdtempSync(join(tmpdir(), 'team-db-'));
  });

  afterAll(() => {
    rmSync(folder, { recursive: true, force: true });
  });

  teamDatabaseSuite(() => openTeamDatabase(`sqlite:${join(folder, 'nested', 'team.db')}`));

  it('should create the folder and keep the file in WAL mode, so processes can share it', async () => {
    const path = join(folder, 'wal', 'deeper', 'team.db');
    const database = await openTeamDatabase(`sqlite:${path}`);
    try {
      expect(existsSync(path)).toBe(true);
      const mode = await sql<{ journal_mode: string }>`pragma journal_mode`.execute(database.db);
      expect(mode.rows[0]?.journal_mode).toBe('wal');
      expect(database.dialect).toBe('sqlite');
    } finally {
      await database.close();
    }
  });

  it('should open a new file twice at once, migrating it once', async () => {
    const url = `sqlite:${join(folder, 'twice', 'team.db')}`;
    const both = await Promise.all([openTeamDatabase(url), openTeamDatabase(url)]);
    try {
      for (const database of both) {
        await expect(migrationCount(database.db)).resolves.toBe(MIGRATIONS);
      }
    } finally {
      await Promise.all(both.map((database) => database.close()));
    }
  });

  it('should name a file it cannot open', async () => {
    const notAFolder = join(folder, 'plain-file');
    writeFileSync(notAFolder, '');
    await expect(openTeamDatabase(`sqlite:${join(notAFolder, 'team.db')}`)).rejects.toThrow(
      `team database sqlite:${join(notAFolder, 'team.db')} cannot be opened`,
    );
  });

  it('should keep a database in memory for sqlite::memory:', async () => {
    const database = await openTeamDatabase('sqlite::memory:');
    try {
      await expect(ledgerRowCount(database.db)).resolves.toBe(0);
    } finally {
      await database.close();
    }
  });
});

describe('team database on PostgreSQL', () => {
  let database: TestPostgresDatabase;

  beforeAll(async () => {
    database = await createTestPostgresDatabase();
  });

  afterAll(async () => {
    await database?.drop();
  });

  teamDatabaseSuite(() => openTeamDatabase(database.url));

  it('should open a new database from two replicas at once, migrating it once', async () => {
    const fresh = await createTestPostgresDatabase();
    try {
      const both = await Promise.all([openTeamDatabase(fresh.url), openTeamDatabase(fresh.url)]);
      try {
        expect(both.map((database) => database.dialect)).toEqual(['postgres', 'postgres']);
        for (const database of both) {
          await expect(migrationCount(database.db)).resolves.toBe(MIGRATIONS);
        }
      } finally {
        await Promise.all(both.map((database) => database.close()));
      }
    } finally {
      await fresh.drop();
    }
  });

  it('should name an unreachable server but never the password', async () => {
    const port = await freeLoopbackPort();
    const error: unknown = await openTeamDatabase(`postgres://team:s3cret-pass@127.0.0.1:${port}/team`).catch(
      (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(Error);
    expect(String(error)).toContain(`team database postgres://team@127.0.0.1:${port}/team cannot be used`);
    expect(String(error)).toContain('ECONNREFUSED');
    expect(String(error)).not.toContain('s3cret-pass');
  });

  it('should name a database that does not exist but never the password', async () => {
    const missing = new URL(testPostgresUrl());
    missing.password = 'hunter2-secret';
    missing.pathname = '/team_missing';
    const error: unknown = await openTeamDatabase(missing.toString()).catch((thrown: unknown) => thrown);
    expect(String(error)).toContain('database "team_missing" does not exist');
    expect(String(error)).not.toContain('hunter2-secret');
  });
});

describe('team database URLs', () => {
  it('should refuse a URL of another database, or none', async () => {
    await expect(openTeamDatabase('mysql://root:pw@127.0.0.1/team')).rejects.toThrow(
      'DATABASE_URL must start with sqlite: or postgres:// (or postgresql://)',
    );
    await expect(openTeamDatabase('sqlite:')).rejects.toThrow('DATABASE_URL sqlite: names no file');
  });

  it('should refuse a postgres URL that does not parse, without echoing it', async () => {
    const error: unknown = await openTeamDatabase('postgres://user:pa ss@[bad/team').catch((thrown: unknown) => thrown);
    expect(String(error)).toContain('DATABASE_URL is not a valid URL');
    expect(String(error)).not.toContain('pa ss');
  });
});

describe('usage totals (property)', () => {
  let database: TeamDatabase;

  beforeAll(async () => {
    database = await openTeamDatabase('sqlite::memory:');
  });

  afterAll(async () => {
    await database.close();
  });

  const row = fc.record({
    keyId: fc.constantFrom('key_a', 'key_b', 'key_c'),
    modelRequested: fc.constantFrom('gpt-4o', 'claude-x', null),
    day: fc.integer({ min: 0, max: 6 }),
    msInDay: fc.integer({ min: 0, max: DAY_MS - 1 }),
    promptTokens: fc.nat({ max: 1_000_000 }),
    completionTokens: fc.nat({ max: 1_000_000 }),
    costMicroUsd: fc.nat({ max: 50_000_000 }),
  });
  const firstDay = Date.parse('2026-04-01T00:00:00.000Z');
  const date = (day: number): string => new Date(firstDay + day * DAY_MS).toISOString().slice(0, 10);

  it('should answer totals and groups that are the sums of the rows in the dates asked for', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(row, { maxLength: 40 }),
        fc.integer({ min: 0, max: 6 }),
        fc.integer({ min: 0, max: 6 }),
        fc.constantFrom<UsageGroupBy>('model', 'key', 'day'),
        async (rows, a, b, groupBy) => {
          await database.db.deleteFrom('usage_ledger').execute();
          const ledger = new KyselyUsageLedger(database.db, { flushIntervalMs: NEVER_MS, batchSize: 7 });
          for (const generated of rows) {
            ledger.record(
              ledgerEntry({
                ...generated,
                time: new Date(firstDay + generated.day * DAY_MS + generated.msInDay),
                costUsd: generated.costMicroUsd / 1_000_000,
              }),
            );
          }
          await ledger.close();
          const [start, end] = [Math.min(a, b), Math.max(a, b)];
          const inRange = rows.filter((generated) => generated.day >= start && generated.day <= end);
          const report = await ledger.usage({ startDate: date(start), endDate: date(end), groupBy });
          const micros = inRange.reduce((sum, generated) => sum + generated.costMicroUsd, 0);
          expect(report.total).toEqual({
            requests: inRange.length,
            promptTokens: inRange.reduce((sum, generated) => sum + generated.promptTokens, 0),
            completionTokens: inRange.reduce((sum, generated) => sum + generated.completionTokens, 0),
            costUsd: micros / 1_000_000,
          });
          expect(report.data.reduce((sum, group) => sum + group.requests, 0)).toBe(inRange.length);
          const groupOf = (generated: (typeof inRange)[number]): string =>
            groupBy === 'model'
              ? (generated.modelRequested ?? '(none)')
              : groupBy === 'key'
                ? generated.keyId
                : date(generated.day);
          const expectedGroups = [...new Set(inRange.map(groupOf))].sort();
          expect(report.data.map((group) => group.group)).toEqual(expectedGroups);
          for (const group of report.data) {
            expect(group.requests).toBe(inRange.filter((generated) => groupOf(generated) === group.group).length);
          }
        },
      ),
      { numRuns: 40 },
    );
  });
});
