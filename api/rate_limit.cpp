#include "api/rate_limit.hpp"

#include "common/store/layout.hpp"

namespace hookstream::api {
namespace {

// KEYS: the window's counter. ARGV: window length in ms. Returns the count including this request.
const redis::Script kCountScript(R"lua(
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return n
)lua");

}  // namespace

asio::awaitable<Result<RateLimitDecision, store::StoreError>> RateLimiter::check(
    std::string_view key_id, std::int64_t limit) {
  const std::int64_t now_ms = to_unix_millis(clock_.now());
  const std::int64_t window = now_ms / kWindowMs;
  const std::int64_t window_end_ms = (window + 1) * kWindowMs;
  // The counter outlives its window a little so clock skew between replicas cannot reset it early.
  std::vector<std::string> keys = {store::rate_limit_key(key_id, window)};
  std::vector<std::string> args = {std::to_string(kWindowMs + 5'000)};
  auto r = co_await redis_.eval_script(kCountScript, std::move(keys), std::move(args));
  if (!r) co_return fail(store::unavailable(r.error()));
  const auto count = r->as_integer();
  if (!count)
    co_return fail(store::StoreError{store::StoreErrc::unavailable,
                                     "rate limit script failed: " + r->debug_string()});
  RateLimitDecision d;
  d.limit = limit;
  d.allowed = *count <= limit;
  d.remaining = std::max<std::int64_t>(0, limit - *count);
  d.reset_at = (window_end_ms + 999) / 1000;
  d.retry_after = std::max<std::int64_t>(1, (window_end_ms - now_ms + 999) / 1000);
  co_return d;
}

}  // namespace hookstream::api
