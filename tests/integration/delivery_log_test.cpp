// The delivery log's script on a real Redis: the per-webhook bound, the age bound, the webhook's
// health fields, batching, idempotent counting, the kept events and records logged by 0.2.
#include <gtest/gtest.h>

#include <chrono>
#include <exception>
#include <optional>
#include <string>

#include "common/asio.hpp"
#include "common/redis/client.hpp"
#include "common/store/delivery_log.hpp"
#include "common/store/delivery_log_writer.hpp"
#include "common/store/layout.hpp"
#include "common/store/webhook_stats.hpp"
#include "tests/fixtures/await.hpp"
#include "tests/fixtures/redis_server.hpp"

namespace hookstream::store {
namespace {

using namespace std::chrono_literals;
using hookstream::testing::RedisServer;

class DeliveryLogTest : public ::testing::Test {
 protected:
  template <typename T>
  T await(asio::awaitable<T> work) {
    return hookstream::testing::await_on(io_, std::move(work));
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
  static AttemptUpdate entry(const std::string& id, int n, bool success, TimePoint created,
                             int attempt = 1) {
    AttemptUpdate u;
    u.event_id = "evt_" + std::to_string(n);
    u.tenant = "acme";
    u.webhook_id = id;
    u.delivery_id = delivery_id_for(u.tenant, u.event_id, id);
    u.event_type = "submission.completed";
    u.created_at = created;
    u.status = success ? DeliveryStatus::succeeded : DeliveryStatus::pending;
    u.attempt = {attempt, created, success ? "success" : "http_error", success ? 200 : 500, "",
                 "",      1};
    u.success = success;
    return u;
  }
  Result<WebhookHealth, StoreError> record(DeliveryLog& log, const std::string& id, int n,
                                           bool success = true, Millis age = 0ms) {
    return await(log.record(entry(id, n, success, now_ - age)));
  }
  // Redis commands run so far (INFO commandstats, scripts' inner calls included).
  std::int64_t commands_run() {
    const auto info = std::string(redis({"INFO", "commandstats"}).as_string());
    std::int64_t total = 0;
    for (std::size_t at = info.find("calls="); at != std::string::npos;
         at = info.find("calls=", at + 1))
      total += std::stoll(info.substr(at + 6));
    return total;
  }

  // `n` successes settled in one tick, alternately for wh_a and wh_b, through `writer`; how many
  // were answered with their webhook's health (within 10 s).
  int record_alternately(BatchedDeliveryLog& writer, int n) {
    int answered = 0;
    for (int i = 0; i < n; ++i)
      asio::co_spawn(
          io_,
          [&, i]() -> asio::awaitable<void> {
            auto e = entry(i % 2 ? "wh_a" : "wh_b", i, true, now_);
            auto h = co_await writer.record(e);
            if (h && h->webhook_exists) ++answered;
            if (answered == n) io_.stop();
          },
          asio::detached);
    io_.restart();
    io_.run_for(10s);
    return answered;
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

TEST_F(DeliveryLogTest, OneCallLogsABatchAtAboutOneRedisCommandPerDelivery) {
  DeliveryLog log(client_, {});
  create_webhook("wh_a");
  auto event = std::make_shared<Event>();
  event->tenant = "acme";
  event->type = "submission.completed";
  event->time = now_;
  event->data = R"({"n":1})";
  std::vector<AttemptUpdate> batch;
  for (int n = 0; n < 200; ++n) {
    auto u = entry("wh_a", n, true, now_);
    auto e = std::make_shared<Event>(*event);
    e->id = u.event_id;
    u.event = e;
    batch.push_back(std::move(u));
  }
  const auto before = commands_run();
  auto r = await(log.record_batch(batch));
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->size(), 200u);
  EXPECT_TRUE(r->back().webhook_exists);
  const auto used = commands_run() - before - 1;  // the INFO of the first count
  // A SET per delivery; per batch the EVALSHA, the webhook's HMGET and health, one ZADD, the
  // events' HSET and PEXPIRE, a bound check, and the hour's counts (HMGET, HSET, PEXPIREAT).
  EXPECT_LE(used, 200 + 15) << used;
  EXPECT_EQ(index_size("wh_a"), 200);
  auto page = await(log.list("wh_a", std::nullopt, 5, DeliveryStatus::succeeded));
  ASSERT_TRUE(page);
  ASSERT_EQ(page->deliveries.size(), 5u);
  ASSERT_TRUE(page->next_cursor);
  auto kept = await(log.load_event(page->deliveries.front()));
  ASSERT_TRUE(kept) << kept.error().message;
  EXPECT_EQ(kept->data, R"({"n":1})");  // verbatim
  EXPECT_EQ(kept->id, page->deliveries.front().event_id);
}

TEST_F(DeliveryLogTest, ManyDeliveriesEventsAreReadTogetherAndOneNoLongerKeptIsNotFoundInItsPlace) {
  DeliveryLog log(client_, {});
  create_webhook("wh_a");
  std::vector<AttemptUpdate> batch;
  for (int n = 0; n < 4; ++n) {
    auto u = entry("wh_a", n, false, now_);
    auto e = std::make_shared<Event>();
    e->id = u.event_id;
    e->tenant = "acme";
    e->type = "submission.completed";
    e->time = now_;
    e->data = R"({"n":)" + std::to_string(n) + "}";
    u.event = e;
    batch.push_back(std::move(u));
  }
  ASSERT_TRUE(await(log.record_batch(batch)));
  auto page = await(log.list("wh_a", std::nullopt, 10, std::nullopt));
  ASSERT_TRUE(page);
  ASSERT_EQ(page->deliveries.size(), 4u);
  auto deliveries = page->deliveries;
  auto gone = deliveries[1];
  gone.event_id = "evt_gone";
  deliveries.insert(deliveries.begin() + 2, gone);

  const auto before = commands_run();
  auto events = await(log.load_events(deliveries));
  const auto used = commands_run() - before - 1;  // the INFO of the first count
  ASSERT_TRUE(events) << events.error().message;
  ASSERT_EQ(events->size(), 5u);
  for (std::size_t i = 0; i < deliveries.size(); ++i) {
    if (i == 2) {
      ASSERT_FALSE((*events)[i]);
      EXPECT_EQ((*events)[i].error().code, StoreErrc::not_found);
      continue;
    }
    ASSERT_TRUE((*events)[i]) << (*events)[i].error().message;
    EXPECT_EQ((*events)[i]->id, deliveries[i].event_id);
  }
  // One HGET each, in one pipeline; the one not kept is also looked for where 0.2 kept events.
  EXPECT_EQ(used, 5 + 1);
}

TEST_F(DeliveryLogTest, AnAttemptSentAgainIsCountedOnce) {
  DeliveryLog log(client_, {.pause_after_failures = 2});
  create_webhook("wh_a");
  const auto failed = entry("wh_a", 1, false, now_);
  // As after a Redis timeout whose call had landed: the same attempt logged twice.
  auto first = await(log.record(failed));
  auto again = await(log.record(failed));
  ASSERT_TRUE(first && again);
  EXPECT_EQ(first->consecutive_fails, 1);
  EXPECT_EQ(again->consecutive_fails, 1);
  EXPECT_EQ(webhook_field("wh_a", "status"), "active");
  // The next attempt of the same delivery counts, and pauses at the bound.
  auto second = await(log.record(entry("wh_a", 1, false, now_, 2)));
  ASSERT_TRUE(second);
  EXPECT_EQ(second->consecutive_fails, 2);
  EXPECT_TRUE(second->status_changed);
  auto d = await(log.get("wh_a", failed.delivery_id));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->attempt_count, 2);
  ASSERT_EQ(d->attempts.size(), 2u);
  EXPECT_EQ(d->attempts[1].number, 2);
}

TEST_F(DeliveryLogTest, AttemptsAreCountedPerHourOnceEachWithTheirDurations) {
  DeliveryLog log(client_, {});
  create_webhook("wh_a");
  create_webhook("wh_b");
  std::vector<AttemptUpdate> batch;
  const std::int64_t durations[] = {4, 40, 400, 2500};
  for (int n = 0; n < 4; ++n) {
    batch.push_back(entry("wh_a", n, n < 3, now_));
    batch.back().attempt.duration_ms = durations[n];
  }
  auto failed_again = batch.back();  // as after a Redis timeout whose call had landed
  ASSERT_TRUE(await(log.record_batch(batch)));
  ASSERT_TRUE(await(log.record(failed_again)));
  ASSERT_TRUE(await(log.record(entry("wh_a", 9, true, now_ - 2h))));  // two hours earlier

  WebhookStats stats(client_);
  auto day = await(stats.last_day("wh_a", now_));
  ASSERT_TRUE(day) << day.error().message;
  ASSERT_EQ(day->size(), 24u);
  const auto& hour = day->back();
  EXPECT_LE(hour.hour, now_);
  EXPECT_GT(hour.hour + 1h, now_);
  EXPECT_EQ(hour.attempts, 4);
  EXPECT_EQ(hour.successes, 3);
  EXPECT_EQ(hour.failures, 1);
  EXPECT_EQ(hour.duration_quantile(0.5), 50);     // 40 ms, in the bucket up to 50
  EXPECT_EQ(hour.duration_quantile(0.99), 3000);  // 2,500 ms
  EXPECT_EQ((*day)[21].attempts, 1);
  EXPECT_EQ((*day)[21].successes, 1);
  EXPECT_EQ((*day)[22].attempts, 0);
  EXPECT_FALSE((*day)[22].duration_quantile(0.5));
  auto other = await(stats.last_day("wh_b", now_));
  ASSERT_TRUE(other);
  for (const auto& h : *other) EXPECT_EQ(h.attempts, 0);
  // The hour's counts outlive the 24 h they are shown for, and no longer.
  const auto hour_index =
      std::chrono::duration_cast<Millis>(now_.time_since_epoch()).count() / 3'600'000;
  const auto ttl = redis({"PTTL", webhook_stats_key(hour_index)}).as_integer().value_or(-1);
  EXPECT_GT(ttl, 25 * 3'600'000);
  EXPECT_LE(ttl, 26 * 3'600'000);
}

// A fan-out batch: one entry for each of 3,000 webhooks makes 9,000 hourly-count fields (attempts,
// successes, a duration bucket), more values than Redis' Lua can pass to one call. The whole batch
// is logged and counted (it failed as a whole, and was sent again and again, before).
TEST_F(DeliveryLogTest, ABatchOverThousandsOfWebhooksIsLoggedAndCounted) {
  DeliveryLog log(client_, {});
  std::vector<AttemptUpdate> batch;
  for (int w = 0; w < 3000; ++w) {
    const auto id = "wh_" + std::to_string(w);
    create_webhook(id);
    batch.push_back(entry(id, 1, true, now_));
  }
  const auto logged = await(log.record_batch(batch));
  ASSERT_TRUE(logged) << logged.error().message;
  EXPECT_EQ(delivery_records(), 3000);
  WebhookStats stats(client_);
  for (const char* id : {"wh_0", "wh_1500", "wh_2999"}) {
    const auto day = await(stats.last_day(id, now_));
    ASSERT_TRUE(day) << day.error().message;
    EXPECT_EQ(day->back().attempts, 1) << id;
    EXPECT_EQ(day->back().successes, 1) << id;
    EXPECT_EQ(index_size(id), 1) << id;
  }
}

TEST_F(DeliveryLogTest, InABatchOnlyTheEntryThatPausedTheEndpointSaysSo) {
  DeliveryLog log(client_, {.pause_after_failures = 2});
  create_webhook("wh_a");
  std::vector<AttemptUpdate> batch;
  for (int n = 0; n < 4; ++n) batch.push_back(entry("wh_a", n, false, now_));
  auto r = await(log.record_batch(batch));
  ASSERT_TRUE(r);
  ASSERT_EQ(r->size(), 4u);
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_EQ((*r)[i].status_changed, i == 1) << i;  // the second failure paused it
    EXPECT_EQ((*r)[i].status, WebhookStatus::paused);
  }
  EXPECT_EQ(webhook_field("wh_a", "status"), "paused");
}

TEST_F(DeliveryLogTest, TheBatchedWriterSendsWhatSettledInOneTickAsOneCall) {
  DeliveryLog log(client_, {});
  BatchedDeliveryLog writer(io_.get_executor(), log);
  create_webhook("wh_a");
  create_webhook("wh_b");
  EXPECT_EQ(record_alternately(writer, 50), 50);
  EXPECT_EQ(writer.entries_sent(), 50u);
  EXPECT_LE(writer.calls_sent(), 2u);
  EXPECT_EQ(index_size("wh_a"), 25);
  EXPECT_EQ(index_size("wh_b"), 25);
}

// More than a call's max_entries waiting: the first max_entries go in one call, the rest after,
// each answered with its own webhook's health.
TEST_F(DeliveryLogTest, TheBatchedWriterSplitsWhatExceedsOneCall) {
  DeliveryLog log(client_, {});
  BatchedDeliveryLog writer(io_.get_executor(), log,
                            {.max_entries = 4, .max_calls_in_flight = 1, .linger = 0ms});
  create_webhook("wh_a");
  create_webhook("wh_b");
  EXPECT_EQ(record_alternately(writer, 10), 10);
  EXPECT_EQ(writer.entries_sent(), 10u);
  EXPECT_EQ(writer.calls_sent(), 3u);  // 4, 4, 2
  EXPECT_EQ(index_size("wh_a"), 5);
  EXPECT_EQ(index_size("wh_b"), 5);
}

// Redis out of memory (maxmemory, noeviction) answers the writes with an error: the entry fails as
// refused, which callers send again (is_retriable), and the observer counts the call as refused;
// once memory is allowed again the same entry is logged.
TEST_F(DeliveryLogTest, AWriteRedisRefusesFailsAsRefusedAndIsTakenOnceRedisTakesWritesAgain) {
  DeliveryLog log(client_, {});
  std::vector<std::pair<std::size_t, std::optional<StoreErrc>>> calls;
  BatchedDeliveryLog writer(io_.get_executor(), log, {.linger = 0ms},
                            [&](std::size_t entries, const StoreError* failure) {
                              calls.emplace_back(
                                  entries, failure ? std::optional(failure->code) : std::nullopt);
                            });
  create_webhook("wh_a");
  redis({"CONFIG", "SET", "maxmemory-policy", "noeviction"});
  redis({"CONFIG", "SET", "maxmemory", "1"});
  auto e = entry("wh_a", 1, true, now_);
  const auto delivery_id = e.delivery_id;
  auto refused = await(writer.record(e));
  redis({"CONFIG", "SET", "maxmemory", "0"});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, StoreErrc::refused) << refused.error().message;
  EXPECT_TRUE(is_retriable(refused.error()));
  EXPECT_NE(refused.error().message.find("OOM"), std::string::npos) << refused.error().message;
  EXPECT_EQ(index_size("wh_a"), 0);

