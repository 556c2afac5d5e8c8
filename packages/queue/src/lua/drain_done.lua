--[[
  Removes the first COUNT entries of a chat's inbox after they were handled, and releases the lock
  when nothing is left. Removing and releasing together is what keeps an update from being stranded:
  an ingress that sees the lock held can rely on the owner finding its update before letting go.

  KEYS[1]  <prefix>:chat:{<chat>}:lock   STRING  the owner
  KEYS[2]  <prefix>:chat:{<chat>}:inbox  LIST    "<update_id>|<sealed entry>"
  KEYS[3]  <prefix>:chat:{<chat>}:fails  HASH    update_id -> failed attempts
  KEYS[4…] keys of the chat (same hash tag) that only matter until the turn is done, e.g. its turn-size
           marker and its delivery ledger: deleted together with the entries
  ARGV[1]  owner
  ARGV[2]  update_id expected at the head (guards against removing entries someone else handled)
  ARGV[3]  COUNT: how many entries the handled turn covered (1, or more for coalesced messages)
  ARGV[4]  '1' to release the lock if the inbox is then empty, '0' to keep it

  Returns the number of entries left (>= 0; 0 with ARGV[4] = '1' means the lock is released),
  -1 if `owner` no longer holds the lock (nothing removed), -2 if the head is not ARGV[2] (already
  removed by an earlier owner; nothing removed).
]]
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return -1
end
local head = redis.call('LINDEX', KEYS[2], 0)
if not head or string.match(head, '^(%d+)|') ~= ARGV[2] then
  return -2
end
local count = tonumber(ARGV[3])
local removed = redis.call('LRANGE', KEYS[2], 0, count - 1)
for _, entry in ipairs(removed) do
  redis.call('HDEL', KEYS[3], string.match(entry, '^(%d+)|'))
end
redis.call('LTRIM', KEYS[2], count, -1)
for i = 4, #KEYS do
  redis.call('DEL', KEYS[i])
end
local left = redis.call('LLEN', KEYS[2])
if left == 0 and ARGV[4] == '1' then
  redis.call('DEL', KEYS[1])
end
return left
