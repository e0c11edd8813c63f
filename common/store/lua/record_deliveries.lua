-- Logs a batch of settled deliveries (common/store/delivery_log.cpp, record_batch): one call for
-- every attempt a dispatcher shard settled in one tick. Keys are computed here from ids (a single
-- Redis or a replicated primary; not Redis Cluster).
--
-- ARGV[1] retention ms, [2] consecutive failures that pause, [3] index bound per webhook,
-- [4] changes channel, [5] now ms, then the entries, 5 values each:
--   head: kind ('a' attempt, 'n' not attempted, 'd' deferred), outcome ('1' success, '0'
--     failure, 'g' 410 Gone, '-' no attempt), bound check ('1': count and age the webhook's
--     index, else '0'), then an attempt's duration bucket (common/store/webhook_stats.hpp);
--   webhook id; index member ("<created_at ms, 16 digits>:<delivery id>", the record's key is
--   hs:dlv:<delivery id>); attempt number; record JSON (the whole record as it is when new, its
--   one attempt included), or '' when the caller wrote the record itself (below).
-- Neither the batch's events nor its first attempts' records are arguments: Redis' Lua hashes
-- every byte of every argument, and they were most of them. The caller writes them in the same
-- round trip, ahead of this call: the events as one hash (HSET and PEXPIRE of the bucket the
-- records name), a first attempt's record with SET NX and the retention as its TTL. Such a record
-- is new when its index member is not in the webhook's index yet (members are added only here,
-- in the same call that counts the attempt): one ZMSCORE per webhook tells. When the member is
-- there, the record either holds the attempt already (a batch sent again, a record consumed
-- twice: not counted again) or was written before without it (a deferred delivery), the caller's
-- SET NX then having changed nothing: that entry and the webhook's later entries in the batch are
-- left as they are (neither logged nor counted), its position is answered, and the caller sends
-- them again, that entry with its record JSON, so that the webhook's attempts count in order.
-- Returns, per webhook in the batch: webhook id, status ('gone' when deleted), consecutive_fails,
-- the position in the batch (1-based) of the entry that paused or disabled it ('0' if none), and
-- the position of the entry to send again with its record, the webhook's later ones after it (0 if
-- none).
--
-- Per webhook in the batch this costs an HMGET of its health, one ZMSCORE and one ZADD of its
-- index members, its health written when it changed (and last_delivery_at at most once a second);
-- per batch an HMGET, HSET and PEXPIREAT of the hour's attempt counts (hs:stats:<hour>). The
-- writer (delivery_log_writer.cpp) gathers several entries per webhook before it calls. A
-- record that exists already (a retry, a redelivery, a record read twice) is read and merged.
-- An attempt already in its record (a batch sent again after a timeout, a record consumed twice)
-- is not logged or counted again: health counting and the hourly counts are idempotent.
local retention, pause_after = tonumber(ARGV[1]), tonumber(ARGV[2])
-- Arguments of redis.call go as strings: a Lua number is formatted with "%.17g" on every call
-- (snprintf, ~1,500 instructions), so the retention goes to SET as it came and index scores as '0'.
local retention_ms = ARGV[1]
local max, channel, now = tonumber(ARGV[3]), ARGV[4], tonumber(ARGV[5])
local first = 6
local F = 5
-- The head's characters, as string.byte answers them.
local ATTEMPT, DEFERRED, SUCCESS, GONE, CHECK = 97, 100, 49, 103, 49

