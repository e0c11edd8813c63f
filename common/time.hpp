#pragma once
// RFC 3339 timestamps and human durations ("250ms", "5s", "2m", "1h", "30d").
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace hookstream {

using TimePoint = std::chrono::system_clock::time_point;
using Millis = std::chrono::milliseconds;

// UTC with millisecond precision: 2026-03-05T12:00:00.000Z
std::string format_rfc3339(TimePoint t);
// Accepts "Z" or a numeric offset and any number of fractional digits (kept to microseconds).
// Times TimePoint cannot hold (before 1678 or after 2261) are refused.
Result<TimePoint> parse_rfc3339(std::string_view text);

// "<integer><unit>" with unit ms, s, m, h or d. Zero is allowed; negative is not, nor more than
// 2^40 ms (about 34 years).
Result<Millis> parse_duration(std::string_view text);
// Comma-separated durations, e.g. HOOKSTREAM_RETRY_SCHEDULE.
Result<std::vector<Millis>> parse_duration_list(std::string_view text);
std::string format_duration(Millis d);

std::int64_t to_unix_millis(TimePoint t);
// The instant `ms` milliseconds after the epoch, or nothing when TimePoint (nanoseconds in an
// int64: years 1678 to 2261) cannot hold it. For numbers from outside: Kafka timestamps, headers.
std::optional<TimePoint> from_unix_millis(std::int64_t ms);
std::int64_t to_unix_seconds(TimePoint t);

}  // namespace hookstream