  // The refused entry came back as it was given: the same object is sent again.
  EXPECT_EQ(e.delivery_id, delivery_id);
  auto logged = await(writer.record(e));
  ASSERT_TRUE(logged) << logged.error().message;
  EXPECT_EQ(index_size("wh_a"), 1);
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0], std::make_pair(std::size_t{1}, std::optional(StoreErrc::refused)));
  EXPECT_EQ(calls[1], std::make_pair(std::size_t{1}, std::optional<StoreErrc>()));
}

// Successes linger for a fuller batch (a script call's fixed cost is most of a small one's); an
// entry that is waited on (a failure) goes at once and takes them along.
TEST_F(DeliveryLogTest, SuccessesLingerUntilAFailureOrTheBatchIsFull) {
  DeliveryLog log(client_, {});
  BatchedDeliveryLog writer(io_.get_executor(), log, {.linger = 1h, .full_batch = 30});
  create_webhook("wh_a");
  int answered = 0;
  const auto record = [&](int n, bool success) {
    asio::co_spawn(
        io_,
        [&, n, success]() -> asio::awaitable<void> {
          auto e = entry("wh_a", n, success, now_);
          auto h = co_await writer.record(e);
          if (h && h->webhook_exists) ++answered;
        },
        asio::detached);
  };
  for (int n = 0; n < 10; ++n) record(n, true);
  io_.restart();
  io_.poll();  // every ready handler ran: the successes wait
  EXPECT_EQ(writer.calls_sent(), 0u);
  record(10, false);
  io_.restart();
  while (answered < 11 && io_.run_one_for(10s) > 0) {
  }
  EXPECT_EQ(answered, 11);
  EXPECT_EQ(writer.calls_sent(), 1u);
  EXPECT_EQ(writer.entries_sent(), 11u);

  for (int n = 11; n < 41; ++n) record(n, true);  // a full batch goes without waiting
  while (answered < 41 && io_.run_one_for(10s) > 0) {
  }
  EXPECT_EQ(answered, 41);
  EXPECT_EQ(writer.calls_sent(), 2u);
  EXPECT_EQ(index_size("wh_a"), 41);
}

