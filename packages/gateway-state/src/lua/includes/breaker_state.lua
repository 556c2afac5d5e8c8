--[[
  Shared by the breaker_*.lua scripts (inlined by the loader in place of the include line).

  State hash fields (missing hash = closed with no failures):
    st      'closed' | 'open' | 'half_open'
    until   end of the open period, epoch ms (Redis TIME); only ever moves forward while open
    cf      consecutive failures counted while closed
    lease   end of the current half-open probe lease, epoch ms (0 = none)
    reopen  failed probes since the breaker last closed (drives the backoff)
    seq     transition sequence number: max(previous + 1, now in µs), so it keeps increasing even if
            the hash expired meanwhile; watchers drop anything older than what they have seen

  Every transition is written and PUBLISHed inside the same script: a transition that happened is
  always announced (no window where a caller dies between the write and the publish). The message is
  JSON whose numbers are strings, because cjson prints only 14 significant digits.
]]
local function clock()
  local t = redis.call('TIME')
  local s, us = tonumber(t[1]), tonumber(t[2])
  return s * 1000 + math.floor(us / 1000), s * 1000000 + us
end

local function load(key)
  local v = redis.call('HMGET', key, 'st', 'until', 'cf', 'lease', 'reopen', 'seq')
  return {
    st = v[1] or 'closed',
    untilMs = tonumber(v[2] or '0'),
    cf = tonumber(v[3] or '0'),
    lease = tonumber(v[4] or '0'),
    reopen = tonumber(v[5] or '0'),
    seq = tonumber(v[6] or '0'),
  }
end

local function save(key, b, ttl_ms)
  redis.call('HSET', key, 'st', b.st, 'until', b.untilMs, 'cf', b.cf, 'lease', b.lease, 'reopen', b.reopen, 'seq', b.seq)
  redis.call('PEXPIRE', key, ttl_ms)
end

-- Moves b to state `to`, saves it and publishes the event; returns the event JSON.
local function transition(key, channel, id, b, to, reason, now_ms, now_us, ttl_ms)
  local from = b.st
  b.st = to
  b.seq = math.max(b.seq + 1, now_us)
  save(key, b, ttl_ms)
  local event = cjson.encode({
    id = id, from = from, to = to, reason = reason,
    at = string.format('%d', now_ms), seq = string.format('%d', b.seq),
    openUntil = string.format('%d', b.untilMs), leaseUntil = string.format('%d', b.lease),
  })
  redis.call('PUBLISH', channel, event)
  return event
end

-- The reply every breaker script gives: {decision, state, seq, untilMs, leaseMs, nowMs, event or '', cf}
local function reply(decision, b, now_ms, event)
  return {decision, b.st, b.seq, b.untilMs, b.lease, now_ms, event or '', b.cf}
end
