import { CompiledQuery, type Kysely, type Selectable, type Updateable } from 'kysely';
import { z } from 'zod';
import {
  type GatewayKeyRecord,
  type KeySettings,
  gatewayKeyDigest,
  gatewayKeyPrefix,
  newGatewayKey,
  newKeyId,
} from '@openai-proxy/gateway-util-team';
import { type GatewayKeysTable, type TeamTables, databaseInteger } from './team-migrations';
import type { CreatedKey, KeyStore } from './team-store.types';

/** A JSON text column holding an array of strings. */
const modelsColumn = z
  .string()
  .transform((text, context): unknown => {
    try {
      return JSON.parse(text);
    } catch {
      context.addIssue({ code: 'custom', message: 'models is not JSON' });
      return z.NEVER;
    }
  })
  .pipe(z.array(z.string()));

const epochMs = databaseInteger.transform((ms) => new Date(ms));

/** A `gateway_keys` row as read back, checked and turned into a record. */
const keyRowSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    key_prefix: z.string(),
    digest: z.string(),
    models: modelsColumn,
    rpm: databaseInteger.nullable(),
    tpm: databaseInteger.nullable(),
    budget_usd: z.number().nullable(),
    budget_period: z.enum(['monthly', 'total']),
    expires_at: epochMs.nullable(),
    created_at: epochMs,
    revoked_at: epochMs.nullable(),
  })
  .transform((row): GatewayKeyRecord => ({
    id: row.id,
    name: row.name,
    keyPrefix: row.key_prefix,
    digest: row.digest,
    models: row.models,
    rpm: row.rpm,
    tpm: row.tpm,
    budgetUsd: row.budget_usd,
    budgetPeriod: row.budget_period,
    expiresAt: row.expires_at,
    createdAt: row.created_at,
    revokedAt: row.revoked_at,
  }));

function toRecord(row: Selectable<GatewayKeysTable> | undefined): GatewayKeyRecord | undefined {
  return row === undefined ? undefined : keyRowSchema.parse(row);
}

/** The columns a settings change writes; only the fields it names. */
function settingsColumns(changes: Partial<KeySettings>): Updateable<GatewayKeysTable> {
  return {
    ...(changes.name !== undefined && { name: changes.name }),
    ...(changes.models !== undefined && { models: JSON.stringify(changes.models) }),
    ...(changes.rpm !== undefined && { rpm: changes.rpm }),
    ...(changes.tpm !== undefined && { tpm: changes.tpm }),
    ...(changes.budgetUsd !== undefined && { budget_usd: changes.budgetUsd }),
    ...(changes.budgetPeriod !== undefined && { budget_period: changes.budgetPeriod }),
    ...(changes.expiresAt !== undefined && { expires_at: changes.expiresAt?.getTime() ?? null }),
  };
}

/**
 * The gateway keys in the team database. Every call reads or writes the database (nothing is kept here: the
 * gateway's key check keeps what `findByDigest` found for up to a second). The key itself is returned once by
 * `create` and never stored.
 */
export class KyselyKeyStore implements KeyStore {
  /** The last creation time given out, so keys created here list in the order they were made. */
  private lastCreatedMs = 0;
  /**
   * The lookup every gateway-key request makes, built and compiled once (its one parameter is the digest): the
   * query builder's work per request was a measurable part of a team request's cost.
   */
  private readonly byDigestSql: string;

  constructor(private readonly db: Kysely<TeamTables>) {
    this.byDigestSql = db.selectFrom('gateway_keys').selectAll().where('digest', '=', '').compile().sql;
  }

  async create(settings: KeySettings): Promise<CreatedKey> {
    const key = newGatewayKey();
    this.lastCreatedMs = Math.max(Date.now(), this.lastCreatedMs + 1);
    const row = await this.db
      .insertInto('gateway_keys')
      .values({
        id: newKeyId(),
        name: settings.name,
        key_prefix: gatewayKeyPrefix(key),
        digest: gatewayKeyDigest(key),
        models: JSON.stringify(settings.models),
        rpm: settings.rpm,
        tpm: settings.tpm,
        budget_usd: settings.budgetUsd,
        budget_period: settings.budgetPeriod,
        expires_at: settings.expiresAt?.getTime() ?? null,
        created_at: this.lastCreatedMs,
        revoked_at: null,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return { record: keyRowSchema.parse(row), key };
  }

  async list(): Promise<GatewayKeyRecord[]> {
    const rows = await this.db.selectFrom('gateway_keys').selectAll().orderBy('created_at').orderBy('id').execute();
    return rows.map((row) => keyRowSchema.parse(row));
  }

  async get(id: string): Promise<GatewayKeyRecord | undefined> {
    return toRecord(await this.db.selectFrom('gateway_keys').selectAll().where('id', '=', id).executeTakeFirst());
  }

  async update(id: string, changes: Partial<KeySettings>): Promise<GatewayKeyRecord | undefined> {
    const columns = settingsColumns(changes);
    if (Object.keys(columns).length === 0) {
      return this.get(id);
    }
    return toRecord(
      await this.db.updateTable('gateway_keys').set(columns).where('id', '=', id).returningAll().executeTakeFirst(),
    );
  }

  async revoke(id: string, at: Date): Promise<GatewayKeyRecord | undefined> {
    return toRecord(
      await this.db
        .updateTable('gateway_keys')
        .set((eb) => ({ revoked_at: eb.fn.coalesce('revoked_at', eb.val(at.getTime())).$castTo<number>() }))
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirst(),
    );
  }

  async findByDigest(digest: string): Promise<GatewayKeyRecord | undefined> {
    const result = await this.db.executeQuery<Selectable<GatewayKeysTable>>(
      CompiledQuery.raw(this.byDigestSql, [digest]),
    );
    return toRecord(result.rows[0]);
  }
}
