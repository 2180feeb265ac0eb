import type { GatewayKeyRecord } from '@openai-proxy/gateway-util-team';

/**
 * How long a key record read from the team database is trusted: the first request after it reads the database
 * again (and waits for that read), so a key changed on another replica is seen within this time.
 */
export const KEY_RECORD_TTL_MS = 1000;

/** How many key records are kept at most; past it the one read longest ago goes first. */
export const KEY_RECORD_CACHE_ENTRIES = 10_000;

/** Reads the key whose digest this is from the team database; undefined when there is none. */
export type KeyRecordRead = (digest: string) => Promise<GatewayKeyRecord | undefined>;

/** The cache's options; `now` is injectable so tests are exact. */
export interface KeyRecordCacheOptions {
  maxEntries?: number;
  now?: () => number;
}

/** A record as read, with when its read started (it reflects the database no earlier than that). */
interface CachedRecord {
  record: GatewayKeyRecord;
  readAtMs: number;
}

/**
 * The key records the gateway found by digest, kept for KEY_RECORD_TTL_MS so a request need not query the database.
 * Only keys that exist are kept: an unknown digest is read again every time, so a key created elsewhere works at
 * once. A failed read is not kept either. Requests for a digest that is being read share that read. `forget`
 * drops a digest (and lets a read already running keep nothing), for the replica that changed the key.
 */
export class KeyRecordCache {
  private readonly records = new Map<string, CachedRecord>();
  private readonly reading = new Map<string, Promise<GatewayKeyRecord | undefined>>();
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(
    private readonly read: KeyRecordRead,
    options: KeyRecordCacheOptions = {},
  ) {
    this.maxEntries = options.maxEntries ?? KEY_RECORD_CACHE_ENTRIES;
    this.now = options.now ?? Date.now;
  }

  /** The key whose digest this is: the record kept when it is fresh, else what the database reads now. */
  find(digest: string): Promise<GatewayKeyRecord | undefined> {
    const cached = this.records.get(digest);
    if (cached !== undefined) {
      if (this.now() - cached.readAtMs < KEY_RECORD_TTL_MS) {
        return Promise.resolve(cached.record);
      }
      this.records.delete(digest);
    }
    return this.reading.get(digest) ?? this.startRead(digest);
  }

  /** Drops what is kept for `digest`; a read of it already running is still answered but not kept. */
  forget(digest: string): void {
    this.records.delete(digest);
    this.reading.delete(digest);
  }

  private startRead(digest: string): Promise<GatewayKeyRecord | undefined> {
    const readAtMs = this.now();
    const started = this.read(digest).then(
      (record) => {
        if (this.reading.get(digest) === started) {
          this.reading.delete(digest);
          if (record !== undefined) {
            this.keep(digest, { record, readAtMs });
          }
        }
        return record;
      },
      (error: unknown) => {
        if (this.reading.get(digest) === started) {
          this.reading.delete(digest);
        }
        throw error;
      },
    );
    this.reading.set(digest, started);
    return started;
  }

  private keep(digest: string, entry: CachedRecord): void {
    this.records.set(digest, entry);
    if (this.records.size > this.maxEntries) {
      const oldest = this.records.keys().next();
      if (oldest.done !== true) {
        this.records.delete(oldest.value);
      }
    }
  }
}
