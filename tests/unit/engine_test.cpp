// The delivery engine's rules on fakes (tests/unit/engine_fakes.hpp): fan-out, settling an
// attempt, retries, pausing, dead letters, giving up on stop, and the slow-endpoint guarantees —
// without Redis, Kafka or a network. The same rules run end to end in
// tests/integration/dispatcher_test.cpp.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <set>

#include "common/cloudevents.hpp"
#include "common/retry_record.hpp"
#include "dispatcher/engine.hpp"
#include "tests/unit/engine_fakes.hpp"
#include "tests/unit/fakes.hpp"

namespace hookstream::dispatcher {
namespace {

using testing_support::CountingRandom;
using testing_support::FakeClock;
using testing_support::FakeDeliveryLog;
using testing_support::FakeRecordWriter;
using testing_support::FakeSlotSource;
using testing_support::FakeSubscriptions;
using testing_support::FakeWebhookClient;

store::Webhook webhook(std::string id, std::string host,
                       store::WebhookStatus status = store::WebhookStatus::active) {
  store::Webhook w;
  w.id = std::move(id);
  w.tenant = "acme";
  w.url = "https://" + host + "/hook";
  w.events = {"contact.created"};
  w.status = status;
  w.secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
  return w;
}

struct Finished {
  std::vector<std::int64_t> done;
  std::vector<std::int64_t> abandoned;
};

class EngineTest : public ::testing::Test {
 protected:
  EngineTest() {
    config_.kafka.topic_prefix = "t";
    config_.retry_schedule = {Millis{5000}, Millis{30000}};
    config_.max_in_flight_per_endpoint = 2;
    config_.max_queued_per_endpoint = 4;
    config_.endpoint_stall_after = Millis{50};
  }

  Engine& engine() {
    if (!engine_)
      engine_ = std::make_unique<Engine>(
          io_.get_executor(), config_,
          EngineDeps{log_, subscriptions_, http_, kafka_, slots_, metrics_, clock_, random_},
          [this](const kafka::TopicPartition&, std::int64_t o) { finished_.done.push_back(o); },
          [](const kafka::TopicPartition&, bool) {},
          [this](const kafka::TopicPartition&, std::int64_t o) {
            finished_.abandoned.push_back(o);
          },
          [this](int delta) { waiting_ += delta; });
    return *engine_;
  }

  kafka::Record event_record(std::int64_t offset, std::string type = "contact.created",
                             std::string data = R"({"n":1})") {
    Event e;
    e.id = "evt_" + std::to_string(offset);
    e.type = std::move(type);
    e.source = "test";
    e.tenant = "acme";
    e.time = clock_.now();
    e.data = std::move(data);
    auto r = cloudevents::encode_binary(e, "t.events");
    r.partition = 0;
    r.offset = offset;
    return r;
  }

  // Runs the engine's io_context until `condition` holds (or fails the test after 5 s).
  void run_until(const std::function<bool()>& condition) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!condition()) {
      ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "condition not met in 5 s";
      io_.run_one_for(std::chrono::milliseconds(10));
    }
  }

  // Hands `n` events (offsets 0..n-1) to the engine and runs it until every record finished.
  void deliver_all(int n) {
    for (int i = 0; i < n; ++i) engine().handle(event_record(i));
    run_until([&] { return finished_.done.size() == static_cast<std::size_t>(n); });
  }

  std::size_t logged(store::LogEntryKind kind) const {
    return static_cast<std::size_t>(std::count_if(log_.entries.begin(), log_.entries.end(),
                                                  [&](const auto& e) { return e.kind == kind; }));
  }

  std::vector<const kafka::Record*> written_to(std::string_view topic) const {
    std::vector<const kafka::Record*> out;
    for (const auto& r : kafka_.written)
      if (r.topic == topic) out.push_back(&r);
    return out;
  }

  asio::io_context io_{1};
  DispatcherConfig config_;
  FakeDeliveryLog log_;
  FakeSubscriptions subscriptions_;
  FakeWebhookClient http_{io_.get_executor()};
  FakeRecordWriter kafka_;
  FakeSlotSource slots_;
  Metrics metrics_;
  FakeClock clock_;
  CountingRandom random_;
  Finished finished_;
  int waiting_ = 0;  // records that wait by design, as the engine reports them
  std::unique_ptr<Engine> engine_;
};

