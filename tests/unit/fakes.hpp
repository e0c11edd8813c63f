#pragma once
// Hand-written fakes of the narrow interfaces that unit tests inject.
#include <chrono>
#include <cstdint>

#include "common/clock.hpp"

namespace hookstream::testing_support {

class FakeClock final : public Clock {
 public:
  explicit FakeClock(std::chrono::system_clock::time_point t =
                         std::chrono::system_clock::time_point{
                             std::chrono::milliseconds{1'772'712'000'000}})
      : now_(t) {}
  std::chrono::system_clock::time_point now() const override { return now_; }
  void advance(std::chrono::milliseconds d) { now_ += d; }
  void set(std::chrono::system_clock::time_point t) { now_ = t; }

 private:
  std::chrono::system_clock::time_point now_;
};

// Deterministic bytes: 0, 1, 2, … continuing across calls.
class CountingRandom final : public Random {
 public:
  void fill(std::span<std::byte> out) override {
    for (auto& b : out) b = static_cast<std::byte>(next_++);
  }

 private:
  std::uint8_t next_ = 0;
};

}  // namespace hookstream::testing_support
