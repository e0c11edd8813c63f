#pragma once
// A counting semaphore for coroutines on one executor (Boost 1.74 has no channels): waiters park
// on a timer that never expires by itself; release() hands the slot over by cancelling it.
#include <deque>
#include <memory>

#include "common/asio.hpp"

namespace hookstream::dispatcher {

class AsyncSemaphore {
 public:
  AsyncSemaphore(asio::any_io_executor executor, std::size_t count)
      : executor_(std::move(executor)), available_(count) {}

  asio::awaitable<void> acquire() {
    if (available_ > 0) {
      --available_;
      co_return;
    }
    auto waiter =
        std::make_shared<asio::steady_timer>(executor_, asio::steady_timer::time_point::max());
    waiters_.push_back(waiter);
    boost::system::error_code ec;
    co_await waiter->async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }

  void release() {
    if (!waiters_.empty()) {
      waiters_.front()->cancel();  // the slot passes to the oldest waiter
      waiters_.pop_front();
      return;
    }
    ++available_;
  }

  std::size_t waiting() const { return waiters_.size(); }
  std::size_t available() const { return available_; }

 private:
  asio::any_io_executor executor_;
  std::size_t available_;
  std::deque<std::shared_ptr<asio::steady_timer>> waiters_;
};

}  // namespace hookstream::dispatcher
