#include "common/store/delivery_log.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "common/store/layout.hpp"
#include "common/store/redis_hash.hpp"

namespace hookstream::store {
namespace {

using nlohmann::json;

// KEYS: delivery hash, webhook index, webhook hash, version key, paused set.
// ARGV: see record() below. Returns {webhook status, consecutive_fails, "1" if this attempt
// changed the status} or {"gone", "0"}.
//
// This runs once per attempt, so it is the delivery log's share of every delivery's cost: six
// Redis calls for a new delivery in the common case (HMGET, HSETNX, HSET, PEXPIRE, ZADD, ZCARD).
// Attempts are fields of the delivery hash ("a<number>" → JSON; the 50 latest kept); deliveries
// logged before 0.2 keep theirs in a "<delivery key>:attempts" list, still read.
//
// The index is trimmed in steps, each one DEL and one ZREM for many members: by count once it
// holds an eighth more than its bound (at most 256 members a call), by age every 64th new entry.
// The webhook's health is written when it changes, and last_delivery_at at most once a second
// while an endpoint keeps succeeding.
const redis::Script kRecordScript(R"lua(
local wh = redis.call('HMGET', KEYS[3], 'url', 'status', 'consecutive_fails', 'last_delivery_at',
  'last_delivery_ok')
if not wh[1] then return {'gone', '0'} end
local id, now, retention = ARGV[1], tonumber(ARGV[14]), tonumber(ARGV[18])
local number = tonumber(ARGV[8])
local new = redis.call('HSETNX', KEYS[1], 'created_at', ARGV[6]) == 1
redis.call('HSET', KEYS[1], 'webhook_id', ARGV[2], 'tenant', ARGV[3], 'event_id', ARGV[4],
  'event_type', ARGV[5], 'status', ARGV[7], 'attempt_count', ARGV[8], 'response_status', ARGV[9],
  'last_error', ARGV[10], 'delivered_at', ARGV[11], 'next_retry_at', ARGV[12], 'updated_at', ARGV[14],
  'a' .. ARGV[8], ARGV[13])
if number > 50 then redis.call('HDEL', KEYS[1], 'a' .. (number - 50)) end
redis.call('PEXPIRE', KEYS[1], retention)
if new then
  redis.call('ZADD', KEYS[2], 0, string.format('%016d', tonumber(ARGV[6])) .. ':' .. id)
  local n = redis.call('ZCARD', KEYS[2])
  local max = tonumber(ARGV[19])
  local drop = {}
  if n > max + math.max(1, math.floor(max / 8)) then
    drop = redis.call('ZRANGE', KEYS[2], 0, math.min(n - max, 256) - 1)
  end
  if #drop > 0 or n % 64 == 0 then
    local cutoff = '(' .. string.format('%016d', now - retention)
    for _, m in ipairs(redis.call('ZRANGEBYLEX', KEYS[2], '-', cutoff, 'LIMIT', 0, 100)) do
      drop[#drop + 1] = m
    end
  end
  if #drop > 0 then
    local records = {}
    for _, m in ipairs(drop) do
      local d = string.sub(m, 18)
      records[#records + 1] = 'hs:dlv:' .. d
      records[#records + 1] = 'hs:dlv:' .. d .. ':attempts'
    end
    redis.call('DEL', unpack(records))
    redis.call('ZREM', KEYS[2], unpack(drop))
  end
end
local status = wh[2] or 'active'
local before = tonumber(wh[3] or '0') or 0
local fails = before
local changed = false
if ARGV[15] == '1' then
  if ARGV[16] == '1' then fails = 0 else fails = fails + 1 end
  if ARGV[17] == '1' and status ~= 'disabled' then
    status = 'disabled'
    changed = true
  elseif ARGV[16] ~= '1' and status == 'active' and fails >= tonumber(ARGV[20]) then
    status = 'paused'
    changed = true
  end
  if changed then
    redis.call('HSET', KEYS[3], 'consecutive_fails', fails, 'last_delivery_at', ARGV[14],
      'last_delivery_ok', ARGV[16], 'status', status, 'updated_at', ARGV[14])
    redis.call('INCR', KEYS[4])
    redis.call('PUBLISH', ARGV[21], ARGV[3])
    if status == 'paused' then
      redis.call('SADD', KEYS[5], ARGV[2])
    else
      redis.call('SREM', KEYS[5], ARGV[2])
    end
  elseif fails ~= before or wh[5] ~= ARGV[16] or now - (tonumber(wh[4] or '0') or 0) >= 1000 then
    redis.call('HSET', KEYS[3], 'consecutive_fails', fails, 'last_delivery_at', ARGV[14],
      'last_delivery_ok', ARGV[16])
  end
end
return {status, tostring(fails), changed and '1' or '0'}
)lua");

// KEYS: webhook index. ARGV: start ("+" or "(<member>"), limit, status ("" for any).
// Returns member1, fields1, … for up to `limit` matching deliveries.
const redis::Script kListScript(R"lua(
local out, found, start = {}, 0, ARGV[1]
local limit = tonumber(ARGV[2])
while found < limit do
  local batch = redis.call('ZREVRANGEBYLEX', KEYS[1], start, '-', 'LIMIT', 0, 200)
  if #batch == 0 then break end
  for _, m in ipairs(batch) do
    start = '(' .. m
    local fields = redis.call('HGETALL', 'hs:dlv:' .. string.sub(m, 18))
    if #fields > 0 then
      local ok = ARGV[3] == ''
      if not ok then
        for i = 1, #fields, 2 do
          if fields[i] == 'status' then ok = fields[i + 1] == ARGV[3] end
        end
      end
      if ok then
        out[#out + 1] = m
        out[#out + 1] = fields
        found = found + 1
        if found == limit then break end
      end
    end
  end
end
return out
)lua");

std::string optional_ms(const std::optional<TimePoint>& t) {
  return t ? ms_text(*t) : "";
}

Result<Delivery, StoreError> parse_delivery(std::string_view id, const redis::Reply& reply) {
  const auto f = to_fields(reply);
  if (f.empty()) return fail(StoreError{StoreErrc::not_found, "no delivery " + std::string(id)});
  Delivery d;
  d.id = std::string(id);
  d.webhook_id = field_or(f, "webhook_id");
  d.tenant = field_or(f, "tenant");
  d.event_id = field_or(f, "event_id");
  d.event_type = field_or(f, "event_type");
  const auto status = parse_delivery_status(field_or(f, "status"));
  const auto created = time_field(f, "created_at");
  if (!status || !created || d.webhook_id.empty())
    return fail(StoreError{StoreErrc::corrupt, "delivery " + d.id + " is incomplete in Redis"});
  d.status = *status;
  d.created_at = *created;
  d.attempt_count = static_cast<int>(int_field(f, "attempt_count").value_or(0));
  d.response_status = static_cast<int>(int_field(f, "response_status").value_or(0));
  d.last_error = field_or(f, "last_error");
  d.delivered_at = time_field(f, "delivered_at");
  d.next_retry_at = time_field(f, "next_retry_at");
  return d;
}

std::string event_key(std::string_view tenant, std::string_view event_id) {
  return "hs:evt:" + std::string(tenant) + ":" + std::string(event_id);
}

}  // namespace

std::string_view to_string(DeliveryStatus s) {
  switch (s) {
    case DeliveryStatus::pending:
      return "pending";
    case DeliveryStatus::succeeded:
      return "succeeded";
    case DeliveryStatus::failed:
      return "failed";
  }
  return "unknown";
}

std::optional<DeliveryStatus> parse_delivery_status(std::string_view text) {
  for (auto s : {DeliveryStatus::pending, DeliveryStatus::succeeded, DeliveryStatus::failed})
    if (to_string(s) == text) return s;
  return std::nullopt;
}

std::string delivery_id_for(std::string_view tenant, std::string_view event_id,
                            std::string_view webhook_id) {
  const std::string material =
      std::string(tenant) + '\n' + std::string(event_id) + '\n' + std::string(webhook_id);
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int len = 0;
  EVP_Digest(material.data(), material.size(), digest.data(), &len, EVP_sha256(), nullptr);
  static constexpr std::string_view kAlphabet = "0123456789abcdefghjkmnpqrstvwxyz";
  std::string out = std::string(id_prefix::delivery) + "_";
  for (std::size_t i = 0; i < 26; ++i) out.push_back(kAlphabet[digest[i] & 31]);
  return out;
}

asio::awaitable<Result<WebhookHealth, StoreError>> DeliveryLog::record(const AttemptUpdate& u) {
  const json attempt = {{"number", u.attempt.number},
                        {"at", to_unix_millis(u.attempt.at)},
                        {"outcome", u.attempt.outcome},
                        {"response_status", u.attempt.response_status},
                        {"response_body", u.attempt.response_body},
                        {"error", u.attempt.error},
                        {"duration_ms", u.attempt.duration_ms}};
  std::vector<std::string> keys = {
      delivery_key(u.delivery_id), webhook_deliveries_key(u.webhook_id), webhook_key(u.webhook_id),
      std::string(kWebhooksVersionKey), std::string(kPausedWebhooksKey)};
  const bool succeeded = u.status == DeliveryStatus::succeeded;
  std::vector<std::string> args = {u.delivery_id,
                                   u.webhook_id,
                                   u.tenant,
                                   u.event_id,
                                   u.event_type,
                                   ms_text(u.created_at),
                                   std::string(to_string(u.status)),
                                   std::to_string(u.attempt.number),
                                   std::to_string(u.attempt.response_status),
                                   u.attempt.error,
                                   succeeded ? ms_text(u.attempt.at) : "",
                                   optional_ms(u.next_retry_at),
                                   attempt.dump(-1, ' ', false, json::error_handler_t::replace),
                                   ms_text(u.attempt.at),
                                   u.counts_for_health ? "1" : "0",
                                   u.success ? "1" : "0",
                                   u.disable_endpoint ? "1" : "0",
                                   std::to_string(limits_.retention.count()),
                                   std::to_string(limits_.max_per_webhook),
                                   std::to_string(limits_.pause_after_failures),
                                   std::string(kChangesChannel)};
  auto r = co_await redis_.eval_script(kRecordScript, std::move(keys), std::move(args));
  if (!r) co_return fail(unavailable(r.error()));
  if (r->is_error() || r->elements().size() < 2)
    co_return fail(StoreError{StoreErrc::unavailable, "delivery log script: " + r->debug_string()});
  WebhookHealth h;
  const auto status_text = r->elements()[0].as_string();
  h.webhook_exists = status_text != "gone";
  h.status = parse_webhook_status(status_text).value_or(WebhookStatus::active);
  h.consecutive_fails = std::stoll(std::string(r->elements()[1].as_string()));
  h.status_changed = r->elements().size() > 2 && r->elements()[2].as_string() == "1";
  co_return h;
}

asio::awaitable<Result<void, StoreError>> DeliveryLog::keep_event(const Event& e) {
  // One round trip: the event and its expiry, pipelined.
  const auto key = event_key(e.tenant, e.id);
  std::vector<std::vector<std::string>> cmds = {
      cmd("HSET", key, "type", e.type, "source", e.source, "time", ms_text(e.time), "data", e.data),
      cmd("PEXPIRE", key, std::to_string(limits_.retention.count()))};
  auto r = co_await redis_.pipeline(std::move(cmds));
  if (!r) co_return fail(unavailable(r.error()));
  for (const auto& reply : *r)
    if (reply.is_error())
      co_return fail(StoreError{StoreErrc::unavailable, "redis refused to keep the event: " +
                                                            std::string(reply.as_string())});
  co_return Result<void, StoreError>{};
}

asio::awaitable<Result<Event, StoreError>> DeliveryLog::load_event(std::string_view tenant,
                                                                   std::string_view event_id) {
  auto r = co_await redis_.command(cmd("HGETALL", event_key(tenant, event_id)));
  if (!r) co_return fail(unavailable(r.error()));
  const auto f = to_fields(*r);
  const auto time = time_field(f, "time");
  if (f.empty() || !time)
    co_return fail(StoreError{StoreErrc::not_found,
                              "the event " + std::string(event_id) + " is no longer kept"});
  Event e;
  e.id = std::string(event_id);
  e.tenant = std::string(tenant);
  e.type = field_or(f, "type");
  e.source = field_or(f, "source");
  e.time = *time;
  e.data = field_or(f, "data");
  co_return e;
}

asio::awaitable<Result<DeliveryPage, StoreError>> DeliveryLog::list(
    std::string_view webhook_id, std::optional<std::string> cursor, std::size_t limit,
    std::optional<DeliveryStatus> status) {
  std::vector<std::string> keys = {webhook_deliveries_key(webhook_id)};
  std::vector<std::string> args = {cursor ? "(" + *cursor : "+", std::to_string(limit + 1),
                                   status ? std::string(to_string(*status)) : ""};
  auto r = co_await redis_.eval_script(kListScript, std::move(keys), std::move(args));
  if (!r) co_return fail(unavailable(r.error()));
  if (r->is_error()) co_return fail(StoreError{StoreErrc::unavailable, r->debug_string()});
  DeliveryPage page;
  const auto& e = r->elements();
  std::string last_member;
  for (std::size_t i = 0; i + 1 < e.size(); i += 2) {
    if (page.deliveries.size() == limit) {
      page.next_cursor = last_member;
      break;
    }
    const std::string member(e[i].as_string());
    auto d = parse_delivery(member.substr(17), e[i + 1]);
    if (!d) continue;
    last_member = member;
    page.deliveries.push_back(std::move(*d));
  }
  co_return page;
}

asio::awaitable<Result<Delivery, StoreError>> DeliveryLog::get(std::string_view webhook_id,
                                                               std::string_view delivery_id) {
  std::vector<std::vector<std::string>> cmds = {
      cmd("HGETALL", delivery_key(delivery_id)),
      cmd("LRANGE", delivery_key(delivery_id) + ":attempts", "0", "-1")};
  auto r = co_await redis_.pipeline(std::move(cmds));
  if (!r) co_return fail(unavailable(r.error()));
  auto d = parse_delivery(delivery_id, (*r)[0]);
  if (!d) co_return d;
  if (d->webhook_id != webhook_id)
    co_return fail(StoreError{StoreErrc::not_found, "no delivery " + std::string(delivery_id)});
  // Attempts are the hash's "a<number>" fields; deliveries logged before 0.2 have a list instead.
  std::vector<std::string_view> items;
  for (const auto& item : (*r)[1].elements()) items.push_back(item.as_string());
  const auto& fields = (*r)[0].elements();
  for (std::size_t i = 0; i + 1 < fields.size(); i += 2) {
    const auto name = fields[i].as_string();
    if (name.size() > 1 && name[0] == 'a' &&
        name.find_first_not_of("0123456789", 1) == std::string_view::npos)
      items.push_back(fields[i + 1].as_string());
  }
  for (const auto item : items) {
    const auto j = json::parse(item, nullptr, false);
    if (!j.is_object()) continue;
    AttemptRecord a;
    a.number = j.value("number", 0);
    a.at = TimePoint{std::chrono::milliseconds{j.value("at", std::int64_t{0})}};
    a.outcome = j.value("outcome", "");
    a.response_status = j.value("response_status", 0);
    a.response_body = j.value("response_body", "");
    a.error = j.value("error", "");
    a.duration_ms = j.value("duration_ms", std::int64_t{0});
    d->attempts.push_back(std::move(a));
  }
  std::stable_sort(
      d->attempts.begin(), d->attempts.end(),
      [](const AttemptRecord& x, const AttemptRecord& y) { return x.number < y.number; });
  co_return d;
}

}  // namespace hookstream::store
