--[[
  Sliding-log rate limiter, inspection: the requests and tokens counted in the current window of a
  scope (after dropping entries that left it), for choosing the key/project with the most capacity.

  KEYS[1]  <prefix>:rl:{<scope>}:log  ZSET  (see rate_acquire.lua)
  KEYS[2]  <prefix>:rl:{<scope>}:tok  HASH
  ARGV[1]  window in ms

  Returns {count, tokens, oldestUs} (oldestUs = grant time of the oldest entry still counted, 0 if none).
]]
-- @include rate_window

local log, tok = KEYS[1], KEYS[2]
local now = now_us(log)
trim(log, tok, now - tonumber(ARGV[1]) * 1000)
local count = redis.call('ZCARD', log)
local tokens = tonumber(redis.call('HGET', tok, '#sum') or '0')
local oldest = redis.call('ZRANGE', log, 0, 0, 'WITHSCORES')
return {count, tokens, tonumber(oldest[2] or '0')}
