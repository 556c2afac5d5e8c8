--[[
  Sliding-log rate limiter, request never sent: removes a reservation entirely (its request slot and
  its tokens), for a caller that was admitted but then did not call the provider (e.g. its breaker
  was open). Must not be used for requests that reached the provider: they count against its quota.

  KEYS[1]  <prefix>:rl:{<scope>}:log  ZSET  (see rate_acquire.lua)
  KEYS[2]  <prefix>:rl:{<scope>}:tok  HASH
  ARGV[1]  reservation id

  Returns 1 if removed, 0 if it was no longer in the log.
]]
local log, tok = KEYS[1], KEYS[2]
local removed = redis.call('ZREM', log, ARGV[1])
if removed == 0 then return 0 end
local tokens = tonumber(redis.call('HGET', tok, ARGV[1]) or '0')
redis.call('HDEL', tok, ARGV[1])
if tokens ~= 0 then redis.call('HINCRBY', tok, '#sum', -tokens) end
if redis.call('ZCARD', log) == 0 then redis.call('DEL', tok) end
return 1
