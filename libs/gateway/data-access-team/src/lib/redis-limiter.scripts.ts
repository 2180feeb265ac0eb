import { MINUTE_MS, SHORT_BITS } from './limit-math';

/**
 * The Redis limiter's two Lua scripts: the steps of limit-math.ts, run inside Redis so that each check-and-take
 * (and each settle) is one atomic step across every replica. Bucket levels are whole units (see limit-math.ts) and
 * `now` comes from the caller, in whole milliseconds.
 *
 * Leases: a replica may take, in the run that reserves a request, a small extra share of each of the key's limits
 * to reserve later requests from in process (redis-limiter.leases.ts). What a lease takes leaves the buckets and
 * the budget counter at once, so no two replicas can hand out the same room. While a lease is out, the units it
 * holds also lower the ceiling its bucket refills to (kept in the bucket as one field per holder, `lease:<holder>`
 * = "<units> <until>"): the bucket and every lease together never hold more than the limit, as one bucket would.
 * A holder's field counts until its `until` (the lease's end plus LEASE_HOLD_MARGIN_MS), so a replica that dies
 * with a lease lowers the ceiling for about a minute at most.
 */

/** How long an idle bucket outlives the moment it is full again (a missing bucket reads as a full one). */
export const BUCKET_IDLE_MARGIN_MS = 60_000;

/** What the reserve script answers when the budget counter is missing and no seed was given. */
export const SEED_NEEDED = -1;

/**
 * How long after a lease's end Redis still counts the units it holds against its bucket's ceiling: the room for a
 * give-back on its way, and for replicas whose clocks disagree by less than this.
 */
export const LEASE_HOLD_MARGIN_MS = 60_000;

/** A lease takes this share (percent) of a key's rpm and of its tpm... */
export const LEASE_BUCKET_PERCENT = 2;
/** ...and this share (percent) of the budget left after the ask... */
export const LEASE_BUDGET_PERCENT = 1;
/** ...and only while more than this share (percent) of each limit is left after the ask and the lease. */
export const LEASE_ROOM_PERCENT = 25;

/**
 * A bucket's refill and store, as in limit-math.ts (refilledLevel, moveBucket, fullInMs), with the leases held in
 * it: `bucket` reads one (after giving back `release` units of `holder`'s leases, and forgetting leases past their
 * `until`), `store` writes it back. A reservation run keeps its limit in the bucket (field `limit`); a settle
 * (`settling`) carries the limit its reservation was made under, which may have been lowered since, so it refills
 * no faster, and up to no higher, than the lower of the two (and leaves the kept one as it is).
 */
const BUCKETS = `
local MINUTE = ${MINUTE_MS}
local IDLE_MARGIN = ${BUCKET_IDLE_MARGIN_MS}
local now = tonumber(ARGV[1])

local function bucket(key, limit, holder, release, settling)
  local fields = redis.call('HGETALL', key)
  local own = 'lease:' .. holder
  -- held and heldUntil: what the holder's leases hold and until when; heldBefore and heldUntilBefore: as found.
  -- keep: the limit store writes back into the bucket (nil: none written).
  local state = { key = key, limit = limit, own = own, level = nil, at = now,
    held = 0, heldUntil = 0, heldBefore = 0, heldUntilBefore = 0, keep = limit }
  local kept = nil
  local others = 0
  for i = 1, #fields, 2 do
    local name, value = fields[i], fields[i + 1]
    if name == 'level' then
      state.level = tonumber(value)
    elseif name == 'at' then
      state.at = tonumber(value)
    elseif name == 'limit' then
      kept = tonumber(value)
    else
      local units, untilAt = string.match(value, '^(%S+) (%S+)$')
      units, untilAt = tonumber(units), tonumber(untilAt)
      if untilAt <= now then
        redis.call('HDEL', key, name)
      elseif name == own then
        state.heldBefore, state.heldUntilBefore = units, untilAt
        state.held, state.heldUntil = math.max(0, units - release), untilAt
      else
        others = others + units
      end
    end
  end
  if settling then
    state.keep = nil
    if kept ~= nil and kept < limit then
      state.limit = kept
    end
  end
  state.ceiling = state.limit * MINUTE - others - state.held
  if state.level == nil then
    state.level = state.ceiling
  else
    state.level = math.min(state.ceiling, state.level + math.max(0, now - state.at) * state.limit)
    state.at = math.max(state.at, now)
  end
  return state
end

local function store(state)
  local level, at = string.format('%.0f', state.level), string.format('%.0f', state.at)
  if state.keep then
    redis.call('HSET', state.key, 'level', level, 'at', at, 'limit', string.format('%.0f', state.keep))
  else
    redis.call('HSET', state.key, 'level', level, 'at', at)
  end
  if state.held > 0 then
    if state.held ~= state.heldBefore or state.heldUntil ~= state.heldUntilBefore then
      redis.call('HSET', state.key, state.own, string.format('%.0f %.0f', state.held, state.heldUntil))
    end
  elseif state.heldBefore > 0 then
    redis.call('HDEL', state.key, state.own)
  end
  local full = 0
  if state.limit > 0 then
    full = math.max(0, math.ceil((state.limit * MINUTE - state.level) / state.limit))
  end
  redis.call('PEXPIRE', state.key, string.format('%.0f', full + IDLE_MARGIN))
end
`;

