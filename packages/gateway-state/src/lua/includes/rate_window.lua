--[[
  Shared by the rate_*.lua scripts (inlined by the loader in place of the include line).

  now_us(log): Redis TIME in microseconds, never earlier than the newest entry of the log, so the
  log stays ordered even if the server clock steps backwards (we then wait for it to catch up,
  which can only make the limiter stricter).

  trim(log, tok, cutoff_us): removes every entry with score <= cutoff_us from the log and its token
  count from the hash, keeping the '#sum' field equal to the sum of the remaining entries. The
  window is (now - window, now]: an entry granted exactly windowMs ago no longer counts.
]]
local function now_us(log)
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
  local newest = redis.call('ZRANGE', log, -1, -1, 'WITHSCORES')
  if newest[2] then
    local last = tonumber(newest[2])
    if last > now then now = last end
  end
  return now
end

local function trim(log, tok, cutoff_us)
  local freed = 0
  -- Batches keep unpack() far below Lua's C-stack limit (~8000 values).
  while true do
    local ids = redis.call('ZRANGEBYSCORE', log, '-inf', cutoff_us, 'LIMIT', 0, 500)
    if #ids == 0 then break end
    local values = redis.call('HMGET', tok, unpack(ids))
    for i = 1, #values do freed = freed + (tonumber(values[i]) or 0) end
    redis.call('HDEL', tok, unpack(ids))
    redis.call('ZREM', log, unpack(ids))
    if #ids < 500 then break end
  end
  if freed ~= 0 then redis.call('HINCRBY', tok, '#sum', -freed) end
  -- Self-healing: an empty log means nothing counts, whatever the hash says.
  if redis.call('ZCARD', log) == 0 then redis.call('DEL', tok) end
end