TEST_F(EngineTest, AnEventGoesToEverySubscribedWebhookAndTheRecordFinishesAfterAllAreLogged) {
  auto other = webhook("wh_other", "other.example");
  other.events = {"submission.completed"};
  subscriptions_.set("acme", {webhook("wh_a", "a.example"), webhook("wh_b", "b.example"), other});
  engine().handle(event_record(7));
  run_until([&] { return !finished_.done.empty(); });

  EXPECT_EQ(finished_.done, std::vector<std::int64_t>{7});
  ASSERT_EQ(http_.requests.size(), 2u);
  ASSERT_EQ(log_.entries.size(), 2u);
  for (const auto& e : log_.entries) {
    EXPECT_EQ(e.status, store::DeliveryStatus::succeeded);
    EXPECT_EQ(e.attempt.number, 1);
    EXPECT_EQ(e.event_id, "evt_7");
  }
  for (const auto& r : http_.requests) {
    const auto id = std::find_if(r.headers.begin(), r.headers.end(),
                                 [](const auto& h) { return h.name == "webhook-id"; });
    ASSERT_NE(id, r.headers.end());
    EXPECT_EQ(id->value, "evt_7");
  }
  EXPECT_TRUE(kafka_.written.empty());
}

TEST_F(EngineTest, AWebhookWhoseFilterRefusesAnEventGetsNoDeliveryNoLogEntryAndNoRecord) {
  const std::vector<std::string> both = {"contact.created", "contact.updated"};
  auto big = webhook("wh_big", "big.example");
  big.events = both;
  big.filter = R"({"data":{"amount":{"$gte":100}}})";
  auto regions = webhook("wh_regions", "regions.example");
  regions.events = both;
  regions.filter = R"({"$or":[{"data":{"region":"eu"}},{"data":{"region":"us"}}]})";
  // The whole delivered body is matched, not only its data.
  auto typed = webhook("wh_typed", "typed.example");
  typed.events = both;
  typed.filter = R"({"type":"contact.updated","data":{"amount":{"$lt":10}}})";
  subscriptions_.set("acme", {big, regions, typed, webhook("wh_all", "all.example")});

  engine().handle(event_record(1, "contact.created", R"({"amount":150,"region":"ap"})"));
  engine().handle(event_record(2, "contact.created", R"({"amount":"150","region":"eu"})"));
  engine().handle(event_record(3, "contact.created", R"({"amount":99.5,"region":"us"})"));
  engine().handle(event_record(4, "contact.updated", R"({"amount":1})"));
  run_until([&] { return finished_.done.size() == 4; });

  std::set<std::pair<std::string, std::string>> logged_pairs;
  for (const auto& e : log_.entries) logged_pairs.emplace(e.event_id, e.webhook_id);
  const std::set<std::pair<std::string, std::string>> expected = {
      {"evt_1", "wh_big"},     {"evt_1", "wh_all"}, {"evt_2", "wh_regions"}, {"evt_2", "wh_all"},
      {"evt_3", "wh_regions"}, {"evt_3", "wh_all"}, {"evt_4", "wh_typed"}};
  EXPECT_EQ(logged_pairs, expected);
  EXPECT_EQ(log_.entries.size(), expected.size());
  EXPECT_EQ(http_.requests.size(), expected.size());
  EXPECT_TRUE(kafka_.written.empty());
  EXPECT_NE(metrics_.serialize().find("hookstream_deliveries_filtered_total 8"), std::string::npos)
      << metrics_.serialize();
}

TEST_F(EngineTest, AFailedAttemptIsLoggedPendingAndItsRetryIsWrittenBeforeTheRecordFinishes) {
  subscriptions_.set("acme", {webhook("wh_a", "a.example")});
  http_.status_for["a.example"] = 500;
  engine().handle(event_record(1));
  run_until([&] { return !finished_.done.empty(); });

  ASSERT_EQ(log_.entries.size(), 1u);
  EXPECT_EQ(log_.entries[0].status, store::DeliveryStatus::pending);
  ASSERT_TRUE(log_.entries[0].next_retry_at);
  const auto retries = written_to(config_.kafka.retry_topic(Millis{5000}));
  ASSERT_EQ(retries.size(), 1u);
  const auto info = read_retry_info(*retries[0]);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->attempt, 2);
  EXPECT_EQ(info->webhook_id, "wh_a");
  // The log's next_retry_at is the due time the retry record carries.
  EXPECT_EQ(*log_.entries[0].next_retry_at, info->due);
}

