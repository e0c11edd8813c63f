#include "api/rate_limit.hpp"

#include <charconv>

#include "common/store/layout.hpp"
#include "common/store/redis_hash.hpp"

namespace hookstream::api {
namespace {

// KEYS: the window's counter. ARGV: window length in ms. Returns the count including this request.
const redis::Script kCountScript(R"lua(
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return n
)lua");

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
  std::vector<std::string> keys = {store::rate_limit_key(key_id, window)};
  std::vector<std::string> args = {std::to_string(kWindowMs + 5'000)};
  auto r = co_await redis_.eval_script(kCountScript, std::move(keys), std::move(args));
  if (!r) co_return fail(store::unavailable(r.error()));
  const auto count = r->as_integer();
  if (!count)
    co_return fail(store::StoreError{store::StoreErrc::unavailable,
                                     "rate limit script failed: " + r->debug_string()});
  co_return decide(*count, limit, now_ms);
}

asio::awaitable<Result<RateLimitDecision, store::StoreError>> RateLimiter::peek(
    std::string_view key_id, std::int64_t limit) {
  const std::int64_t now_ms = to_unix_millis(clock_.now());
  auto r =
      co_await redis_.command(store::cmd("GET", store::rate_limit_key(key_id, now_ms / kWindowMs)));
  if (!r) co_return fail(store::unavailable(r.error()));
  std::int64_t count = 0;
  if (r->is_string()) {
    const auto text = r->as_string();
    std::from_chars(text.data(), text.data() + text.size(), count);
  }
  auto d = decide(count, limit, now_ms);
  d.allowed = count < limit;
  co_return d;
}

}  // namespace hookstream::api
