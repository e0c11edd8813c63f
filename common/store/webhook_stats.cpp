#include "common/store/webhook_stats.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>

namespace hookstream::store {
namespace {

constexpr std::int64_t kHourMs = 3'600'000;

std::int64_t number(const redis::Reply& r) {
  if (!r.is_string()) return 0;
  const auto text = r.as_string();
  std::int64_t n = 0;
  const auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  return ec == std::errc{} && p == text.data() + text.size() ? n : 0;
}

}  // namespace

std::size_t duration_bucket(std::int64_t duration_ms) {
  const auto it = std::lower_bound(kDurationBoundsMs.begin(), kDurationBoundsMs.end(), duration_ms);
  return static_cast<std::size_t>(it - kDurationBoundsMs.begin());
}

std::optional<std::int64_t> HourStats::duration_quantile(double q) const {
  std::int64_t total = 0;
  for (const auto n : durations) total += n;
  if (total == 0) return std::nullopt;
  const auto rank = std::max<std::int64_t>(
      1, static_cast<std::int64_t>(std::ceil(q * static_cast<double>(total))));
  std::int64_t seen = 0;
  for (std::size_t k = 0; k < durations.size(); ++k) {
    seen += durations[k];
    if (seen >= rank) return kDurationBoundsMs[std::min(k, kDurationBoundsMs.size() - 1)];
  }
  return kDurationBoundsMs.back();
}

HourStats& HourStats::operator+=(const HourStats& other) {
  attempts += other.attempts;
  successes += other.successes;
  failures += other.failures;
  for (std::size_t k = 0; k < durations.size(); ++k) durations[k] += other.durations[k];
  return *this;
}

std::string webhook_stats_key(std::int64_t hour) {
  return "hs:stats:" + std::to_string(hour);
}

asio::awaitable<Result<std::vector<HourStats>, StoreError>> WebhookStats::last_day(
    std::string_view webhook_id, TimePoint now) {
  const auto now_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  const auto last = now_ms / kHourMs;
  const std::string prefix = std::string(webhook_id) + ":";
  std::vector<std::string> fields = {prefix + "a", prefix + "s", prefix + "f"};
  for (std::size_t k = 0; k < kDurationBuckets; ++k)
    fields.push_back(prefix + "d" + std::to_string(k));

  std::vector<std::vector<std::string>> commands;
  for (std::int64_t h = last - kHours + 1; h <= last; ++h) {
    std::vector<std::string> c = {"HMGET", webhook_stats_key(h)};
    c.insert(c.end(), fields.begin(), fields.end());
    commands.push_back(std::move(c));
  }
  auto r = co_await redis_.pipeline(std::move(commands));
  if (!r) co_return fail(unavailable(r.error()));
  std::vector<HourStats> out;
  std::int64_t h = last - kHours + 1;
  for (const auto& reply : *r) {
    HourStats s;
    s.hour = TimePoint(std::chrono::milliseconds(h++ * kHourMs));
    const auto& v = reply.elements();
    if (v.size() == fields.size()) {
      s.attempts = number(v[0]);
      s.successes = number(v[1]);
      s.failures = number(v[2]);
      for (std::size_t k = 0; k < kDurationBuckets; ++k) s.durations[k] = number(v[3 + k]);
    }
    out.push_back(s);
  }
  co_return out;
}

}  // namespace hookstream::store
