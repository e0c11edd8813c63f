#pragma once
// Identifiers: "<prefix>_<26 chars>", the chars being a 48-bit millisecond timestamp and 80 random
// bits in lowercase Crockford base32 (ULID layout). URL-safe, and they sort by creation time.
#include <string>
#include <string_view>

#include "common/clock.hpp"

namespace hookstream {

namespace id_prefix {
inline constexpr std::string_view event = "evt";
inline constexpr std::string_view webhook = "wh";
inline constexpr std::string_view delivery = "dlv";
inline constexpr std::string_view api_key = "key";
inline constexpr std::string_view portal_session = "ps";
}  // namespace id_prefix

class IdGenerator {
 public:
  IdGenerator(const Clock& clock, Random& random) : clock_(clock), random_(random) {}
  std::string next(std::string_view prefix) const;

 private:
  const Clock& clock_;
  Random& random_;
};

// True when `id` is "<prefix>_" followed by 26 base32 characters.
bool has_id_shape(std::string_view id, std::string_view prefix);

}  // namespace hookstream
