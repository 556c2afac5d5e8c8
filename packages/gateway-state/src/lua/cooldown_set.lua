--[[
  Cooldowns, write: puts an API key into cooldown until a time, as an atomic maximum: a new
  cooldown can extend an existing one but NEVER shortens it (LiteLLM lost long daily-quota
  cooldowns when a short 429 cooldown overwrote them).

  KEYS[1]  <prefix>:cooldowns  HASH  keyId -> "<untilMs>|<reason>" (untilMs = epoch ms)
  ARGV[1]  keyId
  ARGV[2]  'at' (ARGV[3] is an epoch-ms deadline) or 'for' (ARGV[3] is a duration from Redis TIME)
  ARGV[3]  epoch ms or duration ms
  ARGV[4]  reason (free text chosen by the caller, e.g. 'rate_limit', 'daily_quota'; no secrets)

  Returns {untilMs, changed, nowMs, reason}: the key's cooldown after this call (0 if none is
  active), whether this call changed it, Redis TIME in ms, and the reason of that cooldown ('' if none).
  Expired fields are removed here, and the hash expires when its last cooldown ends, so the hash
  only ever holds active cooldowns plus those that ended since the last write.
]]
local key = KEYS[1]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local wanted = tonumber(ARGV[3])
if ARGV[2] == 'for' then wanted = now + wanted end

local function until_of(value)
  if not value then return 0 end
  local bar = string.find(value, '|', 1, true)
  return tonumber(string.sub(value, 1, (bar or 0) - 1)) or 0
end
local function reason_of(value)
  local bar = value and string.find(value, '|', 1, true)
  return bar and string.sub(value, bar + 1) or ''
end

local stored = redis.call('HGET', key, ARGV[1])
local current, reason = until_of(stored), reason_of(stored)
if current <= now then current, reason = 0, '' end
local changed = 0
if wanted > now and wanted > current then
  redis.call('HSET', key, ARGV[1], string.format('%d', wanted) .. '|' .. ARGV[4])
  current, reason = wanted, ARGV[4]
  changed = 1
end

local latest = 0
local all = redis.call('HGETALL', key)
for i = 1, #all, 2 do
  local u = until_of(all[i + 1])
  if u <= now then redis.call('HDEL', key, all[i]) elseif u > latest then latest = u end
end
if latest > 0 then redis.call('PEXPIREAT', key, latest) end
return {current, changed, now, reason}
