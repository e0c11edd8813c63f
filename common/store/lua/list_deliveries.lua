-- One page of a webhook's deliveries, newest first (common/store/delivery_log.cpp, list).
-- KEYS[1] the webhook's index. ARGV[1] where to start ('+' or '(<member>'), [2] how many,
-- [3] a status to keep ('' for any).
-- Returns member1, record1, member2, record2, …: a record is its JSON string, or, for one logged
-- before 0.3, its hash fields.
local out, found, start = {}, 0, ARGV[1]
local limit = tonumber(ARGV[2])
while found < limit do
  local batch = redis.call('ZREVRANGEBYLEX', KEYS[1], start, '-', 'LIMIT', 0, 200)
  if #batch == 0 then break end
  for _, m in ipairs(batch) do
    start = '(' .. m
    local key = 'hs:dlv:' .. string.sub(m, 18)
    local record, status = redis.pcall('GET', key), nil
    if type(record) == 'string' then
      status = cjson.decode(record).status
    elseif record ~= false then
      record = redis.call('HGETALL', key)
      for i = 1, #record, 2 do
        if record[i] == 'status' then status = record[i + 1] end
      end
      if #record == 0 then record = false end
    end
    if record and (ARGV[3] == '' or status == ARGV[3]) then
      out[#out + 1] = m
      out[#out + 1] = record
      found = found + 1
      if found == limit then break end
    end
  end
end
return out
