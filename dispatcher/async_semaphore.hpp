#pragma once
// A counting semaphore for coroutines on one executor (Boost 1.74 has no channels): waiters park
// on a timer that never expires by itself; release() hands the slot over by cancelling it, and
// evict_waiters() sends the newest waiters away without a slot.
#include <deque>
#include <memory>

#include "common/asio.hpp"

namespace hookstream::dispatcher {

class AsyncSemaphore {
 public:
  AsyncSemaphore(asio::any_io_executor executor, std::size_t count)
      : executor_(std::move(executor)), available_(count) {}

  // A slot if one is free now (no coroutine frame, no timer: the common case).
  bool try_acquire() {
    if (available_ == 0) return false;
    --available_;
    return true;
  }

  // True with a slot; false when evicted (the caller holds no slot).
  asio::awaitable<bool> acquire() {
    if (available_ > 0) {
      --available_;
      co_return true;
    }
    auto waiter = std::make_shared<Waiter>(executor_);
    waiters_.push_back(waiter);
    boost::system::error_code ec;
    co_await waiter->timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    co_return waiter->granted;
  }

  void release() {
    if (!waiters_.empty()) {
      waiters_.front()->granted = true;  // the slot passes to the oldest waiter
      waiters_.front()->timer.cancel();
      waiters_.pop_front();
      return;
    }
    ++available_;
  }

  // Wakes the newest waiters beyond the oldest `keep` without a slot.
  void evict_waiters(std::size_t keep) {
    while (waiters_.size() > keep) {
      waiters_.back()->timer.cancel();
      waiters_.pop_back();
    }
  }

  std::size_t waiting() const { return waiters_.size(); }
  std::size_t available() const { return available_; }

 private:
  asio::any_io_executor executor_;
  std::size_t available_;
  struct Waiter {
    explicit Waiter(const asio::any_io_executor& ex)
        : timer(ex, asio::steady_timer::time_point::max()) {}
    asio::steady_timer timer;
    bool granted = false;
  };
  std::deque<std::shared_ptr<Waiter>> waiters_;
};

}  // namespace hookstream::dispatcher
