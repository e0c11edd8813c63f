#include "dispatcher/rate_limiter.hpp"

#include <algorithm>

namespace hookstream::dispatcher {
namespace {

asio::awaitable<void> sleep_until(std::chrono::steady_clock::time_point at) {
  asio::steady_timer timer(co_await asio::this_coro::executor, at);
  boost::system::error_code ec;
  co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
}

}  // namespace

std::int64_t RateLimiter::batch_size(int per_second, std::size_t demand) {
  const auto most = std::max<std::int64_t>(1, per_second * kBatch.count() / 1000);
  return std::clamp<std::int64_t>(static_cast<std::int64_t>(demand), 1, most);
}

std::optional<RateLimiter::SteadyClock::time_point> RateLimiter::take(Budget& budget,
                                                                      SteadyClock::time_point now) {
  // A slot more than one interval past was missed: sending it now would crowd the next ones.
  while (budget.left > 0 && budget.next + budget.interval < now) {
    budget.next += budget.interval;
    --budget.left;
  }
  if (budget.left == 0) return std::nullopt;
  const auto at = budget.next;
  budget.next += budget.interval;
  --budget.left;
  return at;
}

asio::awaitable<bool> RateLimiter::acquire(const std::string& webhook_id, int per_second,
                                           std::size_t demand) {
  auto& slot = budgets_[webhook_id];
  if (!slot) slot = std::make_shared<Budget>();
  const BudgetPtr budget = slot;  // the map entry may go while this waits
  ++budget->waiting;
  std::optional<SteadyClock::time_point> at;
  while (!engine_.stopping) {
    budget->demand = demand;
    if ((at = take(*budget, SteadyClock::now()))) break;
    if (!budget->reserving) {
      budget->reserving = true;
      co_await reserve(webhook_id, per_second, *budget);
      budget->reserving = false;
      if (auto wake = std::move(budget->wake)) wake->cancel();
      continue;
    }
    if (!budget->wake)
      budget->wake =
          std::make_shared<asio::steady_timer>(engine_.executor, SteadyClock::time_point::max());
    const auto wake = budget->wake;
    boost::system::error_code ec;
    co_await wake->async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  --budget->waiting;
  if (++acquired_ % kSweepEvery == 0) forget_idle(SteadyClock::now());
  if (!at) co_return false;
  if (*at > SteadyClock::now()) co_await sleep_until(*at);
  co_return true;
}

// Budgets nobody waits on and whose slots are all past (the endpoint went quiet here).
void RateLimiter::forget_idle(SteadyClock::time_point now) {
  std::erase_if(budgets_, [&](const auto& entry) {
    const auto& b = *entry.second;
    return b.waiting == 0 && !b.reserving && (b.left == 0 || b.next + b.left * b.interval < now);
  });
}

asio::awaitable<void> RateLimiter::reserve(const std::string& webhook_id, int per_second,
                                           Budget& budget) {
  auto& source = engine_.deps.slots;
  const auto wanted = batch_size(per_second, std::max(budget.demand, budget.waiting));
  auto grant = co_await engine_.until_answered(
      "rate limit slots", [&] { return source.reserve(webhook_id, per_second, wanted, kHorizon); },
      [](const store::StoreError& e) { return store::is_retriable(e); });
  const auto now = SteadyClock::now();
  if (!grant) {
    if (engine_.stopping) co_return;
    // Redis refuses the script for good (a bug): the endpoint waits rather than going unlimited.
    log::error("rate limit slots unavailable; the endpoint waits",
               {{"webhook_id", webhook_id}, {"error", grant.error().message}});
    co_await sleep_until(now + std::chrono::seconds(1));
    co_return;
  }
  engine_.deps.metrics.rate_limit_reservation();
  if (grant->granted == 0) {  // the next kHorizon is taken: ask again when a slot frees up
    co_await sleep_until(now + grant->first_in);
    co_return;
  }
  budget.left = grant->granted;
  budget.next = now + grant->first_in;
  budget.interval = grant->interval;
}

}  // namespace hookstream::dispatcher