TEST_F(DeliveryLogTest, ALoneSuccessIsLoggedOnceItLingered) {
  DeliveryLog log(client_, {});
  BatchedDeliveryLog writer(io_.get_executor(), log, {.linger = 20ms});
  create_webhook("wh_a");
  bool answered = false;
  asio::co_spawn(
      io_,
      [&]() -> asio::awaitable<void> {
        auto e = entry("wh_a", 1, true, now_);
        auto h = co_await writer.record(e);
        answered = h && h->webhook_exists;
      },
      asio::detached);
  io_.restart();
  while (!answered && io_.run_one_for(10s) > 0) {
  }
  EXPECT_TRUE(answered);
  EXPECT_EQ(writer.calls_sent(), 1u);
}

// A fan-out batch (one entry for each of many webhooks) costs three Redis commands an entry; it
// gathers until it holds two entries per webhook, and goes anyway once it lingered long enough.
TEST_F(DeliveryLogTest, AFanOutBatchGathersUntilItHoldsTwoEntriesPerWebhook) {
  DeliveryLog log(client_, {});
  BatchedDeliveryLog writer(io_.get_executor(), log,
                            {.linger = 1ms,
                             .full_batch = 4,
                             .many_webhooks = 4,
                             .entries_per_webhook = 2,
                             .sparse_linger = 1h});
  int answered = 0;
  const auto record = [&](const std::string& webhook, int n) {
    asio::co_spawn(
        io_,
        [&, webhook, n]() -> asio::awaitable<void> {
          auto e = entry(webhook, n, true, now_);
          auto h = co_await writer.record(e);
          if (h && h->webhook_exists) ++answered;
        },
        asio::detached);
  };
  for (int w = 0; w < 6; ++w) create_webhook("wh_" + std::to_string(w));
  for (int w = 0; w < 6; ++w) record("wh_" + std::to_string(w), w);
  io_.restart();
  // Its 1 ms linger passes many times over: six entries over six webhooks still wait.
  const auto until = std::chrono::steady_clock::now() + 50ms;
  while (std::chrono::steady_clock::now() < until) io_.run_one_for(5ms);
  EXPECT_EQ(writer.calls_sent(), 0u);
  for (int w = 0; w < 6; ++w) record("wh_" + std::to_string(w), 6 + w);
  while (answered < 12 && io_.run_one_for(10s) > 0) {
  }
  EXPECT_EQ(answered, 12);
  EXPECT_EQ(writer.calls_sent(), 1u);
  EXPECT_EQ(writer.entries_sent(), 12u);
}

