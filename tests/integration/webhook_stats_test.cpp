// GET /v1/webhooks/{id}/stats end to end: a real dispatcher on Apache Kafka logs attempts to a
// healthy and a failing endpoint, and the API shows them per hour, counted as they were logged.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/fixtures/pipeline.hpp"

namespace hookstream::testing {
namespace {

using nlohmann::json;

bool all_failed_for_good(Pipeline& p, const std::string& webhook_id, std::size_t n) {
  const auto all = p.all_deliveries(webhook_id);
  if (all.size() != n) return false;
  for (const auto& d : all)
    if (d["status"] != "failed") return false;
  return true;
}

TEST(WebhookStats, TheApiShowsTheLastDaysAttemptsCountedAsTheyWereLogged) {
  // One retry 200 ms after a failed first attempt, then the delivery has failed for good.
  Pipeline p(PipelineOptions{.env = {{"HOOKSTREAM_RETRY_SCHEDULE", "200ms"}}});
  const std::string ok = p.create_webhook("/ok", {"submission.completed"})["id"];
  const std::string failing = p.create_webhook("/failing", {"submission.completed"}, {},
                                               PathBehaviour{.statuses = {500}})["id"];
  constexpr std::size_t kEvents = 10;
  for (std::size_t i = 0; i < kEvents; ++i) p.publish("submission.completed", {{"i", i}});
  ASSERT_TRUE(eventually(
      [&] {
        return p.receiver().count("/ok") == kEvents && all_failed_for_good(p, failing, kEvents);
      },
      60s))
      << p.receiver().count("/ok") << " " << p.all_deliveries(failing).dump() << p.logs();

  const auto stats = [&](const std::string& id) {
    const auto r = p.api("GET", "/v1/webhooks/" + id + "/stats");
    EXPECT_EQ(r.status, 200) << r.body;
    return r.json()["data"];
  };
  const auto good = stats(ok);
  EXPECT_EQ(good["webhook_id"], ok);
  ASSERT_EQ(good["buckets"].size(), 24u);
  const auto& totals = good["totals"];
  EXPECT_EQ(totals["attempts"], kEvents) << good.dump();
  EXPECT_EQ(totals["successes"], kEvents);
  EXPECT_EQ(totals["failures"], 0);
  EXPECT_EQ(totals["success_rate"], 1.0);
  EXPECT_TRUE(totals["p50_ms"].is_number_integer()) << totals.dump();
  EXPECT_GE(totals["p99_ms"].get<int>(), totals["p50_ms"].get<int>());
  // The hours are consecutive, oldest first, and the attempts are in the last one or two.
  std::int64_t in_buckets = 0;
  for (std::size_t h = 0; h < 24; ++h) {
    const auto& b = good["buckets"][h];
    in_buckets += b["attempts"].get<std::int64_t>();
    if (h < 22) {
      EXPECT_EQ(b["attempts"], 0) << b.dump();
    }
    if (b["attempts"] == 0) {
      EXPECT_TRUE(b["p50_ms"].is_null()) << b.dump();
    }
  }
  EXPECT_EQ(in_buckets, static_cast<std::int64_t>(kEvents));
  EXPECT_EQ(good["buckets"][0]["hour"], good["from"]);

  // Up to two attempts each, until 10 failures in a row paused the endpoint; the log says which
  // were made (the rest were not attempted, which is no attempt).
  std::int64_t made = 0;
  for (const auto& d : p.all_deliveries(failing)) {
    const auto r =
        p.api("GET", "/v1/webhooks/" + failing + "/deliveries/" + d["id"].get<std::string>());
    ASSERT_EQ(r.status, 200) << r.body;
    const auto body = r.json();
    for (const auto& a : body["data"]["delivery"]["attempts"])
      if (a["outcome"] != "not_attempted") ++made;
  }
  EXPECT_GE(made, 10);
  const auto bad = stats(failing);
  EXPECT_EQ(bad["totals"]["attempts"], made) << bad.dump();
  EXPECT_EQ(bad["totals"]["failures"], made);
  EXPECT_EQ(bad["totals"]["success_rate"], 0.0);

  // Another tenant does not learn the webhook exists; a key without webhooks:read is refused.
  const auto globex = p.api().create_key("globex", "webhooks:read");
  EXPECT_EQ(p.api("GET", "/v1/webhooks/" + ok + "/stats", {}, globex.key).status, 404);
  const auto writer = p.api().create_key("acme", "webhooks:write");
  EXPECT_EQ(p.api("GET", "/v1/webhooks/" + ok + "/stats", {}, writer.key).status, 403);
}

}  // namespace
}  // namespace hookstream::testing
