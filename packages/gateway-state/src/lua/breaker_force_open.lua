--[[
  Circuit breaker, explicit opening: opens (or keeps open) a breaker for at least forMs, e.g. when a
  provider announces an outage or a quota that resets in an hour. Never shortens an open period:
  until = max(until, now + forMs). From closed or half_open this is a transition (reason 'forced',
  any probe lease is cancelled); an already open breaker is only extended (no event).

  KEYS[1]  <prefix>:br:{<id>}      HASH  breaker state (see includes/breaker_state.lua)
  KEYS[2]  <prefix>:br:{<id>}:win  HASH  rolling-window counters (cleared on opening)
  ARGV[1]  events channel   ARGV[2]  breaker id   ARGV[3]  forMs   ARGV[4]  state TTL ms

  Returns {decision (always ''), state, seq, untilMs, leaseMs, nowMs, eventJson or '', consecutiveFailures}
]]
-- @include breaker_state

local key = KEYS[1]
local now_ms, now_us = clock()
local b = load(key)
local ttl_ms = math.max(tonumber(ARGV[4]), tonumber(ARGV[3]) + 60000)
b.untilMs = math.max(b.untilMs, now_ms + tonumber(ARGV[3]))
if b.st == 'open' then
  save(key, b, ttl_ms)
  return reply('', b, now_ms)
end
b.lease = 0
b.cf = 0
redis.call('DEL', KEYS[2])
return reply('', b, now_ms, transition(key, ARGV[1], ARGV[2], b, 'open', 'forced', now_ms, now_us, ttl_ms))
