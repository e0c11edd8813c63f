// hookstream-dispatcher end to end (SPEC §4): real redis-server, the embedded Kafka cluster, the
// API and dispatcher binaries, and a Node receiver that verifies every signature with the npm
// `standardwebhooks` library.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>

#include "tests/fixtures/pipeline.hpp"
#include "tests/fixtures/test_certs.hpp"

namespace hookstream::testing {
namespace {

using nlohmann::json;

class Dispatch : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    p_ = new Pipeline(
        PipelineOptions{.retry_schedule = "1s,2s", .env = {{"HOOKSTREAM_LOG_LEVEL", "debug"}}});
  }
  static void TearDownTestSuite() {
    delete p_;
    p_ = nullptr;
  }
  void TearDown() override {
    if (HasFailure()) std::cerr << p_->logs();
  }
  static Pipeline* p_;
};
Pipeline* Dispatch::p_ = nullptr;

TEST_F(Dispatch, EveryPublishPathReachesExactlyTheSubscribedEndpointsWithVerifiedSignatures) {
  auto& rx = p_->receiver();
  const auto a = p_->create_webhook("/all-a", {"submission.completed"});
  const auto b = p_->create_webhook("/all-b", {"*"});
  const auto c = p_->create_webhook("/all-c", {"contact.created"});
  const auto d = p_->create_webhook("/all-d", {"*"});
  ASSERT_EQ(p_->api("PATCH", "/v1/webhooks/" + d["id"].get<std::string>(), R"({"is_active":false})")
                .status,
            200);
  const auto e = p_->create_webhook("/all-e", {"*"});
  ASSERT_EQ(p_->api("DELETE", "/v1/webhooks/" + e["id"].get<std::string>()).status, 204);
  const auto other = p_->api().create_key("globex", kAllScopes);
  p_->create_webhook("/all-other", {"*"}, other.key);

  std::set<std::string> ids;
  // 1. the API
  ids.insert(p_->publish("submission.completed", {{"via", "api"}}));
  // 2. hookstream-produce
  ProcessOptions env;
  env.env = p_->env();
  auto produced = run_command({binary_path("hookstream-produce").string(), "--tenant", "acme",
                               "--type", "submission.completed", "--data", R"({"via":"cli"})"},
                              {}, 30s, env);
  ASSERT_EQ(produced.exit_code, 0) << produced.err;
  ids.insert(json::parse(produced.out)["id"].get<std::string>());
  // 3. kcat, writing the CloudEvents binary-mode record itself
  auto k = run_command({"kcat", "-P",
                        "-b",   p_->kafka().bootstrap(),
                        "-t",   p_->kafka().topic_prefix() + ".events",
                        "-k",   "evt_from_kcat",
                        "-H",   "ce_specversion=1.0",
                        "-H",   "ce_id=evt_from_kcat",
                        "-H",   "ce_type=submission.completed",
                        "-H",   "ce_source=kcat",
                        "-H",   "ce_time=2026-03-05T12:00:00Z",
                        "-H",   "ce_tenant=acme",
                        "-H",   "content-type=application/json"},
                       "{\"via\":\"kcat\"}\n", 30s);
  ASSERT_EQ(k.exit_code, 0) << k.err;
  ids.insert("evt_from_kcat");

  ASSERT_TRUE(rx.wait_for_count("/all-a", 3, 30s)) << rx.count("/all-a");
  ASSERT_TRUE(rx.wait_for_count("/all-b", 3, 30s)) << rx.count("/all-b");
  for (const auto& path : {"/all-a", "/all-b"}) {
    std::set<std::string> got;
    for (const auto& dl : rx.received(path)) {
      EXPECT_TRUE(dl.verified) << path << ": " << dl.verify_error;
      EXPECT_EQ(dl.method, "POST");
      EXPECT_EQ(dl.header("content-type"), "application/json");
      EXPECT_TRUE(dl.header("user-agent").value_or("").starts_with("hookstream/"));
      EXPECT_EQ(dl.header("x-hookstream-event-type"), "submission.completed");
      EXPECT_EQ(dl.attempt, "1");
      EXPECT_EQ(dl.header("x-test-path"), path);
      EXPECT_FALSE(dl.header("x-hookstream-test").has_value());
      const auto body = json::parse(dl.body);
      EXPECT_EQ(body["id"], dl.id);
      EXPECT_EQ(body["type"], "submission.completed");
      EXPECT_TRUE(body["timestamp"].is_string());
      EXPECT_TRUE(body["data"].contains("via"));
      got.insert(dl.id);
    }
    EXPECT_EQ(got, ids) << path;
  }
  // Everything for these events has been attempted by now (deliveries run concurrently); the
  // paused/disabled one is logged as failed without an attempt.
  EXPECT_TRUE(eventually([&] { return p_->deliveries(d["id"]).size() == 3; }, 10s));
  for (const auto& dl : p_->deliveries(d["id"])) {
    EXPECT_EQ(dl["status"], "failed");
    EXPECT_NE(dl["last_error"].get<std::string>().find("disabled"), std::string::npos) << dl;
  }
  EXPECT_EQ(rx.count("/all-c"), 0u);
  EXPECT_EQ(rx.count("/all-d"), 0u);
  EXPECT_EQ(rx.count("/all-e"), 0u);
  EXPECT_EQ(rx.count("/all-other"), 0u);
  EXPECT_EQ(p_->deliveries(c["id"]).size(), 0u);
  (void)a;
  (void)b;
}

