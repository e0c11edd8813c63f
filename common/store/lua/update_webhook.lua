-- Updates a webhook (common/store/webhooks.cpp, WebhookStore::update).
-- KEYS: webhook hash, version key, paused set. ARGV: tenant, channel, field, value, …
if redis.call('HGET', KEYS[1], 'tenant') ~= ARGV[1] then return false end
if #ARGV > 2 then redis.call('HSET', KEYS[1], unpack(ARGV, 3)) end
local id = string.sub(KEYS[1], 7)
if redis.call('HGET', KEYS[1], 'status') == 'paused' then
  redis.call('SADD', KEYS[3], id)
else
  redis.call('SREM', KEYS[3], id)
end
redis.call('INCR', KEYS[2])
redis.call('PUBLISH', ARGV[2], ARGV[1])
return redis.call('HGETALL', KEYS[1])
