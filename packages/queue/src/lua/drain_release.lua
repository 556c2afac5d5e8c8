--[[
  Gives up the drain lock of a chat.

  KEYS[1]  <prefix>:chat:{<chat>}:lock   STRING  the owner
  KEYS[2]  <prefix>:chat:{<chat>}:inbox  LIST    the chat's waiting updates
  ARGV[1]  owner
  ARGV[2]  'if_empty': release only when the inbox is empty (the owner found nothing more to do;
           checked here, atomically, so an update appended meanwhile is never left without an owner)
           'always': release regardless (a hand-over: the caller has queued a job that continues)

  Returns 1 if released, 0 if `owner` did not hold it, 2 if kept because the inbox is not empty.
]]
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return 0
end
if ARGV[2] == 'if_empty' and redis.call('LLEN', KEYS[2]) > 0 then
  return 2
end
redis.call('DEL', KEYS[1])
return 1