TEST_F(Dispatch, FailingReceiverIsRetriedOnTheScheduleAndTheLogShowsIt) {
  auto& rx = p_->receiver();
  const auto w = p_->create_webhook("/flaky", {"contact.created"}, {},
                                    PathBehaviour{.statuses = {500, 503, 200}});
  const std::string wid = w["id"];
  const auto event_id = p_->publish("contact.created", {{"n", 1}});

  ASSERT_TRUE(rx.wait_for_count("/flaky", 1, 20s));
  // After the first failure: pending, attempt 1, response 500, a next_retry_at.
  json pending;
  ASSERT_TRUE(eventually(
      [&] {
        const auto list = p_->deliveries(wid);
        if (list.size() != 1 || list[0]["attempt_count"] != 1) return false;
        pending = list[0];
        return true;
      },
      10s));
  EXPECT_EQ(pending["status"], "pending");
  EXPECT_EQ(pending["response_status"], 500);
  EXPECT_FALSE(pending["next_retry_at"].is_null());
  EXPECT_TRUE(pending["delivered_at"].is_null());
  EXPECT_EQ(pending["event_id"], event_id);
  // Pending, its next attempt scheduled: a redelivery would start a second chain; refused.
  const auto redeliver = p_->api("POST", "/v1/webhooks/" + wid + "/deliveries/" +
                                             pending["id"].get<std::string>() + "/redeliver");
  EXPECT_EQ(redeliver.status, 409) << redeliver.body;
  EXPECT_EQ(redeliver.json()["error"]["details"]["status"], "pending") << redeliver.body;

  ASSERT_TRUE(rx.wait_for_count("/flaky", 3, 30s)) << rx.count("/flaky");
  const auto got = rx.received("/flaky");
  ASSERT_EQ(got.size(), 3u);
  for (std::size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].attempt, std::to_string(i + 1));
    EXPECT_EQ(got[i].id, event_id);  // the same webhook-id on every retry
    EXPECT_TRUE(got[i].verified) << got[i].verify_error;
  }
  // Never early: 1 s before attempt 2, 2 s before attempt 3.
  EXPECT_GE(got[1].received_at_ms - got[0].received_at_ms, 1000);
  EXPECT_GE(got[2].received_at_ms - got[1].received_at_ms, 2000);
  EXPECT_LT(got[2].received_at_ms - got[0].received_at_ms, 8000);

  json done;
  ASSERT_TRUE(eventually(
      [&] {
        const auto list = p_->deliveries(wid);
        if (list.size() != 1 || list[0]["status"] != "succeeded") return false;
        done = list[0];
        return true;
      },
      10s));
  EXPECT_EQ(done["attempt_count"], 3);
  EXPECT_EQ(done["response_status"], 200);
  EXPECT_FALSE(done["delivered_at"].is_null());
  EXPECT_TRUE(done["next_retry_at"].is_null());
  const auto one =
      p_->api("GET", "/v1/webhooks/" + wid + "/deliveries/" + done["id"].get<std::string>());
  ASSERT_EQ(one.status, 200) << one.body;
  const auto attempts = one.json()["data"]["delivery"]["attempts"];
  ASSERT_EQ(attempts.size(), 3u);
  EXPECT_EQ(attempts[0]["response_status"], 500);
  EXPECT_EQ(attempts[1]["response_status"], 503);
  EXPECT_EQ(attempts[2]["outcome"], "success");
  const auto webhook = p_->api("GET", "/v1/webhooks/" + wid).json()["data"]["webhook"];
  EXPECT_EQ(webhook["consecutive_fails"], 0);
  EXPECT_EQ(webhook["last_delivery_ok"], true);
}

