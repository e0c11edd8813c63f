-- Deletes a webhook (common/store/webhooks.cpp, Webhooks::remove).
-- KEYS: webhook hash, tenant index, version key, paused set. ARGV: tenant, channel, webhook id.
if redis.call('HGET', KEYS[1], 'tenant') ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[3])
redis.call('SREM', KEYS[4], ARGV[3])
redis.call('INCR', KEYS[3])
redis.call('PUBLISH', ARGV[2], ARGV[1])
return 1
