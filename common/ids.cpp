#include "common/ids.hpp"

#include <array>
#include <cstdint>

#include "common/time.hpp"

namespace hookstream {
namespace {
constexpr std::string_view kAlphabet = "0123456789abcdefghjkmnpqrstvwxyz";
constexpr std::size_t kBodyLength = 26;
}  // namespace

std::string IdGenerator::next(std::string_view prefix) const {
  std::array<std::byte, 10> rnd{};
  random_.fill(rnd);
  // 128 bits: 48 of time, 80 of randomness, read out 5 bits at a time (130 bits, top 2 are zero).
  const auto ms = static_cast<std::uint64_t>(to_unix_millis(clock_.now())) & 0xFFFF'FFFF'FFFFull;
  std::uint64_t hi = (ms << 16) | (std::to_integer<std::uint64_t>(rnd[0]) << 8) |
                     std::to_integer<std::uint64_t>(rnd[1]);
  std::uint64_t lo = 0;
  for (std::size_t i = 2; i < rnd.size(); ++i)
    lo = (lo << 8) | std::to_integer<std::uint64_t>(rnd[i]);

  std::string out;
  out.reserve(prefix.size() + 1 + kBodyLength);
  out.append(prefix).push_back('_');
  for (int i = static_cast<int>(kBodyLength) - 1; i >= 0; --i) {
    const int bit = i * 5;  // position of this char's lowest bit in the 130-bit number
    std::uint64_t v;
    if (bit >= 64) {
      v = hi >> (bit - 64);
    } else if (bit + 5 <= 64) {
      v = lo >> bit;
    } else {
      v = (lo >> bit) | (hi << (64 - bit));
    }
    out.push_back(kAlphabet[v & 31]);
  }
  return out;
}

bool has_id_shape(std::string_view id, std::string_view prefix) {
  if (id.size() != prefix.size() + 1 + kBodyLength || !id.starts_with(prefix) ||
      id[prefix.size()] != '_')
    return false;
  for (char c : id.substr(prefix.size() + 1))
    if (kAlphabet.find(c) == std::string_view::npos) return false;
  return true;
}

}  // namespace hookstream
