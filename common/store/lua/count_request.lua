-- Counts one request in a rate-limit window (common/store/request_counts.cpp).
-- KEYS: the window's counter. ARGV: how long the counter lives, ms.
-- Returns the count including this request.
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return n