TEST_F(EngineTest, A410DisablesTheEndpointWithoutARetry) {
  subscriptions_.set("acme", {webhook("wh_a", "a.example")});
  http_.status_for["a.example"] = 410;
  engine().handle(event_record(1));
  run_until([&] { return !finished_.done.empty(); });

  ASSERT_EQ(log_.entries.size(), 1u);
  EXPECT_TRUE(log_.entries[0].disable_endpoint);
  EXPECT_EQ(log_.entries[0].status, store::DeliveryStatus::failed);
  EXPECT_TRUE(kafka_.written.empty());
  EXPECT_GE(subscriptions_.invalidations, 1);
}

TEST_F(EngineTest, APausedEndpointIsNotAttemptedAndTheDeliveryFailsWithTheReason) {
  subscriptions_.set("acme", {webhook("wh_a", "a.example", store::WebhookStatus::paused)});
  engine().handle(event_record(1));
  run_until([&] { return !finished_.done.empty(); });

  EXPECT_TRUE(http_.requests.empty());
  ASSERT_EQ(log_.entries.size(), 1u);
  EXPECT_EQ(log_.entries[0].kind, store::LogEntryKind::not_attempted);
  EXPECT_EQ(log_.entries[0].status, store::DeliveryStatus::failed);
  EXPECT_EQ(log_.entries[0].attempt.error, "endpoint paused");
}

TEST_F(EngineTest, TheAttemptThatReachesTheFailureLimitPausesTheEndpointAndLaterOnesAreNotSent) {
  log_.pause_after = 2;
  config_.max_in_flight_per_endpoint = 1;  // one after the other, so the count is exact
  subscriptions_.set("acme", {webhook("wh_a", "a.example")});
  http_.status_for["a.example"] = 500;
  for (int i = 0; i < 2; ++i) engine().handle(event_record(i));
  run_until([&] { return finished_.done.size() == 2; });
  EXPECT_EQ(metrics_.serialize().find("hookstream_endpoints_paused_total 1") != std::string::npos,
            true)
      << metrics_.serialize();
  EXPECT_EQ(subscriptions_.invalidations, 1);
}

TEST_F(EngineTest, ALogWriteIsTriedAgainUntilRedisAnswersAndCountedOnce) {
  subscriptions_.set("acme", {webhook("wh_a", "a.example")});
  log_.unavailable_for = 2;
  engine().handle(event_record(1));
  run_until([&] { return !finished_.done.empty(); });
  EXPECT_EQ(log_.calls, 3);
  EXPECT_EQ(log_.entries.size(), 1u);
  EXPECT_EQ(http_.requests.size(), 1u);
}

TEST_F(EngineTest, ARetryKafkaRefusesForGoodFailsTheDeliveryInsteadOfBlockingThePartition) {
  subscriptions_.set("acme", {webhook("wh_a", "a.example")});
  http_.status_for["a.example"] = 503;
  kafka_.refuse_with = "kafka_record_too_large";
  engine().handle(event_record(1));
  run_until([&] { return !finished_.done.empty(); });

  ASSERT_EQ(log_.entries.size(), 2u);
  EXPECT_EQ(log_.entries[1].kind, store::LogEntryKind::not_attempted);
  EXPECT_EQ(log_.entries[1].status, store::DeliveryStatus::failed);
  EXPECT_EQ(log_.entries[1].attempt.number, 2);
  EXPECT_NE(log_.entries[1].attempt.error.find("the retry could not be queued"), std::string::npos);
  EXPECT_NE(metrics_.serialize().find("hookstream_permanent_write_failures_total 1"),
            std::string::npos);
}

TEST_F(EngineTest, AMalformedRecordGoesToTheDeadLetterTopicWithTheReasonAndFinishes) {
  kafka::Record junk;
  junk.topic = "t.events";
  junk.offset = 3;
  junk.value = "not an event";
  engine().handle(junk);
  run_until([&] { return !finished_.done.empty(); });

  const auto dead = written_to("t.dead");
  ASSERT_EQ(dead.size(), 1u);
  const auto reason =
      std::find_if(dead[0]->headers.begin(), dead[0]->headers.end(),
                   [](const auto& h) { return h.name == "hookstream_dead_reason"; });
  ASSERT_NE(reason, dead[0]->headers.end());
  EXPECT_EQ(finished_.done, std::vector<std::int64_t>{3});
}