TEST_F(DeliveryLogTest, ASparseBatchGoesOnceItLingeredLongEnough) {
  DeliveryLog log(client_, {});
  BatchedDeliveryLog writer(io_.get_executor(), log,
                            {.linger = 1ms, .many_webhooks = 2, .sparse_linger = 20ms});
  int answered = 0;
  for (int w = 0; w < 3; ++w) {
    create_webhook("wh_" + std::to_string(w));
    asio::co_spawn(
        io_,
        [&, w]() -> asio::awaitable<void> {
          auto e = entry("wh_" + std::to_string(w), w, true, now_);
          auto h = co_await writer.record(e);
          if (h && h->webhook_exists) ++answered;
        },
        asio::detached);
  }
  io_.restart();
  while (answered < 3 && io_.run_one_for(10s) > 0) {
  }
  EXPECT_EQ(answered, 3);
  EXPECT_EQ(writer.calls_sent(), 1u);
}

TEST_F(DeliveryLogTest, DeferredDeliveriesArePendingWithoutAnAttempt) {
  DeliveryLog log(client_, {.pause_after_failures = 1});
  create_webhook("wh_a");
  auto u = entry("wh_a", 1, false, now_);
  u.kind = LogEntryKind::deferred;
  u.next_retry_at = now_ + 5s;
  auto h = await(log.record(u));
  ASSERT_TRUE(h);
  EXPECT_EQ(h->consecutive_fails, 0);  // not an attempt: never counted
  auto d = await(log.get("wh_a", u.delivery_id));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->status, DeliveryStatus::pending);
  EXPECT_EQ(d->attempt_count, 0);
  EXPECT_TRUE(d->attempts.empty());
  EXPECT_EQ(d->next_retry_at, now_ + 5s);
}