TEST_F(Dispatch, ARetryOfATypeNoLongerSubscribedFailsWithTheReasonInsteadOfStayingPending) {
  auto& rx = p_->receiver();
  const auto w = p_->create_webhook("/unsubscribed", {"contact.updated", "submission.completed"},
                                    {}, PathBehaviour{.statuses = {500}});
  const std::string wid = w["id"];
  p_->publish("contact.updated", {{"n", 1}});
  ASSERT_TRUE(rx.wait_for_count("/unsubscribed", 1, 10s)) << p_->logs();
  // The first attempt failed and its retry is due in 1 s; the webhook stops subscribing first.
  ASSERT_EQ(
      p_->api("PATCH", "/v1/webhooks/" + wid, R"({"events":["submission.completed"]})").status,
      200);
  json delivery;
  ASSERT_TRUE(eventually(
      [&] {
        const auto list = p_->deliveries(wid);
        if (list.size() != 1) return false;
        delivery = list[0];
        return delivery["status"] == "failed";
      },
      15s))
      << delivery;
  EXPECT_NE(delivery["last_error"].get<std::string>().find(
                "endpoint no longer subscribed to contact.updated"),
            std::string::npos)
      << delivery;
  EXPECT_TRUE(delivery["next_retry_at"].is_null());
}

TEST_F(Dispatch, TestPingIsSignedAndMarked) {
  auto& rx = p_->receiver();
  const auto w = p_->create_webhook("/ping", {"contact.created"});
  const auto r = p_->api("POST", "/v1/webhooks/" + w["id"].get<std::string>() + "/test");
  ASSERT_EQ(r.status, 200) << r.body;
  const auto data = r.json()["data"];
  EXPECT_EQ(data["delivered"], true);
  EXPECT_EQ(data["response_status"], 200);
  EXPECT_EQ(data["response_body"], "ok");
  EXPECT_TRUE(data["duration_ms"].is_number());
  const auto got = rx.received("/ping");
  ASSERT_EQ(got.size(), 1u);
  EXPECT_TRUE(got[0].verified) << got[0].verify_error;
  EXPECT_EQ(got[0].header("x-hookstream-test"), "true");
  EXPECT_EQ(got[0].header("x-hookstream-event-type"), "test.ping");

  rx.configure("/ping",
               PathBehaviour{.secrets = {w["secret"].get<std::string>()}, .statuses = {500}});
  const auto failed = p_->api("POST", "/v1/webhooks/" + w["id"].get<std::string>() + "/test");
  EXPECT_EQ(failed.json()["data"]["delivered"], false);
  EXPECT_EQ(failed.json()["data"]["response_status"], 500);
  // Test pings do not count toward pausing.
  EXPECT_EQ(p_->api("GET", "/v1/webhooks/" + w["id"].get<std::string>())
                .json()["data"]["webhook"]["consecutive_fails"],
            0);
  ASSERT_EQ(p_->api("PATCH", "/v1/webhooks/" + w["id"].get<std::string>(), R"({"is_active":false})")
                .status,
            200);
  EXPECT_EQ(p_->api("POST", "/v1/webhooks/" + w["id"].get<std::string>() + "/test").status, 400);
}

