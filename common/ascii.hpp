#pragma once
// ASCII case-insensitive comparison, for protocol tokens (HTTP header names, Redis command names).
// Not std::tolower: that is a call into the C locale per character.
#include <cstddef>
#include <string_view>

namespace hookstream {

constexpr char ascii_lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

constexpr bool iequals_ascii(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  return true;
}

}  // namespace hookstream
