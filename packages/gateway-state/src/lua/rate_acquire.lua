--[[
  Sliding-log rate limiter, admission: admits one request for a quota scope when both the request
  count and the token sum over the last window stay within their limits, and records it. The RPM
  check and the TPM reservation happen in this one script, so no other caller can slip in between.

  Exactness: a request is admitted only if fewer than `rpm` requests were admitted in
  (now - window, now]; hence no half-open interval of length `window` ever holds more than `rpm`
  admissions (the log is the exact set of grants, not a counter per fixed window).

  KEYS[1]  <prefix>:rl:{<scope>}:log  ZSET  member = reservation id, score = grant time (µs, Redis TIME)
  KEYS[2]  <prefix>:rl:{<scope>}:tok  HASH  reservation id -> tokens (estimate, then actual);
                                            field '#sum' = sum over all entries of the log
  ARGV[1]  window in ms
  ARGV[2]  rpm limit, or -1 for none
  ARGV[3]  tpm limit, or -1 for none
  ARGV[4]  estimated tokens of this request (integer >= 0; the client rejects estimates above tpm)
  ARGV[5]  reservation id (unique per request)

  Returns
    {1, grantedAtUs, count, tokens}                 admitted; count and tokens include this request
    {0, reason, retryAfterUs, count, tokens}        refused; reason 1 = rpm, 2 = tpm (the longer wait
                                                    when both are exhausted); retryAfterUs = time until
                                                    enough entries leave the window, from its contents
  Both keys get a TTL of window + 1 s after each admission, so an idle scope leaves nothing behind.
]]
-- @include rate_window

local log, tok = KEYS[1], KEYS[2]
local window_ms = tonumber(ARGV[1])
local window_us = window_ms * 1000
local rpm = tonumber(ARGV[2])
local tpm = tonumber(ARGV[3])
local estimate = tonumber(ARGV[4])
local id = ARGV[5]

local now = now_us(log)
trim(log, tok, now - window_us)

local count = redis.call('ZCARD', log)
local tokens = tonumber(redis.call('HGET', tok, '#sum') or '0')

local wait_rpm, wait_tpm = -1, -1
if rpm >= 0 and count + 1 > rpm then
  -- The (count - rpm + 1) oldest entries must leave; the last of them is at index count - rpm.
  local entry = redis.call('ZRANGE', log, count - rpm, count - rpm, 'WITHSCORES')
  wait_rpm = tonumber(entry[2]) + window_us - now
end
if tpm >= 0 and tokens + estimate > tpm then
  local needed = tokens + estimate - tpm
  local freed, start = 0, 0
  wait_tpm = window_us
  while start < count do
    local entries = redis.call('ZRANGE', log, start, start + 199, 'WITHSCORES')
    if #entries == 0 then break end
    local ids = {}
    for i = 1, #entries, 2 do ids[#ids + 1] = entries[i] end
    local values = redis.call('HMGET', tok, unpack(ids))
    local found = false
    for i = 1, #ids do
      freed = freed + (tonumber(values[i]) or 0)
      if freed >= needed then
        wait_tpm = tonumber(entries[2 * i]) + window_us - now
        found = true
        break
      end
    end
    if found then break end
    start = start + 200
  end
end

if wait_rpm >= 0 or wait_tpm >= 0 then
  if wait_rpm >= wait_tpm then return {0, 1, wait_rpm, count, tokens} end
  return {0, 2, wait_tpm, count, tokens}
end

redis.call('ZADD', log, now, id)
redis.call('HSET', tok, id, estimate)
redis.call('HINCRBY', tok, '#sum', estimate)
redis.call('PEXPIRE', log, window_ms + 1000)
redis.call('PEXPIRE', tok, window_ms + 1000)
return {1, now, count + 1, tokens + estimate}
