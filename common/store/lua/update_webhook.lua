-- Updates a webhook (common/store/webhooks.cpp, WebhookStore::update and ::rotate_secret).
-- KEYS: webhook hash, version key, paused set.
-- ARGV: tenant, channel, n, n fields to remove (filter, rate_limit), then field, value, … to set.
if redis.call('HGET', KEYS[1], 'tenant') ~= ARGV[1] then return false end
local removed = tonumber(ARGV[3])
if removed > 0 then redis.call('HDEL', KEYS[1], unpack(ARGV, 4, 3 + removed)) end
if #ARGV > 3 + removed then redis.call('HSET', KEYS[1], unpack(ARGV, 4 + removed)) end
local id = string.sub(KEYS[1], 7)
if redis.call('HGET', KEYS[1], 'status') == 'paused' then
  redis.call('SADD', KEYS[3], id)
else
  redis.call('SREM', KEYS[3], id)
end
redis.call('INCR', KEYS[2])
redis.call('PUBLISH', ARGV[2], ARGV[1])
return redis.call('HGETALL', KEYS[1])