-- Redis' Lua passes at most ~8,000 values to one call ("too many results to unpack"): a long
-- argument list (a fan-out batch's hourly counts, 3 fields and values for each of 1,000 webhooks)
-- goes in calls of at most CHUNK values, even, so field/value and score/member pairs stay whole.
-- Returns the replies' elements, in order.
local CHUNK = 4000
local function call_chunked(command, key, list)
  local replies = {}
  for s = 1, #list, CHUNK do
    local part = redis.call(command, key, unpack(list, s, math.min(s + CHUNK - 1, #list)))
    if type(part) == 'table' then
      for j = 1, #part do replies[#replies + 1] = part[j] end
    end
  end
  return replies
end

-- A record as a table: the JSON string, or a hash written before 0.3 (attempts in "a<N>" fields
-- or, before 0.2, in a "<key>:attempts" list).
local function load(key)
  local v = redis.pcall('GET', key)
  if v == false then return nil end
  if type(v) == 'string' then return cjson.decode(v) end
  local fields = redis.call('HGETALL', key)
  local rec, attempts = {}, {}
  for i = 1, #fields, 2 do
    local name, value = fields[i], fields[i + 1]
    if string.match(name, '^a%d+$') then
      attempts[#attempts + 1] = cjson.decode(value)
    elseif name == 'attempt_count' or name == 'response_status' then
      rec[name] = tonumber(value) or 0
    elseif name == 'created_at' or name == 'updated_at' or name == 'delivered_at' or
        name == 'next_retry_at' then
      rec[name] = tonumber(value) or cjson.null
    else
      rec[name] = value
    end
  end
  for _, item in ipairs(redis.call('LRANGE', key .. ':attempts', 0, -1)) do
    attempts[#attempts + 1] = cjson.decode(item)
  end
  redis.call('DEL', key .. ':attempts')
  rec.attempts = attempts
  return rec
end

local function has_attempt(rec, number)
  if type(rec.attempts) ~= 'table' then return false end
  for _, a in ipairs(rec.attempts) do
    if tonumber(a.number) == number then return true end
  end
  return false
end

local function record_key(member)
  return 'hs:dlv:' .. string.sub(member, 18)
end

-- Entry i's record, which the caller wrote (SET NX) and which was indexed before: 'duplicate'
-- when it holds the entry's attempt, else 'resend' (written before without it: its JSON is needed
-- to merge).
local function logged_before(i)
  local rec = load(record_key(ARGV[i + 2]))
  if rec and has_attempt(rec, tonumber(ARGV[i + 3])) then return 'duplicate' end
  return 'resend'
end

-- Writes entry i's record from its JSON (kind `kind`, a byte); returns 'new', 'updated' or
-- 'duplicate'.
local function write(i, kind)
  local json = ARGV[i + 4]
  local key = record_key(ARGV[i + 2])
  if kind ~= DEFERRED and ARGV[i + 3] == '1' then
    if redis.call('SET', key, json, 'PX', retention_ms, 'NX') then return 'new' end
  end
  local number = tonumber(ARGV[i + 3])
  local rec = load(key)
  if not rec then
    redis.call('SET', key, json, 'PX', retention_ms)
    return 'new'
  end
  if kind ~= DEFERRED and has_attempt(rec, number) then return 'duplicate' end
  local fresh = cjson.decode(json)
  local attempts = type(rec.attempts) == 'table' and rec.attempts or {}
  if kind == DEFERRED then
    rec.status = 'pending'
    rec.next_retry_at = fresh.next_retry_at
  else
    for _, name in ipairs({'status', 'attempt_count', 'response_status', 'last_error',
        'delivered_at', 'next_retry_at'}) do
      rec[name] = fresh[name]
    end
    if type(fresh.attempts) == 'table' and fresh.attempts[1] then
      attempts[#attempts + 1] = fresh.attempts[1]
    end
    table.sort(attempts, function(x, y) return tonumber(x.number) < tonumber(y.number) end)
    while #attempts > 50 do table.remove(attempts, 1) end
  end
  rec.attempts = attempts
  rec.updated_at = now
  rec.event_key = fresh.event_key
  redis.call('SET', key, cjson.encode(rec), 'PX', retention_ms)
  return 'updated'
end

-- The hour's counts this batch adds, by field "<webhook id>:<a|s|f|d<bucket>>"; each webhook's
-- entries are tallied first and their fields named once (not three concatenations an entry).
local added, added_fields = {}, {}
local function count(field, n)
  if not added[field] then
    added[field] = 0
    added_fields[#added_fields + 1] = field
  end
  added[field] = added[field] + n
end

-- The entries of each webhook, in batch order.
local order, groups = {}, {}
for i = first, #ARGV, F do
  local wh = ARGV[i + 1]
  if not groups[wh] then
    groups[wh] = {}
    order[#order + 1] = wh
  end
  local g = groups[wh]
  g[#g + 1] = i
end

local out = {}
for _, wh in ipairs(order) do
  local whkey = 'hs:wh:' .. wh
  local h = redis.call('HMGET', whkey, 'url', 'status', 'consecutive_fails', 'last_delivery_at',
    'last_delivery_ok', 'tenant')
  if not h[1] then
    out[#out + 1] = {wh, 'gone', '0', '0', 0}
  else
    local status = h[2] or 'active'
    local before = tonumber(h[3] or '0') or 0
    local fails, counted, last_ok, changed, check = before, false, nil, false, false
    local changed_by = 0
    local index = whkey .. ':deliveries'
    -- Which of the records the caller wrote were indexed before this call.
    local given = {}
    for _, i in ipairs(groups[wh]) do
      if ARGV[i + 4] == '' then given[#given + 1] = ARGV[i + 2] end
    end
    local indexed = #given > 0 and call_chunked('ZMSCORE', index, given) or {}
    local g = 0
    local members, seen, resend_from = {}, {}, 0
    local attempts, successes, buckets = 0, 0, {}
    for _, i in ipairs(groups[wh]) do
      local position, head, member = (i - first) / F + 1, ARGV[i], ARGV[i + 2]
      local kind, outcome, bound = string.byte(head, 1, 3)
      local written
      if ARGV[i + 4] == '' then
        g = g + 1
        -- The same record twice in one call (a record consumed twice): the second is not new.
        if indexed[g] or seen[member] then written = logged_before(i) else written = 'new' end
        seen[member] = true
      else
        written = write(i, kind)
      end
      if written == 'new' then
        members[#members + 1] = '0'
        members[#members + 1] = member
        if bound == CHECK then check = true end
      elseif written == 'resend' then
        resend_from = position
        break
      end
      if (written == 'new' or written == 'updated') and kind == ATTEMPT then
        counted = true
        if outcome == SUCCESS then fails = 0 else fails = fails + 1 end
        last_ok = outcome == SUCCESS and '1' or '0'
        attempts = attempts + 1
        if outcome == SUCCESS then successes = successes + 1 end
        local bucket = string.sub(head, 4)
        buckets[bucket] = (buckets[bucket] or 0) + 1
        if outcome == GONE and status ~= 'disabled' then
          status, changed, changed_by = 'disabled', true, position
        elseif outcome ~= SUCCESS and status == 'active' and fails >= pause_after then
          status, changed, changed_by = 'paused', true, position
        end
      end
    end
    if #members > 0 then call_chunked('ZADD', index, members) end
    if check then
      -- Trimmed in steps, each one DEL and one ZREM for many entries: by count once the index
      -- holds an eighth more than its bound (at most 256 a call), and by age.
      local n = redis.call('ZCARD', index)
      local drop = {}
      if n > max + math.max(1, math.floor(max / 8)) then
        drop = redis.call('ZRANGE', index, 0, math.min(n - max, 256) - 1)
      end
      local cutoff = '(' .. string.format('%016d', now - retention)
      for _, m in ipairs(redis.call('ZRANGEBYLEX', index, '-', cutoff, 'LIMIT', 0, 100)) do
        drop[#drop + 1] = m
      end
      if #drop > 0 then
        -- Records only: a pre-0.2 record's "<key>:attempts" list was written with the retention
        -- as its TTL, so one left by a trim goes by itself, and looking for it cost every trim.
        local records = {}
        for _, m in ipairs(drop) do
          records[#records + 1] = record_key(m)
        end
        redis.call('DEL', unpack(records))
        redis.call('ZREM', index, unpack(drop))
      end
    end
    if counted then
      if changed then
        redis.call('HSET', whkey, 'consecutive_fails', fails, 'last_delivery_at', now,
          'last_delivery_ok', last_ok, 'status', status, 'updated_at', now)
        redis.call('INCR', 'hs:webhooks:version')
        redis.call('PUBLISH', channel, h[6] or '')
        if status == 'paused' then
          redis.call('SADD', 'hs:webhooks:paused', wh)
        else
          redis.call('SREM', 'hs:webhooks:paused', wh)
        end
      elseif fails ~= before or h[5] ~= last_ok or now - (tonumber(h[4] or '0') or 0) >= 1000 then
        redis.call('HSET', whkey, 'consecutive_fails', fails, 'last_delivery_at', now,
          'last_delivery_ok', last_ok)
      end
    end
    if attempts > 0 then count(wh .. ':a', attempts) end
    if successes > 0 then count(wh .. ':s', successes) end
    if attempts > successes then count(wh .. ':f', attempts - successes) end
    for bucket, n in pairs(buckets) do count(wh .. ':d' .. bucket, n) end
    out[#out + 1] = {wh, status, tostring(fails), tostring(changed_by), resend_from}
  end
end

if #added_fields > 0 then
  local hour = math.floor(now / 3600000)
  local stats = 'hs:stats:' .. hour
  local current = call_chunked('HMGET', stats, added_fields)
  local values = {}
  for j, field in ipairs(added_fields) do
    values[#values + 1] = field
    values[#values + 1] = (tonumber(current[j]) or 0) + added[field]
  end
  call_chunked('HSET', stats, values)
  redis.call('PEXPIREAT', stats, (hour + 26) * 3600000)
end
return out
