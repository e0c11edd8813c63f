-- Frees idempotency keys a failed publish claimed (common/store/idempotency.cpp,
-- IdempotencyKeys::release): only those still holding this request's claim, never another's.
-- KEYS: the idempotency keys. ARGV[1]: the value they were claimed with.
-- Returns how many were freed.
local freed = 0
for _, k in ipairs(KEYS) do
  if redis.call('GET', k) == ARGV[1] then
    redis.call('DEL', k)
    freed = freed + 1
  end
end
return freed
