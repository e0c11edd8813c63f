#include "common/time.hpp"

#include <charconv>
#include <cstdio>

namespace hookstream {
namespace {

bool parse_digits(std::string_view s, std::size_t pos, std::size_t n, int& out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  out = v;
  return true;
}

Unexpected<Error> bad_time(std::string_view text) {
  return fail("invalid_time", "'" + std::string(text.substr(0, 64)) +
                                  "' is not an RFC 3339 timestamp (e.g. 2026-03-05T12:00:00.000Z)");
}

}  // namespace

std::string format_rfc3339(TimePoint t) {
  using namespace std::chrono;
  const auto ms = time_point_cast<milliseconds>(t);
  const auto day = floor<days>(ms);
  const year_month_day ymd{day};
  const hh_mm_ss hms{ms - day};
  const int y = static_cast<int>(ymd.year());
  const auto h = static_cast<unsigned>(hms.hours().count());
  const auto mi = static_cast<unsigned>(hms.minutes().count());
  const auto sec = static_cast<unsigned>(hms.seconds().count());
  const auto milli = static_cast<unsigned>(hms.subseconds().count());
  if (y < 0 || y > 9999) {  // outside what four digits hold: printf widens the year
    char buf[48];
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02u:%02u:%02u.%03uZ", y,
                  static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()), h, mi, sec,
                  milli);
    return buf;
  }
  // Once per event (the webhook body's timestamp): digits placed directly, no printf.
  std::string out = "0000-00-00T00:00:00.000Z";
  const auto put = [&out](std::size_t at, unsigned value, std::size_t width) {
    for (std::size_t i = width; i-- > 0; value /= 10)
      out[at + i] = static_cast<char>('0' + value % 10);
  };
  put(0, static_cast<unsigned>(y), 4);
  put(5, static_cast<unsigned>(ymd.month()), 2);
  put(8, static_cast<unsigned>(ymd.day()), 2);
  put(11, h, 2);
  put(14, mi, 2);
  put(17, sec, 2);
  put(20, milli, 3);
  return out;
}

Result<TimePoint> parse_rfc3339(std::string_view s) {
  using namespace std::chrono;
  int y, mo, d, h, mi, sec;
  if (s.size() < 20 || !parse_digits(s, 0, 4, y) || s[4] != '-' || !parse_digits(s, 5, 2, mo) ||
      s[7] != '-' || !parse_digits(s, 8, 2, d) || (s[10] != 'T' && s[10] != 't') ||
      !parse_digits(s, 11, 2, h) || s[13] != ':' || !parse_digits(s, 14, 2, mi) || s[16] != ':' ||
      !parse_digits(s, 17, 2, sec))
    return bad_time(s);
  const year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)},
                           day{static_cast<unsigned>(d)}};
  if (!ymd.ok() || h > 23 || mi > 59 || sec > 60) return bad_time(s);

  std::size_t pos = 19;
  microseconds frac{0};
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    const std::size_t start = pos;
    std::int64_t us = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (pos - start < 6) us = us * 10 + (s[pos] - '0');
      ++pos;
    }
    if (pos == start) return bad_time(s);
    for (std::size_t n = pos - start; n < 6; ++n) us *= 10;
    frac = microseconds{us};
  }
  minutes offset{0};
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    int oh, om;
    if (!parse_digits(s, pos + 1, 2, oh) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
        !parse_digits(s, pos + 4, 2, om) || oh > 23 || om > 59)
      return bad_time(s);
    offset = hours{oh} + minutes{om};
    if (s[pos] == '-') offset = -offset;
    pos += 6;
  } else {
    return bad_time(s);
  }
  if (pos != s.size()) return bad_time(s);
  const auto tp = sys_days{ymd} + hours{h} + minutes{mi} + seconds{sec} + frac - offset;
  // Years 0000-9999 fit in microseconds but not all of them in TimePoint's nanoseconds.
  constexpr auto kLimit = duration_cast<microseconds>(TimePoint::duration::max());
  if (tp.time_since_epoch() > kLimit || tp.time_since_epoch() < -kLimit)
    return fail("invalid_time", "'" + std::string(s.substr(0, 64)) +
                                    "' is outside the supported years (1678 to 2261)");
  return time_point_cast<system_clock::duration>(tp);
}

Result<Millis> parse_duration(std::string_view text) {
  std::int64_t n = 0;
  const auto* end = text.data() + text.size();
  auto [p, ec] = std::from_chars(text.data(), end, n);
  if (ec != std::errc{} || p == text.data() || n < 0)
    return fail(
        "invalid_duration",
        "'" + std::string(text) + "' is not a duration (a number and a unit: ms, s, m, h, d)");
  const std::string_view unit(p, static_cast<std::size_t>(end - p));
  std::int64_t scale = 0;
  if (unit == "ms")
    scale = 1;
  else if (unit == "s")
    scale = 1000;
  else if (unit == "m")
    scale = 60'000;
  else if (unit == "h")
    scale = 3'600'000;
  else if (unit == "d")
    scale = 86'400'000;
  else
    return fail("invalid_duration",
                "'" + std::string(text) + "' has no valid unit (use ms, s, m, h or d)");
  // At most 2^40 ms (about 34 years): n * scale must not overflow, and neither must "now + d"
  // in TimePoint's nanoseconds (an API key's expires_in is a caller's duration).
  constexpr std::int64_t kMaxMillis = std::int64_t{1} << 40;
  if (n > kMaxMillis / scale)
    return fail("invalid_duration", "'" + std::string(text) + "' is too large");
  return Millis{n * scale};
}

Result<std::vector<Millis>> parse_duration_list(std::string_view text) {
  std::vector<Millis> out;
  while (!text.empty()) {
    const auto comma = text.find(',');
    auto item = text.substr(0, comma);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    auto d = parse_duration(item);
    if (!d) return fail(std::move(d).error());
    out.push_back(*d);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return out;
}

std::string format_duration(Millis d) {
  const auto n = d.count();
  if (n != 0 && n % 86'400'000 == 0) return std::to_string(n / 86'400'000) + "d";
  if (n != 0 && n % 3'600'000 == 0) return std::to_string(n / 3'600'000) + "h";
  if (n != 0 && n % 60'000 == 0) return std::to_string(n / 60'000) + "m";
  if (n != 0 && n % 1000 == 0) return std::to_string(n / 1000) + "s";
  return std::to_string(n) + "ms";
}

std::int64_t to_unix_millis(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}
std::optional<TimePoint> from_unix_millis(std::int64_t ms) {
  constexpr auto kLimit =
      std::chrono::duration_cast<std::chrono::milliseconds>(TimePoint::duration::max()).count();
  if (ms > kLimit || ms < -kLimit) return std::nullopt;
  return TimePoint{std::chrono::milliseconds{ms}};
}

std::int64_t to_unix_seconds(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

}  // namespace hookstream
