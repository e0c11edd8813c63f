#include "common/http/retry_after.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>

namespace hookstream::http {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// A cursor over the date text; every step fails the parse by returning false.
class DateReader {
 public:
  explicit DateReader(std::string_view s) : s_(s) {}
  bool done() const { return s_.empty(); }
  bool literal(std::string_view lit) {
    if (!s_.starts_with(lit)) return false;
    s_.remove_prefix(lit.size());
    return true;
  }
  bool spaces() {  // asctime pads single-digit days with a space
    if (s_.empty() || s_.front() != ' ') return false;
    while (!s_.empty() && s_.front() == ' ') s_.remove_prefix(1);
    return true;
  }
  bool number(std::size_t min_digits, std::size_t max_digits, int& out) {
    std::size_t n = 0;
    while (n < s_.size() && n < max_digits && s_[n] >= '0' && s_[n] <= '9') ++n;
    if (n < min_digits) return false;
    std::from_chars(s_.data(), s_.data() + n, out);
    s_.remove_prefix(n);
    return true;
  }
  bool month(unsigned& out) {
    static constexpr std::array<std::string_view, 12> kMonths{
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    for (unsigned i = 0; i < kMonths.size(); ++i)
      if (literal(kMonths[i])) {
        out = i + 1;
        return true;
      }
    return false;
  }
  bool word() {  // a day name, not checked against the date
    std::size_t n = 0;
    while (n < s_.size() && std::isalpha(static_cast<unsigned char>(s_[n]))) ++n;
    if (n < 3) return false;
    s_.remove_prefix(n);
    return true;
  }
  bool time(int& h, int& m, int& sec) {
    return number(2, 2, h) && literal(":") && number(2, 2, m) && literal(":") && number(2, 2, sec);
  }

 private:
  std::string_view s_;
};

std::optional<TimePoint> make_time(int year, unsigned month, int day, int h, int m, int s) {
  const std::chrono::year_month_day ymd{std::chrono::year{year}, std::chrono::month{month},
                                        std::chrono::day{static_cast<unsigned>(day)}};
  if (!ymd.ok() || h > 23 || m > 59 || s > 60) return std::nullopt;
  return std::chrono::sys_days{ymd} + std::chrono::hours{h} + std::chrono::minutes{m} +
         std::chrono::seconds{s};
}

std::optional<TimePoint> parse_http_date(std::string_view text) {
  int day = 0, year = 0, h = 0, m = 0, s = 0;
  unsigned month = 0;
  {  // IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT
    DateReader r(text);
    if (r.word() && r.literal(", ") && r.number(2, 2, day) && r.literal(" ") && r.month(month) &&
        r.literal(" ") && r.number(4, 4, year) && r.literal(" ") && r.time(h, m, s) &&
        r.literal(" GMT") && r.done())
      return make_time(year, month, day, h, m, s);
  }
  {  // RFC 850: Sunday, 06-Nov-94 08:49:37 GMT (two-digit years: 50 years rule of RFC 9110)
    DateReader r(text);
    if (r.word() && r.literal(", ") && r.number(2, 2, day) && r.literal("-") && r.month(month) &&
        r.literal("-") && r.number(2, 2, year) && r.literal(" ") && r.time(h, m, s) &&
        r.literal(" GMT") && r.done())
      return make_time(year < 70 ? 2000 + year : 1900 + year, month, day, h, m, s);
  }
  {  // asctime: Sun Nov  6 08:49:37 1994
    DateReader r(text);
    if (r.word() && r.literal(" ") && r.month(month) && r.spaces() && r.number(1, 2, day) &&
        r.literal(" ") && r.time(h, m, s) && r.literal(" ") && r.number(4, 4, year) && r.done())
      return make_time(year, month, day, h, m, s);
  }
  return std::nullopt;
}

}  // namespace

std::optional<Millis> parse_retry_after(std::string_view value, TimePoint now) {
  value = trim(value);
  if (all_digits(value)) {
    // More digits than the cap needs would overflow; they mean "a very long time" all the same.
    const auto cap_seconds = std::chrono::duration_cast<std::chrono::seconds>(kMaxRetryAfter);
    if (value.size() > 10) return kMaxRetryAfter;
    long long seconds = 0;
    std::from_chars(value.data(), value.data() + value.size(), seconds);
    return std::chrono::duration_cast<Millis>(
        std::chrono::seconds{std::min<long long>(seconds, cap_seconds.count())});
  }
  const auto date = parse_http_date(value);
  if (!date) return std::nullopt;
  if (*date <= now) return Millis{0};
  return std::min(std::chrono::duration_cast<Millis>(*date - now), kMaxRetryAfter);
}

}  // namespace hookstream::http
