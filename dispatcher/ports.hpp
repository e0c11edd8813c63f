#pragma once
// What the delivery engine needs from outside, as narrow interfaces: the shard gives it the real
// ones (SubscriptionCache, the Kafka producer, the HTTP client, the batched delivery log), and unit
// tests give it fakes (tests/unit/engine_test.cpp), so its rules are tested without Redis, Kafka
// or a network.
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/asio.hpp"
#include "common/filter/filter.hpp"
#include "common/kafka/producer.hpp"
#include "common/kafka/record.hpp"
#include "common/result.hpp"
#include "common/store/errors.hpp"
#include "common/store/send_slots.hpp"
#include "common/store/webhooks.hpp"

namespace hookstream::dispatcher {

// One tenant's webhooks as read at one moment; a change makes a new one.
struct TenantWebhooks {
  explicit TenantWebhooks(std::vector<store::Webhook> all);
  std::vector<store::Webhook> webhooks;                   // sorted by id
  const store::Webhook* find(std::string_view id) const;  // O(log n): once per delivery
  // The compiled filter of one of `webhooks` (SPEC §4); null when it has none.
  const filter::Filter* filter_of(const store::Webhook& w) const {
    const auto& f = filters[static_cast<std::size_t>(&w - webhooks.data())];
    return f ? &*f : nullptr;
  }
  std::vector<std::optional<filter::Filter>> filters;  // one per webhook, in the same order
};
using TenantWebhooksPtr = std::shared_ptr<const TenantWebhooks>;

// Who subscribed to what (SubscriptionCache).
class Subscriptions {
 public:
  virtual ~Subscriptions() = default;
  virtual asio::awaitable<Result<TenantWebhooksPtr, store::StoreError>> tenant(
      const std::string& tenant) = 0;
  // Resolves once every subscription change made before `written_ms` (Unix ms) can be seen.
  virtual asio::awaitable<void> await_changes_before(std::int64_t written_ms) = 0;
  // Answers tenant() and await_changes_before() give at once, without a coroutine: every delivery
  // asks both, and almost always they are known (null and false: ask the awaitable ones).
  virtual TenantWebhooksPtr cached(const std::string& /*tenant*/) const { return nullptr; }
  virtual bool changes_seen_before(std::int64_t /*written_ms*/) const { return false; }
  // This process changed one of the tenant's webhooks (paused it): read them again.
  virtual void invalidate(std::string_view tenant) = 0;
};

// Writes records to Kafka: retries to their tier, dead letters to theirs.
class RecordWriter {
 public:
  virtual ~RecordWriter() = default;
  // Answered once the broker acknowledged the record (acks=all), or with the failure.
  virtual asio::awaitable<Result<void>> write(kafka::Record record) = 0;
};

class KafkaRecordWriter final : public RecordWriter {
 public:
  explicit KafkaRecordWriter(kafka::Producer& producer) : producer_(producer) {}
  asio::awaitable<Result<void>> write(kafka::Record record) override {
    auto report = co_await producer_.async_produce(std::move(record), asio::use_awaitable);
    if (!report) co_return fail(std::move(report).error());
    co_return Result<void>{};
  }

 private:
  kafka::Producer& producer_;
};

// Send slots of rate-limited webhooks, shared by every dispatcher (store::SendSlots).
class SlotSource {
 public:
  virtual ~SlotSource() = default;
  virtual asio::awaitable<Result<store::SlotGrant, store::StoreError>> reserve(
      const std::string& webhook_id, int per_second, std::int64_t wanted,
      std::chrono::microseconds horizon) = 0;
};

class RedisSlotSource final : public SlotSource {
 public:
  explicit RedisSlotSource(store::SendSlots& slots) : slots_(slots) {}
  asio::awaitable<Result<store::SlotGrant, store::StoreError>> reserve(
      const std::string& webhook_id, int per_second, std::int64_t wanted,
      std::chrono::microseconds horizon) override {
    return slots_.reserve(webhook_id, per_second, wanted, horizon);
  }

 private:
  store::SendSlots& slots_;
};

}  // namespace hookstream::dispatcher
