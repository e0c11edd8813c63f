#pragma once
// Idempotency of event publishing (SPEC §3): an Idempotency-Key header and a caller-given event id
// each claim a key for 24 h. A publish claims its keys (all or none) before producing, marks them
// done with the answer after, and releases them if producing failed, so a retry can publish.
#include <optional>
#include <string>
#include <vector>

#include "common/asio.hpp"
#include "common/redis/client.hpp"
#include "common/result.hpp"
#include "common/store/errors.hpp"

namespace hookstream::store {

class IdempotencyKeys {
 public:
  explicit IdempotencyKeys(redis::Client& redis) : redis_(redis) {}

  // Claims every key with `value`; nullopt when claimed, else the value a key already holds.
  asio::awaitable<Result<std::optional<std::string>, StoreError>> claim(
      const std::vector<std::string>& keys, std::string value);
  // Best effort: a failure leaves the claim to expire.
  asio::awaitable<void> release(const std::vector<std::string>& keys);
  asio::awaitable<void> complete(const std::vector<std::string>& keys, const std::string& value);

 private:
  redis::Client& redis_;
};

}  // namespace hookstream::store
