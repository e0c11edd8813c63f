#pragma once
// Send slots of rate-limited webhooks (SPEC §4 "Rate limits"), shared by every dispatcher through
// Redis: a dispatcher reserves a batch of consecutive slots in one call
// (lua/reserve_send_slots.lua) and hands them to its deliveries itself, so Redis sees a call per
// batch, not per delivery.
#include <chrono>
#include <cstdint>
#include <string_view>

#include "common/asio.hpp"
#include "common/redis/client.hpp"
#include "common/result.hpp"
#include "common/store/errors.hpp"

namespace hookstream::store {

struct SlotGrant {
  std::int64_t granted = 0;  // slots reserved, `interval` apart
  // From when the reply was sent to the first slot; none granted: until slots are free again.
  std::chrono::microseconds first_in{0};
  std::chrono::microseconds interval{0};
};

class SendSlots {
 public:
  explicit SendSlots(redis::Client& redis) : redis_(redis) {}

  // Up to `wanted` slots of a webhook limited to `per_second`, none further ahead of now than
  // `horizon`.
  asio::awaitable<Result<SlotGrant, StoreError>> reserve(std::string_view webhook_id,
                                                         int per_second, std::int64_t wanted,
                                                         std::chrono::microseconds horizon);

 private:
  redis::Client& redis_;
};

}  // namespace hookstream::store
