#pragma once
// Fakes of the delivery engine's ports (dispatcher/ports.hpp, store::DeliveryLogWriter,
// http::WebhookClient), for tests/unit/engine_test.cpp. Each records what the engine asked of it
// and answers as the test scripts it.
#include <algorithm>
#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "common/asio.hpp"
#include "common/http/delivery_client.hpp"
#include "common/store/delivery_log_writer.hpp"
#include "dispatcher/ports.hpp"

namespace hookstream::testing_support {

class FakeSubscriptions final : public dispatcher::Subscriptions {
 public:
  void set(const std::string& tenant, std::vector<store::Webhook> webhooks) {
    tenants_[tenant] = std::make_shared<const dispatcher::TenantWebhooks>(std::move(webhooks));
  }
  asio::awaitable<Result<dispatcher::TenantWebhooksPtr, store::StoreError>> tenant(
      const std::string& tenant) override {
    if (unavailable_for > 0) {
      --unavailable_for;
      co_return fail(store::StoreError{store::StoreErrc::unavailable, "redis: down"});
    }
    const auto it = tenants_.find(tenant);
    if (it == tenants_.end())
      co_return std::make_shared<const dispatcher::TenantWebhooks>(std::vector<store::Webhook>{});
    co_return it->second;
  }
  asio::awaitable<void> await_changes_before(std::int64_t) override { co_return; }
  void invalidate(std::string_view) override { ++invalidations; }

  int unavailable_for = 0;  // the next lookups that fail as if Redis were down
  int invalidations = 0;

 private:
  std::map<std::string, dispatcher::TenantWebhooksPtr> tenants_;
};

// Logs in memory; counts a webhook's consecutive failed attempts and pauses it at
// `pause_after`, as the real log's script does.
class FakeDeliveryLog final : public store::DeliveryLogWriter {
 public:
  asio::awaitable<Result<store::WebhookHealth, store::StoreError>> record(
      store::AttemptUpdate& update) override {
    ++calls;
    if (unavailable_for > 0) {
      --unavailable_for;
      co_return fail(store::StoreError{store::StoreErrc::unavailable, "redis: down"});
    }
    if (refuse) co_return fail(store::StoreError{store::StoreErrc::corrupt, "refused"});
    auto& health = health_[update.webhook_id];
    health.status_changed = false;
    if (update.kind == store::LogEntryKind::attempt) {
      if (update.success) {
        health.consecutive_fails = 0;
      } else if (++health.consecutive_fails >= pause_after &&
                 health.status == store::WebhookStatus::active) {
        health.status = store::WebhookStatus::paused;
        health.status_changed = true;
      }
      if (update.disable_endpoint) {
        health.status = store::WebhookStatus::disabled;
        health.status_changed = true;
      }
    }
    entries.push_back(std::move(update));
    co_return health;
  }

  std::vector<store::AttemptUpdate> entries;
  int calls = 0;
  int unavailable_for = 0;
  bool refuse = false;
  std::int64_t pause_after = 10;

