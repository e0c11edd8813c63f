#include "api/rate_limit.hpp"

#include <algorithm>

namespace hookstream::api {
namespace {

RateLimitDecision decide(std::int64_t count, std::int64_t limit, std::int64_t now_ms) {
  const std::int64_t window_end_ms = (now_ms / RateLimiter::kWindowMs + 1) * RateLimiter::kWindowMs;
  RateLimitDecision d;
  d.limit = limit;
  d.allowed = count <= limit;
  d.remaining = std::max<std::int64_t>(0, limit - count);
  d.reset_at = (window_end_ms + 999) / 1000;
  d.retry_after = std::max<std::int64_t>(1, (window_end_ms - now_ms + 999) / 1000);
  return d;
}

}  // namespace

asio::awaitable<Result<RateLimitDecision, store::StoreError>> RateLimiter::check(
    std::string_view key_id, std::int64_t limit) {
  const std::int64_t now_ms = to_unix_millis(clock_.now());
  const std::int64_t window = now_ms / kWindowMs;
  // The counter outlives its window a little so clock skew between replicas cannot reset it early.
  auto count = co_await counts_.count(key_id, window, kWindowMs + 5'000);
  if (!count) co_return fail(std::move(count).error());
  co_return decide(*count, limit, now_ms);
}

asio::awaitable<Result<RateLimitDecision, store::StoreError>> RateLimiter::peek(
    std::string_view key_id, std::int64_t limit) {
  const std::int64_t now_ms = to_unix_millis(clock_.now());
  auto count = co_await counts_.current(key_id, now_ms / kWindowMs);
  if (!count) co_return fail(std::move(count).error());
  auto d = decide(*count, limit, now_ms);
  d.allowed = *count < limit;
  co_return d;
}

}  // namespace hookstream::api
