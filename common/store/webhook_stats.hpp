#pragma once
// Attempts per webhook and hour (SPEC §3, GET /v1/webhooks/{id}/stats). The delivery log's script
// counts them as it logs attempts (lua/record_deliveries.lua), once per attempt (an attempt logged
// twice counts once), with three commands per logged batch and none per delivery:
//
//   hs:stats:{hour}  hash  "<wh_id>:a" attempts, ":s" successes, ":f" failures, ":d<k>" attempts
//                          whose duration fell in bucket k; {hour} is Unix ms / 3,600,000; the
//                          hash expires 26 h after its hour began.
//
// Durations are kept as a histogram, so p50/p99 are the upper bounds of the buckets they fall in.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/asio.hpp"
#include "common/redis/client.hpp"
#include "common/result.hpp"
#include "common/store/errors.hpp"
#include "common/time.hpp"

namespace hookstream::store {

// Bucket k holds durations up to kDurationBoundsMs[k] (above the previous bound); one more bucket
// holds longer ones.
inline constexpr std::array<std::int64_t, 27> kDurationBoundsMs = {
    1,   2,   3,   5,    7,    10,   15,   20,   30,   50,    70,    100,   150,  200,
    300, 500, 700, 1000, 1500, 2000, 3000, 5000, 7000, 10000, 15000, 20000, 30000};
inline constexpr std::size_t kDurationBuckets = kDurationBoundsMs.size() + 1;

std::size_t duration_bucket(std::int64_t duration_ms);

struct HourStats {
  TimePoint hour;  // when the hour began
  std::int64_t attempts = 0;
  std::int64_t successes = 0;
  std::int64_t failures = 0;
  std::array<std::int64_t, kDurationBuckets> durations{};

  // The upper bound of the bucket holding the q-quantile of the durations (the last bucket's
  // lower bound for the longest ones); nullopt without attempts.
  std::optional<std::int64_t> duration_quantile(double q) const;
  HourStats& operator+=(const HourStats& other);
};

std::string webhook_stats_key(std::int64_t hour);

class WebhookStats {
 public:
  static constexpr int kHours = 24;

  explicit WebhookStats(redis::Client& redis) : redis_(redis) {}
  // The last kHours hours up to and including the one `now` is in, oldest first.
  asio::awaitable<Result<std::vector<HourStats>, StoreError>> last_day(std::string_view webhook_id,
                                                                       TimePoint now);

 private:
  redis::Client& redis_;
};

}  // namespace hookstream::store
