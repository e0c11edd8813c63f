-- Reserves send slots of a rate-limited webhook (common/store/send_slots.cpp): every dispatcher
-- takes its slots here, so the limit holds across all of them. The key keeps the time of the next
-- free slot (µs, Redis's clock); slots are `interval` apart and are never given twice. A slot is
-- never earlier than now: an idle endpoint does not save up a burst.
-- KEYS: the webhook's slot clock. ARGV: slots per second, slots wanted, horizon (µs: how far
-- ahead of now slots may be reserved).
-- Returns {granted, µs from now to the first granted slot (or, none granted, until some are
-- free), interval in µs}.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local rate = tonumber(ARGV[1])
local wanted = tonumber(ARGV[2])
local horizon = tonumber(ARGV[3])
local interval = math.ceil(1000000 / rate)
local next = tonumber(redis.call('GET', KEYS[1]) or '0')
if next < now then next = now end
local room = math.floor((now + horizon - next) / interval)
if room < 1 then return {0, next + interval - now - horizon, interval} end
local granted = math.min(wanted, room)
local after = next + granted * interval
redis.call('SET', KEYS[1], string.format('%d', after), 'PX', math.ceil((after - now) / 1000) + 1000)
return {granted, next - now, interval}
