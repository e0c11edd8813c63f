#include "common/store/idempotency.hpp"

#include <chrono>

#include "common/store/lua_scripts.hpp"
#include "common/until_answered.hpp"

namespace hookstream::store {
namespace {

const redis::Script kClaimScript{std::string(lua::claim_idempotency)};
const redis::Script kReleaseScript{std::string(lua::release_idempotency)};

// A "stopping" predicate for until_answered: true once `budget` from now has passed.
auto for_at_most(Millis budget) {
  return [deadline = std::chrono::steady_clock::now() + budget] {
    return std::chrono::steady_clock::now() >= deadline;
  };
}

bool retriable(const redis::RedisError& e) {
  return redis::is_retriable(e.code);
}

// Redis may have run a command it did not answer.
bool maybe_ran(const redis::RedisError& e) {
  return e.code == redis::RedisErrc::timeout || e.code == redis::RedisErrc::disconnected;
}

}  // namespace

asio::awaitable<Result<std::optional<std::string>, StoreError>> IdempotencyKeys::claim(
    const std::vector<std::string>& keys, std::string pending) {
  std::vector<std::string> args = {pending, std::to_string(times_.lease.count())};
  auto r = co_await redis_.eval_script(kClaimScript, keys, std::move(args));
  if (!r) {
    if (maybe_ran(r.error())) co_await release(keys, pending);
    co_return fail(unavailable(r.error()));
  }
  if (r->is_error()) co_return fail(refused("idempotency claim", r->debug_string()));
  if (r->is_string()) co_return std::optional<std::string>(std::string(r->as_string()));
  co_return std::optional<std::string>();
}

asio::awaitable<void> IdempotencyKeys::release(const std::vector<std::string>& keys,
                                               const std::string& pending) {
  (void)co_await until_answered(
      "idempotency release",
      [&] { return redis_.eval_script(kReleaseScript, keys, std::vector<std::string>{pending}); },
      retriable, for_at_most(times_.settle));
}

asio::awaitable<void> IdempotencyKeys::complete(const std::vector<std::string>& keys,
                                                const std::string& done) {
  const auto keep = std::to_string(kKeep.count());
  (void)co_await until_answered(
      "idempotency completion",
      [&] {
        std::vector<std::vector<std::string>> sets;
        for (const auto& k : keys) sets.push_back({"SET", k, done, "PX", keep});
        return redis_.pipeline(std::move(sets));
      },
      retriable, for_at_most(times_.settle));
}

}  // namespace hookstream::store