// Apache Kafka hands a record over within milliseconds, well inside the subscription cache's
// refresh period: the dispatcher must still apply a change answered before the event was published.
TEST_F(Dispatch, AWebhookCreatedJustBeforeAnEventGetsIt) {
  auto& rx = p_->receiver();
  for (int i = 0; i < 10; ++i) {
    const std::string path = "/fresh" + std::to_string(i);
    p_->create_webhook(path, {"intake-bot.status-changed"});
    p_->publish("intake-bot.status-changed", {{"i", i}});
    ASSERT_TRUE(rx.wait_for_count(path, 1, 10s)) << path << " missed the event\n" << p_->logs();
  }
}

TEST_F(Dispatch, AHangingEndpointDoesNotDelayAHealthyOne) {
  auto& rx = p_->receiver();
  p_->create_webhook("/hang", {"submission.updated"}, {}, PathBehaviour{.hang = true});
  p_->create_webhook("/fast", {"submission.updated"});
  std::map<std::string, std::int64_t> published_at;
  for (int i = 0; i < 30; ++i) {
    const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    published_at[p_->publish("submission.updated", {{"i", i}})] = now;
  }
  ASSERT_TRUE(rx.wait_for_count("/fast", 30, 30s)) << rx.count("/fast");
  std::int64_t worst = 0;
  for (const auto& dl : rx.received("/fast"))
    worst = std::max(worst, dl.received_at_ms - published_at.at(dl.id));
  // The stated bound: with a dead endpoint taking its 8 slots for 3 s each, the healthy endpoint
  // still gets every event within 2 s of its publication, on a loaded 2-core CI machine (about
  // 0.3 s when idle), well under the 3 s a delivery to the dead endpoint takes to time out.
  EXPECT_LT(worst, 2000) << "worst publish-to-receipt latency at the healthy endpoint";
}

TEST_F(Dispatch, AMalformedRecordGoesToTheDeadLetterTopicAndConsumptionGoesOn) {
  auto& rx = p_->receiver();
  p_->create_webhook("/after-dead", {"contact.updated"});
  auto k = run_command({"kcat", "-P", "-b", p_->kafka().bootstrap(), "-t",
                        p_->kafka().topic_prefix() + ".events", "-k", "junk"},
                       "this is not a cloudevent\n", 30s);
  ASSERT_EQ(k.exit_code, 0) << k.err;
  p_->publish("contact.updated", {{"after", "junk"}});
  ASSERT_TRUE(rx.wait_for_count("/after-dead", 1, 20s));
  std::string dead;
  ASSERT_TRUE(eventually(
      [&] {
        dead = run_command({"kcat", "-C", "-b", p_->kafka().bootstrap(), "-t",
                            p_->kafka().topic_prefix() + ".dead", "-e", "-J", "-q"},
                           {}, 30s)
                   .out;
        return dead.find("this is not a cloudevent") != std::string::npos;
      },
      10s))
      << dead;
  EXPECT_NE(dead.find("hookstream_dead_reason"), std::string::npos) << dead;
  EXPECT_NE(dead.find("not_a_cloudevent"), std::string::npos) << dead;
}

