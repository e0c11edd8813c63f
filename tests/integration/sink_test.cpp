// hookstream-sink, the real binary: signed deliveries built the way the dispatcher builds them,
// what it prints, how it answers (--status, --fail-percent, --delay, --hang), /stats, and its exit
// codes.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "common/clock.hpp"
#include "common/http/webhook_request.hpp"
#include "common/signing.hpp"
#include "common/time.hpp"
#include "tests/fixtures/http_client.hpp"
#include "tests/fixtures/process.hpp"

namespace hookstream::testing {
namespace {

std::string new_secret() {
  SecureRandom random;
  return signing::generate_secret(random);
}

// A running hookstream-sink on a port of its choosing (--listen 127.0.0.1:0).
class SinkProcess {
 public:
  explicit SinkProcess(std::vector<std::string> flags) {
    std::vector<std::string> argv = {binary_path("hookstream-sink").string(), "--listen",
                                     "127.0.0.1:0"};
    argv.insert(argv.end(), flags.begin(), flags.end());
    process_ = std::make_unique<Process>(argv);
    const std::string prefix = "hookstream-sink listening on http://127.0.0.1:";
    const auto line =
        process_->wait_for_line([&](const std::string& l) { return l.starts_with(prefix); }, 20s);
    if (!line) throw std::runtime_error("hookstream-sink did not start:\n" + process_->output());
    port_ = static_cast<std::uint16_t>(std::stoi(line->substr(prefix.size())));
  }

  std::uint16_t port() const { return port_; }
  Process& process() { return *process_; }
  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }

  // POSTs a delivery signed with `secrets`, exactly as the dispatcher would send it.
  HttpResult deliver(const std::string& path, const std::vector<std::string>& secrets,
                     const std::string& id, const std::string& body, int attempt = 1,
                     std::chrono::milliseconds timeout = 10s) {
    const std::string target_url = url(path);
    const std::vector<std::pair<std::string, std::string>> custom_headers;
    const http::WebhookTarget target{target_url, secrets, custom_headers};
    http::WebhookMessage message;
    message.event_id = id;
    message.event_type = "contact.created";
    message.payload = std::make_shared<const std::string>(body);
    message.attempt = attempt;
    auto built = http::build_webhook_request(target, message, std::chrono::system_clock::now(),
                                             Millis{timeout});
    if (!built) throw std::runtime_error(built.error().message);
    HttpRequest request;
    request.method = "POST";
    request.target = built->url.target;
    for (const auto& h : built->headers) request.headers[h.name] = h.value;
    request.body = *built->body;
    request.timeout = timeout;
    return http_request("127.0.0.1", port_, request);
  }

  HttpResult get(const std::string& target, const std::string& method = "GET") {
    HttpRequest request;
    request.method = method;
    request.target = target;
    return http_request("127.0.0.1", port_, request);
  }

 private:
  std::unique_ptr<Process> process_;
  std::uint16_t port_ = 0;
};

// hookstream's webhook payload, published `age` ago.
std::string payload(const std::string& id, std::chrono::milliseconds age = {}) {
  return R"({"id":")" + id + R"(","type":"contact.created","timestamp":")" +
         format_rfc3339(std::chrono::system_clock::now() - age) + R"(","data":{"name":"Ada"}})";
}

TEST(SinkBinary, VerifiesSignedDeliveriesAndFlagsInvalidOnes) {
  const auto secret = new_secret();
  const auto rotating = new_secret();
  SinkProcess sink({"--secret", secret, "--secret", rotating});

  EXPECT_EQ(sink.deliver("/hooks", {secret}, "evt_good", payload("evt_good"), 3).status, 200);
  auto line = sink.process().wait_for_output("id=evt_good", 10s);
  ASSERT_TRUE(line) << sink.process().output();
  EXPECT_NE(line->find(" POST /hooks contact.created id=evt_good attempt=3 signature=verified "
                       "status=200 latency="),
            std::string::npos)
      << *line;
  EXPECT_NE(line->find(R"(body={"id":"evt_good")"), std::string::npos) << *line;

  // Either configured secret verifies, and so does a header carrying a foreign signature too.
  sink.deliver("/hooks", {new_secret(), rotating}, "evt_rotated", payload("evt_rotated"));
  line = sink.process().wait_for_output("id=evt_rotated", 10s);
  ASSERT_TRUE(line) << sink.process().output();
  EXPECT_NE(line->find("signature=verified"), std::string::npos) << *line;

  // A wrong secret is reported but still answered with the configured status.
  EXPECT_EQ(sink.deliver("/hooks", {new_secret()}, "evt_bad", payload("evt_bad")).status, 200);
  line = sink.process().wait_for_output("id=evt_bad", 10s);
  ASSERT_TRUE(line) << sink.process().output();
  EXPECT_NE(line->find("signature=INVALID (no matching signature) status=200"), std::string::npos)
      << *line;

  const auto stats = sink.get("/stats").json();
  EXPECT_EQ(stats["deliveries"], 3);
  EXPECT_EQ(stats["verified"], 2);
  EXPECT_EQ(stats["invalid"], 1);
  EXPECT_EQ(stats["unchecked"], 0);
  EXPECT_EQ(sink.process().terminate(), 0);
}

TEST(SinkBinary, JsonLinesWithoutSecrets) {
  SinkProcess sink({"--json"});
  sink.deliver("/j", {new_secret()}, "evt_json", payload("evt_json"), 2);
  const auto line = sink.process().wait_for_output(R"("webhook_id":"evt_json")", 10s);
  ASSERT_TRUE(line) << sink.process().output();
  const auto j = nlohmann::json::parse(*line);
  EXPECT_EQ(j["signature"], "unchecked");
  EXPECT_EQ(j["status"], 200);
  EXPECT_EQ(j["attempt"], 2);
  EXPECT_EQ(j["event_type"], "contact.created");
  EXPECT_EQ(j["target"], "/j");
  EXPECT_EQ(nlohmann::json::parse(j["body"].get<std::string>())["id"], "evt_json");
}

