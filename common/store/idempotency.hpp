#pragma once
// Idempotency of event publishing (SPEC §3): an Idempotency-Key header and a caller-given event id
// each claim a key. A publish claims its keys (all or none) before producing, marks them done with
// the answer after (kept 24 h), and releases them if producing failed, so a retry can publish.
//
// A claim is a lease: it holds its keys for `lease` only (longer than any publish takes), so a
// claim whose request died (an API crash, Redis unreachable until the end) refuses repeats with
// 409 for that long, not for a day. And a claim whose fate is unknown (Redis timed out or dropped
// the connection: it may have run the script anyway) is undone before the request answers 503, so
// the client's retry is not refused as "in progress".
#include <optional>
#include <string>
#include <vector>

#include "common/asio.hpp"
#include "common/redis/client.hpp"
#include "common/result.hpp"
#include "common/store/errors.hpp"
#include "common/time.hpp"

namespace hookstream::store {

struct IdempotencyTimes {
  Millis lease{30'000};  // how long an unfinished claim holds its keys
  Millis settle{5'000};  // how long a request keeps trying to release or complete its claim
};

class IdempotencyKeys {
 public:
  static constexpr Millis kKeep{24 * 3600 * 1000};  // a completed claim: the first answer

  IdempotencyKeys(redis::Client& redis, IdempotencyTimes times) : redis_(redis), times_(times) {}

  // Claims every key with `pending` (a value unique to this request) for the lease; nullopt when
  // claimed, else the value a key already holds.
  asio::awaitable<Result<std::optional<std::string>, StoreError>> claim(
      const std::vector<std::string>& keys, std::string pending);
  // Frees the keys that still hold `pending`. Tries for `settle`; after that the lease ends it.
  asio::awaitable<void> release(const std::vector<std::string>& keys, const std::string& pending);
  // Replaces the claim with the answer `done`, kept 24 h. Tries for `settle`.
  asio::awaitable<void> complete(const std::vector<std::string>& keys, const std::string& done);

 private:
  redis::Client& redis_;
  IdempotencyTimes times_;
};

}  // namespace hookstream::store