/**
 * Reserve. KEYS: requests bucket, tokens bucket, budget counter. ARGV:
 *  1 now; 2 rpm; 3 tpm; 4 the ask's token units; 5 the budget and 6 the ask's cost, in micro-dollars; 7 how long a
 *  new budget counter lives (ms: relative, so the clocks of Redis and of the replica need not agree);
 *  8 the lease holder (the replica; empty when the run neither folds nor wants a lease); 9 an ended lease of this
 *  holder folded in, as "<request units> <token units> <micro-dollars> <held request units> <held token units>":
 *  what it gives back to the buckets, adds to the counter (negative: gives back), and held (empty: none);
 *  10 how long a new lease counts against its buckets' ceilings (ms; empty: no lease wanted);
 *  11 the seed of a missing counter (micro-dollars).
 * An empty limit means no such limit; an empty expiry none; an empty seed none yet.
 *
 * Folds the ended lease in, refills, checks all three and takes all three or none; when granted and a lease is
 * wanted, also takes one (LEASE_*_PERCENT) if every limit the key has leaves room for it. Answers {short bits
 * (SHORT_BITS), requests level, tokens level, charged micro-dollars}, the levels as found (after the fold, before
 * the take), followed with a lease by its {request units, token units, micro-dollars}; or {SEED_NEEDED} before
 * touching anything when the budget counter is missing and there is no seed. A folded lease's micro-dollars are
 * not applied to a counter seeded again (the ledger it was seeded from never saw them).
 */
