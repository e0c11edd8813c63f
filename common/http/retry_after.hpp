#pragma once
// The Retry-After response header (RFC 9110 §10.2.3): delay-seconds or an HTTP-date.
#include <optional>
#include <string_view>

#include "common/time.hpp"

namespace hookstream::http {

// The longest delay parse_retry_after reports; callers apply their own, tighter bounds.
inline constexpr Millis kMaxRetryAfter = std::chrono::hours(24 * 365);

// The delay the header asks for, measured from `now`. A date in the past gives zero. Accepts
// delay-seconds and all three HTTP-date forms (IMF-fixdate, RFC 850, asctime); anything else,
// including negative or fractional numbers, is nullopt. Large values are capped at kMaxRetryAfter.
std::optional<Millis> parse_retry_after(std::string_view value, TimePoint now);

}  // namespace hookstream::http
