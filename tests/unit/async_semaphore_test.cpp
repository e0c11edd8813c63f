#include "dispatcher/async_semaphore.hpp"

#include <gtest/gtest.h>

#include <optional>

namespace hookstream::dispatcher {
namespace {

using namespace std::chrono_literals;

struct Acquirer {
  std::optional<bool> result;
};

void start(asio::io_context& io, AsyncSemaphore& sem, Acquirer& a) {
  asio::co_spawn(
      io, [&]() -> asio::awaitable<void> { a.result = co_await sem.acquire(); }, asio::detached);
}

TEST(AsyncSemaphore, WaitersGetReleasedSlotsInOrderAndNeverWakeByThemselves) {
  asio::io_context io;
  AsyncSemaphore sem(io.get_executor(), 1);
  Acquirer first, second, third;
  start(io, sem, first);
  start(io, sem, second);
  start(io, sem, third);
  io.run_for(50ms);  // long enough for a spurious wake-up to show
  EXPECT_EQ(first.result, true);
  EXPECT_FALSE(second.result);
  EXPECT_FALSE(third.result);
  EXPECT_EQ(sem.waiting(), 2u);

  sem.release();
  io.restart();
  io.run_for(20ms);
  EXPECT_EQ(second.result, true);
  EXPECT_FALSE(third.result);
  EXPECT_EQ(sem.available(), 0u);
}

TEST(AsyncSemaphore, EvictedWaitersLeaveWithoutASlot) {
  asio::io_context io;
  AsyncSemaphore sem(io.get_executor(), 1);
  Acquirer holder, oldest, newer, newest;
  start(io, sem, holder);
  start(io, sem, oldest);
  start(io, sem, newer);
  start(io, sem, newest);
  io.run_for(20ms);
  sem.evict_waiters(1);  // keeps the oldest waiter
  io.restart();
  io.run_for(20ms);
  EXPECT_EQ(newer.result, false);
  EXPECT_EQ(newest.result, false);
  EXPECT_FALSE(oldest.result);
  EXPECT_EQ(sem.waiting(), 1u);
  sem.release();
  io.restart();
  io.run_for(20ms);
  EXPECT_EQ(oldest.result, true);
  sem.release();
  EXPECT_EQ(sem.available(), 1u);  // evicted waiters took no slot
}

}  // namespace
}  // namespace hookstream::dispatcher
