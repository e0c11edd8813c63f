#include "common/store/delivery_log.hpp"

#include <algorithm>
#include <functional>
#include <map>
#include <numeric>
#include <unordered_set>

#include "common/store/layout.hpp"
#include "common/store/lua_scripts.hpp"
#include "common/store/redis_hash.hpp"
#include "common/store/webhook_stats.hpp"

namespace hookstream::store {
namespace {

const redis::Script kRecordScript{std::string(lua::record_deliveries)};
const redis::Script kListScript{std::string(lua::list_deliveries)};
const redis::Script kRequeueScript{std::string(lua::requeue_deliveries)};

// Values per entry in the record script's ARGV (lua/record_deliveries.lua).
constexpr std::size_t kEntryArgs = 5;

char kind_code(LogEntryKind kind) {
  switch (kind) {
    case LogEntryKind::attempt:
      return 'a';
    case LogEntryKind::not_attempted:
      return 'n';
    case LogEntryKind::deferred:
      return 'd';
  }
  return 'n';
}

// An entry's head in the script's arguments: kind, outcome, bound check, duration bucket.
std::string entry_head(const AttemptUpdate& e, bool check) {
  const char bound = check ? '1' : '0';
  if (e.kind != LogEntryKind::attempt) return {kind_code(e.kind), '-', bound};
  const char outcome = e.success ? '1' : e.disable_endpoint ? 'g' : '0';
  return std::string{kind_code(e.kind), outcome, bound} +
         std::to_string(duration_bucket(e.attempt.duration_ms));
}

// Runs lua/requeue_deliveries.lua in `mode` ("queue" or "undo").
asio::awaitable<Result<std::vector<std::string>, StoreError>> requeue(
    redis::Client& redis, std::string_view mode, std::string_view webhook_id,
    std::vector<std::string> delivery_ids, TimePoint now) {
  std::vector<std::string> args = {std::string(mode), std::string(webhook_id), ms_text(now)};
  std::move(delivery_ids.begin(), delivery_ids.end(), std::back_inserter(args));
  auto r = co_await redis.eval_script(kRequeueScript, {}, std::move(args));
  if (!r) co_return fail(unavailable(r.error()));
  if (r->is_error()) co_return fail(refused("delivery log script", r->debug_string()));
  std::vector<std::string> changed;
  for (const auto& id : r->elements()) changed.emplace_back(id.as_string());
  co_return changed;
}

std::string legacy_event_key(std::string_view tenant, std::string_view event_id) {
  return "hs:evt:" + std::string(tenant) + ":" + std::string(event_id);
}

}  // namespace

bool DeliveryLog::check_bound(std::string_view webhook_id) {
  const auto step =
      static_cast<std::uint32_t>(std::clamp<std::size_t>(limits_.max_per_webhook / 16, 1, 64));
  auto& logged =
      logged_per_bucket_[std::hash<std::string_view>{}(webhook_id) % logged_per_bucket_.size()];
  return ++logged % step == 0;
}

asio::awaitable<Result<std::vector<WebhookHealth>, StoreError>> DeliveryLog::record_batch(
    const std::vector<AttemptUpdate>& entries) {
  std::vector<WebhookHealth> out(entries.size());
  if (entries.empty()) co_return out;
  TimePoint now = entries.front().attempt.at;
  for (const auto& e : entries) now = std::max(now, e.attempt.at);
  const auto& head = entries.front();
  // Named after the batch's first entry: a batch sent again writes the same key.
  const std::string bucket =
      "hs:evb:" + head.delivery_id + ":" + std::to_string(head.attempt.number) + ":" + ms_text(now);

  // The batch's events, once each, in one hash with the retention as its TTL: written in the same
  // round trip ahead of the script (not through its arguments, which Redis' Lua hashes byte by
  // byte). Idempotent, like the script: a batch sent again writes the same values.
  std::vector<std::string> events{"HSET", bucket};
  std::unordered_set<const Event*> kept;  // a batch of up to 4,096 is searched once per entry
  for (const auto& e : entries) {
    if (!e.event || !kept.insert(e.event.get()).second) continue;
    events.push_back(kept_event_field(e.event->tenant, e.event->id));
    events.push_back(encode_kept_event(*e.event));
  }
  std::vector<std::vector<std::string>> before;
  if (!kept.empty()) {
    before.push_back(std::move(events));
    before.push_back(cmd("PEXPIRE", bucket, std::to_string(limits_.retention.count())));
  }

  ScriptCall call{entries, bucket, now, {}, {}, std::vector<bool>(entries.size(), false)};
  call.positions.resize(entries.size());
  std::iota(call.positions.begin(), call.positions.end(), std::size_t{0});
  call.check.reserve(entries.size());
  for (const auto& e : entries) call.check.push_back(check_bound(e.webhook_id));
  // A call stops a webhook's entries at a record written before without its attempt (a deferred
  // delivery attempted now); they go again, that one with its record JSON. Each call logs at
  // least one entry more.
  for (std::size_t calls = 0;; ++calls) {
    auto stops = co_await run_record_script(call, std::move(before), out);
    before.clear();
    if (!stops) co_return fail(std::move(stops).error());
    if (stops->empty()) break;
    if (calls == entries.size())
      co_return fail(refused("delivery log script", "asked again for records it was given"));
    std::map<std::string_view, std::size_t, std::less<>> stop_of;
    for (const std::size_t n : *stops) {
      stop_of.emplace(entries[n].webhook_id, n);
      call.with_record[n] = true;
    }
    std::vector<std::size_t> again;
    for (const std::size_t n : call.positions) {
      const auto it = stop_of.find(entries[n].webhook_id);
      if (it != stop_of.end() && n >= it->second) again.push_back(n);
    }
    call.positions = std::move(again);
  }
  co_return out;
}

asio::awaitable<Result<std::vector<std::size_t>, StoreError>> DeliveryLog::run_record_script(
    const ScriptCall& call, std::vector<std::vector<std::string>> before,
    std::vector<WebhookHealth>& out) {
  const auto& entries = call.entries;
  const std::string retention = std::to_string(limits_.retention.count());
  std::vector<std::string> args;
  args.reserve(5 + call.positions.size() * kEntryArgs);
  args.push_back(retention);
  args.push_back(std::to_string(limits_.pause_after_failures));
  args.push_back(std::to_string(limits_.max_per_webhook));
  args.push_back(std::string(kChangesChannel));
  args.push_back(ms_text(call.now));

  for (const std::size_t n : call.positions) {
    const auto& e = entries[n];
    const bool deferred = e.kind == LogEntryKind::deferred;
    RecordFields r;
    r.webhook_id = e.webhook_id;
    r.tenant = e.tenant;
    r.event_id = e.event_id;
    r.event_type = e.event_type;
    r.status = e.status;
    r.attempt_count = deferred ? e.attempt.number - 1 : e.attempt.number;
    r.response_status = e.attempt.response_status;
    r.last_error = e.attempt.error;
    if (e.status == DeliveryStatus::succeeded) r.delivered_at = e.attempt.at;
    r.next_retry_at = e.next_retry_at;
    r.created_at = e.created_at;
    r.updated_at = e.attempt.at;
    r.event_key = e.event ? std::string_view(call.bucket) : std::string_view();
    r.attempt = deferred ? nullptr : &e.attempt;
    args.push_back(entry_head(e, call.check[n]));
    args.push_back(e.webhook_id);
    args.push_back(index_member(e.created_at, e.delivery_id));
    args.push_back(std::to_string(e.attempt.number));
    // A first attempt's record goes ahead of the script, written if new (see the script).
    if (!call.with_record[n] && !deferred && e.attempt.number == 1) {
      before.push_back(
          cmd("SET", delivery_key(e.delivery_id), encode_record(r), "PX", retention, "NX"));
      args.emplace_back();
    } else {
      args.push_back(encode_record(r));
    }
  }

  auto r = co_await redis_.eval_script(kRecordScript, {}, std::move(args), std::move(before));
  if (!r) co_return fail(unavailable(r.error()));
  if (r->is_error()) co_return fail(refused("delivery log script", r->debug_string()));
  // Per webhook; only the entry that paused or disabled it says so (its 1-based position).
  struct Answer {
    WebhookHealth health;
    std::size_t changed_by = 0;
  };
  std::map<std::string_view, Answer, std::less<>> answers;
  std::vector<std::size_t> stops;
  for (const auto& w : r->elements()) {
    const auto& f = w.elements();
    if (f.size() < 5) continue;
    Answer& a = answers[f[0].as_string()];
    a.health.webhook_exists = f[1].as_string() != "gone";
    a.health.status = parse_webhook_status(f[1].as_string()).value_or(WebhookStatus::active);
    a.health.consecutive_fails = std::stoll(std::string(f[2].as_string()));
    a.changed_by = std::stoull(std::string(f[3].as_string()));
    const auto stop = f[4].as_integer().value_or(-1);
    if (stop < 0 || static_cast<std::size_t>(stop) > call.positions.size())
      co_return fail(refused("delivery log script", "no entry at " + f[4].debug_string()));
    if (stop > 0) stops.push_back(call.positions[static_cast<std::size_t>(stop) - 1]);
  }
  // Entries of an earlier call keep the health it answered: only the entries of a webhook it
  // stopped are sent again, and none of them was logged then.
  for (std::size_t p = 0; p < call.positions.size(); ++p) {
    const std::size_t i = call.positions[p];
    const auto it = answers.find(entries[i].webhook_id);
    if (it == answers.end())
      co_return fail(refused("delivery log script", "no answer for " + entries[i].webhook_id));
    out[i] = it->second.health;
    out[i].status_changed = it->second.changed_by == p + 1;
  }
  co_return stops;
}

asio::awaitable<Result<WebhookHealth, StoreError>> DeliveryLog::record(AttemptUpdate update) {
  std::vector<AttemptUpdate> one;
  one.push_back(std::move(update));
  auto r = co_await record_batch(one);
  if (!r) co_return fail(std::move(r).error());
  co_return r->front();
}

asio::awaitable<Result<Event, StoreError>> DeliveryLog::load_event(const Delivery& d) {
  // Named, not a braced temporary in the co_await expression: GCC 12 destroys those twice.
  const std::vector<Delivery> one{d};
  auto events = co_await load_events(one);
  if (!events) co_return fail(std::move(events).error());
  co_return std::move(events->front());
}

asio::awaitable<Result<std::vector<Result<Event, StoreError>>, StoreError>>
DeliveryLog::load_events(const std::vector<Delivery>& deliveries) {
  std::vector<std::vector<std::string>> reads;
  for (const auto& d : deliveries)
    if (!d.event_key.empty())
      reads.push_back(cmd("HGET", d.event_key, kept_event_field(d.tenant, d.event_id)));
  std::vector<redis::Reply> replies;
  if (!reads.empty()) {
    auto r = co_await redis_.pipeline(std::move(reads));
    if (!r) co_return fail(unavailable(r.error()));
    replies = std::move(*r);
  }
  std::vector<Result<Event, StoreError>> out;
  out.reserve(deliveries.size());
  std::size_t next = 0;
  for (const auto& d : deliveries) {
    if (!d.event_key.empty()) {
      const auto& reply = replies[next++];
      if (reply.is_string()) {
        out.push_back(decode_kept_event(d.tenant, d.event_id, reply.as_string()));
        continue;
      }
    }
    auto legacy = co_await load_legacy_event(d);
    if (!legacy && is_retriable(legacy.error())) co_return fail(std::move(legacy).error());
    out.push_back(std::move(legacy));
  }
  co_return out;
}

// Kept by a dispatcher before 0.3: a hash of its own.
asio::awaitable<Result<Event, StoreError>> DeliveryLog::load_legacy_event(const Delivery& d) {
  auto r = co_await redis_.command(cmd("HGETALL", legacy_event_key(d.tenant, d.event_id)));
  if (!r) co_return fail(unavailable(r.error()));
  const auto f = to_fields(*r);
  const auto time = time_field(f, "time");
  if (f.empty() || !time)
    co_return fail(
        StoreError{StoreErrc::not_found, "the event " + d.event_id + " is no longer kept"});
  Event e;
  e.id = d.event_id;
  e.tenant = d.tenant;
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
  if (r->is_error()) co_return fail(refused("delivery log script", r->debug_string()));
  DeliveryPage page;
  const auto& e = r->elements();
  std::string last_member;
  for (std::size_t i = 0; i + 1 < e.size(); i += 2) {
    if (page.deliveries.size() == limit) {
      page.next_cursor = last_member;
      break;
    }
    const auto member = e[i].as_string();
    const auto id = delivery_of_index_member(member);
    if (!id) continue;
    auto d = decode_delivery(*id, e[i + 1]);
    if (!d) continue;
    d->attempts.clear();  // a page lists deliveries; get() shows the attempts
    last_member = std::string(member);
    page.deliveries.push_back(std::move(*d));
  }
  co_return page;
}

asio::awaitable<Result<Delivery, StoreError>> DeliveryLog::get(std::string_view webhook_id,
                                                               std::string_view delivery_id) {
  const auto key = delivery_key(delivery_id);
  auto r = co_await redis_.command(cmd("GET", key));
  if (!r) co_return fail(unavailable(r.error()));
  Result<Delivery, StoreError> d = fail(StoreError{StoreErrc::not_found, "no delivery"});
  if (r->is_error()) {  // WRONGTYPE: a record logged before 0.3, a hash
    std::vector<std::vector<std::string>> cmds = {cmd("HGETALL", key),
                                                  cmd("LRANGE", key + ":attempts", "0", "-1")};
    auto legacy = co_await redis_.pipeline(std::move(cmds));
    if (!legacy) co_return fail(unavailable(legacy.error()));
    std::vector<std::string_view> items;
    for (const auto& item : (*legacy)[1].elements()) items.push_back(item.as_string());
    d = decode_delivery(delivery_id, (*legacy)[0], items);
  } else if (r->is_string()) {
    d = decode_delivery(delivery_id, *r);
  }
  if (d && d->webhook_id != webhook_id) d = fail(StoreError{StoreErrc::not_found, ""});
  if (!d && d.error().code == StoreErrc::not_found)
    co_return fail(StoreError{StoreErrc::not_found, "no delivery " + std::string(delivery_id)});
  co_return d;
}

asio::awaitable<Result<std::vector<std::string>, StoreError>> DeliveryLog::mark_requeued(
    std::string_view webhook_id, std::vector<std::string> delivery_ids, TimePoint now,
    Requeue which) {
  return requeue(redis_, which == Requeue::failed ? "queue" : "queue_any", webhook_id,
                 std::move(delivery_ids), now);
}

asio::awaitable<Result<std::vector<std::string>, StoreError>> DeliveryLog::unmark_requeued(
    std::string_view webhook_id, std::vector<std::string> delivery_ids, TimePoint now) {
  return requeue(redis_, "undo", webhook_id, std::move(delivery_ids), now);
}

}  // namespace hookstream::store