// Its own pipeline: a schedule of nine short retries, so one event makes the ten attempts that
// pause an endpoint.
TEST(DispatchPause, TenConsecutiveFailuresPauseTheEndpointAndRedeliverWorksAfterResuming) {
  Pipeline p(PipelineOptions{.retry_schedule = "50ms,50ms,50ms,50ms,50ms,50ms,50ms,50ms,50ms",
                             .dispatchers = 0});
  const auto metrics_port = free_port();
  p.start_dispatcher(
      {{"HOOKSTREAM_DISPATCHER_LISTEN", "127.0.0.1:" + std::to_string(metrics_port)}});
  const auto paused_now = [&] {
    return scrape_metric(metrics_port, "hookstream_endpoints_paused");
  };
  EXPECT_EQ(paused_now(), 0.0);
  auto& rx = p.receiver();
  const auto w =
      p.create_webhook("/down", {"contact.created"}, {}, PathBehaviour{.statuses = {500}});
  const std::string wid = w["id"];
  p.publish("contact.created", {{"n", 1}});
  ASSERT_TRUE(rx.wait_for_count("/down", 10, 30s)) << p.logs();
  json webhook;
  ASSERT_TRUE(eventually(
      [&] {
        webhook = p.api("GET", "/v1/webhooks/" + wid).json()["data"]["webhook"];
        return webhook["status"] == "paused";
      },
      10s))
      << webhook;
  EXPECT_EQ(webhook["consecutive_fails"], 10);
  EXPECT_EQ(webhook["is_active"], false);
  EXPECT_EQ(paused_now(), 1.0) << "the paused-endpoints gauge";
  json first;
  ASSERT_TRUE(eventually(
      [&] {
        const auto list = p.deliveries(wid);
        if (list.size() != 1 || list[0]["status"] != "failed") return false;
        first = list[0];
        return true;
      },
      10s));
  EXPECT_EQ(first["attempt_count"], 10);
  EXPECT_TRUE(first["delivered_at"].is_null());
  EXPECT_TRUE(first["next_retry_at"].is_null());  // failed for good

  // While paused: nothing is attempted, the delivery is logged as failed with the reason.
  p.publish("contact.created", {{"n", 2}});
  ASSERT_TRUE(eventually([&] { return p.deliveries(wid).size() == 2; }, 10s));
  const auto latest = p.deliveries(wid)[0];
  EXPECT_EQ(latest["status"], "failed");
  EXPECT_NE(latest["last_error"].get<std::string>().find("paused"), std::string::npos);
  EXPECT_EQ(rx.count("/down"), 10u);
  EXPECT_EQ(p.api("POST", "/v1/webhooks/" + wid + "/deliveries/" + first["id"].get<std::string>() +
                              "/redeliver")
                .status,
            400);

  // Resume, let the endpoint recover, redeliver the first one.
  rx.configure("/down",
               PathBehaviour{.secrets = {w["secret"].get<std::string>()}, .statuses = {200}});
  const auto resumed = p.api("PATCH", "/v1/webhooks/" + wid, R"({"is_active":true})");
  EXPECT_EQ(resumed.json()["data"]["webhook"]["status"], "active");
  EXPECT_EQ(resumed.json()["data"]["webhook"]["consecutive_fails"], 0);
  EXPECT_EQ(paused_now(), 0.0) << "resumed";
  const auto r = p.api("POST", "/v1/webhooks/" + wid + "/deliveries/" +
                                   first["id"].get<std::string>() + "/redeliver");
  ASSERT_EQ(r.status, 202) << r.body;
  ASSERT_TRUE(rx.wait_for_count("/down", 11, 20s)) << p.logs();
  const auto last = rx.received("/down").back();
  EXPECT_TRUE(last.verified) << last.verify_error;
  EXPECT_EQ(last.attempt, "11");
  EXPECT_EQ(last.id, first["event_id"]);
  EXPECT_TRUE(eventually(
      [&] {
        const auto one =
            p.api("GET", "/v1/webhooks/" + wid + "/deliveries/" + first["id"].get<std::string>());
        return one.json()["data"]["delivery"]["status"] == "succeeded";
      },
      10s));
}

