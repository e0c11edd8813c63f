-- Marks deliveries queued again by a recover (common/store/delivery_log.cpp, mark_requeued), or
-- undoes that for those whose attempt Kafka did not take (unmark_requeued).
-- ARGV[1] 'queue', 'queue_any' or 'undo', [2] webhook id, [3] now ms, then delivery ids.
-- queue: a delivery of this webhook that failed for good becomes pending, due now, so a second
--   recover (or a redeliver) does not queue it again before the dispatchers log its attempt.
-- queue_any: likewise for one that succeeded too (a redeliver).
-- undo: one still pending from this very queue call (same next_retry_at) gets its status back.
-- Records logged before 0.3 (hashes) are left alone. Returns the ids changed.
local mode, webhook, now = ARGV[1], ARGV[2], tonumber(ARGV[3])
local changed = {}
for i = 4, #ARGV do
  local key = 'hs:dlv:' .. ARGV[i]
  local value = redis.pcall('GET', key)
  if type(value) == 'string' then
    local rec = cjson.decode(value)
    local change = false
    if rec.webhook_id == webhook then
      if (mode == 'queue' and rec.status == 'failed') or
          (mode == 'queue_any' and (rec.status == 'failed' or rec.status == 'succeeded')) then
        rec.requeued_from = rec.status
        rec.status, rec.next_retry_at, change = 'pending', now, true
      elseif mode == 'undo' and rec.status == 'pending' and rec.next_retry_at == now then
        rec.status, rec.next_retry_at, change = rec.requeued_from or 'failed', cjson.null, true
        rec.requeued_from = nil
      end
    end
    if change then
      rec.updated_at = now
      redis.call('SET', key, cjson.encode(rec), 'KEEPTTL')
      changed[#changed + 1] = ARGV[i]
    end
  end
end
return changed
