--[[
  Circuit breaker, after a call: records its outcome and applies the rules.
    closed     success: consecutive failures = 0, counted in the rolling window
               failure: consecutive failures + 1, counted in the rolling window; opens (reason
                        'consecutive_failures') when they reach the threshold, else (reason
                        'error_rate') when the window holds >= minCalls calls and
                        failures / calls >= the rate threshold
    half_open  probe outcomes only: success closes (reason 'probe_succeeded', everything reset);
               failure re-opens (reason 'probe_failed') for openMs * multiplier^n (n = failed probes
               since the last close, capped at maxOpenMs). Non-probe outcomes are calls that started
               before the breaker opened: ignored.
    open       ignored (late outcomes of calls started before it opened must not extend it).
  Opening never shortens an open period: until = max(until, now + duration).
  Stale outcomes: when the caller passes the seq its acquire saw (ARGV[13]) and the breaker has made a
  transition since (seq differs), the call started under an earlier state and the outcome is ignored
  in every state, e.g. a late failure of a call begun before the last close does not count against
  the new closed period, and a late success does not reset its consecutive failures. A breaker
  without stored state (seq 0: never used, its state expired after a day without writes, or Redis
  lost it) is closed without history: every outcome counts there.

  Rolling window: KEYS[2] holds per-bucket counters 's<n>' / 'f<n>' with n = floor(nowMs / bucketMs)
  and bucketMs = ceil(windowMs / 10); the rate is taken over the current bucket and the 9 before it,
  so it covers between 90% and 100% of windowMs.

  KEYS[1]  <prefix>:br:{<id>}      HASH  breaker state (see includes/breaker_state.lua)
  KEYS[2]  <prefix>:br:{<id>}:win  HASH  rolling-window bucket counters
  ARGV[1]  events channel            ARGV[2]  breaker id
  ARGV[3]  'success' | 'failure'     ARGV[4]  '1' if this was the half-open probe, else '0'
  ARGV[5]  consecutive-failure threshold
  ARGV[6]  error-rate threshold in (0, 1], or -1 to disable the error-rate rule
  ARGV[7]  error-rate window ms      ARGV[8]  error-rate minimum calls
  ARGV[9]  openMs                    ARGV[10] backoff multiplier   ARGV[11] maxOpenMs
  ARGV[12] state TTL ms
  ARGV[13] the breaker's seq when the call was admitted, or '' (not known: the outcome always counts)

  Returns {decision, state, seq, untilMs, leaseMs, nowMs, eventJson or '', consecutiveFailures} with
  decision 'stale' when the outcome was ignored because of ARGV[13], else ''
]]
-- @include breaker_state

local key, win = KEYS[1], KEYS[2]
local channel, id, outcome, probe = ARGV[1], ARGV[2], ARGV[3], ARGV[4] == '1'
local threshold = tonumber(ARGV[5])
local rate_threshold, rate_window, min_calls = tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8])
local open_ms, multiplier, max_open_ms = tonumber(ARGV[9]), tonumber(ARGV[10]), tonumber(ARGV[11])
local ttl_ms = tonumber(ARGV[12])

local now_ms, now_us = clock()
local b = load(key)
if ARGV[13] ~= '' and b.seq ~= 0 and tonumber(ARGV[13]) ~= b.seq then return reply('stale', b, now_ms) end

local function open_for(duration, reason)
  b.untilMs = math.max(b.untilMs, now_ms + duration)
  b.lease = 0
  b.cf = 0
  redis.call('DEL', win)
  return transition(key, channel, id, b, 'open', reason, now_ms, now_us, ttl_ms)
end

if b.st == 'closed' then
  local calls, failures = 0, 0
  if rate_threshold > 0 then
    local bucket_ms = math.ceil(rate_window / 10)
    local n = math.floor(now_ms / bucket_ms)
    redis.call('HINCRBY', win, (outcome == 'success' and 's' or 'f') .. n, 1)
    redis.call('PEXPIRE', win, rate_window + bucket_ms)
    local all = redis.call('HGETALL', win)
    for i = 1, #all, 2 do
      local field = all[i]
      local bn = tonumber(string.sub(field, 2))
      if bn <= n - 10 then
        redis.call('HDEL', win, field)
      else
        local c = tonumber(all[i + 1])
        calls = calls + c
        if string.sub(field, 1, 1) == 'f' then failures = failures + c end
      end
    end
  end
  if outcome == 'success' then
    if b.cf ~= 0 then
      b.cf = 0
      save(key, b, ttl_ms)
    end
    return reply('', b, now_ms)
  end
  b.cf = b.cf + 1
  if b.cf >= threshold then
    b.reopen = 0
    return reply('', b, now_ms, open_for(open_ms, 'consecutive_failures'))
  end
  if rate_threshold > 0 and calls >= min_calls and failures >= rate_threshold * calls then
    b.reopen = 0
    return reply('', b, now_ms, open_for(open_ms, 'error_rate'))
  end
  save(key, b, ttl_ms)
  return reply('', b, now_ms)
end

if b.st == 'half_open' and probe then
  if outcome == 'success' then
    b.untilMs, b.lease, b.cf, b.reopen = 0, 0, 0, 0
    redis.call('DEL', win)
    return reply('', b, now_ms, transition(key, channel, id, b, 'closed', 'probe_succeeded', now_ms, now_us, ttl_ms))
  end
  b.reopen = b.reopen + 1
  local duration = math.floor(math.min(open_ms * (multiplier ^ b.reopen), max_open_ms))
  return reply('', b, now_ms, open_for(duration, 'probe_failed'))
end

return reply('', b, now_ms)