 private:
  std::map<std::string, store::WebhookHealth> health_;
};

class FakeRecordWriter final : public dispatcher::RecordWriter {
 public:
  asio::awaitable<Result<void>> write(kafka::Record record) override {
    if (const auto g = gate) {  // Kafka slow to acknowledge: until the test cancels it
      boost::system::error_code ec;
      co_await g->async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
    if (!refuse_with.empty()) co_return fail(refuse_with, "refused");
    written.push_back(std::move(record));
    co_return Result<void>{};
  }
  std::vector<kafka::Record> written;
  std::string refuse_with;  // an error code ("kafka_record_too_large") for every write
  std::shared_ptr<asio::steady_timer> gate;  // while set, writes wait for its cancel()
};

// The send-slot clock of lua/reserve_send_slots.lua, in memory (steady time): slots `interval`
// apart, none given twice, none earlier than now, at most `horizon` ahead.
class FakeSlotSource final : public dispatcher::SlotSource {
 public:
  asio::awaitable<Result<store::SlotGrant, store::StoreError>> reserve(
      const std::string& webhook_id, int per_second, std::int64_t wanted,
      std::chrono::microseconds horizon) override {
    ++calls;
    if (unavailable_for > 0) {
      --unavailable_for;
      co_return fail(store::StoreError{store::StoreErrc::unavailable, "redis: down"});
    }
    const auto now = std::chrono::steady_clock::now();
    const std::chrono::microseconds interval{(1'000'000 + per_second - 1) / per_second};
    auto& next = next_[webhook_id];
    next = std::max(next, now);
    const auto room = (now + horizon - next) / interval;
    if (room < 1)
      co_return store::SlotGrant{
          0, std::chrono::duration_cast<std::chrono::microseconds>(next + interval - now - horizon),
          interval};
    const auto granted = std::min<std::int64_t>(wanted, room);
    const auto first = std::chrono::duration_cast<std::chrono::microseconds>(next - now);
    for (std::int64_t i = 0; i < granted; ++i) slots[webhook_id].push_back(next + i * interval);
    next += granted * interval;
    largest_batch = std::max(largest_batch, granted);
    co_return store::SlotGrant{granted, first, interval};
  }
  int calls = 0;
  int unavailable_for = 0;  // calls answered "unavailable" before it works
  std::int64_t largest_batch = 0;
  // Every slot granted, by webhook: the engine learns each one later than this clock, so no
  // request may be sent before its slot here.
  std::map<std::string, std::vector<std::chrono::steady_clock::time_point>> slots;

 private:
  std::map<std::string, std::chrono::steady_clock::time_point> next_;
};

// Answers every POST with `answer(request)`; a host listed in `hanging` never answers (until the
// test's io_context is destroyed).
class FakeWebhookClient final : public http::WebhookClient {
 public:
  explicit FakeWebhookClient(asio::any_io_executor executor) : executor_(std::move(executor)) {}
  asio::awaitable<http::DeliveryResult> post(const http::DeliveryRequest& request) override {
    requests.push_back(request);
    sent_at[request.url.host].push_back(std::chrono::steady_clock::now());
    ++in_flight[request.url.host];
    max_in_flight[request.url.host] =
        std::max(max_in_flight[request.url.host], in_flight[request.url.host]);
    if (hanging.contains(request.url.host)) {
      asio::steady_timer never(executor_, asio::steady_timer::time_point::max());
      boost::system::error_code ec;
      co_await never.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
    // An answer takes a moment, so that concurrent requests overlap.
    const auto delay = delay_ms.contains(request.url.host) ? delay_ms[request.url.host] : 1;
    asio::steady_timer moment(executor_, std::chrono::milliseconds(delay));
    co_await moment.async_wait(asio::use_awaitable);
    --in_flight[request.url.host];
    http::DeliveryResult result;
    if (timing_out.contains(request.url.host)) {
      result.outcome = http::Outcome::timeout;
      co_return result;
    }
    result.status = status_for.contains(request.url.host) ? status_for[request.url.host] : 200;
    result.outcome = result.status / 100 == 2 ? http::Outcome::success : http::Outcome::http_error;
    co_return result;
  }

  std::vector<http::DeliveryRequest> requests;
  std::map<std::string, int> status_for;  // host → status (default 200)
  std::set<std::string> hanging;
  std::set<std::string> timing_out;     // host → no answer: a timeout after its delay
  std::map<std::string, int> delay_ms;  // host → how long an answer takes (default 1 ms)
  std::map<std::string, int> in_flight;
  std::map<std::string, int> max_in_flight;
  std::map<std::string, std::vector<std::chrono::steady_clock::time_point>> sent_at;  // by host

 private:
  asio::any_io_executor executor_;
};

}  // namespace hookstream::testing_support
