#pragma once
// A one-shot completion for coroutines on Boost 1.74 (no channels, no any_completion_handler):
// an operation that finishes later, elsewhere in the same program, hands its result to the
// coroutine that awaits it.
//
//   asio::awaitable<int> wait_for_answer() {
//     return await_completion<int>([this](Completion<int> done) { waiting_ = std::move(done); });
//   }
//   ... later: std::move(waiting_)(42);  // the coroutine resumes with 42, posted, never inline
#include <memory>
#include <utility>

#include "common/asio.hpp"

namespace hookstream {

template <typename T>
class Completion {
 public:
  Completion() = default;
  template <typename Handler>
  explicit Completion(Handler handler)
      : impl_(std::make_unique<Impl<Handler>>(std::move(handler))) {}

  explicit operator bool() const { return impl_ != nullptr; }

  // Resumes the waiter on its own executor (posted: a caller completing many in a loop is not
  // re-entered by each).
  void operator()(T value) && {
    auto impl = std::move(impl_);
    impl->complete(std::move(value));
  }

 private:
  struct Base {
    virtual ~Base() = default;
    virtual void complete(T value) = 0;
  };
  template <typename Handler>
  struct Impl final : Base {
    explicit Impl(Handler h)
        : handler(std::move(h)),
          work(asio::prefer(asio::get_associated_executor(handler),
                            asio::execution::outstanding_work.tracked)) {}
    void complete(T value) override {
      asio::post(work, [h = std::move(handler), v = std::move(value)]() mutable {
        std::move(h)(std::move(v));
      });
    }
    Handler handler;
    // Keeps the waiter's io_context from running out of work while it waits.
    decltype(asio::prefer(asio::get_associated_executor(std::declval<Handler&>()),
                          asio::execution::outstanding_work.tracked)) work;
  };
  std::unique_ptr<Base> impl_;
};

// Suspends until the Completion given to `start` is called.
template <typename T, typename Start>
asio::awaitable<T> await_completion(Start start) {
  return asio::async_initiate<decltype(asio::use_awaitable), void(T)>(
      [start = std::move(start)](auto handler) mutable {
        start(Completion<T>(std::move(handler)));
      },
      asio::use_awaitable);
}

}  // namespace hookstream
