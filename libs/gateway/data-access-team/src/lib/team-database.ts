import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, type SqliteDatabase, type SqliteStatement } from 'kysely';
import { Pool } from 'pg';
import { z } from 'zod';
import { type TeamDialect, type TeamTables, migrateTeamDatabase, thrownMessage } from './team-migrations';

/** An open team database (`DATABASE_URL`), migrated to the latest tables. */
export interface TeamDatabase {
  db: Kysely<TeamTables>;
  dialect: TeamDialect;
  /** Closes its connections (the SQLite file, or the Postgres pool). */
  close(): Promise<void>;
}

/** How long a statement waits for another process's lock on a shared SQLite file before it fails. */
const SQLITE_BUSY_TIMEOUT_MS = 5000;
/** How long opening waits for another process migrating the same SQLite file, and how often it looks. */
const SQLITE_MIGRATION_WAIT_MS = 30_000;
const SQLITE_MIGRATION_POLL_MS = 20;
/** Postgres connections per process, and how long getting one may take. */
const POSTGRES_POOL_SIZE = 10;
const POSTGRES_CONNECT_TIMEOUT_MS = 5000;
const POSTGRES_IDLE_TIMEOUT_MS = 30_000;

const SQLITE_MEMORY = ':memory:';

/** A parsed `DATABASE_URL`; `shown` names the database without its password, for error messages. */
type DatabaseTarget =
  | { dialect: 'sqlite'; path: string; shown: string }
  | { dialect: 'postgres'; connectionString: string; secrets: string[]; shown: string };

function parseSqliteUrl(url: string): DatabaseTarget {
  const path = url.slice('sqlite:'.length);
  if (path === '') {
    throw new Error('DATABASE_URL sqlite: names no file: expected sqlite:<path> or sqlite::memory:');
  }
  return { dialect: 'sqlite', path, shown: url };
}

function parsePostgresUrl(url: string): DatabaseTarget {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error('DATABASE_URL is not a valid URL: expected postgres://user:password@host:port/database');
  }
  const user = parsed.username === '' ? '' : `${parsed.username}@`;
  const port = parsed.port === '' ? '' : `:${parsed.port}`;
  const passwords = [parsed.password, parsed.searchParams.get('password') ?? ''];
  return {
    dialect: 'postgres',
    connectionString: url,
    secrets: [...passwords, ...passwords.map(percentDecoded)].filter((secret) => secret !== ''),
    shown: `${parsed.protocol}//${user}${parsed.hostname}${port}${parsed.pathname}`,
  };
}

