#include "common/store/request_counts.hpp"

#include <charconv>

#include "common/store/layout.hpp"
#include "common/store/lua_scripts.hpp"
#include "common/store/redis_hash.hpp"

namespace hookstream::store {
namespace {

const redis::Script kCountScript{std::string(lua::count_request)};

}  // namespace

asio::awaitable<Result<std::int64_t, StoreError>> RequestCounts::count(std::string_view key_id,
                                                                       std::int64_t window,
                                                                       std::int64_t ttl_ms) {
  std::vector<std::string> keys = {rate_limit_key(key_id, window)};
  std::vector<std::string> args = {std::to_string(ttl_ms)};
  auto r = co_await redis_.eval_script(kCountScript, std::move(keys), std::move(args));
  if (!r) co_return fail(unavailable(r.error()));
  const auto n = r->as_integer();
  if (!n) co_return fail(refused("rate limit script", r->debug_string()));
  co_return *n;
}

asio::awaitable<Result<std::int64_t, StoreError>> RequestCounts::current(std::string_view key_id,
                                                                         std::int64_t window) {
  auto r = co_await redis_.command(cmd("GET", rate_limit_key(key_id, window)));
  if (!r) co_return fail(unavailable(r.error()));
  std::int64_t n = 0;
  if (r->is_string()) {
    const auto text = r->as_string();
    std::from_chars(text.data(), text.data() + text.size(), n);
  }
  co_return n;
}

}  // namespace hookstream::store
