--[[
  Circuit breaker, before a call: may this caller call the protected thing?
    closed                          -> 'closed' (read only)
    open, open period not over      -> 'open'
    open, open period over          -> 'probe' for THIS caller, state half_open with a probe lease
                                       (transition open -> half_open, reason 'probe_granted')
    half_open, lease still running  -> 'open' (someone else is probing)
    half_open, lease ran out        -> 'probe' for this caller with a new lease (the previous prober
                                       crashed or never reported; no transition, it stays half_open)
  Scripts run one at a time, so among any number of concurrent callers on any number of connections
  exactly one gets 'probe' per lease.

  KEYS[1]  <prefix>:br:{<id>}  HASH  breaker state (see includes/breaker_state.lua)
  ARGV[1]  events channel (<prefix>:breaker:events)
  ARGV[2]  breaker id (for the event)
  ARGV[3]  probe lease in ms
  ARGV[4]  state TTL in ms (refreshed on every write)

  Returns {decision, state, seq, untilMs, leaseMs, nowMs, eventJson or '', consecutiveFailures}
]]
-- @include breaker_state

local key = KEYS[1]
local now_ms, now_us = clock()
local b = load(key)
local lease_ms, ttl_ms = tonumber(ARGV[3]), tonumber(ARGV[4])

if b.st == 'closed' then return reply('closed', b, now_ms) end
if b.st == 'open' then
  if now_ms < b.untilMs then return reply('open', b, now_ms) end
  b.lease = now_ms + lease_ms
  local event = transition(key, ARGV[1], ARGV[2], b, 'half_open', 'probe_granted', now_ms, now_us, ttl_ms)
  return reply('probe', b, now_ms, event)
end
-- half_open
if now_ms < b.lease then return reply('open', b, now_ms) end
b.lease = now_ms + lease_ms
save(key, b, ttl_ms)
return reply('probe', b, now_ms)