TEST_F(DeliveryLogTest, ADeferredDeliverysFirstAttemptIsMergedIntoItsRecordAndCountedOnce) {
  DeliveryLog log(client_, {.pause_after_failures = 3});
  create_webhook("wh_a");
  auto deferred = entry("wh_a", 1, false, now_ - 1min);
  deferred.kind = LogEntryKind::deferred;
  deferred.next_retry_at = now_;
  ASSERT_TRUE(await(log.record(deferred)));
  // Its first attempt, in a batch between two new deliveries: the caller's write of a first
  // attempt's record finds the deferred one, so the script asks for the record again.
  std::vector<AttemptUpdate> batch = {entry("wh_a", 0, false, now_), entry("wh_a", 1, false, now_),
                                      entry("wh_a", 2, true, now_)};
  batch[1].created_at = deferred.created_at;
  for (int round = 0; round < 2; ++round) {  // the second time, as after a Redis timeout
    auto r = await(log.record_batch(batch));
    ASSERT_TRUE(r) << round;
    EXPECT_EQ(r->at(1).consecutive_fails, 0) << round;  // after the success
  }
  auto d = await(log.get("wh_a", deferred.delivery_id));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->attempt_count, 1);
  ASSERT_EQ(d->attempts.size(), 1u);
  EXPECT_EQ(d->attempts.front().response_status, 500);
  EXPECT_EQ(d->created_at, deferred.created_at);
  EXPECT_EQ(index_size("wh_a"), 3);
  // Three attempts, each counted once.
  WebhookStats stats(client_);
  const auto day = await(stats.last_day("wh_a", now_));
  ASSERT_TRUE(day);
  EXPECT_EQ(day->back().attempts, 3);
  EXPECT_EQ(day->back().failures, 2);
}

