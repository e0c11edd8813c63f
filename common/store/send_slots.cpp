#include "common/store/send_slots.hpp"

#include "common/store/layout.hpp"
#include "common/store/lua_scripts.hpp"

namespace hookstream::store {
namespace {

const redis::Script kReserveScript{std::string(lua::reserve_send_slots)};

}  // namespace

asio::awaitable<Result<SlotGrant, StoreError>> SendSlots::reserve(
    std::string_view webhook_id, int per_second, std::int64_t wanted,
    std::chrono::microseconds horizon) {
  std::vector<std::string> keys = {webhook_slots_key(webhook_id)};
  std::vector<std::string> args = {std::to_string(per_second), std::to_string(wanted),
                                   std::to_string(horizon.count())};
  auto r = co_await redis_.eval_script(kReserveScript, std::move(keys), std::move(args));
  if (!r) co_return fail(unavailable(r.error()));
  const auto& e = r->elements();
  const auto granted = e.size() == 3 ? e[0].as_integer() : std::nullopt;
  const auto first_in = e.size() == 3 ? e[1].as_integer() : std::nullopt;
  const auto interval = e.size() == 3 ? e[2].as_integer() : std::nullopt;
  if (!granted || !first_in || !interval || *granted < 0 || *interval <= 0)
    co_return fail(refused("send slot script", r->debug_string()));
  co_return SlotGrant{*granted, std::chrono::microseconds{std::max<std::int64_t>(0, *first_in)},
                      std::chrono::microseconds{*interval}};
}

}  // namespace hookstream::store
