#include "common/clock.hpp"

#include <openssl/rand.h>

#include <limits>
#include <stdexcept>

namespace hookstream {

std::uint64_t Random::uniform(std::uint64_t bound) {
  // Rejection sampling avoids modulo bias.
  const std::uint64_t limit =
      std::numeric_limits<std::uint64_t>::max() - std::numeric_limits<std::uint64_t>::max() % bound;
  for (;;) {
    const std::uint64_t v = next_u64();
    if (v < limit) return v % bound;
  }
}

void SecureRandom::fill(std::span<std::byte> out) {
  if (out.empty()) return;
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(out.size())) != 1)
    throw std::runtime_error("OpenSSL RAND_bytes failed");  // the process cannot work safely
}

}  // namespace hookstream
