#pragma once
// Which status a delivery gets: the configured one, or 500 for a random share of deliveries.
#include <cstdint>

#include "common/clock.hpp"

namespace hookstream::sink {

struct ResponsePolicy {
  int status = 200;
  double fail_percent = 0;  // 0–100
};

// Draws from `random` only when 0 < fail_percent < 100, so the common case costs nothing.
int choose_status(const ResponsePolicy& policy, Random& random);

}  // namespace hookstream::sink
