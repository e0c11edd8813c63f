#include "sink/response_policy.hpp"

#include <cmath>

namespace hookstream::sink {

int choose_status(const ResponsePolicy& policy, Random& random) {
  if (policy.fail_percent <= 0) return policy.status;
  if (policy.fail_percent >= 100) return 500;
  // Parts per million, so fractional percentages (0.5) work too.
  constexpr std::uint64_t kScale = 1'000'000;
  const auto threshold = static_cast<std::uint64_t>(std::llround(policy.fail_percent * 10'000));
  return random.uniform(kScale) < threshold ? 500 : policy.status;
}

}  // namespace hookstream::sink
