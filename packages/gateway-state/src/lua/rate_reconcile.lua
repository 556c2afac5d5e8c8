--[[
  Sliding-log rate limiter, after the call: replaces a reservation's token count (the estimate) with
  the tokens the provider reported, keeping '#sum' consistent in the same step. The request keeps its
  grant time, so the correction lands in the windows that the estimate occupied.

  KEYS[1]  <prefix>:rl:{<scope>}:log  ZSET  (see rate_acquire.lua)
  KEYS[2]  <prefix>:rl:{<scope>}:tok  HASH
  ARGV[1]  reservation id
  ARGV[2]  actual tokens (integer >= 0)

  Returns
    {1, delta}  applied; delta = actual - previous count
    {0, 0}      the reservation is no longer in the log (it left the window or was released): nothing
                of it counts any more, so there is nothing to correct
]]
local tok = KEYS[2]
local previous = redis.call('HGET', tok, ARGV[1])
if not previous then return {0, 0} end
local delta = tonumber(ARGV[2]) - tonumber(previous)
redis.call('HSET', tok, ARGV[1], ARGV[2])
if delta ~= 0 then redis.call('HINCRBY', tok, '#sum', delta) end
return {1, delta}
