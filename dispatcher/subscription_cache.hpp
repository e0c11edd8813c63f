#pragma once
// Each tenant's webhooks, in memory. Loaded from Redis in one round trip on first use; the whole
// cache is dropped when hs:webhooks:version changes (the API and the delivery log bump it on every
// subscription or status change), polled every refresh interval (default 200 ms), so changes
// reach every dispatcher well within SPEC §4's 1 s. A record written after a change was answered
// is not handled on the old view, though: await_changes_before(record time) waits for a version
// check that started after that time (at once when the last one did), so a webhook created, resumed
// or edited before an event or a redelivery was published always applies to it (on one host's
// clock; across hosts, within their clock skew).
//
// Runs on one io_context thread, like the Redis client it uses.
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/asio.hpp"
#include "common/clock.hpp"
#include "common/store/webhooks.hpp"
#include "dispatcher/ports.hpp"

namespace hookstream::dispatcher {

class SubscriptionCache final : public Subscriptions {
 public:
  SubscriptionCache(asio::any_io_executor executor, redis::Client& redis,
                    store::WebhookStore& webhooks, Millis refresh_interval, const Clock& clock)
      : executor_(std::move(executor)),
        redis_(redis),
        webhooks_(webhooks),
        refresh_interval_(refresh_interval),
        clock_(clock),
        timer_(executor_) {}

  void start();
  void stop();
  asio::awaitable<Result<TenantWebhooksPtr, store::StoreError>> tenant(
      const std::string& tenant) override;
  TenantWebhooksPtr cached(const std::string& tenant) const override;
  bool changes_seen_before(std::int64_t written_ms) const override;
  std::size_t cached_tenants() const { return cache_.size(); }
  // This process changed a tenant's webhook (the delivery log paused or disabled it): forget the
  // tenant now instead of at the next version poll.
  void invalidate(std::string_view tenant) override;
  // Resolves once a version check that started at or after `written_ms` (a record's timestamp,
  // Unix ms) has completed, or failed (then the cache is served as it is, as ever). Immediate for
  // records older than the last check: a backlog never waits.
  asio::awaitable<void> await_changes_before(std::int64_t written_ms) override;
  std::uint64_t version_checks() const { return checks_started_; }

 private:
  struct Loading {
    std::vector<std::shared_ptr<asio::steady_timer>> waiters;
    std::optional<Result<TenantWebhooksPtr, store::StoreError>> result;
  };
  asio::awaitable<void> poll_version();
  asio::awaitable<void> check_version();
  void release_waiters(std::uint64_t completed_check);

  asio::any_io_executor executor_;
  redis::Client& redis_;
  store::WebhookStore& webhooks_;
  Millis refresh_interval_;
  const Clock& clock_;
  asio::steady_timer timer_;
  bool checking_ = false;
  std::uint64_t checks_started_ = 0;
  std::int64_t last_check_started_ms_ = std::numeric_limits<std::int64_t>::min();
  // Records waiting for a newer check, one shared timer per check they wait past: the key is the
  // number of the last check started when they came; a check numbered higher releases them.
  std::map<std::uint64_t, std::shared_ptr<asio::steady_timer>> change_waiters_;
  bool stopped_ = false;
  std::string version_;
  std::uint64_t generation_ = 0;
  std::map<std::string, TenantWebhooksPtr, std::less<>> cache_;
  std::map<std::string, std::shared_ptr<Loading>, std::less<>> loading_;
};

}  // namespace hookstream::dispatcher