function percentDecoded(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** Reads `DATABASE_URL`: `sqlite:<path>`, `sqlite::memory:`, `postgres://…` or `postgresql://…`. */
function parseDatabaseUrl(url: string): DatabaseTarget {
  const trimmed = url.trim();
  if (trimmed.startsWith('sqlite:')) {
    return parseSqliteUrl(trimmed);
  }
  if (/^postgres(ql)?:\/\//.test(trimmed)) {
    return parsePostgresUrl(trimmed);
  }
  throw new Error('DATABASE_URL must start with sqlite: or postgres:// (or postgresql://)');
}

/** The error's message, with every secret cut out should a driver echo one. */
function messageOf(error: unknown, secrets: readonly string[] = []): string {
  let message = thrownMessage(error);
  for (const secret of secrets) {
    message = message.split(secret).join('[REDACTED]');
  }
  return message;
}

/** An error SQLite gave because another connection holds the lock it needs. */
const sqliteBusyError = z.object({ code: z.string().startsWith('SQLITE_BUSY') });

/**
 * Whether SQLite refused for a lock another connection holds, read from the error's `code` alone. Not `instanceof
 * Database.SqliteError`: better-sqlite3's native addon is loaded once per process and builds every error with the
 * class of the copy of its JavaScript that opened a database first, so where that is another copy (each test file
 * of a Jest worker has its own, in its own realm) the check is false, and a file another opener was migrating
 * failed to open at once instead of waiting for it.
 */
function isSqliteBusy(error: unknown): boolean {
  return sqliteBusyError.safeParse(error).success;
}

/**
 * Takes the SQLite file's write lock (`BEGIN IMMEDIATE`) for migrating, so two processes opening one file
 * migrate one after the other. It polls without blocking the event loop (busy timeout 0 meanwhile), bounded.
 */
async function beginSqliteMigration(sqlite: Database.Database): Promise<void> {
  const deadline = Date.now() + SQLITE_MIGRATION_WAIT_MS;
  sqlite.pragma('busy_timeout = 0');
  try {
    for (;;) {
      try {
        sqlite.exec('BEGIN IMMEDIATE');
        return;
      } catch (error) {
        if (!isSqliteBusy(error) || Date.now() >= deadline) {
          throw error;
        }
      }
      await sleep(SQLITE_MIGRATION_POLL_MS);
    }
  } finally {
    sqlite.pragma(`busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
  }
}

async function migrateSqlite(sqlite: Database.Database, db: Kysely<TeamTables>): Promise<void> {
  await beginSqliteMigration(sqlite);
  try {
    await migrateTeamDatabase(db, 'sqlite');
    sqlite.exec('COMMIT');
  } catch (error) {
    if (sqlite.inTransaction) {
      sqlite.exec('ROLLBACK');
    }
    throw error;
  }
}

/** At most this many prepared statements are kept (the queries are few; a batch insert has one per size). */
const SQLITE_STATEMENT_CACHE_SIZE = 256;
/** A statement's parameters go to better-sqlite3 as arguments up to this many; a longer list goes as one array. */
const SQLITE_MAX_SPREAD_PARAMETERS = 4_096;

/** The arguments that bind `parameters` in order: the parameters themselves, or one array of them when long. */
function bindArguments(parameters: ReadonlyArray<unknown>): ReadonlyArray<unknown> {
  return parameters.length <= SQLITE_MAX_SPREAD_PARAMETERS ? parameters : [parameters];
}

/**
 * A prepared statement as Kysely's SQLite dialect runs it, its parameters passed as arguments: given one array,
 * better-sqlite3 reads its items one at a time through V8's API, which cost more than SQLite's own work on a
 * ledger batch (a 100-row INSERT binds 1 800 values).
 */
function spreadingStatement(statement: Database.Statement): SqliteStatement {
  return {
    reader: statement.reader,
    all: (parameters) => statement.all(...bindArguments(parameters)),
    run: (parameters) => statement.run(...bindArguments(parameters)),
    iterate: (parameters) => statement.iterate(...bindArguments(parameters)),
  };
}

/**
 * The database as Kysely's SQLite dialect sees it, with each statement prepared once per SQL text: the dialect
 * prepares every query it runs, and preparing was the largest single cost of a gateway-key lookup (SQLite
 * prepares a statement again by itself when the schema changed under it).
 */
function withStatementCache(sqlite: Database.Database): SqliteDatabase {
  const statements = new Map<string, SqliteStatement>();
  return {
    close: () => {
      statements.clear();
      sqlite.close();
    },
    prepare: (sql) => {
      const cached = statements.get(sql);
      if (cached !== undefined) {
        return cached;
      }
      if (statements.size >= SQLITE_STATEMENT_CACHE_SIZE) {
        statements.clear();
      }
      const statement = spreadingStatement(sqlite.prepare(sql));
      statements.set(sql, statement);
      return statement;
    },
  };
}

/** Opens (creating it and its folder) a SQLite file in WAL mode, so several processes can share it. */
async function openSqlite(target: Extract<DatabaseTarget, { dialect: 'sqlite' }>): Promise<TeamDatabase> {
  let sqlite: Database.Database;
  try {
    if (target.path !== SQLITE_MEMORY) {
      mkdirSync(dirname(resolve(target.path)), { recursive: true });
    }
    sqlite = new Database(target.path, { timeout: SQLITE_BUSY_TIMEOUT_MS });
  } catch (error) {
    throw new Error(`team database ${target.shown} cannot be opened: ${messageOf(error)}`);
  }
  const db = new Kysely<TeamTables>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) });
  try {
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = NORMAL');
    await migrateSqlite(sqlite, db);
  } catch (error) {
    sqlite.close();
    throw new Error(`team database ${target.shown} cannot be used: ${messageOf(error)}`);
  }
  return { db, dialect: 'sqlite', close: () => db.destroy() };
}

/** Opens a bounded pool on a Postgres database and migrates it (the first query shows whether it answers). */
async function openPostgres(target: Extract<DatabaseTarget, { dialect: 'postgres' }>): Promise<TeamDatabase> {
  const pool = new Pool({
    connectionString: target.connectionString,
    max: POSTGRES_POOL_SIZE,
    connectionTimeoutMillis: POSTGRES_CONNECT_TIMEOUT_MS,
    idleTimeoutMillis: POSTGRES_IDLE_TIMEOUT_MS,
  });
  // An idle connection the server drops is an 'error' event: the pool discards that client and the next query
  // connects again (or fails with its own error); unheard, the event would end the process.
  pool.on('error', () => undefined);
  const db = new Kysely<TeamTables>({ dialect: new PostgresDialect({ pool }) });
  try {
    await migrateTeamDatabase(db, 'postgres');
  } catch (error) {
    await pool.end();
    throw new Error(`team database ${target.shown} cannot be used: ${messageOf(error, target.secrets)}`);
  }
  return { db, dialect: 'postgres', close: () => db.destroy() };
}

/**
 * Opens the team database named by `DATABASE_URL` and migrates it to the latest tables: `sqlite:<path>` (the
 * folder is created; `sqlite::memory:` for tests) or `postgres://…` / `postgresql://…`. A bad URL or a database
 * that cannot be reached is an Error naming the problem, never the password.
 */
export async function openTeamDatabase(url: string): Promise<TeamDatabase> {
  const target = parseDatabaseUrl(url);
  return target.dialect === 'sqlite' ? openSqlite(target) : openPostgres(target);
}
