-- Deletes a webhook (common/store/webhooks.cpp, WebhookStore::remove).
-- KEYS: webhook hash, tenant index, version key, paused set, the webhook's delivery index.
-- ARGV: tenant, channel, webhook id. The delivery records themselves expire with their TTL.
if redis.call('HGET', KEYS[1], 'tenant') ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1], KEYS[5])
redis.call('ZREM', KEYS[2], ARGV[3])
redis.call('SREM', KEYS[4], ARGV[3])
redis.call('INCR', KEYS[3])
redis.call('PUBLISH', ARGV[2], ARGV[1])
return 1
