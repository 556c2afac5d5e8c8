--[[
  Cooldowns, read: the active cooldowns among the given key ids, judged by Redis TIME (one clock for
  every process, so no worker thinks a key is usable while another thinks it is cooling down).

  KEYS[1]  <prefix>:cooldowns  HASH  (see cooldown_set.lua)
  ARGV     keyIds (at least one)

  Returns {nowMs, keyId1, untilMs1, reason1, keyId2, ...} listing only keys whose cooldown has not ended.
]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local values = redis.call('HMGET', KEYS[1], unpack(ARGV))
local out = {now}
for i = 1, #ARGV do
  local value = values[i]
  if value then
    local bar = string.find(value, '|', 1, true)
    local u = tonumber(string.sub(value, 1, (bar or 0) - 1)) or 0
    if u > now then
      out[#out + 1] = ARGV[i]
      out[#out + 1] = u
      out[#out + 1] = bar and string.sub(value, bar + 1) or ''
    end
  end
end
return out
