#pragma once
// Requests per minute per API key, counted in Redis so every API replica enforces one budget.
// Fixed one-minute windows, counted by store::RequestCounts; the clock is injected.
#include <cstdint>

#include "common/clock.hpp"
#include "common/redis/client.hpp"
#include "common/store/errors.hpp"
#include "common/store/request_counts.hpp"

namespace hookstream::api {

struct RateLimitDecision {
  bool allowed = true;
  std::int64_t limit = 0;
  std::int64_t remaining = 0;
  std::int64_t reset_at = 0;     // Unix seconds when the window ends
  std::int64_t retry_after = 0;  // seconds, when not allowed
};

class RateLimiter {
 public:
  static constexpr std::int64_t kWindowMs = 60'000;

  RateLimiter(redis::Client& redis, const Clock& clock) : counts_(redis), clock_(clock) {}
  asio::awaitable<Result<RateLimitDecision, store::StoreError>> check(std::string_view key_id,
                                                                      std::int64_t limit);
  // The current window's state without counting a request (for answers that are not counted,
  // such as a 403 for a missing scope).
  asio::awaitable<Result<RateLimitDecision, store::StoreError>> peek(std::string_view key_id,
                                                                     std::int64_t limit);

 private:
  store::RequestCounts counts_;
  const Clock& clock_;
};

}  // namespace hookstream::api