TEST_F(EngineTest, StoppingWhileRedisIsDownHandsTheRecordBackUncommitted) {
  subscriptions_.set("acme", {webhook("wh_a", "a.example")});
  subscriptions_.unavailable_for = 1'000'000;
  engine().handle(event_record(5));
  io_.run_for(std::chrono::milliseconds(150));  // a few tries, Redis still down
  engine().stop();
  run_until([&] { return !finished_.abandoned.empty(); });
  EXPECT_EQ(finished_.abandoned, std::vector<std::int64_t>{5});
  EXPECT_TRUE(finished_.done.empty());
  EXPECT_TRUE(http_.requests.empty());
}

TEST_F(EngineTest, NoEndpointGetsMoreRequestsAtOnceThanItsLimit) {
  subscriptions_.set("acme", {webhook("wh_a", "a.example")});
  for (int i = 0; i < 20; ++i) engine().handle(event_record(i));
  run_until([&] { return finished_.done.size() == 20; });
  EXPECT_EQ(http_.requests.size(), 20u);
  EXPECT_EQ(http_.max_in_flight["a.example"], 2);
}

TEST_F(EngineTest, AHangingEndpointParksItsBacklogAndAHealthyOneIsDeliveredMeanwhile) {
  auto slow = webhook("wh_slow", "slow.example");
  auto fine = webhook("wh_fine", "fine.example");
  slow.events = {"contact.updated"};
  subscriptions_.set("acme", {slow, fine});
  http_.hanging.insert("slow.example");
  // 10 events for the hanging endpoint: 2 are sent (and hang), 8 wait; once it counts as stalled,
  // all but max_queued_per_endpoint (4) are parked in the first retry tier.
  for (int i = 0; i < 10; ++i) engine().handle(event_record(i, "contact.updated"));
  for (int i = 10; i < 15; ++i) engine().handle(event_record(i));
  run_until([&] {
    return written_to(config_.kafka.retry_topic(Millis{5000})).size() == 4 &&
           finished_.done.size() == 5 + 4;
  });
  std::size_t deferred = 0;
  for (const auto& e : log_.entries)
    if (e.kind == store::LogEntryKind::deferred) {
      ++deferred;
      EXPECT_EQ(e.status, store::DeliveryStatus::pending);
      EXPECT_TRUE(e.next_retry_at);
    }
  EXPECT_EQ(deferred, 4u);
  EXPECT_EQ(http_.max_in_flight["slow.example"], 2);
  for (const auto* r : written_to(config_.kafka.retry_topic(Millis{5000})))
    EXPECT_EQ(read_retry_info(*r)->attempt, 1);  // parked untried: still its first attempt
}

// The consumer reads on past records whose every unfinished delivery is being parked: the engine
// reports them while Kafka has not acknowledged their retry records, and no longer once it has.
TEST_F(EngineTest, RecordsWaitingOnlyForTheirParkingAreReportedUntilKafkaTakesTheRetries) {
  auto slow = webhook("wh_slow", "slow.example");
  auto fine = webhook("wh_fine", "fine.example");
  slow.events = {"contact.created", "contact.updated"};
  fine.events = {"contact.updated"};
  subscriptions_.set("acme", {slow, fine});
  http_.hanging.insert("slow.example");
  kafka_.gate = std::make_shared<asio::steady_timer>(io_, asio::steady_timer::time_point::max());
  // Records 0-9 go to both endpoints, 10-19 to the hanging one only, which is sent 2 (they hang),
  // keeps 4 waiting and parks the newest 14 once it counts as stalled: records 6-19 are then
  // waiting only for their parking (6-9 once their other delivery is done).
  for (int i = 0; i < 10; ++i) engine().handle(event_record(i, "contact.updated"));
  for (int i = 10; i < 20; ++i) engine().handle(event_record(i));
  run_until([&] { return http_.requests.size() >= 10 + 2 && waiting_ == 14; });
  EXPECT_TRUE(finished_.done.empty());
  kafka_.gate->cancel();
  kafka_.gate.reset();
  run_until([&] { return finished_.done.size() == 14; });
  EXPECT_EQ(waiting_, 0);
  EXPECT_EQ(written_to(config_.kafka.retry_topic(Millis{5000})).size(), 14u);
}

