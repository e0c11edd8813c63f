// POST /v1/webhooks/{id}/recover end to end (SPEC §3): deliveries that failed for good while an
// endpoint was down, and while it was paused, are queued again once it is resumed, each once,
// and reach it; the window and the body are validated.
#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>

#include "common/time.hpp"
#include "tests/fixtures/pipeline.hpp"

namespace hookstream::testing {
namespace {

using nlohmann::json;

std::size_t count_status(Pipeline& p, const std::string& webhook_id, const std::string& status) {
  std::size_t n = 0;
  for (const auto& d : p.all_deliveries(webhook_id))
    if (d["status"] == status) ++n;
  return n;
}

TEST(Recover, DeliveriesThatFailedForGoodAreQueuedAgainOnceEachAfterTheEndpointIsResumed) {
  // One retry 200 ms after a failed first attempt, then the delivery has failed for good.
  Pipeline p(PipelineOptions{.env = {{"HOOKSTREAM_RETRY_SCHEDULE", "200ms"}}});
  auto& rx = p.receiver();
  const auto started = std::chrono::system_clock::now() - std::chrono::seconds(1);
  const auto created =
      p.create_webhook("/down", {"submission.completed"}, {}, PathBehaviour{.statuses = {503}});
  const std::string id = created["id"];
  const auto path = "/v1/webhooks/" + id;
  // 8 events, two attempts each: the endpoint is paused at its 10th failure, and the rest are
  // not attempted. Every one has failed for good.
  constexpr std::size_t kEvents = 8;
  for (std::size_t i = 0; i < kEvents; ++i) p.publish("submission.completed", {{"i", i}});
  ASSERT_TRUE(eventually([&] { return count_status(p, id, "failed") == kEvents; }, 60s))
      << p.all_deliveries(id).dump() << p.logs();
  ASSERT_EQ(p.api("GET", path).json()["data"]["webhook"]["status"], "paused");

  const auto since = json{{"since", format_rfc3339(started)}}.dump();
  // Paused: resume first.
  const auto paused = p.api("POST", path + "/recover", since);
  EXPECT_EQ(paused.status, 400) << paused.body;
  EXPECT_EQ(paused.json()["error"]["details"]["fields"]["status"], "paused") << paused.body;
  // The body is validated.
  for (const auto& [body, field] : std::vector<std::pair<std::string, std::string>>{
           {"{}", "since"},
           {R"({"since":"yesterday"})", "since"},
           {R"({"since":"2999-01-01T00:00:00Z"})", "since"},
           {json{{"since", format_rfc3339(started)}, {"until", format_rfc3339(started)}}.dump(),
            "until"},
           {json{{"since", format_rfc3339(started)}, {"after", 1}}.dump(), "after"}}) {
    const auto r = p.api("POST", path + "/recover", body);
    EXPECT_EQ(r.status, 400) << body << " " << r.body;
    EXPECT_TRUE(r.json()["error"]["details"]["fields"].contains(field)) << body << " " << r.body;
  }

  rx.configure("/down",
               PathBehaviour{.secrets = {created["secret"].get<std::string>()}, .statuses = {200}});
  ASSERT_EQ(p.api("PATCH", path, R"({"is_active":true})").status, 200);
  rx.clear("/down");
  // A window that ends before the events were made finds nothing.
  const auto early = p.api("POST", path + "/recover",
                           json{{"since", format_rfc3339(started - std::chrono::hours(1))},
                                {"until", format_rfc3339(started)}}
                               .dump());
  ASSERT_EQ(early.status, 202) << early.body;
  EXPECT_EQ(early.json()["data"]["recovered"], 0);

  const auto r = p.api("POST", path + "/recover", since);
  ASSERT_EQ(r.status, 202) << r.body;
  EXPECT_EQ(r.json()["data"]["recovered"], kEvents) << r.body;
  EXPECT_EQ(r.json()["data"]["more"], false);
  // Asked again at once (a double click): they are queued already, so nothing is queued twice.
  const auto again = p.api("POST", path + "/recover", since);
  ASSERT_EQ(again.status, 202) << again.body;
  EXPECT_EQ(again.json()["data"]["recovered"], 0) << again.body;

  ASSERT_TRUE(eventually([&] { return count_status(p, id, "succeeded") == kEvents; }, 60s))
      << p.all_deliveries(id).dump() << p.logs();
  EXPECT_EQ(rx.count("/down"), kEvents);
  std::set<int> numbers;
  for (const auto& d : rx.received("/down"))
    numbers.insert(json::parse(d.body)["data"]["i"].get<int>());
  EXPECT_EQ(numbers.size(), kEvents);
}

}  // namespace
}  // namespace hookstream::testing
