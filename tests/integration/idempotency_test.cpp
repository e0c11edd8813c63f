// Publish idempotency claims on a real Redis: a claim is a lease, a release frees only its own
// claim, a completed claim keeps the answer for a day, and a claim Redis ran without answering (a
// stall) is undone before the caller hears "unavailable", so its retry is not refused as "in
// progress" (it used to hold the key for 24 h: a publisher retrying a 503 got 409 forever).
#include <gtest/gtest.h>

#include <chrono>
#include <exception>
#include <optional>
#include <string>
#include <vector>

#include "common/asio.hpp"
#include "common/redis/client.hpp"
#include "common/store/idempotency.hpp"
#include "tests/fixtures/await.hpp"
#include "tests/fixtures/redis_server.hpp"

namespace hookstream::store {
namespace {

using namespace std::chrono_literals;
using hookstream::testing::RedisServer;

class IdempotencyTest : public ::testing::Test {
 protected:
  template <typename T>
  T await(asio::awaitable<T> work) {
    return hookstream::testing::await_on(io_, std::move(work), 20s);
  }
  void await_void(asio::awaitable<void> work) {
    hookstream::testing::await_on(io_, std::move(work), 20s);
  }

  // The value at `key` (empty when there is none), asked until Redis answers.
  std::string get(const std::string& key) {
    return await([&]() -> asio::awaitable<std::string> {
      for (;;) {
        auto r = co_await probe_.command("GET", key);
        if (r) co_return r->is_nil() ? std::string() : std::string(r->as_string());
      }
    }());
  }

  std::int64_t pttl(const std::string& key) {
    auto r = await(probe_.command("PTTL", key));
    if (!r) throw std::runtime_error(r.error().message);
    return r->as_integer().value_or(-3);
  }

  RedisServer redis_{{.extra_args = {"--enable-debug-command", "yes"}}};
  asio::io_context io_;
  redis::Client client_{io_.get_executor(), redis_.config(2s, 300ms)};
  redis::Client probe_{io_.get_executor(), redis_.config(2s, 100ms)};
  IdempotencyKeys keys_{client_, {.lease = 60s, .settle = 5s}};
  const std::vector<std::string> claimed_{"hs:idem:{acme}:key:a", "hs:idem:{acme}:id:evt_1"};
};

TEST_F(IdempotencyTest, AClaimHoldsItsKeysForTheLeaseAndCompletionKeepsTheAnswerADay) {
  auto first = await(keys_.claim(claimed_, "pending-1"));
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_FALSE(*first);
  for (const auto& k : claimed_) {
    EXPECT_EQ(get(k), "pending-1");
    EXPECT_GT(pttl(k), 0);
    EXPECT_LE(pttl(k), 60'000);
  }
  // A repeat sees the first claim; so does a request sharing only one of the keys.
  auto repeat = await(keys_.claim(claimed_, "pending-2"));
  ASSERT_TRUE(repeat);
  EXPECT_EQ(repeat->value_or(""), "pending-1");
  auto partial = await(keys_.claim({claimed_[1], "hs:idem:{acme}:key:b"}, "pending-3"));
  ASSERT_TRUE(partial);
  EXPECT_EQ(partial->value_or(""), "pending-1");
  EXPECT_EQ(get("hs:idem:{acme}:key:b"), "");  // all or none

  await_void(keys_.complete(claimed_, "done-1"));
  for (const auto& k : claimed_) {
    EXPECT_EQ(get(k), "done-1");
    EXPECT_GT(pttl(k), 23 * 3600 * 1000);
  }
}

TEST_F(IdempotencyTest, AReleaseFreesOnlyItsOwnClaim) {
  ASSERT_TRUE(await(keys_.claim(claimed_, "pending-1")));
  await_void(keys_.release(claimed_, "pending-other"));
  for (const auto& k : claimed_) EXPECT_EQ(get(k), "pending-1");
  await_void(keys_.release(claimed_, "pending-1"));
  for (const auto& k : claimed_) EXPECT_EQ(get(k), "");
  auto again = await(keys_.claim(claimed_, "pending-2"));
  ASSERT_TRUE(again);
  EXPECT_FALSE(*again);
}

TEST_F(IdempotencyTest, AClaimRedisRanWithoutAnsweringIsUndoneBeforeTheCallerIsToldToRetry) {
  // The script is cached, as it is on a running API (else EVALSHA would find nothing to run).
  ASSERT_TRUE(await(keys_.claim({"hs:idem:{acme}:key:warm"}, "pending-0")));
  redis::Client sleeper(io_.get_executor(), redis_.config(2s, 5s));
  asio::co_spawn(
      io_,
      [&]() -> asio::awaitable<void> { (void)co_await sleeper.command("DEBUG", "SLEEP", "1.5"); },
      asio::detached);
  // Redis is asleep once a PING goes unanswered; then the claim is sent and times out (300 ms),
  // and Redis runs it when it wakes.
  await([&]() -> asio::awaitable<bool> {
    for (;;)
      if (!co_await probe_.command("PING")) co_return true;
  }());
  auto claimed = await(keys_.claim(claimed_, "pending-1"));
  ASSERT_FALSE(claimed);
  EXPECT_TRUE(is_retriable(claimed.error()));
  // By the time the caller hears it, the claim is gone: the client's retry gets through.
  for (const auto& k : claimed_) EXPECT_EQ(get(k), "") << k;
  auto retry = await(keys_.claim(claimed_, "pending-2"));
  ASSERT_TRUE(retry) << retry.error().message;
  EXPECT_FALSE(*retry);
}

}  // namespace
}  // namespace hookstream::store
