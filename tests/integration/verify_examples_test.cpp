// The signature verification examples in docs/examples (Node and Python, standard library only)
// accept what hookstream really sends and refuse tampered, foreign and stale deliveries. Each
// delivery is built by build_webhook_request, the code the dispatcher and test pings use, and fed
// to the example as {"secret", "headers", "body"} on stdin.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "common/clock.hpp"
#include "common/event.hpp"
#include "common/http/webhook_request.hpp"
#include "common/signing.hpp"
#include "tests/fixtures/process.hpp"

namespace hookstream::testing {
namespace {

using nlohmann::json;

const std::filesystem::path kExamples =
    std::filesystem::path(HOOKSTREAM_SOURCE_DIR) / "docs" / "examples";

struct Verifier {
  std::string name;
  std::vector<std::string> argv;
};

std::vector<Verifier> verifiers() {
  return {{"node", {"node", (kExamples / "verify-webhook.mjs").string()}},
          {"python", {"python3", (kExamples / "verify_webhook.py").string()}}};
}

std::string new_secret() {
  SecureRandom random;
  return signing::generate_secret(random);
}

// A delivery as the dispatcher builds it: the Standard Webhooks body of a real event, signed with
// `secrets` (current first, then one rotating out) at `signed_at`.
http::DeliveryRequest delivery(const std::vector<std::string>& secrets, TimePoint signed_at) {
  Event event;
  event.id = "evt_01JNR8Z6Q3W4X5Y6Z7A8B9C0DE";
  event.type = "contact.created";
  event.source = "crm";
  event.tenant = "acme";
  event.time = signed_at;
  // Non-ASCII text and escapes: the examples must sign the body's exact UTF-8 bytes.
  event.data = R"({"name":"Zoë Ørsted","note":"line\nbreak \"quoted\" 🎉","n":42})";
  const std::string url = "https://example.com/hooks";
  const std::vector<std::pair<std::string, std::string>> custom = {{"X-Customer", "42"}};
  const http::WebhookMessage message{
      event.id, event.type, std::make_shared<const std::string>(webhook_payload(event)), 1, false};
  auto req = http::build_webhook_request({url, secrets, custom}, message, signed_at, Millis{30000});
  if (!req) throw std::runtime_error("build_webhook_request: " + req.error().message);
  return std::move(*req);
}

std::string header(const http::DeliveryRequest& req, std::string_view name) {
  for (const auto& h : req.headers)
    if (h.name == name) return h.value;
  return {};
}

std::string input_json(const std::string& secret, const http::DeliveryRequest& req,
                       const std::string& body) {
  json headers = json::object();
  for (const auto& h : req.headers) headers[h.name] = h.value;
  return json{{"secret", secret}, {"headers", headers}, {"body", body}}.dump();
}

// Runs every example on the same input and expects `exit_code` from each, and on refusal `reason`
// in what it prints.
void expect_verdict(const std::string& input, int exit_code, const std::string& reason = {}) {
  for (const auto& v : verifiers()) {
    SCOPED_TRACE(v.name);
    const auto r = run_command(v.argv, input, std::chrono::seconds(30));
    EXPECT_EQ(r.exit_code, exit_code) << "stdout: " << r.out << "\nstderr: " << r.err;
    if (exit_code == 0) {
      EXPECT_NE(r.out.find("verified: evt_01JNR8Z6Q3W4X5Y6Z7A8B9C0DE"), std::string::npos) << r.out;
    } else {
      EXPECT_NE(r.err.find("not verified: " + reason), std::string::npos) << r.err;
    }
  }
}

TEST(VerifyExamples, AcceptGenuineDelivery) {
  const auto secret = new_secret();
  const auto req = delivery({secret}, std::chrono::system_clock::now());
  ASSERT_EQ(header(req, "webhook-signature").find(' '), std::string::npos);
  expect_verdict(input_json(secret, req, *req.body), 0);
}

TEST(VerifyExamples, RefuseTamperedBody) {
  const auto secret = new_secret();
  const auto req = delivery({secret}, std::chrono::system_clock::now());
  std::string body = *req.body;
  body.replace(body.find(R"("n":42)"), 6, R"("n":43)");
  expect_verdict(input_json(secret, req, body), 1, "no signature matches");
}

TEST(VerifyExamples, RefuseWrongSecret) {
  const auto req = delivery({new_secret()}, std::chrono::system_clock::now());
  expect_verdict(input_json(new_secret(), req, *req.body), 1, "no signature matches");
}

TEST(VerifyExamples, RefuseOldTimestamp) {
  const auto secret = new_secret();
  // Correctly signed, but 10 minutes ago: outside the 5-minute tolerance (a replay).
  const auto req = delivery({secret}, std::chrono::system_clock::now() - std::chrono::minutes(10));
  expect_verdict(input_json(secret, req, *req.body), 1, "timestamp too old");
}

TEST(VerifyExamples, AcceptSecondSignatureDuringRotation) {
  const auto current = new_secret();
  const auto previous = new_secret();
  // During a rotation hookstream signs with the new secret first, then the old one; a receiver
  // still holding the old secret matches only the second entry.
  const auto req = delivery({current, previous}, std::chrono::system_clock::now());
  const auto sig = header(req, "webhook-signature");
  const auto space = sig.find(' ');
  ASSERT_NE(space, std::string::npos) << sig;
  ASSERT_TRUE(sig.starts_with("v1,") && sig.substr(space + 1).starts_with("v1,")) << sig;
  expect_verdict(input_json(previous, req, *req.body), 0);
  expect_verdict(input_json(current, req, *req.body), 0);
  expect_verdict(input_json(new_secret(), req, *req.body), 1, "no signature matches");
}

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// docs/delivery-semantics.md quotes the core of each example; the quotes must stay verbatim.
TEST(VerifyExamples, DocExcerptsMatchTheFiles) {
  const auto doc = read_text(kExamples.parent_path() / "delivery-semantics.md");
  const std::map<std::string, std::string> files = {
      {"js", read_text(kExamples / "verify-webhook.mjs")},
      {"python", read_text(kExamples / "verify_webhook.py")}};
  int checked = 0;
  std::size_t pos = 0;
  while ((pos = doc.find("\n```", pos)) != std::string::npos) {
    const auto lang_end = doc.find('\n', pos + 4);
    const auto close = doc.find("\n```\n", lang_end);
    if (lang_end == std::string::npos || close == std::string::npos) break;
    const auto lang = doc.substr(pos + 4, lang_end - pos - 4);
    const auto block = doc.substr(lang_end + 1, close - lang_end);
    pos = close + 4;
    if (block.find("Signed content:") == std::string::npos) continue;
    ASSERT_TRUE(files.contains(lang)) << "excerpt in an unexpected language: " << lang;
    EXPECT_NE(files.at(lang).find(block), std::string::npos)
        << "the " << lang << " excerpt in delivery-semantics.md no longer matches the file:\n"
        << block;
    ++checked;
  }
  EXPECT_EQ(checked, 2);
}

}  // namespace
}  // namespace hookstream::testing