TEST(DispatchMetrics, ConsumerLagCountsUnfinishedRecordsUntilTheyAreDelivered) {
  Pipeline p(PipelineOptions{.dispatchers = 0});
  const auto metrics_port = free_port();
  p.start_dispatcher(
      {{"HOOKSTREAM_DISPATCHER_LISTEN", "127.0.0.1:" + std::to_string(metrics_port)}});
  const std::string series =
      "hookstream_consumer_lag{topic=\"" + p.kafka().topic_prefix() + ".events\"}";
  const auto lag = [&] { return scrape_metric(metrics_port, series).value_or(-1); };
  ASSERT_TRUE(eventually([&] { return lag() == 0; }, 15s)) << lag() << "\n" << p.logs();

  // Five events to an endpoint that takes 4 s to answer: five records unfinished, then none.
  auto& rx = p.receiver();
  p.create_webhook("/slow", {"contact.created"}, {}, PathBehaviour{.delay_ms = 4s});
  for (int i = 0; i < 5; ++i) p.publish("contact.created", {{"i", i}});
  EXPECT_TRUE(eventually([&] { return lag() == 5; }, 4s)) << lag();
  ASSERT_TRUE(rx.wait_for_count("/slow", 5, 20s)) << p.logs();
  EXPECT_TRUE(eventually([&] { return lag() == 0; }, 10s)) << lag();
}

// One dispatcher with a pending-record bound of `bound` and one endpoint answering after `delay`,
// `events` events published: the most records the consumer held at once (its gauge, sampled
// every ~10 ms until all were delivered); none is left pending afterwards.
double most_pending_while_delivering(Pipeline& p, int bound, std::chrono::milliseconds delay,
                                     int events) {
  const auto metrics_port = free_port();
  p.start_dispatcher({{"HOOKSTREAM_DISPATCHER_LISTEN", "127.0.0.1:" + std::to_string(metrics_port)},
                      {"HOOKSTREAM_MAX_PENDING_RECORDS", std::to_string(bound)}});
  auto& rx = p.receiver();
  p.create_webhook("/paced", {"contact.created"}, {}, PathBehaviour{.delay_ms = delay});
  p.produce_numbered("contact.created", 0, events, "n");
  const auto pending = [&] {
    return scrape_metric(metrics_port, "hookstream_consumer_pending_records").value_or(-1);
  };
  double most = 0;
  EXPECT_TRUE(eventually(
      [&] {
        most = std::max(most, pending());
        return rx.count("/paced") >= static_cast<std::size_t>(events);
      },
      60s))
      << rx.count("/paced") << "\n"
      << p.logs();
  EXPECT_TRUE(eventually([&] { return pending() == 0.0; }, 10s)) << pending();
  return most;
}

// A backlog against a bound of 64 records (a refill is 2 of them): the consumer reaches the bound,
// never holds more, and refills as records finish until all are delivered and none is pending.
// (How promptly it refills is measured by bench/, not here: reading a whole bound after a 100 ms
// poll would drain this backlog nearly as fast.)
TEST(DispatchMetrics, AtThePendingRecordBoundTheConsumerRefillsAsRecordsFinish) {
  Pipeline p(PipelineOptions{.dispatchers = 0});
  const auto most = most_pending_while_delivering(p, 64, 10ms, 1000);
  // Sampled while a second or more of backlog drained; the gauge is what the consumer saw when it
  // last looked (a few may have finished since it filled the bound).
  EXPECT_LE(most, 64.0);
  EXPECT_GE(most, 48.0);
}

