#pragma once
// Requests per API key per fixed window, counted in Redis so every API replica shares one budget
// (the policy is api/rate_limit.cpp's).
#include <cstdint>
#include <string_view>

#include "common/asio.hpp"
#include "common/redis/client.hpp"
#include "common/result.hpp"
#include "common/store/errors.hpp"

namespace hookstream::store {

class RequestCounts {
 public:
  explicit RequestCounts(redis::Client& redis) : redis_(redis) {}

  // Counts one request in window `window` of the key; the count including it. The counter lives
  // `ttl_ms` from the window's first request.
  asio::awaitable<Result<std::int64_t, StoreError>> count(std::string_view key_id,
                                                          std::int64_t window, std::int64_t ttl_ms);
  // The window's count so far, without counting.
  asio::awaitable<Result<std::int64_t, StoreError>> current(std::string_view key_id,
                                                            std::int64_t window);

 private:
  redis::Client& redis_;
};

}  // namespace hookstream::store
