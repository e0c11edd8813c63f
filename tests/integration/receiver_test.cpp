// The test receiver (tests/receiver, Node + the npm `standardwebhooks` library) and its fixture:
// what hookstream's own signing code produces verifies with a third-party library, tampering does
// not, and the per-path behaviours (status sequences, hang, delay) do what tests rely on.
#include "tests/fixtures/receiver.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "common/clock.hpp"
#include "common/signing.hpp"
#include "tests/fixtures/http_client.hpp"
#include "tests/fixtures/process.hpp"
#include "tests/fixtures/test_certs.hpp"

namespace hookstream::testing {
namespace {

// The reference vector shared by the Standard Webhooks libraries.
constexpr std::string_view kRefSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
constexpr std::string_view kRefMsgId = "msg_p5jXN8AQM9LWM0D4loKWxJek";
constexpr std::int64_t kRefTimestamp = 1614265330;
constexpr std::string_view kRefBody = R"({"test": 2432232314})";
constexpr std::string_view kRefSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

std::int64_t now_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string new_secret() {
  SecureRandom random;
  return signing::generate_secret(random);
}

std::string signature(const std::vector<std::string>& secrets, const std::string& id,
                      std::int64_t ts, const std::string& body) {
  auto signer = signing::Signer::from_secrets(secrets);
  if (!signer.ok()) throw std::runtime_error("bad secrets");
  auto header = signer->signature_header(id, ts, body);
  if (!header.ok()) throw std::runtime_error(header.error().message);
  return std::move(*header);
}

// What a dispatcher sends (SPEC §4), with the given signature header.
std::map<std::string, std::string> webhook_headers(const std::string& id, std::int64_t ts,
                                                   const std::string& sig,
                                                   const std::string& attempt = "1") {
  return {{"content-type", "application/json"},
          {"user-agent", "hookstream/test"},
          {"webhook-id", id},
          {"webhook-timestamp", std::to_string(ts)},
          {"webhook-signature", sig},
          {"x-hookstream-event-type", "contact.created"},
          {"x-hookstream-attempt", attempt}};
}

HttpResult post(const Receiver& receiver, const std::string& path, const std::string& body,
                std::map<std::string, std::string> headers,
                std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  HttpRequest request;
  request.method = "POST";
  request.target = path;
  request.body = body;
  request.headers = std::move(headers);
  request.timeout = timeout;
  return http_request("127.0.0.1", receiver.port(), request);
}

// Signs `body` with `secrets` (current time) and POSTs it; returns what the receiver recorded.
Delivery deliver(Receiver& receiver, const std::string& path,
                 const std::vector<std::string>& secrets, const std::string& id,
                 const std::string& body) {
  const auto before = receiver.count(path);
  const auto ts = now_seconds();
  const auto r =
      post(receiver, path, body, webhook_headers(id, ts, signature(secrets, id, ts, body)));
  EXPECT_EQ(r.status, 200) << r.error << receiver.output();
  EXPECT_TRUE(receiver.wait_for_count(path, before + 1));
  const auto all = receiver.received(path);
  if (all.size() <= before) throw std::runtime_error("nothing recorded:\n" + receiver.output());
  return all.back();
}

class ReceiverTest : public ::testing::Test {
 protected:
  Receiver receiver_;
};

TEST_F(ReceiverTest, VerifiesWhatHookstreamSigns) {
  const auto secret = new_secret();
  receiver_.configure("/hooks/a", {.secrets = {secret}});
  const std::string body =
      R"({"specversion":"1.0","id":"evt_1","type":"contact.created","data":{"n":"é"}})";
  const auto ts = now_seconds();
  const auto t0 = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
  const auto r = post(receiver_, "/hooks/a?x=1", body,
                      webhook_headers("evt_1", ts, signature({secret}, "evt_1", ts, body), "3"));
  EXPECT_EQ(r.status, 200) << r.error;
  EXPECT_EQ(r.body, "ok");

  ASSERT_TRUE(receiver_.wait_for_count("/hooks/a", 1));
  const auto got = receiver_.received("/hooks/a");
  ASSERT_EQ(got.size(), 1u);
  const auto& d = got[0];
  EXPECT_TRUE(d.verified) << d.verify_error;
  EXPECT_EQ(d.verify_error, "");
  EXPECT_EQ(d.path, "/hooks/a");
  EXPECT_EQ(d.target, "/hooks/a?x=1");
  EXPECT_EQ(d.method, "POST");
  EXPECT_EQ(d.body, body);
  EXPECT_EQ(d.id, "evt_1");
  EXPECT_EQ(d.attempt, "3");
  EXPECT_EQ(d.status, 200);
  EXPECT_EQ(d.header("Content-Type"), "application/json");
  EXPECT_EQ(d.header("x-hookstream-event-type"), "contact.created");
  EXPECT_GE(d.received_at_ms, t0 - 1000);
  EXPECT_LE(d.received_at_ms, t0 + 10000);
}

TEST_F(ReceiverTest, ReferenceVectorVerifiesWithACurrentTimestamp) {
  // Our signer reproduces the published vector…
  EXPECT_EQ(signature({std::string(kRefSecret)}, std::string(kRefMsgId), kRefTimestamp,
                      std::string(kRefBody)),
            kRefSignature);

  // …but the library refuses timestamps more than 5 minutes away from its clock, so the vector
  // as published is "too old"; re-signed with the current time it verifies.
  const std::string secret(kRefSecret), id(kRefMsgId), body(kRefBody);
  receiver_.configure("/ref", {.secrets = {secret}});
  post(receiver_, "/ref", body, webhook_headers(id, kRefTimestamp, std::string(kRefSignature)));
  const auto fresh = deliver(receiver_, "/ref", {secret}, id, body);
  EXPECT_TRUE(fresh.verified) << fresh.verify_error;

  const auto got = receiver_.received("/ref");
  ASSERT_EQ(got.size(), 2u);
  EXPECT_FALSE(got[0].verified);
  EXPECT_EQ(got[0].verify_error, "Message timestamp too old");
}

TEST_F(ReceiverTest, TamperingAndMissingSecretsDoNotVerify) {
  const auto secret = new_secret();
  receiver_.configure("/t", {.secrets = {secret}});
  const std::string body = R"({"amount":100})";
  const auto ts = now_seconds();
  const auto sig = signature({secret}, "evt_t", ts, body);

  post(receiver_, "/t", R"({"amount":1000})", webhook_headers("evt_t", ts, sig));  // body
  post(receiver_, "/t", body, webhook_headers("evt_other", ts, sig));              // id
  post(receiver_, "/t", body, webhook_headers("evt_t", ts + 1, sig));              // timestamp
  post(receiver_, "/t", body,
       webhook_headers("evt_t", ts, signature({new_secret()}, "evt_t", ts, body)));  // key
  post(receiver_, "/t", body, {{"webhook-id", "evt_t"}});                            // headers
  // A minute past the library's 5-minute tolerance each way: `ts` is whole seconds, so ts + 301
  // verified whenever the receiver's clock had reached the next second (a flake under load).
  post(receiver_, "/t", body,
       webhook_headers("evt_t", ts - 360, signature({secret}, "evt_t", ts - 360, body)));
  post(receiver_, "/t", body,
       webhook_headers("evt_t", ts + 360, signature({secret}, "evt_t", ts + 360, body)));
  ASSERT_TRUE(receiver_.wait_for_count("/t", 7));
  const auto got = receiver_.received("/t");
  ASSERT_EQ(got.size(), 7u);
  for (const auto& d : got) EXPECT_FALSE(d.verified) << d.body;
  EXPECT_EQ(got[0].verify_error, "No matching signature found");
  EXPECT_EQ(got[1].verify_error, "No matching signature found");
  EXPECT_EQ(got[2].verify_error, "No matching signature found");
  EXPECT_EQ(got[3].verify_error, "No matching signature found");
  EXPECT_EQ(got[4].verify_error, "Missing required headers");
  EXPECT_EQ(got[5].verify_error, "Message timestamp too old");
  EXPECT_EQ(got[6].verify_error, "Message timestamp too new");

  // A path without secrets is recorded, unverified.
  const auto d = deliver(receiver_, "/no-secret", {secret}, "evt_n", body);
  EXPECT_FALSE(d.verified);
  EXPECT_EQ(d.verify_error, "no secret");
}

TEST_F(ReceiverTest, RotationWithTwoSignaturesVerifiesWithEitherSecret) {
  const auto old_secret = new_secret();
  const auto new_secret_ = new_secret();
  const std::string body = R"({"rotating":true})";
  const auto ts = now_seconds();
  const auto sig = signature({new_secret_, old_secret}, "evt_r", ts, body);
  ASSERT_NE(sig.find(' '), std::string::npos) << sig;  // two space-separated entries

  // A receiver still on the old secret, one already on the new one, and one holding both.
  receiver_.configure("/old", {.secrets = {old_secret}});
  receiver_.configure("/new", {.secrets = {new_secret_}});
  receiver_.configure("/both", {.secrets = {old_secret, new_secret_}});
  for (const std::string path : {"/old", "/new", "/both"})
    EXPECT_EQ(post(receiver_, path, body, webhook_headers("evt_r", ts, sig)).status, 200);
  // One signature only, from either secret: the two-secret receiver takes both.
  post(receiver_, "/both", body,
       webhook_headers("evt_r", ts, signature({old_secret}, "evt_r", ts, body)));
  post(receiver_, "/both", body,
       webhook_headers("evt_r", ts, signature({new_secret_}, "evt_r", ts, body)));

  for (const std::string path : {"/old", "/new"}) {
    ASSERT_TRUE(receiver_.wait_for_count(path, 1));
    const auto d = receiver_.received(path).at(0);
    EXPECT_TRUE(d.verified) << path << ": " << d.verify_error;
  }
  ASSERT_TRUE(receiver_.wait_for_count("/both", 3));
  for (const auto& d : receiver_.received("/both")) EXPECT_TRUE(d.verified) << d.verify_error;
}

TEST_F(ReceiverTest, StatusSequenceHeadersAndDelay) {
  receiver_.configure(
      "/flaky", {.statuses = {500, 503, 200}, .headers = {{"Retry-After", "1"}}, .body = "nope"});
  std::vector<int> statuses;
  for (int i = 1; i <= 4; ++i) {
    const auto r = post(receiver_, "/flaky", "{}",
                        webhook_headers("e", now_seconds(), "v1,x", std::to_string(i)));
    statuses.push_back(r.status);
    EXPECT_EQ(r.header("retry-after"), "1");
    EXPECT_EQ(r.body, "nope");
  }
  EXPECT_EQ(statuses, (std::vector<int>{500, 503, 200, 200}));  // the last one repeats
  const auto got = receiver_.received("/flaky");
  ASSERT_EQ(got.size(), 4u);
  for (std::size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].attempt, std::to_string(i + 1));
    EXPECT_EQ(got[i].status, statuses[i]);
  }