// Records in hand that take long (an endpoint answering in 400 ms, a bound of 8): the consumer
// still polls every 100 ms to serve the group, and what such a poll returns waits unstarted, so
// the bound holds exactly, and every event is delivered once.
TEST(DispatchMetrics, SlowRecordsAtTheBoundDoNotLetPollsToServeTheGroupExceedIt) {
  Pipeline p(PipelineOptions{.dispatchers = 0});
  constexpr int kEvents = 40;
  EXPECT_EQ(most_pending_while_delivering(p, 8, 400ms, kEvents), 8.0);
  std::set<std::string> ids;
  for (const auto& d : p.receiver().received("/paced")) {
    ids.insert(d.id);
    EXPECT_EQ(d.attempt, "1");
  }
  EXPECT_EQ(ids.size(), static_cast<std::size_t>(kEvents));
}

TEST(DispatchStop, SigtermWhileRedisIsDownHandsTheRecordsBackWithoutWaitingOutTheGrace) {
  // Redis with AOF: it comes back with the webhook after the restart.
  Pipeline p(PipelineOptions{.dispatchers = 0, .redis = {.appendonly = true}});
  const auto metrics_port = free_port();
  p.start_dispatcher(
      {{"HOOKSTREAM_DISPATCHER_LISTEN", "127.0.0.1:" + std::to_string(metrics_port)}});
  auto& rx = p.receiver();
  p.create_webhook("/after-redis", {"contact.created"});
  p.publish("contact.created", {{"n", 0}});
  ASSERT_TRUE(rx.wait_for_count("/after-redis", 1, 20s)) << p.logs();
  // Logged too (the log write follows the POST): otherwise it is a sixth record in hand below.
  ASSERT_TRUE(eventually(
      [&] { return scrape_metric(metrics_port, "hookstream_consumer_pending_records") == 0.0; },
      20s))
      << p.logs();

  // Redis goes away; five events reach the dispatcher, which cannot log them (it may POST them:
  // nothing waits on Redis before the POST), so it cannot finish them.
  p.redis().stop();
  p.produce_numbered("contact.created", 1, 6, "n");
  ASSERT_TRUE(eventually(
      [&] { return scrape_metric(metrics_port, "hookstream_consumer_pending_records") == 5.0; },
      20s))
      << p.logs();

  // SIGTERM: they are handed back at once, not waited for until HOOKSTREAM_SHUTDOWN_GRACE (20 s).
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(p.dispatcher(0).terminate(30s), 0) << p.logs();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);

  // Uncommitted: the next dispatcher delivers all five.
  p.redis().restart();
  p.start_dispatcher();
  EXPECT_TRUE(rx.wait_for_count("/after-redis", 6, 30s)) << rx.count("/after-redis") << p.logs();
}

TEST(DispatchSafety, PrivateTargetsAreRefusedUnlessAllowed) {
  Pipeline p(PipelineOptions{.dispatchers = 0});
  const auto metrics_port = free_port();
  p.start_dispatcher(
      {{"HOOKSTREAM_ALLOW_PRIVATE_TARGETS", "false"},
       {"HOOKSTREAM_DISPATCHER_LISTEN", "127.0.0.1:" + std::to_string(metrics_port)}});
  const auto w = p.create_webhook("/private", {"contact.created"});
  p.publish("contact.created", {{"n", 1}});
  json d;
  ASSERT_TRUE(eventually(
      [&] {
        const auto list = p.deliveries(w["id"]);
        if (list.empty() || list[0]["status"] != "failed") return false;
        d = list[0];
        return true;
      },
      20s))
      << p.logs();
  EXPECT_EQ(d["attempt_count"], 1);  // not retriable
  const auto one = p.api("GET", "/v1/webhooks/" + w["id"].get<std::string>() + "/deliveries/" +
                                    d["id"].get<std::string>());
  EXPECT_EQ(one.json()["data"]["delivery"]["attempts"][0]["outcome"], "blocked_address")
      << one.body;
  EXPECT_EQ(p.receiver().count("/private"), 0u);

  // The refusal is counted by outcome on /metrics, and SIGTERM stops the dispatcher cleanly.
  const auto metrics = http_request("127.0.0.1", metrics_port, HttpRequest{.target = "/metrics"});
  ASSERT_EQ(metrics.status, 200) << metrics.error;
  EXPECT_NE(metrics.body.find(R"(hookstream_delivery_attempts_total{outcome="blocked_address"} 1)"),
            std::string::npos)
      << metrics.body;
  EXPECT_NE(metrics.body.find("hookstream_consumer_offset_resets_total"), std::string::npos);
  EXPECT_EQ(p.dispatcher(0).terminate(15s), 0) << p.logs();
  EXPECT_NE(p.dispatcher(0).output().find("hookstream-dispatcher stopped"), std::string::npos);
}

