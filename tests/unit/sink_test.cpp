// hookstream-sink's logic without sockets: signature checks, status decisions, latency histogram,
// the event time scanner, and the request handler driven on an io_context with a fake clock.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "common/signing.hpp"
#include "sink/delivery_line.hpp"
#include "sink/event_time.hpp"
#include "sink/latency_histogram.hpp"
#include "sink/response_policy.hpp"
#include "sink/sink.hpp"
#include "tests/unit/fakes.hpp"

namespace hookstream::sink {
namespace {

using namespace std::chrono_literals;
using testing_support::FakeClock;

// next_u64() returns the queued values in turn (then zeros), so each draw is chosen by the test.
class ScriptedRandom final : public Random {
 public:
  explicit ScriptedRandom(std::vector<std::uint64_t> values) : values_(std::move(values)) {}
  void fill(std::span<std::byte> out) override {
    ++draws;
    std::uint64_t v = next_ < values_.size() ? values_[next_++] : 0;
    std::memcpy(out.data(), &v, std::min(out.size(), sizeof v));
  }
  int draws = 0;

 private:
  std::vector<std::uint64_t> values_;
  std::size_t next_ = 0;
};

TEST(SinkResponsePolicy, ConfiguredStatusUnlessTheDrawFallsInTheFailingShare) {
  ScriptedRandom random({0, 299'999, 300'000, 999'999});
  const ResponsePolicy never{204, 0};
  EXPECT_EQ(choose_status(never, random), 204);
  EXPECT_EQ(random.draws, 0);  // no draw when nothing can fail
  const ResponsePolicy always{204, 100};
  EXPECT_EQ(choose_status(always, random), 500);
  EXPECT_EQ(random.draws, 0);

  const ResponsePolicy thirty{202, 30};  // draws are parts per million: below 300,000 fails
  EXPECT_EQ(choose_status(thirty, random), 500);
  EXPECT_EQ(choose_status(thirty, random), 500);
  EXPECT_EQ(choose_status(thirty, random), 202);
  EXPECT_EQ(choose_status(thirty, random), 202);
  EXPECT_EQ(random.draws, 4);

  ScriptedRandom half({4'999, 5'000});
  const ResponsePolicy half_percent{200, 0.5};
  EXPECT_EQ(choose_status(half_percent, half), 500);
  EXPECT_EQ(choose_status(half_percent, half), 200);
}

TEST(SinkLatencyHistogram, BucketsAreContiguousAndBounded) {
  using namespace histogram_layout;
  std::size_t previous = 0;
  for (std::int64_t units = 0; units <= kLimitUnits; units += (units < 100'000 ? 1 : 997)) {
    const auto index = index_of(units);
    ASSERT_GE(index, previous);
    ASSERT_LE(index, previous + 1) << units;
    ASSERT_GE(upper_edge(index), units);
    // Relative error of the upper edge stays under 1/64 above the exact range.
    ASSERT_LE(static_cast<double>(upper_edge(index) - units),
              std::max(0.0, static_cast<double>(units) / 64.0))
        << units;
    previous = index;
  }
  EXPECT_EQ(index_of(kLimitUnits * 10), kBuckets - 1);
  EXPECT_EQ(index_of(-5), 0u);
}

TEST(SinkLatencyHistogram, Percentiles) {
  LatencyHistogram h;
  EXPECT_EQ(h.percentile_ms(50), 0);
  EXPECT_EQ(h.max_ms(), 0);

  for (int ms = 1; ms <= 1000; ++ms) h.record(std::chrono::milliseconds(ms));
  EXPECT_EQ(h.count(), 1000u);
  EXPECT_NEAR(h.percentile_ms(50), 500, 500 / 64.0);
  EXPECT_NEAR(h.percentile_ms(95), 950, 950 / 64.0);
  EXPECT_NEAR(h.percentile_ms(99), 990, 990 / 64.0);
  EXPECT_GE(h.percentile_ms(50), 500);  // upper edges: never under the true value
  EXPECT_EQ(h.percentile_ms(100), 1000);
  EXPECT_EQ(h.max_ms(), 1000);

  h.reset();
  EXPECT_EQ(h.count(), 0u);
  h.record(300us);  // exact at 0.1 ms below 12.8 ms
  h.record(300us);
  h.record(7'250us);
  h.record(-40ms);  // a sender clock ahead of ours
  EXPECT_EQ(h.percentile_ms(25), 0);
  EXPECT_EQ(h.percentile_ms(50), 0.3);
  EXPECT_EQ(h.percentile_ms(99), 7.2);
  EXPECT_EQ(h.max_ms(), 7.2);

  h.reset();
  h.record(std::chrono::hours(2));  // past the last bucket: max stays exact
  EXPECT_EQ(h.max_ms(), 7'200'000);
  EXPECT_LE(h.percentile_ms(50), 7'200'000);
  EXPECT_GE(h.percentile_ms(50), 600'000);
}

TEST(SinkEventTime, ReadsTheTopLevelTimestampOrTime) {
  const auto t = parse_rfc3339("2026-03-05T12:00:00.250Z");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(event_time(R"({"id":"evt_1","type":"a.b","timestamp":"2026-03-05T12:00:00.250Z",)"
                       R"("data":{"timestamp":"1999-01-01T00:00:00Z"}})"),
            *t);
  EXPECT_EQ(event_time(R"( { "data" : {"time":"1999-01-01T00:00:00Z","a":[1,{"b":"}"}]},)"
                       R"( "n": -1.5e3, "ok": true, "s": "say \"time\"",)"
                       R"( "time" : "2026-03-05T12:00:00.250Z" } )"),
            *t);
  EXPECT_EQ(event_time(R"({"data":{"timestamp":"2026-03-05T12:00:00.250Z"}})"), std::nullopt);
  EXPECT_EQ(event_time(R"({"timestamp":"yesterday"})"), std::nullopt);
  EXPECT_EQ(event_time(R"({"timestamp":17})"), std::nullopt);
  EXPECT_EQ(event_time("[1,2]"), std::nullopt);
  EXPECT_EQ(event_time(""), std::nullopt);
  EXPECT_EQ(event_time(R"({"timestamp":"2026-03-05T12:00)"), std::nullopt);
}

// The reference vector shared by the Standard Webhooks libraries.
constexpr std::string_view kSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

class SinkHandlerTest : public ::testing::Test {
 protected:
  SinkHandlerTest() { config_.secrets = {std::string(kSecret)}; }

  Sink& sink() {
    if (!sink_)
      sink_.emplace(config_, clock_, random_,
                    [this](std::string_view line) { lines_.emplace_back(line); });
    return *sink_;
  }

  http::Request delivery(const std::string& id, std::int64_t timestamp, const std::string& body,
                         const std::vector<std::string>& signing_secrets) {
    http::Request req{http::bhttp::verb::post, "/hooks?x=1", 11};
    req.set("webhook-id", id);
    req.set("webhook-timestamp", std::to_string(timestamp));
    auto signer = signing::Signer::from_secrets(signing_secrets);
    if (!signer) throw std::runtime_error("bad secret");
    auto signature = signer->signature_header(id, timestamp, body);
    if (!signature) throw std::runtime_error(signature.error().message);
    req.set("webhook-signature", *signature);
    req.set("x-hookstream-event-type", "contact.created");
    req.set("x-hookstream-attempt", "2");
    req.body() = body;
    return req;
  }

  http::Response send(http::Request req) {
    std::optional<http::Response> res;
    asio::co_spawn(
        io_, [&]() -> asio::awaitable<void> { res = co_await sink().handle(req); },
        [](std::exception_ptr e) {
          if (e) std::rethrow_exception(e);
        });
    io_.restart();
    io_.run();
    if (!res) throw std::runtime_error("no response");
    return std::move(*res);
  }

  nlohmann::json stats() {
    http::Request req{http::bhttp::verb::get, "/stats", 11};
    return nlohmann::json::parse(send(std::move(req)).body());
  }

  std::int64_t now_s() const { return to_unix_seconds(clock_.now()); }

  asio::io_context io_;
  SinkConfig config_;
  FakeClock clock_;
  ScriptedRandom random_{{}};
  std::vector<std::string> lines_;
  std::optional<Sink> sink_;
};

TEST_F(SinkHandlerTest, VerifiesSignaturesAndCountsEveryOutcome) {
  const std::string body = R"({"id":"evt_1","timestamp":"2026-03-05T12:00:00.000Z","data":{}})";
  const std::string other_secret = "whsec_" + std::string(43, 'A') + "=";

  EXPECT_EQ(send(delivery("evt_1", now_s(), body, {std::string(kSecret)})).result_int(), 200u);
  auto tampered = delivery("evt_1", now_s(), body, {std::string(kSecret)});
  tampered.body() = R"({"id":"evt_1","data":{"amount":1}})";
  // Invalid signatures still get the configured status: it is a demo tool.
  EXPECT_EQ(send(std::move(tampered)).result_int(), 200u);
  send(delivery("evt_2", now_s(), body, {other_secret}));
  // Rotation: two signatures, one of them by our secret.
  send(delivery("evt_2", now_s(), body, {other_secret, std::string(kSecret)}));
  send(delivery("evt_3", now_s() - 301, body, {std::string(kSecret)}));
  auto unsigned_req = delivery("evt_4", now_s(), body, {std::string(kSecret)});
  unsigned_req.erase("webhook-signature");
  send(std::move(unsigned_req));

  ASSERT_EQ(lines_.size(), 6u);
  EXPECT_NE(lines_[0].find(" POST /hooks?x=1 contact.created id=evt_1 attempt=2 "
                           "signature=verified status=200 "),
            std::string::npos)
      << lines_[0];
  EXPECT_NE(lines_[1].find("signature=INVALID (no matching signature)"), std::string::npos);
  EXPECT_NE(lines_[2].find("signature=INVALID (no matching signature)"), std::string::npos);
  EXPECT_NE(lines_[3].find("signature=verified"), std::string::npos) << lines_[3];
  EXPECT_NE(lines_[4].find("signature=INVALID (timestamp too old)"), std::string::npos);
  EXPECT_NE(lines_[5].find("signature=INVALID (missing webhook-id"), std::string::npos);
  for (const auto& line : lines_) EXPECT_EQ(line.find('\n'), line.size() - 1) << line;

  const auto s = stats();
  EXPECT_EQ(s["requests"], 6);
  EXPECT_EQ(s["deliveries"], 6);
  EXPECT_EQ(s["unique_ids"], 4);
  EXPECT_EQ(s["verified"], 2);
  EXPECT_EQ(s["invalid"], 4);
  EXPECT_EQ(s["unchecked"], 0);
  EXPECT_EQ(s["statuses"], nlohmann::json({{"200", 6}}));
}

TEST_F(SinkHandlerTest, UniqueOkCountsEndpointEventPairsAnsweredWithSuccess) {
  config_.quiet = true;
  config_.response = {200, 50};
  // evt_1 fails then succeeds twice (a retry and a duplicate); evt_2 succeeds at another path.
  random_ = ScriptedRandom({0, 999'999, 999'999, 999'999, 999'999});
  const auto first_ms = to_unix_millis(clock_.now());
  EXPECT_EQ(send(delivery("evt_1", now_s(), "{}", {std::string(kSecret)})).result_int(), 500u);
  EXPECT_EQ(stats()["first_ok_at_ms"], 0);
  clock_.advance(5ms);
  send(delivery("evt_1", now_s(), "{}", {std::string(kSecret)}));
  send(delivery("evt_1", now_s(), "{}", {std::string(kSecret)}));
  auto other = delivery("evt_1", now_s(), "{}", {std::string(kSecret)});
  other.target("/other");
  clock_.advance(7ms);
  send(std::move(other));
  const auto s = stats();
  EXPECT_EQ(s["unique_ok"], 2) << s;  // (/hooks, evt_1) and (/other, evt_1)
  EXPECT_EQ(s["first_ok_at_ms"], first_ms + 5);
  EXPECT_EQ(s["last_ok_at_ms"], first_ms + 12);
}

TEST_F(SinkHandlerTest, WithoutSecretsNothingIsChecked) {
  config_.secrets.clear();
  send(delivery("evt_1", now_s(), "{}", {std::string(kSecret)}));
  ASSERT_EQ(lines_.size(), 1u);
  EXPECT_NE(lines_[0].find("signature=not checked (no --secret)"), std::string::npos);
  EXPECT_EQ(stats()["unchecked"], 1);
}

TEST_F(SinkHandlerTest, FailPercentUsesTheInjectedRandom) {
  config_.response = {202, 50};
  random_ = ScriptedRandom({499'999, 500'000, 0});
  EXPECT_EQ(send(delivery("a", now_s(), "{}", {std::string(kSecret)})).result_int(), 500u);
  EXPECT_EQ(send(delivery("b", now_s(), "{}", {std::string(kSecret)})).result_int(), 202u);
  EXPECT_EQ(send(delivery("c", now_s(), "{}", {std::string(kSecret)})).result_int(), 500u);
  EXPECT_EQ(stats()["statuses"], nlohmann::json({{"202", 1}, {"500", 2}}));
  EXPECT_NE(lines_[0].find("status=500"), std::string::npos);
}

TEST_F(SinkHandlerTest, LatencyFromTheEventTimeAndReset) {
  config_.quiet = true;
  for (const auto age : {2ms, 40ms, 40ms, 1500ms}) {
    const std::string body =
        R"({"id":"evt","timestamp":")" + format_rfc3339(clock_.now() - age) + R"(","data":{}})";
    send(delivery("evt", now_s(), body, {std::string(kSecret)}));
  }
  send(delivery("evt", now_s(), R"({"no":"time"})", {std::string(kSecret)}));
  EXPECT_TRUE(lines_.empty());  // --quiet

  auto s = stats();
  EXPECT_EQ(s["latency_ms"]["count"], 4);
  EXPECT_GE(s["latency_ms"]["p50"].get<double>(), 40.0);  // a bucket's upper edge
  EXPECT_NEAR(s["latency_ms"]["p50"].get<double>(), 40, 40 / 64.0);
  EXPECT_EQ(s["latency_ms"]["max"], 1500.0);
  EXPECT_NEAR(s["latency_ms"]["p99"].get<double>(), 1500, 1500 / 64.0);
  EXPECT_EQ(s["unique_ids"], 1);

  http::Request reset{http::bhttp::verb::post, "/stats/reset", 11};
  EXPECT_EQ(send(std::move(reset)).result_int(), 200u);
  s = stats();
  EXPECT_EQ(s["deliveries"], 0);
  EXPECT_EQ(s["requests"], 0);
  EXPECT_EQ(s["unique_ids"], 0);
  EXPECT_EQ(s["latency_ms"]["count"], 0);
  EXPECT_EQ(s["statuses"], nlohmann::json::object());
}

TEST_F(SinkHandlerTest, JsonLinesAndOwnEndpoints) {
  config_.json = true;
  config_.secrets.clear();
  const std::string big(3000, 'x');
  send(delivery("evt_j", now_s(), R"({"pad":")" + big + "\"}", {std::string(kSecret)}));
  ASSERT_EQ(lines_.size(), 1u);
  const auto j = nlohmann::json::parse(lines_[0]);
  EXPECT_EQ(j["webhook_id"], "evt_j");
  EXPECT_EQ(j["event_type"], "contact.created");
  EXPECT_EQ(j["attempt"], 2);
  EXPECT_EQ(j["signature"], "unchecked");
  EXPECT_EQ(j["status"], 200);
  EXPECT_EQ(j["body_truncated"], true);
  EXPECT_EQ(j["body"].get<std::string>().size(), kMaxPrintedBody);

  http::Request health{http::bhttp::verb::get, "/healthz", 11};
  EXPECT_EQ(send(std::move(health)).result_int(), 200u);
  http::Request get_other{http::bhttp::verb::get, "/hooks", 11};
  EXPECT_EQ(send(std::move(get_other)).result_int(), 405u);
  EXPECT_EQ(stats()["requests"], 2);  // the delivery and the GET; not /healthz or /stats
}

TEST_F(SinkHandlerTest, StopAnswersHeldDeliveries) {
  config_.hang = true;
  config_.secrets.clear();
  std::optional<http::Response> res;
  auto req = delivery("evt_h", now_s(), "{}", {std::string(kSecret)});
  asio::co_spawn(
      io_, [&]() -> asio::awaitable<void> { res = co_await sink().handle(req); }, asio::detached);
  io_.poll();
  EXPECT_FALSE(res);  // held
  ASSERT_EQ(lines_.size(), 1u);
  EXPECT_NE(lines_[0].find("status=none (--hang)"), std::string::npos) << lines_[0];
  sink().stop();
  io_.run();
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result_int(), 503u);
  EXPECT_EQ(stats()["statuses"], nlohmann::json::object());
}

}  // namespace
}  // namespace hookstream::sink
