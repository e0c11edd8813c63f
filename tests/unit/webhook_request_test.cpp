// The signed request of one delivery: custom headers never replace or duplicate the signing
// headers or hookstream's own, even when a reserved name reached the store.
#include "common/http/webhook_request.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include "common/signing.hpp"

namespace hookstream::http {
namespace {

const std::string kUrl = "https://example.com/hooks";
const std::string kSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

std::vector<std::string> values_of(const DeliveryRequest& req, std::string_view name) {
  std::vector<std::string> out;
  for (const auto& h : req.headers) {
    std::string lower = h.name;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (lower == name) out.push_back(h.value);
  }
  return out;
}

TEST(WebhookRequest, ReservedCustomHeadersAreDroppedAtSendTime) {
  const std::vector<std::pair<std::string, std::string>> headers = {
      {"Webhook-Signature", "v1,forged"}, {"webhook-id", "evt_forged"},
      {"WEBHOOK-TIMESTAMP", "1"},         {"Content-Type", "text/plain"},
      {"Host", "evil.example"},           {"Content-Length", "0"},
      {"Transfer-Encoding", "chunked"},   {"User-Agent", "forged"},
      {"X-Hookstream-Attempt", "99"},     {"X-Customer", "42"},
  };
  const auto payload = std::make_shared<const std::string>(R"({"id":"evt_1"})");
  const WebhookMessage message{"evt_1", "contact.created", payload, 2, false};
  const auto now = TimePoint{std::chrono::seconds{1'772'712'000}};
  auto req = build_webhook_request({kUrl, {kSecret}, headers}, message, now, Millis{1000});
  ASSERT_TRUE(req.ok()) << req.error().message;

  EXPECT_EQ(values_of(*req, "webhook-id"), std::vector<std::string>{"evt_1"});
  EXPECT_EQ(values_of(*req, "webhook-timestamp"), std::vector<std::string>{"1772712000"});
  EXPECT_EQ(values_of(*req, "content-type"), std::vector<std::string>{"application/json"});
  EXPECT_EQ(values_of(*req, "x-hookstream-attempt"), std::vector<std::string>{"2"});
  EXPECT_TRUE(values_of(*req, "host").empty());
  EXPECT_TRUE(values_of(*req, "content-length").empty());
  EXPECT_TRUE(values_of(*req, "transfer-encoding").empty());
  EXPECT_TRUE(values_of(*req, "user-agent").empty());
  EXPECT_EQ(values_of(*req, "x-customer"), std::vector<std::string>{"42"});

  const auto signature = values_of(*req, "webhook-signature");
  ASSERT_EQ(signature.size(), 1u);
  const signing::VerifyInput in{"evt_1", "1772712000", signature[0], *payload};
  EXPECT_TRUE(signing::verify({kSecret}, in, now).ok());
}

TEST(WebhookRequest, ReservedNamesAreCaseInsensitive) {
  for (const char* name : {"webhook-id", "Webhook-Timestamp", "WEBHOOK-SIGNATURE", "content-type",
                           "Host", "content-length", "transfer-encoding", "connection",
                           "x-hookstream-test", "X-HookStream-Anything", "user-agent"})
    EXPECT_TRUE(is_reserved_header(name)) << name;
  for (const char* name : {"authorization", "x-customer", "webhook", "x-hookstream"})
    EXPECT_FALSE(is_reserved_header(name)) << name;
}

}  // namespace
}  // namespace hookstream::http
