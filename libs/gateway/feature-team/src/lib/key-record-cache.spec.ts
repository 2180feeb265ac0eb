import type { GatewayKeyRecord } from '@openai-proxy/gateway-util-team';
import { KEY_RECORD_TTL_MS, KeyRecordCache } from './key-record-cache';

function recordOf(digest: string, name = 'member'): GatewayKeyRecord {
  return {
    id: `key_${digest}`,
    name,
    keyPrefix: 'gk-AbCdE',
    digest,
    models: [],
    rpm: null,
    tpm: null,
    budgetUsd: null,
    budgetPeriod: 'total',
    expiresAt: null,
    createdAt: new Date('2026-01-01T00:00:00Z'),
    revokedAt: null,
  };
}

/** A read the test answers when it wants. */
interface HeldRead {
  answer(record: GatewayKeyRecord | undefined): void;
  fail(error: Error): void;
}

/**
 * The key table a cache reads: `rows` by digest, every read counted. With `hold` on, each read waits until the
 * test answers it (its HeldRead, in `held`).
 */
class KeyTable {
  readonly rows = new Map<string, GatewayKeyRecord>();
  readonly reads: string[] = [];
  readonly held: HeldRead[] = [];
  hold = false;

  readonly read = (digest: string): Promise<GatewayKeyRecord | undefined> => {
    this.reads.push(digest);
    if (!this.hold) {
      return Promise.resolve(this.rows.get(digest));
    }
    return new Promise((resolve, reject) => {
      this.held.push({ answer: resolve, fail: reject });
    });
  };

  readsOf(digest: string): number {
    return this.reads.filter((read) => read === digest).length;
  }
}

/** A clock the test moves by hand. */
class TestClock {
  ms = 1_000_000;
  readonly now = (): number => this.ms;
}

describe(KeyRecordCache.name, () => {
  let table: KeyTable;
  let clock: TestClock;
  let cache: KeyRecordCache;

  beforeEach(() => {
    table = new KeyTable();
    clock = new TestClock();
    cache = new KeyRecordCache(table.read, { now: clock.now });
  });

  it('should answer a found key without reading again for a second, then read it again', async () => {
    table.rows.set('a', recordOf('a'));
    expect(await cache.find('a')).toEqual(recordOf('a'));
    table.rows.set('a', recordOf('a', 'renamed'));
    clock.ms += KEY_RECORD_TTL_MS - 1;
    expect((await cache.find('a'))?.name).toBe('member');
    expect(table.readsOf('a')).toBe(1);
    clock.ms += 1;
    expect((await cache.find('a'))?.name).toBe('renamed');
    expect(table.readsOf('a')).toBe(2);
    expect((await cache.find('a'))?.name).toBe('renamed');
    expect(table.readsOf('a')).toBe(2);
  });

  it('should count the second from when the read started, not when it answered', async () => {
    table.hold = true;
    const found = cache.find('a');
    clock.ms += 900;
    table.held[0]?.answer(recordOf('a'));
    expect(await found).toEqual(recordOf('a'));
    table.hold = false;
    clock.ms += KEY_RECORD_TTL_MS - 900;
    table.rows.set('a', recordOf('a', 'renamed'));
    expect((await cache.find('a'))?.name).toBe('renamed');
    expect(table.readsOf('a')).toBe(2);
  });

  it('should keep no unknown digest: a key created since is found on its first request', async () => {
    expect(await cache.find('new')).toBeUndefined();
    expect(await cache.find('new')).toBeUndefined();
    expect(table.readsOf('new')).toBe(2);
    table.rows.set('new', recordOf('new'));
    expect(await cache.find('new')).toEqual(recordOf('new'));
  });

  it('should keep at most maxEntries records, the one read longest ago going first', async () => {
    cache = new KeyRecordCache(table.read, { now: clock.now, maxEntries: 2 });
    for (const digest of ['a', 'b', 'c']) {
      table.rows.set(digest, recordOf(digest));
      await cache.find(digest);
    }
    await cache.find('b');
    await cache.find('c');
    expect([table.readsOf('b'), table.readsOf('c')]).toEqual([1, 1]);
    await cache.find('a');
    expect(table.readsOf('a')).toBe(2);
    // Reading `a` again made room by dropping `b`, now the one read longest ago.
    await cache.find('c');
    await cache.find('b');
    expect([table.readsOf('b'), table.readsOf('c')]).toEqual([2, 1]);
  });

  it('should let the requests that find a digest at the same time share one read', async () => {
    table.hold = true;
    const finds = [cache.find('a'), cache.find('a'), cache.find('a')];
    expect(table.reads).toEqual(['a']);
    table.held[0]?.answer(recordOf('a'));
    expect(await Promise.all(finds)).toEqual([recordOf('a'), recordOf('a'), recordOf('a')]);
    expect(await cache.find('a')).toEqual(recordOf('a'));
    expect(table.reads).toEqual(['a']);
  });

  it('should fail every request sharing a failed read, and keep nothing of it', async () => {
    table.hold = true;
    const finds = [cache.find('a'), cache.find('a')];
    table.held[0]?.fail(new Error('database unreachable'));
    for (const find of finds) {
      await expect(find).rejects.toThrow('database unreachable');
    }
    table.hold = false;
    table.rows.set('a', recordOf('a'));
    expect(await cache.find('a')).toEqual(recordOf('a'));
    expect(table.readsOf('a')).toBe(2);
  });

  it('should read a forgotten digest again on its next request', async () => {
    table.rows.set('a', recordOf('a'));
    await cache.find('a');
    table.rows.set('a', recordOf('a', 'renamed'));
    cache.forget('a');
    expect((await cache.find('a'))?.name).toBe('renamed');
    expect(table.readsOf('a')).toBe(2);
  });

  it('should keep nothing of a read that was running when its digest was forgotten', async () => {
    table.hold = true;
    const before = cache.find('a');
    cache.forget('a');
    const after = cache.find('a');
    expect(table.reads).toEqual(['a', 'a']);
    table.held[1]?.answer(recordOf('a', 'revoked since'));
    table.held[0]?.answer(recordOf('a', 'before the change'));
    expect((await before)?.name).toBe('before the change');
    expect((await after)?.name).toBe('revoked since');
    table.hold = false;
    expect((await cache.find('a'))?.name).toBe('revoked since');
    expect(table.reads).toEqual(['a', 'a']);
  });
});
