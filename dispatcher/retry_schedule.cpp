#include "dispatcher/retry_schedule.hpp"

#include <algorithm>

namespace hookstream::dispatcher {

std::optional<Millis> RetrySchedule::next_delay(int failed_attempt,
                                                std::optional<Millis> retry_after) const {
  if (failed_attempt < 1 || failed_attempt > static_cast<int>(delays_.size())) return std::nullopt;
  Millis delay = delays_[static_cast<std::size_t>(failed_attempt - 1)];
  if (retry_after && *retry_after > delay) {
    // The smallest tier that waits at least as long as asked, or the longest tier.
    Millis best = *std::max_element(delays_.begin(), delays_.end());
    for (const auto d : delays_)
      if (d >= *retry_after && d < best) best = d;
    delay = std::max(delay, best);
  }
  return delay;
}

Millis RetrySchedule::parking_tier(std::optional<Millis> from) const {
  std::vector<Millis> tiers = delays_;
  std::sort(tiers.begin(), tiers.end());
  tiers.erase(std::unique(tiers.begin(), tiers.end()), tiers.end());
  if (tiers.size() > 3) tiers.resize(3);
  if (!from) return tiers.front();
  const auto longer = std::upper_bound(tiers.begin(), tiers.end(), *from);
  return longer == tiers.end() ? tiers.back() : *longer;
}

Millis RetrySchedule::jitter(Millis delay, Random& random) {
  const auto spread = static_cast<std::uint64_t>(delay.count() / 10);
  return spread == 0 ? Millis{0} : Millis{static_cast<std::int64_t>(random.uniform(spread + 1))};
}

}  // namespace hookstream::dispatcher
