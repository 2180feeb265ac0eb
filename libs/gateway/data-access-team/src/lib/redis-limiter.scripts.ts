import { MINUTE_MS, SHORT_BITS } from './limit-math';

/**
 * The Redis limiter's two Lua scripts: the steps of limit-math.ts, run inside Redis so that each check-and-take
 * (and each settle) is one atomic step across every replica. Bucket levels are whole units (see limit-math.ts) and
 * `now` comes from the caller, in whole milliseconds.
 */

/** How long an idle bucket outlives the moment it is full again (a missing bucket reads as a full one). */
export const BUCKET_IDLE_MARGIN_MS = 60_000;

/** What the reserve script answers when the budget counter is missing and no seed was given. */
export const SEED_NEEDED = -1;

/** A bucket's refill and store, as in limit-math.ts (refilledLevel, moveBucket, fullInMs). */
const BUCKETS = `
local MINUTE = ${MINUTE_MS}
local IDLE_MARGIN = ${BUCKET_IDLE_MARGIN_MS}
local now = tonumber(ARGV[1])

local function refilled(key, limit)
  local state = redis.call('HMGET', key, 'level', 'at')
  local capacity = limit * MINUTE
  if not state[1] then
    return capacity, now
  end
  local at = tonumber(state[2])
  return math.min(capacity, tonumber(state[1]) + math.max(0, now - at) * limit), math.max(at, now)
end

local function store(key, limit, level, at)
  redis.call('HSET', key, 'level', string.format('%.0f', level), 'at', string.format('%.0f', at))
  local full = 0
  if limit > 0 then
    full = math.max(0, math.ceil((limit * MINUTE - level) / limit))
  end
  redis.call('PEXPIRE', key, string.format('%.0f', full + IDLE_MARGIN))
end
`;

/**
 * Reserve. KEYS: requests bucket, tokens bucket, budget counter. ARGV: now, rpm, tpm, the ask's token units, the
 * budget and the ask's cost in micro-dollars, how long a new budget counter lives (ms: relative, so the clocks of
 * Redis and of the replica need not agree), the seed of a missing counter (micro-dollars). An empty argument means
 * no such limit, no expiry, or no seed yet.
 *
 * Refills, checks all three and takes all three or none. Answers {short bits (SHORT_BITS), requests level, tokens
 * level, charged micro-dollars}, the levels as found (before the take); or {SEED_NEEDED} before touching anything
 * when the budget counter is missing and there is no seed.
 */
export const RESERVE_SCRIPT = `${BUCKETS}
local rpm = tonumber(ARGV[2])
local tpm = tonumber(ARGV[3])
local tokens = tonumber(ARGV[4])
local budget = tonumber(ARGV[5])
local cost = tonumber(ARGV[6])
local short = 0
local requestsLevel, requestsAt, tokensLevel, tokensAt, charged = 0, 0, 0, 0, 0

if budget then
  local counted = redis.call('GET', KEYS[3])
  if counted then
    charged = tonumber(counted)
  elseif ARGV[8] == '' then
    return {${SEED_NEEDED}}
  else
    charged = tonumber(ARGV[8])
    redis.call('SET', KEYS[3], ARGV[8])
    if ARGV[7] ~= '' then
      redis.call('PEXPIRE', KEYS[3], ARGV[7])
    end
  end
  if charged >= budget or charged + cost > budget then
    short = short + ${SHORT_BITS.budget}
  end
end
if rpm then
  requestsLevel, requestsAt = refilled(KEYS[1], rpm)
  if requestsLevel < MINUTE then
    short = short + ${SHORT_BITS.requests}
  end
end
if tpm then
  tokensLevel, tokensAt = refilled(KEYS[2], tpm)
  if tokensLevel < tokens then
    short = short + ${SHORT_BITS.tokens}
  end
end

if short == 0 then
  if rpm then
    store(KEYS[1], rpm, requestsLevel - MINUTE, requestsAt)
  end
  if tpm then
    store(KEYS[2], tpm, tokensLevel - tokens, tokensAt)
  end
  if budget then
    redis.call('INCRBY', KEYS[3], ARGV[6])
  end
end
return {short, requestsLevel, tokensLevel, charged}
`;

/**
 * Settle, of one or several reservations of a key at once. KEYS: tokens bucket, budget counter. ARGV: now, tpm
 * (empty: none), token units given back (negative: taken), micro-dollars to add to the counter (negative: given
 * back), each summed over the settles sent together. The bucket is refilled and given back (the next refill caps
 * it); a counter that is gone (expired, or Redis lost it) is left for the next reservation to seed from the ledger.
 */
export const SETTLE_SCRIPT = `${BUCKETS}
local tpm = tonumber(ARGV[2])
if tpm then
  local level, at = refilled(KEYS[1], tpm)
  store(KEYS[1], tpm, level + tonumber(ARGV[3]), at)
end
if ARGV[4] ~= '0' and redis.call('EXISTS', KEYS[2]) == 1 then
  redis.call('INCRBY', KEYS[2], ARGV[4])
end
return 1
`;
