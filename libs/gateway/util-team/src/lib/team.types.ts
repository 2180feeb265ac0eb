/**
 * The team mode's shared vocabulary: gateway keys, their limits, the ledger's rows and the usage queries. Pure
 * types; the store, the limiter and the gateway's routes all speak them.
 */

/** `GATEWAY_KEYS`: pass-through only, gateway keys beside client provider keys, or gateway keys only. */
export type GatewayKeysMode = 'off' | 'optional' | 'required';

/** Over what a key's USD budget runs: each calendar month (UTC), or the key's whole life. */
export type BudgetPeriod = 'monthly' | 'total';

/** A key's limits; null means none. */
export interface KeyLimits {
  /** Requests per minute. */
  rpm: number | null;
  /** Tokens (prompt and completion) per minute. */
  tpm: number | null;
  budgetUsd: number | null;
  budgetPeriod: BudgetPeriod;
}

/** A gateway key as stored: its digest, never the key itself. */
export interface GatewayKeyRecord extends KeyLimits {
  /** `key_` followed by random characters; what the admin API and the ledger name it by. */
  id: string;
  name: string;
  /** The key's first 8 characters (`gk-AbCdE`), so a person can tell keys apart. */
  keyPrefix: string;
  /** SHA-256 of the key, lowercase hex. */
  digest: string;
  /** Model patterns the key may use (`gpt-*`, `claude-sonnet-4-6`); empty: every model. */
  models: readonly string[];
  expiresAt: Date | null;
  createdAt: Date;
  revokedAt: Date | null;
}

/** The fields a key is created with, or a PATCH changes (each optional there). */
export interface KeySettings extends KeyLimits {
  name: string;
  models: readonly string[];
  expiresAt: Date | null;
}

/** Where a token count came from: the provider's own report, or our estimate (it reported nothing). */
export type CountSource = 'provider' | 'estimated';

/** The tokens one request used, as the ledger records and bills them. */
export interface MeteredUsage {
  /** Every prompt token, cached ones included. */
  promptTokens: number;
  completionTokens: number;
  /** The part of `promptTokens` read from the provider's prompt cache (billed at the cached price). */
  cachedPromptTokens: number;
  /** The part of `promptTokens` written to the provider's prompt cache (billed at the cache-write price). */
  cacheWritePromptTokens: number;
  /** The part of `cacheWritePromptTokens` written with Anthropic's 1-hour lifetime (billed at its own price). */
  cacheWrite1hPromptTokens: number;
  /** The part of `completionTokens` spent reasoning. */
  reasoningTokens: number;
  promptSource: CountSource;
  completionSource: CountSource;
}

/** How a request ended: answered in full, failed (an error status, or a stream that broke), or left by its client. */
export type RequestOutcome = 'completed' | 'failed' | 'aborted';

/** One ledger row: one request made with a gateway key. */
export interface LedgerEntry extends MeteredUsage {
  time: Date;
  keyId: string;
  /** The provider that served it (`openai`, `anthropic`, `gemini`, a configured name). */
  provider: string;
  /** The model as the client asked for it (an alias stays an alias); null when the request named none. */
  modelRequested: string | null;
  /** The model sent upstream. */
  modelServed: string | null;
  /** The team route (`/v1/chat/completions`), or the path a native request called (`/anthropic/v1/messages`). */
  route: string;
  costUsd: number;
  latencyMs: number;
  /** Milliseconds to the first byte of the answer's body; null when none was sent. */
  firstTokenMs: number | null;
  /** The HTTP status the client got. */
  status: number;
  outcome: RequestOutcome;
  clientAborted: boolean;
}

/** `group_by` of the usage routes. */
export type UsageGroupBy = 'key' | 'model' | 'day';

/** A usage query: UTC dates `YYYY-MM-DD`, both inclusive; `keyId` narrows it to one key (`/v1/usage`). */
export interface UsageQuery {
  startDate: string;
  endDate: string;
  groupBy: UsageGroupBy;
  keyId?: string;
}

export interface UsageTotals {
  requests: number;
  promptTokens: number;
  completionTokens: number;
  costUsd: number;
}

/** One group of a usage answer: a model, a key id (with its name) or a UTC day. */
export interface UsageGroup extends UsageTotals {
  group: string;
  /** The key's name, for `group_by=key`. */
  name?: string;
}

/** One limit's state after a reservation, for the `x-ratelimit-*` headers. */
export interface LimitWindow {
  limit: number;
  remaining: number;
  /** Milliseconds until the window resets. */
  resetMs: number;
}

/** What a reservation asks for: one request, an estimate of its tokens, and of its cost. */
export interface LimitAsk {
  keyId: string;
  limits: KeyLimits;
  tokens: number;
  costUsd: number;
}

/** What the limiter answers: granted (settle it afterwards), or refused with the limit that refused it. */
export type Reservation =
  | {
      granted: true;
      keyId: string;
      /** The limits it was counted under, what it took (whole tokens, the USD estimate), for settle(). */
      limits: KeyLimits;
      tokens: number;
      costUsd: number;
      /** The budget period it was charged to (`budgetPeriodKey`). */
      budgetPeriodKey: string;
      requests: LimitWindow | undefined;
      tokensWindow: LimitWindow | undefined;
    }
  | {
      granted: false;
      /** When several refuse: the budget, else the limit that takes longest to let the ask through. */
      refusedBy: 'requests' | 'tokens' | 'budget';
      /** Milliseconds until the ask would fit; null when no wait helps (too large, or a whole-life budget spent). */
      retryAfterMs: number | null;
      /** The ask alone is more than the whole limit (tokens above the tpm, a cost above the budget). */
      tooLarge: boolean;
      requests: LimitWindow | undefined;
      tokensWindow: LimitWindow | undefined;
    };

export type GrantedReservation = Extract<Reservation, { granted: true }>;
