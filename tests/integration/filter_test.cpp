// Webhook filters end to end (SPEC §4, issue 17): the API validates and stores them, and a real
// dispatcher on Apache Kafka delivers to a filtered webhook exactly the events that match, with
// no delivery log entry for the others.
#include <gtest/gtest.h>

#include <iostream>
#include <nlohmann/json.hpp>
#include <set>

#include "tests/fixtures/pipeline.hpp"

namespace hookstream::testing {
namespace {

using nlohmann::json;

// POST /v1/webhooks with a filter, subscribed to every type; the receiver's path verifies with
// its secret.
json create_filtered(Pipeline& p, const std::string& path, const json& filter) {
  return p.create_webhook(path, {"*"}, {}, {},
                          filter.is_null() ? json::object() : json{{"filter", filter}});
}

// The event ids of every delivery in a webhook's log (every page).
std::multiset<std::string> logged_event_ids(Pipeline& p, const std::string& webhook_id) {
  std::multiset<std::string> ids;
  for (const auto& d : p.all_deliveries(webhook_id)) ids.insert(d["event_id"].get<std::string>());
  return ids;
}

// The `i` of each delivery's data, by event id, and the multiset of the `i`s one path received.
std::multiset<int> received_numbers(Receiver& rx, const std::string& path) {
  std::multiset<int> out;
  for (const auto& d : rx.received(path)) out.insert(json::parse(d.body)["data"]["i"].get<int>());
  return out;
}

TEST(DispatchFilters, FilteredWebhooksGetExactlyTheMatchingEventsOfAMixedStream) {
  Pipeline p(PipelineOptions{.dispatchers = 0});
  const auto metrics_port = free_port();
  p.start_dispatcher(
      {{"HOOKSTREAM_DISPATCHER_LISTEN", "127.0.0.1:" + std::to_string(metrics_port)}});
  auto& rx = p.receiver();

  // A bad filter is refused with 400, naming its path.
  const auto bad =
      p.api("POST", "/v1/webhooks",
            json{{"url", rx.url("/bad")},
                 {"events", {"*"}},
                 {"filter", json::parse(R"({"data":{"amount":{"$gte":100,"$lt":true}}})")}}
                .dump());
  ASSERT_EQ(bad.status, 400) << bad.body;
  EXPECT_EQ(bad.json()["error"]["code"], "validation_failed");
  EXPECT_EQ(bad.json()["error"]["details"]["fields"]["filter.data.amount.$lt"],
            "expected a number or a string")
      << bad.body;

  const auto large =
      create_filtered(p, "/large", json::parse(R"({"data":{"amount":{"$gte":100}}})"));
  const auto regions = create_filtered(
      p, "/regions", json::parse(R"({"$or":[{"data":{"region":"eu"}},{"data":{"region":"us"}}]})"));
  create_filtered(p, "/everything", nullptr);

  // 1,000 events of two types: amounts as integers, as fractions, as strings (never a number)
  // or absent; regions of five kinds or absent.
  constexpr int kEvents = 1000;
  const std::vector<std::string> kRegions = {"eu", "us", "ap", "sa", "EU"};
  std::set<int> want_large, want_regions;
  std::string input;
  for (int i = 0; i < kEvents; ++i) {
    json data = {{"i", i}};
    switch (i % 4) {
      case 0:
        data["amount"] = std::to_string(100 + i);
        break;
      case 1:
        data["amount"] = i % 250;
        if (i % 250 >= 100) want_large.insert(i);
        break;
      case 2:
        data["amount"] = (i % 250) - 0.5;
        if ((i % 250) - 0.5 >= 100) want_large.insert(i);
        break;
      default:
        break;
    }
    if (const auto r = (i / 4) % 6; r < 5) {
      data["region"] = kRegions[static_cast<std::size_t>(r)];
      if (r < 2) want_regions.insert(i);
    }
    const json line = {{"tenant", "acme"},
                       {"type", i % 2 ? "contact.created" : "submission.completed"},
                       {"data", data}};
    input += line.dump() + "\n";
  }
  ASSERT_GT(want_large.size(), 200u);
  ASSERT_GT(want_regions.size(), 200u);
  p.produce(input);

  // Every event reached the dispatcher's fan-out once every one reached the unfiltered webhook
  // and every refusal was counted; the filtered webhooks then have all they will get.
  const auto expected_filtered = 2 * kEvents - want_large.size() - want_regions.size();
  ASSERT_TRUE(eventually(
      [&] {
        return rx.count("/everything") >= kEvents &&
               scrape_metric(metrics_port, "hookstream_deliveries_filtered_total") ==
                   static_cast<double>(expected_filtered);
      },
      120s))
      << rx.count("/everything") << " "
      << scrape_metric(metrics_port, "hookstream_deliveries_filtered_total").value_or(-1)
      << p.logs();
  const auto as_multiset = [](const std::set<int>& s) {
    return std::multiset<int>(s.begin(), s.end());
  };
  EXPECT_TRUE(eventually(
      [&] {
        return received_numbers(rx, "/large") == as_multiset(want_large) &&
               received_numbers(rx, "/regions") == as_multiset(want_regions);
      },
      30s))
      << rx.count("/large") << " of " << want_large.size() << ", " << rx.count("/regions") << " of "
      << want_regions.size();
  for (const auto* path : {"/large", "/regions"})
    for (const auto& d : rx.received(path)) EXPECT_TRUE(d.verified) << path << d.verify_error;

  // The log holds the matching events only: nothing for the ones filtered out.
  std::map<std::string, int> number_of;
  for (const auto& d : rx.received("/everything"))
    number_of[d.id] = json::parse(d.body)["data"]["i"].get<int>();
  for (const auto& [w, want] : {std::pair{&large, &want_large}, {&regions, &want_regions}}) {
    const std::string id = (*w)["id"];
    std::multiset<int> logged;
    ASSERT_TRUE(eventually(
        [&] {
          logged.clear();
          for (const auto& event_id : logged_event_ids(p, id))
            logged.insert(number_of.at(event_id));
          return logged.size() >= want->size();
        },
        30s))
        << id;
    EXPECT_EQ(logged, as_multiset(*want)) << id;
  }
  std::cout << "[ filters ] events " << kEvents << ", $gte 100: " << rx.count("/large")
            << " delivered, $or of regions: " << rx.count("/regions") << " delivered, filtered "
            << expected_filtered << "\n";
}

}  // namespace
}  // namespace hookstream::testing
