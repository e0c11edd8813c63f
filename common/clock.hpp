#pragma once
// Time and randomness are injected wherever behaviour depends on them (ids, retries, jitter,
// rate limits, key expiry), so tests can be exact instead of sleeping.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>

namespace hookstream {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual std::chrono::system_clock::time_point now() const = 0;
};

class SystemClock final : public Clock {
 public:
  std::chrono::system_clock::time_point now() const override {
    return std::chrono::system_clock::now();
  }
};

class Random {
 public:
  virtual ~Random() = default;
  virtual void fill(std::span<std::byte> out) = 0;

  std::uint64_t next_u64() {
    std::uint64_t v = 0;
    fill(std::as_writable_bytes(std::span(&v, 1)));
    return v;
  }
  // Uniform in [0, bound) for bound > 0.
  std::uint64_t uniform(std::uint64_t bound);
};

// Cryptographically secure bytes from OpenSSL's RNG; thread-safe.
class SecureRandom final : public Random {
 public:
  void fill(std::span<std::byte> out) override;
};

}  // namespace hookstream