// A retry record read ahead of its due time waits by design: reported while it waits, no
// longer once it is due (and delivered).
TEST_F(EngineTest, ARetryRecordWaitingForItsDueTimeIsReportedUntilItIsDue) {
  const auto fine = webhook("wh_fine", "fine.example");
  subscriptions_.set("acme", {fine});
  auto retry =
      make_retry_record(event_record(5), {fine.id, 2, clock_.now() + Millis{200}, clock_.now()},
                        config_.kafka.retry_topic(Millis{5000}));
  retry.offset = 0;
  engine().handle(retry);
  run_until([&] { return waiting_ == 1; });
  EXPECT_TRUE(http_.requests.empty());
  clock_.advance(Millis{200});
  run_until([&] { return finished_.done.size() == 1; });
  EXPECT_EQ(waiting_, 0);
  EXPECT_EQ(http_.requests.size(), 1u);
}

TEST_F(EngineTest, AnEndpointThatOnlyTimesOutStaysStalledThroughItsTimeouts) {
  // Each request times out after 20 ms, sooner than the stall time (50 ms): a new request starts
  // every 20 ms, yet none is answered, so the endpoint counts as stalled and its excess is parked.
  http_.timing_out.insert("dead.example");
  http_.delay_ms["dead.example"] = 20;
  subscriptions_.set("acme", {webhook("wh_dead", "dead.example")});
  deliver_all(30);
  const auto parked = logged(store::LogEntryKind::deferred);
  EXPECT_GT(parked, 0u);
  // Every delivery was either tried (its retry written as attempt 2) or parked untried, once.
  EXPECT_EQ(http_.requests.size() + parked, 30u);
  std::size_t untried = 0;
  for (const auto* r : written_to(config_.kafka.retry_topic(Millis{5000})))
    untried += read_retry_info(*r)->attempt == 1;
  EXPECT_EQ(untried, parked);
}

TEST_F(EngineTest, AnEndpointSlowerThanItsArrivalsParksTheExcessThoughItKeepsAnswering) {
  // 2 workers answered every 30 ms: 66 deliveries/s. 30 at once wait longer than four stall times
  // (200 ms) in the queue though answers keep coming; the excess is parked, not held for 450 ms.
  http_.delay_ms["slow.example"] = 30;
  subscriptions_.set("acme", {webhook("wh_slow", "slow.example")});
  deliver_all(30);
  const auto parked = logged(store::LogEntryKind::deferred);
  EXPECT_GT(parked, 0u);
  EXPECT_EQ(http_.requests.size() + parked, 30u);
  EXPECT_EQ(written_to(config_.kafka.retry_topic(Millis{5000})).size(), parked);
}

TEST_F(EngineTest, ADeliveryParkedBeforeIsParkedInTheNextLongerTierNotTheFirstAgain) {
  http_.hanging.insert("dead.example");
  const auto dead = webhook("wh_dead", "dead.example");
  subscriptions_.set("acme", {dead});
  // 2 requests hang and 4 wait: once stalled, the endpoint's queue is full.
  for (int i = 0; i < 6; ++i) engine().handle(event_record(i));
  run_until([&] { return http_.requests.size() == 2; });
  // A delivery parked earlier comes due from the first tier while the endpoint is still stalled.
  auto parked = make_retry_record(event_record(99), {dead.id, 1, clock_.now(), clock_.now()},
                                  config_.kafka.retry_topic(Millis{5000}));
  parked.offset = 0;
  const auto longer = config_.kafka.retry_topic(Millis{30000});
  // It joins the queue as its fifth delivery, or is parked at once if the endpoint already
  // counts as stalled; either way it is the one parked, in the next longer tier.
  engine().handle(parked);
  run_until([&] { return !written_to(longer).empty(); });
  ASSERT_EQ(written_to(longer).size(), 1u);
  EXPECT_EQ(read_retry_info(*written_to(longer).front())->attempt, 1);
  EXPECT_TRUE(written_to(config_.kafka.retry_topic(Millis{5000})).empty());
}

