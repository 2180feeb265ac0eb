import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { ReadinessService, ShutdownService } from '@openai-proxy/feature-platform';
import type { KeySettings } from '@openai-proxy/gateway-util-team';
import { ErrorCode, GatewayException } from '@openai-proxy/util-errors';
import { KEY_RECORD_TTL_MS } from './key-record-cache';
import { TeamAccess } from './team-access';
import { TeamState } from './team-state';
import type { TeamSettings } from './team.settings';

const START = new Date('2026-06-01T12:00:00.000Z');

const MEMBER: KeySettings = {
  name: 'member',
  models: [],
  rpm: null,
  tpm: null,
  budgetUsd: null,
  budgetPeriod: 'total',
  expiresAt: null,
};

function teamSettings(databaseUrl: string): TeamSettings {
  return {
    mode: 'required',
    adminToken: undefined,
    providerKeys: new Map(),
    databaseUrl,
    redisUrl: undefined,
    compatibleProviders: [],
    models: [],
    prices: {},
    maxJsonBodyBytes: 1_000_000,
    serviceUrls: {},
  };
}

/** The GatewayException `authenticate` refused the key with; undefined when it let the key in. */
async function refusalOf(access: TeamAccess, key: string, now?: Date): Promise<GatewayException | undefined> {
  try {
    await access.authenticate(key, now);
    return undefined;
  } catch (error) {
    if (error instanceof GatewayException) {
      return error;
    }
    throw error;
  }
}

describe(TeamAccess.name, () => {
  let folder: string;
  let path: string;
  let state: TeamState;
  let access: TeamAccess;

  beforeEach(async () => {
    // Only Date is faked: the database driver, its promises and the ledger's timers run for real.
    jest.useFakeTimers({
      now: START,
      doNotFake: [
        'hrtime',
        'nextTick',
        'performance',
        'queueMicrotask',
        'setImmediate',
        'clearImmediate',
        'setInterval',
        'clearInterval',
        'setTimeout',
        'clearTimeout',
      ],
    });
    folder = mkdtempSync(join(tmpdir(), 'team-access-'));
    path = join(folder, 'team.db');
    state = new TeamState(teamSettings(`sqlite:${path}`), new ReadinessService(new ShutdownService()));
    await state.onModuleInit();
    access = new TeamAccess(state);
  });

  afterEach(async () => {
    await state.onModuleDestroy();
    rmSync(folder, { recursive: true, force: true });
    jest.useRealTimers();
  });

  it('should check the expiry of a kept key against the clock of each request', async () => {
    const expiresAt = new Date(START.getTime() + 500);
    const { key } = await state.keys.create({ ...MEMBER, expiresAt });
    expect((await access.authenticate(key, new Date(expiresAt.getTime() - 1))).expiresAt).toEqual(expiresAt);
    expect(await refusalOf(access, key, expiresAt)).toMatchObject({
      code: ErrorCode.InvalidApiKey,
      message: 'This gateway key has expired',
    });
  });

  it('should refuse a key revoked here at once, once the revoking code forgot it', async () => {
    const { key, record } = await state.keys.create(MEMBER);
    await access.authenticate(key);
    await state.keys.revoke(record.id, new Date());
    access.forget(record);
    expect(await refusalOf(access, key)).toMatchObject({
      code: ErrorCode.InvalidApiKey,
      message: 'This gateway key was revoked',
    });
  });

  it('should serve a key revoked elsewhere for at most a second from its last read, then refuse it', async () => {
    const { key, record } = await state.keys.create(MEMBER);
    await access.authenticate(key);
    await state.keys.revoke(record.id, new Date());
    jest.setSystemTime(START.getTime() + KEY_RECORD_TTL_MS - 1);
    expect((await access.authenticate(key)).revokedAt).toBeNull();
    jest.setSystemTime(START.getTime() + KEY_RECORD_TTL_MS);
    expect(await refusalOf(access, key)).toMatchObject({ code: ErrorCode.InvalidApiKey });
  });

  it('should use the limits a change here set on the very next request', async () => {
    const { key, record } = await state.keys.create({ ...MEMBER, rpm: 5 });
    expect((await access.authenticate(key)).rpm).toBe(5);
    const changed = await state.keys.update(record.id, { rpm: 500 });
    access.forget(changed ?? record);
    expect((await access.authenticate(key)).rpm).toBe(500);
  });

  it('should answer 503 with Retry-After while the database cannot be read, and let the key in once it can', async () => {
    const { key } = await state.keys.create(MEMBER);
    const side = new Database(path);
    try {
      side.exec('ALTER TABLE gateway_keys RENAME TO gateway_keys_away');
      expect(await refusalOf(access, key)).toMatchObject({
        code: ErrorCode.UpstreamUnavailable,
        headers: { 'retry-after': '1' },
      });
      side.exec('ALTER TABLE gateway_keys_away RENAME TO gateway_keys');
    } finally {
      side.close();
    }
    expect((await access.authenticate(key)).name).toBe('member');
  });

  it('should refuse an ill-formed gateway key with 401 without a lookup, even while the database cannot be read', async () => {
    const { key } = await state.keys.create(MEMBER);
    const side = new Database(path);
    try {
      side.exec('ALTER TABLE gateway_keys RENAME TO gateway_keys_away');
      for (const illFormed of ['gk-', 'gk-short', `${key}x`, key.slice(0, -1), `${key.slice(0, -1)}!`]) {
        expect(await refusalOf(access, illFormed)).toMatchObject({
          code: ErrorCode.InvalidApiKey,
          message: 'Incorrect gateway key provided',
        });
      }
      // A well-formed key is looked up: with the table away that is the 503 of a failed read.
      const unknown = `gk-${'A'.repeat(43)}`;
      expect(await refusalOf(access, unknown)).toMatchObject({ code: ErrorCode.UpstreamUnavailable });
      side.exec('ALTER TABLE gateway_keys_away RENAME TO gateway_keys');
    } finally {
      side.close();
    }
    expect(await refusalOf(access, `gk-${'A'.repeat(43)}`)).toMatchObject({
      code: ErrorCode.InvalidApiKey,
      message: 'Incorrect gateway key provided',
    });
  });
});
