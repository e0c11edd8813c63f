#include "common/store/idempotency.hpp"

#include <cstdint>

#include "common/store/lua_scripts.hpp"

namespace hookstream::store {
namespace {

constexpr std::int64_t kTtlMs = 24 * 3600 * 1000;
const redis::Script kClaimScript{std::string(lua::claim_idempotency)};

}  // namespace

asio::awaitable<Result<std::optional<std::string>, StoreError>> IdempotencyKeys::claim(
    const std::vector<std::string>& keys, std::string value) {
  std::vector<std::string> args = {std::move(value), std::to_string(kTtlMs)};
  auto r = co_await redis_.eval_script(kClaimScript, keys, std::move(args));
  if (!r) co_return fail(unavailable(r.error()));
  if (r->is_error())
    co_return fail(StoreError{StoreErrc::unavailable,
                              "idempotency claim failed: " + std::string(r->as_string())});
  if (r->is_string()) co_return std::optional<std::string>(std::string(r->as_string()));
  co_return std::optional<std::string>();
}

asio::awaitable<void> IdempotencyKeys::release(const std::vector<std::string>& keys) {
  std::vector<std::string> del{"DEL"};
  del.insert(del.end(), keys.begin(), keys.end());
  (void)co_await redis_.command(std::move(del));
}

asio::awaitable<void> IdempotencyKeys::complete(const std::vector<std::string>& keys,
                                                const std::string& value) {
  std::vector<std::vector<std::string>> sets;
  for (const auto& k : keys) sets.push_back({"SET", k, value, "KEEPTTL"});
  (void)co_await redis_.pipeline(std::move(sets));
}

}  // namespace hookstream::store
