-- Claims idempotency keys for a publish (common/store/idempotency.cpp, IdempotencyKeys::claim).
-- KEYS: the idempotency keys. ARGV: the value to claim them with (unique to the request), the
-- lease in ms.
-- Returns the first existing value, or nil after claiming every key.
for _, k in ipairs(KEYS) do
  local v = redis.call('GET', k)
  if v then return v end
end
for _, k in ipairs(KEYS) do redis.call('SET', k, ARGV[1], 'PX', ARGV[2]) end
return false
