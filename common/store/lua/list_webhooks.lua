-- Lists a tenant's webhooks with their fields (common/store/webhooks.cpp, WebhookStore::list and
-- ::load_tenant).
-- KEYS: tenant index. ARGV: lex start ("-" or "(<cursor>"), limit (0 = all).
-- Returns id1, fields1, id2, fields2, …
local ids
if tonumber(ARGV[2]) > 0 then
  ids = redis.call('ZRANGEBYLEX', KEYS[1], ARGV[1], '+', 'LIMIT', 0, tonumber(ARGV[2]))
else
  ids = redis.call('ZRANGEBYLEX', KEYS[1], ARGV[1], '+')
end
local out = {}
for _, id in ipairs(ids) do
  out[#out + 1] = id
  out[#out + 1] = redis.call('HGETALL', 'hs:wh:' .. id)
end
return out
