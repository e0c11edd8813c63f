#pragma once
// Each tenant's webhooks, in memory. Loaded from Redis in one round trip on first use; the whole
// cache is dropped when hs:webhooks:version changes (the API and the delivery log bump it on every
// subscription or status change), polled every refresh interval (default 200 ms), so changes
// reach every dispatcher well within SPEC §4's 1 s.
//
// Runs on one io_context thread, like the Redis client it uses.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/asio.hpp"
#include "common/store/webhooks.hpp"

namespace hookstream::dispatcher {

struct TenantWebhooks {
  explicit TenantWebhooks(std::vector<store::Webhook> all);
  std::vector<store::Webhook> webhooks;                   // sorted by id
  const store::Webhook* find(std::string_view id) const;  // O(log n): once per delivery
};
using TenantWebhooksPtr = std::shared_ptr<const TenantWebhooks>;

class SubscriptionCache {
 public:
  SubscriptionCache(asio::any_io_executor executor, redis::Client& redis,
                    store::WebhookStore& webhooks, Millis refresh_interval)
      : executor_(std::move(executor)),
        redis_(redis),
        webhooks_(webhooks),
        refresh_interval_(refresh_interval),
        timer_(executor_) {}

  void start();
  void stop();
  asio::awaitable<Result<TenantWebhooksPtr, store::StoreError>> tenant(const std::string& tenant);
  std::size_t cached_tenants() const { return cache_.size(); }
  // This process changed a tenant's webhook (the delivery log paused or disabled it): forget the
  // tenant now instead of at the next version poll.
  void invalidate(std::string_view tenant);

 private:
  struct Loading {
    std::vector<std::shared_ptr<asio::steady_timer>> waiters;
    std::optional<Result<TenantWebhooksPtr, store::StoreError>> result;
  };
  asio::awaitable<void> poll_version();

  asio::any_io_executor executor_;
  redis::Client& redis_;
  store::WebhookStore& webhooks_;
  Millis refresh_interval_;
  asio::steady_timer timer_;
  bool stopped_ = false;
  std::string version_;
  std::uint64_t generation_ = 0;
  std::map<std::string, TenantWebhooksPtr, std::less<>> cache_;
  std::map<std::string, std::shared_ptr<Loading>, std::less<>> loading_;
};

}  // namespace hookstream::dispatcher