// HTTPS receivers: a certificate from the configured CA verifies; one it did not sign fails the
// attempt as `tls`, which is not retried.
TEST(DispatchTls, HttpsWithTheTestCaDeliversAndAWrongCertificateFailsAsTls) {
  TestCertificates certs;
  Pipeline p(PipelineOptions{
      .env = {{"HOOKSTREAM_ALLOW_HTTP", "false"}, {"HOOKSTREAM_CA_FILE", certs.ca_file().string()}},
      .receiver = {.tls_cert = certs.server_cert(), .tls_key = certs.server_key()}});
  const auto good = p.create_webhook("/tls", {"contact.created"});
  EXPECT_TRUE(good["url"].get<std::string>().starts_with("https://"));
  p.publish("contact.created", {{"tls", true}});
  ASSERT_TRUE(p.receiver().wait_for_count("/tls", 1, 20s)) << p.logs();
  const auto got = p.receiver().received("/tls");
  EXPECT_TRUE(got[0].verified) << got[0].verify_error;

  Receiver impostor(ReceiverOptions{.tls_cert = certs.wrong_cert(), .tls_key = certs.wrong_key()});
  const json body = {{"url", impostor.url("/tls")}, {"events", {"contact.updated"}}};
  auto created = p.api("POST", "/v1/webhooks", body.dump());
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string wid = created.json()["data"]["webhook"]["id"];
  p.publish("contact.updated", {{"tls", false}});
  json d;
  ASSERT_TRUE(eventually(
      [&] {
        const auto list = p.deliveries(wid);
        if (list.empty() || list[0]["status"] != "failed") return false;
        d = list[0];
        return true;
      },
      20s))
      << p.logs();
  const auto one =
      p.api("GET", "/v1/webhooks/" + wid + "/deliveries/" + d["id"].get<std::string>());
  EXPECT_EQ(one.json()["data"]["delivery"]["attempts"][0]["outcome"], "tls") << one.body;
  EXPECT_EQ(impostor.count("/tls"), 0u);
}

TEST(DispatchCrash, KillingOneOfThreeDispatchersLosesNothing) {
  Pipeline p(PipelineOptions{.dispatchers = 3});
  auto& rx = p.receiver();
  p.create_webhook("/crash", {"contact.created"});
  constexpr int kEvents = 300;
  std::set<std::string> published;
  std::istringstream lines(p.produce_numbered("contact.created", 0, kEvents));
  for (std::string line; std::getline(lines, line);)
    published.insert(json::parse(line)["id"].get<std::string>());
  ASSERT_EQ(published.size(), static_cast<std::size_t>(kEvents));

  ASSERT_TRUE(rx.wait_for_count("/crash", 30, 30s));
  p.dispatcher(1).kill9();
  ASSERT_TRUE(eventually(
      [&] {
        std::set<std::string> got;
        for (const auto& dl : rx.received("/crash")) got.insert(dl.id);
        return got == published;
      },
      60s))
      << p.logs();
  const auto all = rx.received("/crash");
  std::cout << "[ crash ] events " << kEvents << ", deliveries " << all.size() << ", duplicates "
            << all.size() - published.size() << ", lost 0\n";
}

}  // namespace
}  // namespace hookstream::testing