  // Configuring again restarts the sequence.
  receiver_.configure("/flaky", {.statuses = {429, 204}});
  EXPECT_EQ(post(receiver_, "/flaky", "{}", {}).status, 429);
  EXPECT_EQ(post(receiver_, "/flaky", "{}", {}).status, 204);

  // Status 0 drops the connection without an answer.
  receiver_.configure("/drop", {.statuses = {0, 200}});
  const auto dropped = post(receiver_, "/drop", "{}", {});
  EXPECT_EQ(dropped.status, 0);
  EXPECT_FALSE(dropped.error.empty());
  EXPECT_EQ(post(receiver_, "/drop", "{}", {}).status, 200);

  receiver_.configure("/slow", {.delay_ms = std::chrono::milliseconds(300)});
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(post(receiver_, "/slow", "{}", {}).status, 200);
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(300));

  // Counts, per path and overall; clearing one path keeps the others.
  EXPECT_EQ(receiver_.count("/flaky"), 6u);
  EXPECT_EQ(receiver_.count(), 9u);
  EXPECT_EQ(receiver_.received().size(), 9u);
  receiver_.clear("/flaky");
  EXPECT_EQ(receiver_.count("/flaky"), 0u);
  EXPECT_EQ(receiver_.count(), 3u);
  receiver_.clear();
  EXPECT_EQ(receiver_.count(), 0u);
}

