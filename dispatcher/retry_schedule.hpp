#pragma once
// When to try again (SPEC §4): HOOKSTREAM_RETRY_SCHEDULE lists the delays before attempts 2, 3, …
// Each distinct delay has its own Kafka topic, <prefix>.retry.<delay>; every record in a topic
// waits the same delay, so records come due in the order they were written and a consumer only
// ever waits for the head of a partition. A Retry-After answer is honoured by rounding it up to
// the next tier (capped at the longest), which keeps that order.
#include <optional>
#include <string>
#include <vector>

#include "common/clock.hpp"
#include "common/config.hpp"
#include "common/retry_record.hpp"
#include "common/time.hpp"

namespace hookstream::dispatcher {

class RetrySchedule {
 public:
  explicit RetrySchedule(std::vector<Millis> delays) : delays_(std::move(delays)) {}

  // Attempts in all: the first plus one per delay.
  int max_attempts() const { return static_cast<int>(delays_.size()) + 1; }
  // The tier for the attempt after `failed_attempt` (1-based), honouring `retry_after`;
  // nullopt when no attempt is left.
  std::optional<Millis> next_delay(int failed_attempt, std::optional<Millis> retry_after) const;
  const std::vector<Millis>& delays() const { return delays_; }
  // Where a delivery parked untried from a stalled endpoint waits: the shortest tier when it came
  // from the events topic; the next longer tier when it was read back from the tier `from` (it
  // was parked or retried and its endpoint is still stalled), at most the third shortest, so a
  // dead endpoint's backlog is not rewritten every few seconds yet is tried again within minutes.
  Millis parking_tier(std::optional<Millis> from) const;

  // Extra delay spread over [0, delay / 10], so endpoints that failed together don't all get
  // retried in the same instant. Records in a tier can come due out of order by at most this.
  static Millis jitter(Millis delay, Random& random);

 private:
  std::vector<Millis> delays_;
};

}  // namespace hookstream::dispatcher