TEST_F(DeliveryLogTest, TheSameFirstAttemptTwiceInOneBatchIsCountedOnce) {
  DeliveryLog log(client_, {.pause_after_failures = 2});
  create_webhook("wh_a");
  const auto failed = entry("wh_a", 1, false, now_);
  auto r = await(log.record_batch({failed, failed}));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->back().consecutive_fails, 1);
  EXPECT_EQ(webhook_field("wh_a", "status"), "active");
}

TEST_F(DeliveryLogTest, RecordsLoggedBefore03AreReadAndRewrittenByTheirNextAttempt) {
  DeliveryLog log(client_, {});
  create_webhook("wh_a");
  const auto old = entry("wh_a", 7, false, now_);
  const auto key = delivery_key(old.delivery_id);
  const auto created = std::to_string(to_unix_millis(now_));
  redis(
      {"HSET",
       key,
       "webhook_id",
       "wh_a",
       "tenant",
       "acme",
       "event_id",
       old.event_id,
       "event_type",
       "submission.completed",
       "status",
       "pending",
       "attempt_count",
       "1",
       "response_status",
       "500",
       "last_error",
       "HTTP 500",
       "created_at",
       created,
       "a1",
       R"({"number":1,"at":)" + created +
           R"(,"outcome":"http_error","response_status":500,"response_body":"","error":"HTTP 500","duration_ms":3})"});
  redis({"ZADD", webhook_deliveries_key("wh_a"), "0", index_member(now_, old.delivery_id)});
  redis({"HSET", "hs:evt:acme:" + old.event_id, "type", "submission.completed", "source", "s",
         "time", created, "data", R"({"old":true})"});
  auto d = await(log.get("wh_a", old.delivery_id));
  ASSERT_TRUE(d) << d.error().message;
  ASSERT_EQ(d->attempts.size(), 1u);
  EXPECT_EQ(d->attempts[0].response_status, 500);
  auto kept = await(log.load_event(*d));
  ASSERT_TRUE(kept) << kept.error().message;
  EXPECT_EQ(kept->data, R"({"old":true})");

  ASSERT_TRUE(await(log.record(entry("wh_a", 7, true, now_, 2))));
  EXPECT_EQ(redis({"TYPE", key}).as_string(), "string");
  d = await(log.get("wh_a", old.delivery_id));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->status, DeliveryStatus::succeeded);
  ASSERT_EQ(d->attempts.size(), 2u);
  EXPECT_EQ(d->attempts[0].outcome, "http_error");
  EXPECT_EQ(d->attempts[1].outcome, "success");
  auto page = await(log.list("wh_a", std::nullopt, 10, std::nullopt));
  ASSERT_TRUE(page);
  EXPECT_EQ(page->deliveries.size(), 1u);
}

}  // namespace
}  // namespace hookstream::store