TEST_F(ReceiverTest, HangingPathTimesTheClientOutAndTheReceiverStaysHealthy) {
  receiver_.configure("/hang", {.hang = true});
  const auto start = std::chrono::steady_clock::now();
  const auto r = post(receiver_, "/hang", "{}", {}, std::chrono::milliseconds(500));
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.error.find("read"), std::string::npos) << r.error;
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(500));

  EXPECT_TRUE(receiver_.healthy());
  ASSERT_EQ(receiver_.count("/hang"), 1u);
  EXPECT_FALSE(receiver_.received("/hang")[0].status.has_value());
  // The client went away, so the receiver holds nothing for it any more.
  EXPECT_TRUE(eventually([&] { return receiver_.pending() == 0; }, std::chrono::seconds(5)));
  EXPECT_EQ(post(receiver_, "/elsewhere", "{}", {}).status, 200);

  // Un-hanging at runtime.
  receiver_.configure("/hang", {});
  EXPECT_EQ(post(receiver_, "/hang", "{}", {}).status, 200);
  EXPECT_EQ(receiver_.stop(), 0);  // SIGTERM: exit 0
}

TEST(ReceiverHttps, ServesHttpsWithAGivenCertificate) {
  // A server certificate for 127.0.0.1 signed by a test CA (tests/fixtures/test_certs).
  const TestCertificates certs;
  Receiver receiver({.tls_cert = certs.server_cert(), .tls_key = certs.server_key()});
  ASSERT_TRUE(receiver.tls());
  EXPECT_NE(receiver.port(), receiver.control_port());
  EXPECT_EQ(receiver.url("s/1"), "https://127.0.0.1:" + std::to_string(receiver.port()) + "/s/1");
  const auto secret = new_secret();
  receiver.configure("/s/1", {.secrets = {secret}, .statuses = {202}});

  const std::string body = R"({"over":"tls"})";
  const auto ts = now_seconds();
  std::vector<std::string> curl = {"curl", "-sS",  "--noproxy",     "*",  "--max-time",
                                   "10",   "-o",   "/dev/null",     "-w", "%{http_code}",
                                   "-X",   "POST", "--data-binary", "@-"};
  for (const auto& [k, v] :
       webhook_headers("evt_tls", ts, signature({secret}, "evt_tls", ts, body)))
    curl.insert(curl.end(), {"-H", k + ": " + v});

  // Peer verification is real: without the test CA curl refuses.
  auto untrusted = curl;
  untrusted.push_back(receiver.url("/s/1"));
  const auto refused = run_command(untrusted, body, std::chrono::seconds(20));
  EXPECT_NE(refused.exit_code, 0) << refused.out;

  auto trusted = curl;
  trusted.insert(trusted.end(), {"--cacert", certs.ca_file().string(), receiver.url("/s/1")});
  const auto ok = run_command(trusted, body, std::chrono::seconds(20));
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_EQ(ok.out, "202");

  ASSERT_TRUE(receiver.wait_for_count("/s/1", 1)) << receiver.output();
  const auto d = receiver.received("/s/1").at(0);
  EXPECT_TRUE(d.verified) << d.verify_error;
  EXPECT_EQ(d.body, body);
  EXPECT_EQ(d.id, "evt_tls");
}

}  // namespace
}  // namespace hookstream::testing
