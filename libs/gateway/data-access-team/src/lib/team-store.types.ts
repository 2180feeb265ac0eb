import type {
  GatewayKeyRecord,
  GrantedReservation,
  KeySettings,
  LedgerEntry,
  LimitAsk,
  Reservation,
  UsageGroup,
  UsageQuery,
  UsageTotals,
} from '@openai-proxy/gateway-util-team';

/** A new key: its record, and the key itself (shown once, never stored). */
export interface CreatedKey {
  record: GatewayKeyRecord;
  key: string;
}

/**
 * The gateway keys, in the team database (SQLite or Postgres). Every call reads or writes the database; the
 * gateway trusts what `findByDigest` found for up to a second, so a revocation holds at once on the replica that
 * made it and within one second on every other.
 */
export interface KeyStore {
  create(settings: KeySettings): Promise<CreatedKey>;
  list(): Promise<GatewayKeyRecord[]>;
  get(id: string): Promise<GatewayKeyRecord | undefined>;
  /** Changes the given fields; undefined for an unknown id. */
  update(id: string, changes: Partial<KeySettings>): Promise<GatewayKeyRecord | undefined>;
  /** Sets `revokedAt` (kept if already set); undefined for an unknown id. */
  revoke(id: string, at: Date): Promise<GatewayKeyRecord | undefined>;
  /** The key whose digest this is, revoked or expired ones included (the caller decides). */
  findByDigest(digest: string): Promise<GatewayKeyRecord | undefined>;
}

/** A usage answer: its groups (sorted by group) and their total. */
export interface UsageReport {
  data: UsageGroup[];
  total: UsageTotals;
}

/** One model's cost on one UTC day, for `/dashboard/billing/usage`. */
export interface DailyCost {
  day: string;
  model: string;
  costUsd: number;
}

/** The append-only usage ledger: rows are queued and written in batches, off the request path. */
export interface UsageLedger {
  /** Queues one row; never throws, never waits. */
  record(entry: LedgerEntry): void;
  /** Writes every queued row. */
  flush(): Promise<void>;
  usage(query: UsageQuery): Promise<UsageReport>;
  /** What a key spent since `since` (null: ever), queued rows included. */
  spentUsd(keyId: string, since: Date | null): Promise<number>;
  /** A key's cost per day and model between two UTC dates, both inclusive. */
  dailyCosts(keyId: string, startDate: string, endDate: string): Promise<DailyCost[]>;
}

/** Raised when the shared limit store (Redis) cannot be reached: the request is refused with 503, never let through. */
export class LimiterUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LimiterUnavailableError';
  }
}

/**
 * Requests, tokens per minute and USD budgets per key: reserved before the upstream call, settled on the real
 * usage after. Atomic across replicas when it is Redis.
 */
export interface TeamLimiter {
  /**
   * Reserves one request, `ask.tokens` and `ask.costUsd`, or refuses. `spentUsd` gives what the key has spent in
   * its budget period so far, read when the limiter has no count of it yet (a new key, or Redis lost it).
   * Throws LimiterUnavailableError when its store cannot be reached.
   */
  reserve(ask: LimitAsk, spentUsd: () => Promise<number>): Promise<Reservation>;
  /** Replaces a granted reservation's estimate by what the request really used. */
  settle(reservation: GrantedReservation, actual: { tokens: number; costUsd: number }): Promise<void>;
  /** Whether the store answers (for /readyz); an in-process limiter always does. */
  ready(): Promise<boolean>;
  close(): Promise<void>;
}
