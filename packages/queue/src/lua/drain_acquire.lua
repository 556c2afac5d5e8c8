--[[
  Takes (or keeps) the right to drain one chat's inbox. At most one owner per chat at a time, so
  the chat's updates are handled one after another, in inbox order, whatever the number of workers.
  Also used to renew: the owner calls it again before the lease runs out.

  KEYS[1]  <prefix>:chat:{<chat>}:lock  STRING  the owner (a job id)
  ARGV[1]  owner
  ARGV[2]  lease in ms

  Returns 1 if `owner` holds the lock now (taken or extended), 0 if another owner holds it.
]]
local current = redis.call('GET', KEYS[1])
if current == false or current == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