TEST(SinkBinary, ConfiguredStatusAndFailPercent) {
  SinkProcess unavailable({"--status", "503", "--quiet"});
  SinkProcess failing({"--fail-percent", "100", "--status", "201"});
  for (int i = 0; i < 3; ++i) {
    const auto id = "evt_" + std::to_string(i);
    EXPECT_EQ(unavailable.deliver("/a", {new_secret()}, id, payload(id)).status, 503);
    EXPECT_EQ(failing.deliver("/b", {new_secret()}, id, payload(id)).status, 500);
  }
  EXPECT_TRUE(failing.process().wait_for_output("id=evt_2", 10s)) << failing.process().output();
  EXPECT_NE(failing.process().output().find("status=500"), std::string::npos);
  EXPECT_EQ(unavailable.get("/stats").json()["statuses"], nlohmann::json({{"503", 3}}));
  EXPECT_EQ(failing.get("/stats").json()["statuses"], nlohmann::json({{"500", 3}}));
  // --quiet prints the banner and nothing per delivery.
  EXPECT_EQ(unavailable.process().output().find("id=evt_"), std::string::npos);
}

TEST(SinkBinary, DelayAnswersLater) {
  SinkProcess sink({"--delay", "300ms", "--quiet"});
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(sink.deliver("/d", {new_secret()}, "evt_d", payload("evt_d")).status, 200);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 300ms);
}

TEST(SinkBinary, HangHoldsTheRequestUntilTheClientGivesUp) {
  SinkProcess sink({"--hang"});
  const auto start = std::chrono::steady_clock::now();
  const auto r = sink.deliver("/h", {new_secret()}, "evt_h", payload("evt_h"), 1, 500ms);
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.error.find("read"), std::string::npos) << r.error;
  EXPECT_GE(std::chrono::steady_clock::now() - start, 500ms);
  const auto line = sink.process().wait_for_output("id=evt_h", 10s);
  ASSERT_TRUE(line) << sink.process().output();
  EXPECT_NE(line->find("status=none (--hang)"), std::string::npos) << *line;

  // The sink itself keeps answering, and held deliveries do not stop it from exiting.
  EXPECT_EQ(sink.get("/healthz").status, 200);
  EXPECT_EQ(sink.get("/stats").json()["deliveries"], 1);
  EXPECT_EQ(sink.process().terminate(), 0);
}

TEST(SinkBinary, StatsCountIdsAndLatencyAndReset) {
  SinkProcess sink({"--quiet"});
  // A retry repeats the webhook-id; the event was published 1.5 s before it is received.
  sink.deliver("/s", {new_secret()}, "evt_1", payload("evt_1", 1500ms), 1);
  sink.deliver("/s", {new_secret()}, "evt_1", payload("evt_1", 1500ms), 2);
  sink.deliver("/s", {new_secret()}, "evt_2", payload("evt_2", 1500ms));
  sink.deliver("/s", {new_secret()}, "evt_3", R"({"no":"timestamp"})");
  EXPECT_EQ(sink.get("/nothing-here").status, 405);

  auto stats = sink.get("/stats").json();
  EXPECT_EQ(stats["requests"], 5);
  EXPECT_EQ(stats["deliveries"], 4);
  EXPECT_EQ(stats["unique_ids"], 3);
  EXPECT_EQ(stats["unchecked"], 4);
  EXPECT_EQ(stats["statuses"], nlohmann::json({{"200", 4}}));
  const auto latency = stats["latency_ms"];
  EXPECT_EQ(latency["count"], 3);
  for (const char* p : {"p50", "p95", "p99", "max"}) {
    EXPECT_GE(latency[p].get<double>(), 1500) << p;
    EXPECT_LT(latency[p].get<double>(), 11500) << p;  // a loaded CI machine, not a fixed bound
  }

  EXPECT_EQ(sink.get("/stats/reset", "POST").status, 200);
  stats = sink.get("/stats").json();
  EXPECT_EQ(stats["requests"], 0);
  EXPECT_EQ(stats["deliveries"], 0);
  EXPECT_EQ(stats["unique_ids"], 0);
  EXPECT_EQ(stats["latency_ms"]["count"], 0);
  EXPECT_EQ(sink.get("/healthz").status, 200);
}

TEST(SinkBinary, SigtermExitsZeroAndBadFlagsExitTwo) {
  SinkProcess sink({});
  EXPECT_EQ(sink.process().terminate(), 0) << sink.process().output();

  const auto bin = binary_path("hookstream-sink").string();
  for (const auto& [flag, value] :
       std::vector<std::pair<std::string, std::string>>{{"--status", "99"},
                                                        {"--fail-percent", "101"},
                                                        {"--delay", "soon"},
                                                        {"--listen", "nowhere"},
                                                        {"--secret", "whsec_!!"}}) {
    const auto r = run_command({bin, flag, value}, {}, 10s);
    EXPECT_EQ(r.exit_code, 2) << flag;
    EXPECT_NE(r.err.find(flag), std::string::npos) << r.err;
  }
  const auto unknown = run_command({bin, "--bogus"}, {}, 10s);
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(unknown.err.find("--bogus"), std::string::npos) << unknown.err;
}

}  // namespace
}  // namespace hookstream::testing
