// Per-endpoint rate limits end to end (SPEC §4, issue 17): the API validates and stores
// `rate_limit`, and three real dispatchers on Apache Kafka and Redis share one endpoint's budget:
// it receives its events at the limit, none lost, none failed, never paused, while an unlimited
// endpoint getting the same events keeps up.
#include <gtest/gtest.h>

#include <algorithm>
#include <iostream>
#include <nlohmann/json.hpp>
#include <set>

#include "common/time.hpp"
#include "tests/fixtures/pipeline.hpp"

namespace hookstream::testing {
namespace {

using nlohmann::json;

json create_webhook(Pipeline& p, const std::string& path, const json& rate_limit,
                    std::vector<std::string> events = {"*"}) {
  return p.create_webhook(path, events, {}, {},
                          rate_limit.is_null() ? json::object() : json{{"rate_limit", rate_limit}});
}

// Deliveries of a webhook's log by status (every page).
std::map<std::string, int> statuses(Pipeline& p, const std::string& webhook_id) {
  std::map<std::string, int> out;
  for (const auto& d : p.all_deliveries(webhook_id)) ++out[d["status"].get<std::string>()];
  return out;
}

// The p99 of the time from publication to arrival of the deliveries a path received, ms; only
// those whose data.i is in [first, first + n).
std::int64_t p99_latency_ms(Receiver& rx, const std::string& path, int first, int n) {
  std::vector<std::int64_t> latency;
  for (const auto& d : rx.received(path)) {
    const auto body = json::parse(d.body);
    const auto i = body["data"]["i"].get<int>();
    if (i < first || i >= first + n) continue;
    const auto published = parse_rfc3339(body["timestamp"].get<std::string>());
    if (!published) throw std::runtime_error("bad timestamp: " + d.body);
    latency.push_back(d.received_at_ms - to_unix_millis(*published));
  }
  if (latency.empty()) throw std::runtime_error("nothing received at " + path);
  std::sort(latency.begin(), latency.end());
  return latency[latency.size() * 99 / 100];
}

TEST(RateLimits, TheApiValidatesStoresAndRemovesARateLimit) {
  Pipeline p(PipelineOptions{.dispatchers = 0});
  for (const auto& bad : {json(0), json(10001), json("20"), json(2.5), json(true)}) {
    const auto r =
        p.api("POST", "/v1/webhooks",
              json{{"url", p.receiver().url("/x")}, {"events", {"*"}}, {"rate_limit", bad}}.dump());
    EXPECT_EQ(r.status, 400) << bad << " " << r.body;
    EXPECT_TRUE(r.json()["error"]["details"]["fields"].contains("rate_limit")) << r.body;
  }
  const auto w = create_webhook(p, "/x", 20);
  EXPECT_EQ(w["rate_limit"], 20);
  const std::string id = w["id"];
  EXPECT_EQ(p.api("GET", "/v1/webhooks/" + id).json()["data"]["webhook"]["rate_limit"], 20);
  auto patched = p.api("PATCH", "/v1/webhooks/" + id, R"({"rate_limit":10000})");
  ASSERT_EQ(patched.status, 200) << patched.body;
  EXPECT_EQ(patched.json()["data"]["webhook"]["rate_limit"], 10000);
  patched = p.api("PATCH", "/v1/webhooks/" + id, R"({"description":"kept"})");
  EXPECT_EQ(patched.json()["data"]["webhook"]["rate_limit"], 10000);  // only given fields change
  patched = p.api("PATCH", "/v1/webhooks/" + id, R"({"rate_limit":null})");
  ASSERT_EQ(patched.status, 200) << patched.body;
  EXPECT_TRUE(patched.json()["data"]["webhook"]["rate_limit"].is_null()) << patched.body;
  EXPECT_EQ(p.api("PATCH", "/v1/webhooks/" + id, R"({"rate_limit":-1})").status, 400);
}

TEST(RateLimits, ThreeDispatchersShareOneEndpointsLimitAndAnUnlimitedOneKeepsUp) {
  Pipeline p(PipelineOptions{.dispatchers = 0});
  std::vector<std::uint16_t> metrics_ports;
  for (int i = 0; i < 3; ++i) {
    metrics_ports.push_back(free_port());
    p.start_dispatcher(
        {{"HOOKSTREAM_DISPATCHER_LISTEN", "127.0.0.1:" + std::to_string(metrics_ports.back())}});
  }
  auto& rx = p.receiver();
  const auto limited = create_webhook(p, "/limited", 20, {"contact.created"});
  const auto fine = create_webhook(p, "/fine", nullptr);
  const auto sum_metric = [&](const std::string& series) {
    double total = 0;
    for (const auto port : metrics_ports) total += scrape_metric(port, series).value_or(0);
    return total;
  };

  constexpr int kEvents = 1000;
  // Warm-up (connections, caches), so that the first burst is not slower for its own reasons:
  // both endpoints, on every dispatcher (events are spread by id). A cold connection's handshake
  // delayed the limited endpoint's first requests into the next ones' second (24 in one second).
  constexpr int kWarmUp = 30;
  p.produce_numbered("contact.created", 10 * kEvents, 10 * kEvents + kWarmUp);
  ASSERT_TRUE(eventually([&] { return rx.count("/limited") >= kWarmUp; }, 60s))
      << rx.count("/limited");
  ASSERT_TRUE(eventually([&] { return rx.count("/fine") >= kWarmUp; }, 60s)) << rx.count("/fine");
  rx.clear();
  // First the unlimited endpoint alone (events the limited one does not subscribe to): its
  // healthy p99 for a burst of 1,000 on this machine.
  p.produce_numbered("contact.updated", kEvents, 2 * kEvents);
  ASSERT_TRUE(eventually([&] { return rx.count("/fine") >= kEvents; }, 60s)) << rx.count("/fine");
  const auto healthy_p99 = p99_latency_ms(rx, "/fine", kEvents, kEvents);
  rx.clear();

  // Then 1,000 events for both.
  p.produce_numbered("contact.created", 0, kEvents);
  // The backlog is visible while it drains.
  EXPECT_TRUE(eventually([&] { return sum_metric("hookstream_rate_limit_backlog") > 0; }, 20s));
  // The unlimited endpoint gets everything long before the limited one can.
  ASSERT_TRUE(eventually([&] { return rx.count("/fine") >= kEvents; }, 60s))
      << rx.count("/fine") << p.logs();
  EXPECT_LT(rx.count("/limited"), kEvents / 2);
  ASSERT_TRUE(eventually([&] { return rx.count("/limited") >= kEvents; }, 150s))
      << rx.count("/limited") << p.logs();

  // None lost, all verified and answered 200 (so none failed).
  std::set<std::string> ids;
  std::vector<std::int64_t> at;
  for (const auto& d : rx.received("/limited")) {
    ids.insert(d.id);
    at.push_back(d.received_at_ms);
    EXPECT_TRUE(d.verified) << d.verify_error;
    EXPECT_EQ(d.attempt, "1");
  }
  EXPECT_EQ(ids.size(), static_cast<std::size_t>(kEvents));
  std::sort(at.begin(), at.end());

  // 20/s ± 10% in every whole second (the last, partial one aside) from the first request after
  // the unlimited endpoint's burst was received: the receiver stamps a request when its event
  // loop gets to it, and while it verified 1,000 signatures for the other path, the limited
  // requests sent meanwhile were stamped late, together (24 in one second on a loaded machine).
  std::int64_t burst_received = 0;
  for (const auto& d : rx.received("/fine"))
    burst_received = std::max(burst_received, d.received_at_ms);
  const auto first_after = std::lower_bound(at.begin(), at.end(), burst_received);
  ASSERT_NE(first_after, at.end());
  const auto from = *first_after;
  std::vector<int> windows(static_cast<std::size_t>((at.back() - from) / 1000), 0);
  for (const auto t : at) {
    const auto w = static_cast<std::size_t>((t - from) / 1000);
    if (t >= from && w < windows.size()) ++windows[w];
  }
  ASSERT_GE(windows.size(), 40u);
  std::string shown;
  for (const auto n : windows) shown += std::to_string(n) + " ";
  for (const auto n : windows) {
    EXPECT_GE(n, 18) << shown;
    EXPECT_LE(n, 22) << shown;
  }
  const double rate =
      1000.0 * static_cast<double>(at.size() - 1) / static_cast<double>(at.back() - at.front());

  // The unlimited endpoint's latency from publication: as when it was alone, within the noise of
  // a shared machine (alone 460 ms, with the limited one 340-370 ms when nothing else runs; under
  // a parallel ctest one phase can be slowed by the other tests, so the 2 s the hanging-endpoint
  // isolation test allows is the floor of the bound).
  const auto p99 = p99_latency_ms(rx, "/fine", 0, kEvents);
  EXPECT_LE(p99, std::max<std::int64_t>(2 * healthy_p99 + 250, 2000))
      << "ms; alone: " << healthy_p99 << " ms";

  // Logged as succeeded, never failed or paused; slots came from Redis in batches.
  const std::string limited_id = limited["id"];
  EXPECT_TRUE(
      eventually([&] { return statuses(p, limited_id)["succeeded"] == kWarmUp + kEvents; }, 30s))
      << json(statuses(p, limited_id)).dump();
  const auto w = p.api("GET", "/v1/webhooks/" + limited_id).json()["data"]["webhook"];
  EXPECT_EQ(w["status"], "active");
  EXPECT_EQ(w["consecutive_fails"], 0);
  const auto reservations = sum_metric("hookstream_rate_limit_reservations_total");
  EXPECT_LT(reservations, kEvents / 2);
  std::cout << "[ rate limit ] 3 dispatchers, limit 20/s: " << at.size() << " delivered at " << rate
            << "/s, per second: " << shown << "; unlimited endpoint p99 " << p99
            << " ms (alone: " << healthy_p99 << " ms); slot batches from Redis " << reservations
            << ", parked " << sum_metric("hookstream_rate_limit_parked_total") << "\n";
}

}  // namespace
}  // namespace hookstream::testing
