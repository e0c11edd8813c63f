#pragma once
// ASCII helpers for protocol tokens and ids: case-insensitive comparison (HTTP header names, Redis
// command names; not std::tolower, a call into the C locale per character) and character sets as
// tables (not find_first_not_of, which searches the whole set again for every character).
#include <array>
#include <cstddef>
#include <cstring>
#include <initializer_list>
#include <string>
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

// A set of characters, e.g. `constexpr CharSet kIdChars("abc...")`.
class CharSet {
 public:
  constexpr explicit CharSet(std::string_view chars) {
    for (const char c : chars) in_[static_cast<unsigned char>(c)] = true;
  }
  constexpr bool contains(char c) const { return in_[static_cast<unsigned char>(c)]; }
  // Whether every character of `text` is in the set (true for an empty text).
  constexpr bool all_of(std::string_view text) const {
    for (const char c : text)
      if (!contains(c)) return false;
    return true;
  }

 private:
  std::array<bool, 256> in_{};
};

// Appends the parts with one change of size: a header line or a JSON key is four or five short
// pieces, and each append on its own checks the capacity and moves the length (~40 instructions).
inline void append_all(std::string& out, std::initializer_list<std::string_view> parts) {
  std::size_t n = 0;
  for (const auto part : parts) n += part.size();
  const std::size_t at = out.size();
  out.resize(at + n);
  char* p = out.data() + at;
  for (const auto part : parts) {
    if (part.empty()) continue;  // a default string_view's data() is null: not for memcpy
    std::memcpy(p, part.data(), part.size());
    p += part.size();
  }
}

}  // namespace hookstream
