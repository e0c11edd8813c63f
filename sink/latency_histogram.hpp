#pragma once
// A fixed log-linear latency histogram: constant memory and O(1) recording, so the sink can count
// every delivery of a long benchmark without keeping samples. Values are kept in units of 0.1 ms:
// exact below 12.8 ms, then 64 buckets per doubling (under 1.6% error) up to 10 minutes; larger
// values land in the last bucket, while max_ms() stays exact (to 0.1 ms).
#include <algorithm>
#include <array>
#include <bit>
#include <chrono>
#include <cstddef>
#include <cstdint>

namespace hookstream::sink {

namespace histogram_layout {
inline constexpr std::int64_t kUnitMicros = 100;
inline constexpr std::int64_t kLimitUnits = 6'000'000;  // 10 minutes
inline constexpr int kSubBucketBits = 6;
inline constexpr std::int64_t kSubBuckets = std::int64_t{1} << kSubBucketBits;
inline constexpr std::int64_t kLinearUnits = 2 * kSubBuckets;

constexpr std::size_t index_of(std::int64_t units) {
  units = std::clamp<std::int64_t>(units, 0, kLimitUnits);
  if (units < kLinearUnits) return static_cast<std::size_t>(units);
  // Above the linear range each doubling [2^k, 2^(k+1)) splits into kSubBuckets equal buckets.
  const int k = static_cast<int>(std::bit_width(static_cast<std::uint64_t>(units))) - 1;
  const std::int64_t sub = (units >> (k - kSubBucketBits)) - kSubBuckets;
  return static_cast<std::size_t>(kLinearUnits + (k - kSubBucketBits - 1) * kSubBuckets + sub);
}

// The largest value (in units) that lands in bucket `index`.
constexpr std::int64_t upper_edge(std::size_t index) {
  const auto i = static_cast<std::int64_t>(index);
  if (i < kLinearUnits) return i;
  const std::int64_t k = kSubBucketBits + 1 + (i - kLinearUnits) / kSubBuckets;
  const std::int64_t sub = kSubBuckets + (i - kLinearUnits) % kSubBuckets;
  return ((sub + 1) << (k - kSubBucketBits)) - 1;
}

inline constexpr std::size_t kBuckets = index_of(kLimitUnits) + 1;
}  // namespace histogram_layout

class LatencyHistogram {
 public:
  // Negative latencies (the sender's clock ahead of ours) count as zero.
  void record(std::chrono::microseconds latency);
  void reset();

  std::uint64_t count() const { return count_; }
  // The value at or below which `percent` of the samples lie: the upper edge of the bucket that
  // holds that rank, capped at max_ms(). 0 when empty.
  double percentile_ms(double percent) const;
  double max_ms() const;

 private:
  std::array<std::uint64_t, histogram_layout::kBuckets> buckets_{};
  std::uint64_t count_ = 0;
  std::int64_t max_micros_ = 0;
};

}  // namespace hookstream::sink
