import { type ColumnType, type Generated, type Kysely, type Migration, Migrator } from 'kysely';
import { z } from 'zod';

/**
 * The team database's tables and the migrations that make them, the same for SQLite and Postgres.
 *
 * Times are epoch milliseconds in a `bigint` column: both databases compare and divide integers alike, so the
 * UTC day of a row is `time / 86400000` everywhere. Money in the ledger is integer micro-dollars
 * (`cost_micro_usd`): sums of integers are exact and equal on both databases, where sums of doubles depend on
 * the order and the database's summation; a micro-dollar is far below what any request costs to bill.
 */

/** Which database a team database is. */
export type TeamDialect = 'sqlite' | 'postgres';

/** A `bigint` column: Postgres (pg) answers a string, SQLite a number; read back through `databaseInteger`. */
type BigintColumn<Stored extends number | null> = ColumnType<string | Stored, Stored, Stored>;

/** `gateway_keys`: one row per gateway key; the key itself is never stored, only its SHA-256 digest. */
export interface GatewayKeysTable {
  id: string;
  name: string;
  key_prefix: string;
  digest: string;
  /** The model patterns as a JSON array of strings. */
  models: string;
  rpm: number | null;
  tpm: number | null;
  budget_usd: number | null;
  budget_period: string;
  expires_at: BigintColumn<number | null>;
  created_at: BigintColumn<number>;
  revoked_at: BigintColumn<number | null>;
}

/** `usage_ledger`: one row per request made with a gateway key; only ever appended to. */
export interface UsageLedgerTable {
  id: Generated<string | number>;
  time: BigintColumn<number>;
  key_id: string;
  provider: string;
  model_requested: string | null;
  model_served: string | null;
  route: string;
  prompt_tokens: number;
  completion_tokens: number;
  cached_prompt_tokens: number;
  /** Prompt tokens written to the provider's cache (0 in the rows written before migration 0002). */
  cache_write_prompt_tokens: number;
  /**
   * The part of `cache_write_prompt_tokens` written with Anthropic's 1-hour lifetime, billed at its own price (0 in
   * the rows written before migration 0003).
   */
  cache_write_1h_prompt_tokens: number;
  reasoning_tokens: number;
  prompt_source: string;
  completion_source: string;
  cost_micro_usd: BigintColumn<number>;
  latency_ms: number;
  first_token_ms: number | null;
  status: number;
  outcome: string;
  /** 0 or 1 (SQLite has no boolean to bind). */
  client_aborted: number;
}

/** The team database's tables, for `Kysely<TeamTables>`. */
export interface TeamTables {
  gateway_keys: GatewayKeysTable;
  usage_ledger: UsageLedgerTable;
}

/** An integer the database answered (a number, or a string for a Postgres `bigint` or sum), as a safe JS number. */
export const databaseInteger = z
  .union([
    z.number(),
    z
      .string()
      .regex(/^-?\d+$/)
      .transform(Number),
  ])
  .pipe(z.number().int().safe());

const withMessage = z.object({ message: z.string() });

/** The message of anything thrown (a driver's errors can come from another realm, where `instanceof Error` fails). */
export function thrownMessage(error: unknown): string {
  const described = withMessage.safeParse(error);
  return described.success ? described.data.message : 'unknown error';
}

/** The first migration: both tables and the ledger's indexes. */
function teamTablesMigration(dialect: TeamDialect): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('gateway_keys')
        .addColumn('id', 'text', (column) => column.primaryKey())
        .addColumn('name', 'text', (column) => column.notNull())
        .addColumn('key_prefix', 'text', (column) => column.notNull())
        .addColumn('digest', 'text', (column) => column.notNull().unique())
        .addColumn('models', 'text', (column) => column.notNull())
        .addColumn('rpm', 'integer')
        .addColumn('tpm', 'integer')
        .addColumn('budget_usd', 'double precision')
        .addColumn('budget_period', 'text', (column) => column.notNull())
        .addColumn('expires_at', 'bigint')
        .addColumn('created_at', 'bigint', (column) => column.notNull())
        .addColumn('revoked_at', 'bigint')
        .execute();
      await db.schema
        .createTable('usage_ledger')
        .addColumn('id', dialect === 'postgres' ? 'bigserial' : 'integer', (column) =>
          dialect === 'postgres' ? column.primaryKey() : column.primaryKey().autoIncrement(),
        )
        .addColumn('time', 'bigint', (column) => column.notNull())
        .addColumn('key_id', 'text', (column) => column.notNull())
        .addColumn('provider', 'text', (column) => column.notNull())
        .addColumn('model_requested', 'text')
        .addColumn('model_served', 'text')
        .addColumn('route', 'text', (column) => column.notNull())
        .addColumn('prompt_tokens', 'integer', (column) => column.notNull())
        .addColumn('completion_tokens', 'integer', (column) => column.notNull())
        .addColumn('cached_prompt_tokens', 'integer', (column) => column.notNull())
        .addColumn('reasoning_tokens', 'integer', (column) => column.notNull())
        .addColumn('prompt_source', 'text', (column) => column.notNull())
        .addColumn('completion_source', 'text', (column) => column.notNull())
        .addColumn('cost_micro_usd', 'bigint', (column) => column.notNull())
        .addColumn('latency_ms', 'integer', (column) => column.notNull())
        .addColumn('first_token_ms', 'integer')
        .addColumn('status', 'integer', (column) => column.notNull())
        .addColumn('outcome', 'text', (column) => column.notNull())
        .addColumn('client_aborted', 'integer', (column) => column.notNull())
        .execute();
      await db.schema.createIndex('usage_ledger_key_time').on('usage_ledger').columns(['key_id', 'time']).execute();
      await db.schema.createIndex('usage_ledger_time').on('usage_ledger').column('time').execute();
    },
  };
}

/** A migration that adds one count to the ledger: an integer column, 0 in the rows written before it. */
function ledgerCountMigration(column: string): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .alterTable('usage_ledger')
        .addColumn(column, 'integer', (definition) => definition.notNull().defaultTo(0))
        .execute();
    },
  };
}

/** Every migration by name, in the order they run (names sort). In code, so a built dist needs no files. */
function teamMigrations(dialect: TeamDialect): Record<string, Migration> {
  return {
    '0001_team_tables': teamTablesMigration(dialect),
    // The prompt tokens written to the provider's cache (their price is not the input's).
    '0002_ledger_cache_writes': ledgerCountMigration('cache_write_prompt_tokens'),
    // Which of those writes were 1-hour ones, so a row's cost can be read from its counts.
    '0003_ledger_cache_writes_1h': ledgerCountMigration('cache_write_1h_prompt_tokens'),
  };
}

/**
 * Brings the database up to the latest migration and answers the names it applied (none when it was already
 * there). On Postgres Kysely's migrator holds an advisory lock, so replicas starting together migrate one at a
 * time; on SQLite the caller holds the file's write lock around it.
 */
export async function migrateTeamDatabase(db: Kysely<TeamTables>, dialect: TeamDialect): Promise<string[]> {
  const migrations = teamMigrations(dialect);
  const migrator = new Migrator({ db, provider: { getMigrations: () => Promise.resolve(migrations) } });
  const { error, results } = await migrator.migrateToLatest();
  if (error !== undefined) {
    throw new Error(thrownMessage(error), { cause: error });
  }
  return (results ?? []).filter((result) => result.status === 'Success').map((result) => result.migrationName);
}
