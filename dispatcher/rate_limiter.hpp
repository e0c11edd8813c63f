#pragma once
// Stage 4a: rate limits (SPEC §4). An endpoint with `rate_limit` gets at most that many attempts
// per second, summed over every dispatcher. Its send slots are reserved in Redis
// (store::SendSlots), a batch at a time, by whichever shard needs them: a call reserves up to half
// a second of the limit (what the endpoint's queue here can use), at most kHorizon ahead, and the
// shard hands the slots to its workers one by one. Each worker waits for its slot's time, then
// sends. Slots never overlap across dispatchers, so the endpoint sees the limit however many
// dispatchers share it; a slot that was not used in time is dropped, never sent late in a burst.
//
// Waiting for a slot is not an attempt: the worker holds none of the process's in-flight slots
// and the endpoint is not stalled meanwhile (Attempts counts it as waiting for the process).
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "dispatcher/engine_context.hpp"

namespace hookstream::dispatcher {

class RateLimiter {
 public:
  using SteadyClock = std::chrono::steady_clock;
  // How far ahead of now slots may be reserved: enough for a batch to arrive before it is due,
  // little enough that a dispatcher that stops holds few slots nobody uses.
  static constexpr std::chrono::microseconds kHorizon{2'000'000};
  // A batch is at most this much of the limit (and at least one slot).
  static constexpr std::chrono::milliseconds kBatch{500};

  explicit RateLimiter(EngineContext& engine) : engine_(engine) {}
  std::size_t endpoints() const { return budgets_.size(); }

  // Waits until this delivery may be sent to `webhook_id`, limited to `per_second`; `demand` is
  // how many deliveries for it this shard has waiting (the batch it asks Redis for). False when
  // the engine stops first.
  asio::awaitable<bool> acquire(const std::string& webhook_id, int per_second, std::size_t demand);
  // The batch asked for when `demand` deliveries wait for an endpoint limited to `per_second`.
  static std::int64_t batch_size(int per_second, std::size_t demand);

 private:
  struct Budget {
    std::int64_t left = 0;           // reserved slots not handed out yet
    SteadyClock::time_point next{};  // the time of the next of them
    std::chrono::microseconds interval{};
    std::size_t waiting = 0;                   // acquirers without a slot
    std::size_t demand = 0;                    // the latest acquirer's view of its queue
    bool reserving = false;                    // one acquirer is asking Redis for this budget
    std::shared_ptr<asio::steady_timer> wake;  // where the others wait for its answer
  };
  using BudgetPtr = std::shared_ptr<Budget>;

  // Asks Redis for a batch; back when it is in (or Redis said when to ask again and that time
  // passed, or the engine is stopping).
  asio::awaitable<void> reserve(const std::string& webhook_id, int per_second, Budget& budget);
  // The next reserved slot still to come, if there is one; slots already past are dropped.
  std::optional<SteadyClock::time_point> take(Budget& budget, SteadyClock::time_point now);
  void forget_idle(SteadyClock::time_point now);

  EngineContext& engine_;
  std::map<std::string, BudgetPtr, std::less<>> budgets_;
  static constexpr std::size_t kSweepEvery = 1024;  // acquisitions between forget_idle() walks
  std::size_t acquired_ = 0;
};

}  // namespace hookstream::dispatcher