TEST_F(EngineTest, EndpointsWaitingForTheProcesssSlotsAreNotStalled) {
  // A fan-out: 10 endpoints share 2 global slots, answers take 5 ms, so deliveries wait ~750 ms
  // for the process, not for their endpoints, which answer everything sent. Nothing is parked.
  config_.max_in_flight = 2;
  std::vector<store::Webhook> all;
  for (int i = 0; i < 10; ++i) {
    const auto host = "e" + std::to_string(i) + ".example";
    all.push_back(webhook("wh_" + std::to_string(i), host));
    http_.delay_ms[host] = 5;
  }
  subscriptions_.set("acme", all);
  deliver_all(30);
  EXPECT_EQ(logged(store::LogEntryKind::deferred), 0u);
  EXPECT_EQ(http_.requests.size(), 300u);
}

TEST_F(EngineTest, ARateLimitedEndpointIsSentNoFasterThanItsLimitWithSlotsTakenInBatches) {
  auto limited = webhook("wh_limited", "limited.example");
  limited.rate_limit = 40;  // one request every 25 ms
  subscriptions_.set("acme", {limited});
  deliver_all(20);
  const auto& sent = http_.sent_at["limited.example"];
  ASSERT_EQ(sent.size(), 20u);
  // The k-th request is sent no earlier than the k-th slot granted, and those are an interval
  // apart: no timer slack needed (a late timer delays a request, never brings one forward).
  const auto& slots = slots_.slots["wh_limited"];
  ASSERT_GE(slots.size(), sent.size());
  for (std::size_t k = 1; k < slots.size(); ++k)
    EXPECT_GE(slots[k] - slots[k - 1], std::chrono::milliseconds(25))
        << "slots " << k - 1 << ", " << k;
  for (std::size_t k = 0; k < sent.size(); ++k) EXPECT_GE(sent[k], slots[k]) << "request " << k;
  // Slots come in batches (up to half a second of the limit: 20), not one Redis call each.
  EXPECT_LE(slots_.calls, 4);
  EXPECT_GT(slots_.largest_batch, 1);
  EXPECT_EQ(logged(store::LogEntryKind::deferred), 0u);
  for (const auto& e : log_.entries) EXPECT_EQ(e.status, store::DeliveryStatus::succeeded);
}

TEST_F(EngineTest, ALimitedEndpointsBacklogBeyondItsBoundIsParkedPendingUntried) {
  // 10/s with a 200 ms backlog: the queue keeps 2; the rest are parked in the first retry tier,
  // logged as pending, and their records finish without waiting for the limit.
  config_.rate_limit_backlog = Millis{200};
  auto limited = webhook("wh_limited", "limited.example");
  limited.rate_limit = 10;
  subscriptions_.set("acme", {limited});
  deliver_all(30);
  const auto parked = logged(store::LogEntryKind::deferred);
  EXPECT_GE(parked, 20u);
  EXPECT_EQ(http_.requests.size() + parked, 30u);
  for (const auto& e : log_.entries) {
    if (e.kind != store::LogEntryKind::deferred) continue;
    EXPECT_EQ(e.status, store::DeliveryStatus::pending);
    EXPECT_NE(e.attempt.error.find("rate limited"), std::string::npos) << e.attempt.error;
  }
  const auto tier = written_to(config_.kafka.retry_topic(Millis{5000}));
  EXPECT_EQ(tier.size(), parked);
  for (const auto* r : tier) EXPECT_EQ(read_retry_info(*r)->attempt, 1);  // still untried
}

TEST_F(EngineTest, AnUnlimitedEndpointIsNotHeldBackByALimitedOneOnTheSameEvents) {
  auto limited = webhook("wh_limited", "limited.example");
  limited.rate_limit = 2;
  subscriptions_.set("acme", {limited, webhook("wh_fine", "fine.example")});
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 20; ++i) engine().handle(event_record(i));
  run_until([&] { return http_.sent_at["fine.example"].size() == 20; });
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(500));
  EXPECT_LE(http_.sent_at["limited.example"].size(), 2u);
}

TEST_F(EngineTest, SendSlotsAreAskedForAgainUntilRedisAnswers) {
  auto limited = webhook("wh_limited", "limited.example");
  limited.rate_limit = 100;
  subscriptions_.set("acme", {limited});
  slots_.unavailable_for = 2;
  deliver_all(3);
  EXPECT_EQ(http_.requests.size(), 3u);
  EXPECT_GE(slots_.calls, 3);
}

}  // namespace
}  // namespace hookstream::dispatcher
