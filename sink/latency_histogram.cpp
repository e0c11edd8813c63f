#include "sink/latency_histogram.hpp"

#include <cmath>

namespace hookstream::sink {

using namespace histogram_layout;

void LatencyHistogram::record(std::chrono::microseconds latency) {
  const std::int64_t us = std::max<std::int64_t>(latency.count(), 0);
  ++buckets_[index_of(us / kUnitMicros)];
  ++count_;
  max_micros_ = std::max(max_micros_, us);
}

void LatencyHistogram::reset() {
  buckets_.fill(0);
  count_ = 0;
  max_micros_ = 0;
}

double LatencyHistogram::percentile_ms(double percent) const {
  if (count_ == 0) return 0;
  const double wanted =
      std::ceil(std::clamp(percent, 0.0, 100.0) / 100.0 * static_cast<double>(count_));
  const auto rank = std::max<std::uint64_t>(1, static_cast<std::uint64_t>(wanted));
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < buckets_.size(); ++i) {
    seen += buckets_[i];
    if (seen >= rank) return std::min(static_cast<double>(upper_edge(i)) / 10.0, max_ms());
  }
  return max_ms();
}

double LatencyHistogram::max_ms() const {
  // At the histogram's 0.1 ms resolution, like the percentiles.
  return static_cast<double>(max_micros_ / kUnitMicros) / 10.0;
}

}  // namespace hookstream::sink
