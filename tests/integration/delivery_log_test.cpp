// The delivery log's script on a real Redis: the per-webhook bound, the age bound, and the
// webhook's health fields.
#include <gtest/gtest.h>

#include <chrono>
#include <exception>
#include <optional>
#include <string>

#include "common/asio.hpp"
#include "common/redis/client.hpp"
#include "common/store/delivery_log.hpp"
#include "common/store/layout.hpp"
#include "tests/fixtures/redis_server.hpp"

namespace hookstream::store {
namespace {

using namespace std::chrono_literals;
using hookstream::testing::RedisServer;

class DeliveryLogTest : public ::testing::Test {
 protected:
  // Runs one awaitable to completion on the test's io_context (the client keeps a read pending,
  // so run() alone would not return).
  template <typename T>
  T await(asio::awaitable<T> work) {
    std::optional<T> out;
    std::exception_ptr error;
    asio::co_spawn(
        io_,
        [&]() -> asio::awaitable<void> {
          out.emplace(co_await std::move(work));
          io_.stop();
        },
        [&](std::exception_ptr e) {
          error = e;
          io_.stop();
        });
    io_.restart();
    io_.run_for(10s);
    if (error) std::rethrow_exception(error);
    if (!out) throw std::runtime_error("Redis did not answer within 10 s");
    return std::move(*out);
  }

  redis::Reply redis(std::vector<std::string> args) {
    auto r = await(client_.command(std::move(args)));
    if (!r) throw std::runtime_error(r.error().message);
    return std::move(*r);
  }

  void create_webhook(const std::string& id) {
    redis({"HSET", webhook_key(id), "url", "https://example.com/hook", "status", "active"});
  }

  // A new delivery of event `n` to webhook `id`, `age` old.
  Result<WebhookHealth, StoreError> record(DeliveryLog& log, const std::string& id, int n,
                                           bool success = true, Millis age = 0ms) {
    AttemptUpdate u;
    u.event_id = "evt_" + std::to_string(n);
    u.tenant = "acme";
    u.webhook_id = id;
    u.delivery_id = delivery_id_for(u.tenant, u.event_id, id);
    u.event_type = "submission.completed";
    u.created_at = now_ - age;
    u.status = success ? DeliveryStatus::succeeded : DeliveryStatus::pending;
    u.attempt = {1, now_, success ? "success" : "http_error", success ? 200 : 500, "", "", 1};
    u.success = success;
    return await(log.record(u));
  }

  std::int64_t index_size(const std::string& id) {
    return redis({"ZCARD", webhook_deliveries_key(id)}).as_integer().value_or(-1);
  }
  std::int64_t delivery_records() {
    return static_cast<std::int64_t>(redis({"KEYS", "hs:dlv:*"}).elements().size());
  }
  std::string webhook_field(const std::string& id, const std::string& field) {
    return std::string(redis({"HGET", webhook_key(id), field}).as_string());
  }

  RedisServer server_;
  asio::io_context io_;
  redis::Client client_{io_.get_executor(), server_.config()};
  TimePoint now_ = std::chrono::time_point_cast<Millis>(std::chrono::system_clock::now());
};

TEST_F(DeliveryLogTest, EachWebhookKeepsItsNewestDeliveriesWithinAnEighthOverTheBound) {
  DeliveryLog log(client_, {.max_per_webhook = 16});
  create_webhook("wh_a");
  create_webhook("wh_b");
  for (int n = 0; n < 200; ++n) {
    ASSERT_TRUE(record(log, "wh_a", n, true, Millis{1000 - n})) << n;  // one ms apart, in order
    EXPECT_LE(index_size("wh_a"), 16 + 2) << "after " << n + 1;
  }
  ASSERT_TRUE(record(log, "wh_b", 0));
  EXPECT_GE(index_size("wh_a"), 16);
  EXPECT_EQ(index_size("wh_b"), 1);                       // another webhook's bound is its own
  EXPECT_EQ(delivery_records(), index_size("wh_a") + 1);  // dropped entries' records are gone
  auto page = await(log.list("wh_a", std::nullopt, 100, std::nullopt));
  ASSERT_TRUE(page);
  ASSERT_GE(page->deliveries.size(), 16u);
  EXPECT_EQ(page->deliveries.front().event_id, "evt_199");  // newest first, the newest kept
}

TEST_F(DeliveryLogTest, DeliveriesOlderThanTheRetentionLeaveTheIndex) {
  DeliveryLog log(client_, {.max_per_webhook = 1000, .retention = 1h});
  create_webhook("wh_a");
  for (int n = 0; n < 10; ++n) ASSERT_TRUE(record(log, "wh_a", n, true, 2h));
  // Age is checked every 64th new entry, not on every one.
  for (int n = 10; n < 64; ++n) ASSERT_TRUE(record(log, "wh_a", n));
  EXPECT_EQ(index_size("wh_a"), 54);
}

TEST_F(DeliveryLogTest, HealthCountsFailuresPausesOnceAndResetsOnSuccess) {
  DeliveryLog log(client_, {.pause_after_failures = 3});
  create_webhook("wh_a");
  auto h = record(log, "wh_a", 0);
  ASSERT_TRUE(h);
  EXPECT_EQ(webhook_field("wh_a", "last_delivery_ok"), "1");
  const auto first_success_at = webhook_field("wh_a", "last_delivery_at");
  EXPECT_FALSE(first_success_at.empty());
  for (int n = 1; n <= 3; ++n) {
    h = record(log, "wh_a", n, false);
    ASSERT_TRUE(h);
    EXPECT_EQ(h->consecutive_fails, n);
    EXPECT_EQ(h->status_changed, n == 3) << n;  // the third failure pauses, and says so
  }
  EXPECT_EQ(webhook_field("wh_a", "status"), "paused");
  EXPECT_EQ(webhook_field("wh_a", "consecutive_fails"), "3");
  EXPECT_EQ(webhook_field("wh_a", "last_delivery_ok"), "0");
  h = record(log, "wh_a", 4);
  ASSERT_TRUE(h);
  EXPECT_EQ(h->consecutive_fails, 0);
  EXPECT_FALSE(h->status_changed);  // success does not resume a paused endpoint (SPEC §4)
  EXPECT_EQ(webhook_field("wh_a", "consecutive_fails"), "0");
  EXPECT_EQ(webhook_field("wh_a", "last_delivery_ok"), "1");
}

}  // namespace
}  // namespace hookstream::store
