--[[
  Appends one Telegram update to its chat's inbox, once per update_id.

  KEYS[1]  <prefix>:chat:{<chat>}:seen:<update_id>  STRING  marker that this update was accepted
  KEYS[2]  <prefix>:chat:{<chat>}:inbox             LIST    "<update_id>|<sealed entry>", oldest first
  ARGV[1]  the sealed entry, already prefixed with "<update_id>|" (plaintext: only the update_id)
  ARGV[2]  how long (ms) the marker lives: Telegram redelivers within hours, and update_id may jump
           after a quiet week, so the marker expires instead of being a high-water mark

  Returns 1 if the update was appended, 0 if it was seen before (a redelivery; nothing changes).
]]
if redis.call('SET', KEYS[1], '1', 'NX', 'PX', ARGV[2]) then
  redis.call('RPUSH', KEYS[2], ARGV[1])
  return 1
end
return 0