export const RESERVE_SCRIPT = `${BUCKETS}
local rpm = tonumber(ARGV[2])
local tpm = tonumber(ARGV[3])
local tokens = tonumber(ARGV[4])
local budget = tonumber(ARGV[5])
local cost = tonumber(ARGV[6])
local holder = ARGV[8]
local leaseFor = tonumber(ARGV[10])
local back = {0, 0, 0, 0, 0}
if ARGV[9] ~= '' then
  local index = 1
  for part in string.gmatch(ARGV[9], '%S+') do
    back[index] = tonumber(part)
    index = index + 1
  end
end
local backRequests, backTokens, backMicros, heldRequests, heldTokens = back[1], back[2], back[3], back[4], back[5]
local short = 0
local requests, tokenBucket
local charged = 0

if budget then
  local counted = redis.call('GET', KEYS[3])
  if counted then
    charged = tonumber(counted)
    if backMicros ~= 0 then
      charged = redis.call('INCRBY', KEYS[3], string.format('%.0f', backMicros))
    end
  elseif ARGV[11] == '' then
    return {${SEED_NEEDED}}
  else
    charged = tonumber(ARGV[11])
    redis.call('SET', KEYS[3], ARGV[11])
    if ARGV[7] ~= '' then
      redis.call('PEXPIRE', KEYS[3], ARGV[7])
    end
  end
  if charged >= budget or charged + cost > budget then
    short = short + ${SHORT_BITS.budget}
  end
end
if rpm then
  requests = bucket(KEYS[1], rpm, holder, heldRequests)
  requests.level = math.min(requests.ceiling, requests.level + backRequests)
  if requests.level < MINUTE then
    short = short + ${SHORT_BITS.requests}
  end
end
if tpm then
  tokenBucket = bucket(KEYS[2], tpm, holder, heldTokens)
  tokenBucket.level = math.min(tokenBucket.ceiling, tokenBucket.level + backTokens)
  if tokenBucket.level < tokens then
    short = short + ${SHORT_BITS.tokens}
  end
end
local requestsLevel, tokensLevel = 0, 0
if requests then
  requestsLevel = requests.level
end
if tokenBucket then
  tokensLevel = tokenBucket.level
end

-- A lease's size from one limit: share of whole, when it is at least need and more than LEASE_ROOM_PERCENT of
-- whole stays left after it; else nil.
local function leaseSize(whole, share, need, left)
  local size = math.floor(whole * share / 100)
  if size >= need and left - size > whole * ${LEASE_ROOM_PERCENT} / 100 then
    return size
  end
  return nil
end

local leaseRequests, leaseTokens, leaseMicros = 0, 0, 0
local leased = short == 0 and leaseFor ~= nil and (rpm ~= nil or tpm ~= nil or budget ~= nil)
if leased and rpm then
  leaseRequests = leaseSize(rpm * MINUTE, ${LEASE_BUCKET_PERCENT}, MINUTE, requestsLevel - MINUTE)
  leased = leaseRequests ~= nil
end
if leased and tpm then
  leaseTokens = leaseSize(tpm * MINUTE, ${LEASE_BUCKET_PERCENT}, tokens, tokensLevel - tokens)
  leased = leaseTokens ~= nil
end
if leased and budget then
  local left = budget - charged - cost
  leaseMicros = math.floor(left * ${LEASE_BUDGET_PERCENT} / 100)
  leased = leaseMicros >= cost and left - leaseMicros > budget * ${LEASE_ROOM_PERCENT} / 100
end
if not leased then
  leaseRequests, leaseTokens, leaseMicros = 0, 0, 0
end

if short == 0 then
  if requests then
    requests.level = requests.level - MINUTE - leaseRequests
    if leased then
      requests.held = requests.held + leaseRequests
      requests.heldUntil = math.max(requests.heldUntil, now + leaseFor)
    end
    store(requests)
  end
  if tokenBucket then
    tokenBucket.level = tokenBucket.level - tokens - leaseTokens
    if leased then
      tokenBucket.held = tokenBucket.held + leaseTokens
      tokenBucket.heldUntil = math.max(tokenBucket.heldUntil, now + leaseFor)
    end
    store(tokenBucket)
  end
  if budget then
    redis.call('INCRBY', KEYS[3], string.format('%.0f', cost + leaseMicros))
  end
else
  -- Refused: still keep what the folded lease gave back.
  if requests and (backRequests ~= 0 or heldRequests ~= 0) then
    store(requests)
  end
  if tokenBucket and (backTokens ~= 0 or heldTokens ~= 0) then
    store(tokenBucket)
  end
end
if leased then
  return {short, requestsLevel, tokensLevel, charged, leaseRequests, leaseTokens, leaseMicros}
end
return {short, requestsLevel, tokensLevel, charged}
`;

/**
 * Settle, of one or several reservations of a key at once, and the give-back of ended leases. KEYS: requests
 * bucket, tokens bucket, budget counter. ARGV: 1 now; 2 rpm and 3 tpm (empty: none); 4 request units and 5 token
 * units given back (negative: taken); 6 micro-dollars to add to the counter (negative: given back); 7 the ended
 * leases' holder and the request and token units they held, as "<holder> <request units> <token units>" (empty:
 * no lease). Each summed over what is sent together. A bucket is refilled (under the lower of rpm or tpm and the
 * limit it keeps: see BUCKETS) and given back (the next refill caps it); a counter that is gone (expired, or Redis lost it) is left for the next reservation to seed from the
 * ledger.
 */
export const SETTLE_SCRIPT = `${BUCKETS}
local rpm = tonumber(ARGV[2])
local tpm = tonumber(ARGV[3])
local holder, heldRequests, heldTokens = '', 0, 0
if ARGV[7] ~= '' then
  local name, requestUnits, tokenUnits = string.match(ARGV[7], '^(%S+) (%S+) (%S+)$')
  holder, heldRequests, heldTokens = name, tonumber(requestUnits), tonumber(tokenUnits)
end
if rpm and (ARGV[4] ~= '0' or heldRequests ~= 0) then
  local requests = bucket(KEYS[1], rpm, holder, heldRequests, true)
  requests.level = requests.level + tonumber(ARGV[4])
  store(requests)
end
if tpm then
  local tokenBucket = bucket(KEYS[2], tpm, holder, heldTokens, true)
  tokenBucket.level = tokenBucket.level + tonumber(ARGV[5])
  store(tokenBucket)
end
if ARGV[6] ~= '0' and redis.call('EXISTS', KEYS[3]) == 1 then
  redis.call('INCRBY', KEYS[3], ARGV[6])
end
return 1
`;
