#include "dispatcher/subscription_cache.hpp"

#include <algorithm>

#include "common/log.hpp"
#include "common/store/layout.hpp"
#include "common/store/redis_hash.hpp"

namespace hookstream::dispatcher {

TenantWebhooks::TenantWebhooks(std::vector<store::Webhook> all) : webhooks(std::move(all)) {
  std::sort(webhooks.begin(), webhooks.end(),
            [](const store::Webhook& a, const store::Webhook& b) { return a.id < b.id; });
  // Compiled once per load: the fan-out matches every event against these.
  filters.reserve(webhooks.size());
  for (const auto& w : webhooks) {
    if (!w.filter) {
      filters.emplace_back();
      continue;
    }
    auto compiled = filter::Filter::parse(*w.filter);
    if (!compiled) {
      // The API stores only filters that compile, so this is a hand-edited record: it gets no new
      // deliveries until fixed (a filter that matches nothing), and says so on every load.
      log::error("webhook filter does not compile; no event matches it",
                 {{"webhook_id", w.id},
                  {"error", compiled.error().path + ": " + compiled.error().message}});
      compiled = filter::Filter::parse(R"({"$not":{}})");
    }
    filters.emplace_back(std::move(*compiled));
  }
}

const store::Webhook* TenantWebhooks::find(std::string_view id) const {
  const auto it =
      std::lower_bound(webhooks.begin(), webhooks.end(), id,
                       [](const store::Webhook& w, std::string_view key) { return w.id < key; });
  return it != webhooks.end() && it->id == id ? &*it : nullptr;
}

void SubscriptionCache::start() {
  asio::co_spawn(executor_, poll_version(), log::on_exception("subscription refresh"));
}

namespace {
// Checks asked for by fresh records come at most this often: under load, one GET serves every
// record that arrived meanwhile, for a few milliseconds of latency.
constexpr Millis kMinCheckSpacing{5};
}  // namespace

void SubscriptionCache::stop() {
  stopped_ = true;
  timer_.cancel();
  release_waiters(std::numeric_limits<std::uint64_t>::max());
}

asio::awaitable<void> SubscriptionCache::poll_version() {
  boost::system::error_code ec;
  while (!stopped_) {
    co_await check_version();
    const auto checked = asio::steady_timer::clock_type::now();
    if (change_waiters_.empty()) {
      // The usual period, cut short by the first record that needs a newer check (or by stop).
      timer_.expires_after(refresh_interval_);
      co_await timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      if (stopped_) break;
    }
    if (!change_waiters_.empty()) {
      timer_.expires_at(checked + kMinCheckSpacing);
      co_await timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
  }
}

asio::awaitable<void> SubscriptionCache::check_version() {
  checking_ = true;
  const auto number = ++checks_started_;
  const auto started_ms = to_unix_millis(clock_.now());
  auto v = co_await redis_.command(store::cmd("GET", std::string(store::kWebhooksVersionKey)));
  if (v) {
    std::string now(v->as_string());
    if (now != version_) {
      // A change we cannot attribute to a tenant: drop everything, reload on demand.
      version_ = std::move(now);
      cache_.clear();
      ++generation_;
    }
  } else {
    // Redis unreachable: what we have may be stale, and we cannot know; keep serving it.
    log::debug("subscription version poll failed", {{"error", v.error().message}});
  }
  checking_ = false;
  last_check_started_ms_ = std::max(last_check_started_ms_, started_ms);
  release_waiters(number);
}

void SubscriptionCache::release_waiters(std::uint64_t completed_check) {
  while (!change_waiters_.empty() && change_waiters_.begin()->first < completed_check) {
    change_waiters_.begin()->second->cancel();
    change_waiters_.erase(change_waiters_.begin());
  }
}

bool SubscriptionCache::changes_seen_before(std::int64_t written_ms) const {
  return stopped_ || written_ms <= last_check_started_ms_;
}

TenantWebhooksPtr SubscriptionCache::cached(const std::string& tenant) const {
  const auto it = cache_.find(tenant);
  return it == cache_.end() ? nullptr : it->second;
}

asio::awaitable<void> SubscriptionCache::await_changes_before(std::int64_t written_ms) {
  if (changes_seen_before(written_ms)) co_return;
  auto& timer = change_waiters_[checks_started_];
  if (!timer) {
    timer = std::make_shared<asio::steady_timer>(executor_, asio::steady_timer::time_point::max());
    // The first to wait wakes a poller that sleeps the refresh period; later ones find it
    // checking or keeping kMinCheckSpacing, and ride along.
    if (!checking_ && change_waiters_.size() == 1) timer_.cancel();
  }
  const auto shared = timer;  // the map entry goes when the check releases it
  boost::system::error_code ec;
  co_await shared->async_wait(asio::redirect_error(asio::use_awaitable, ec));
}

void SubscriptionCache::invalidate(std::string_view tenant) {
  if (const auto it = cache_.find(tenant); it != cache_.end()) cache_.erase(it);
  ++generation_;  // a load in flight may predate the change
}

asio::awaitable<Result<TenantWebhooksPtr, store::StoreError>> SubscriptionCache::tenant(
    const std::string& tenant) {
  if (auto hit = cached(tenant)) co_return hit;
  if (const auto it = loading_.find(tenant); it != loading_.end()) {
    // Someone is loading this tenant already: wait for their answer instead of asking again.
    auto pending = it->second;
    auto waiter =
        std::make_shared<asio::steady_timer>(executor_, asio::steady_timer::time_point::max());
    pending->waiters.push_back(waiter);
    boost::system::error_code ec;
    co_await waiter->async_wait(asio::redirect_error(asio::use_awaitable, ec));
    co_return *pending->result;
  }
  auto pending = std::make_shared<Loading>();
  loading_[tenant] = pending;
  const auto generation = generation_;
  auto loaded = co_await webhooks_.load_tenant(tenant);
  Result<TenantWebhooksPtr, store::StoreError> result =
      loaded ? Result<TenantWebhooksPtr, store::StoreError>(
                   std::make_shared<const TenantWebhooks>(std::move(*loaded)))
             : Result<TenantWebhooksPtr, store::StoreError>(fail(std::move(loaded).error()));
  // A version change while loading may mean this answer is already stale: use it, don't keep it.
  if (result && generation == generation_) cache_[tenant] = *result;
  loading_.erase(tenant);
  pending->result = result;
  for (auto& w : pending->waiters) w->cancel();
  co_return result;
}

}  // namespace hookstream::dispatcher
