// The delivery record's JSON (common/store/delivery_record.hpp): what encode_record writes, the
// API's reader (decode_delivery) reads back field for field, whatever bytes the texts hold.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "common/redis/reply.hpp"
#include "common/store/delivery_record.hpp"

namespace hookstream::store {
namespace {

using namespace std::chrono_literals;

TimePoint at_ms(std::int64_t ms) {
  return TimePoint{} + Millis{ms};
}

AttemptRecord attempt(std::string body, std::string error) {
  AttemptRecord a;
  a.number = 3;
  a.at = at_ms(1'796'398'409'731);
  a.outcome = "http_error";
  a.response_status = 503;
  a.response_body = std::move(body);
  a.error = std::move(error);
  a.duration_ms = 2'500;
  return a;
}

Delivery round_trip(const RecordFields& r) {
  auto d = decode_delivery("dlv_x", redis::Reply::string(encode_record(r)));
  EXPECT_TRUE(d) << d.error().message;
  return d ? *d : Delivery{};
}

TEST(DeliveryRecord, EveryFieldIsReadBackAsWritten) {
  const auto a = attempt(R"({"error":"busy"})", "HTTP 503");
  RecordFields r;
  r.webhook_id = "wh_01m90v0d6cxh054yfzg6ypb85n";
  r.tenant = "acme";
  r.event_id = "evt_1";
  r.event_type = "submission.completed";
  r.status = DeliveryStatus::pending;
  r.attempt_count = 3;
  r.response_status = 503;
  r.last_error = "HTTP 503";
  r.next_retry_at = at_ms(1'796'398'419'731);
  r.created_at = at_ms(1'796'398'400'000);
  r.updated_at = at_ms(1'796'398'409'731);
  r.event_key = "hs:evb:dlv_x:3:1796398409731";
  r.attempt = &a;
  const auto text = encode_record(r);
  const auto j = nlohmann::json::parse(text);
  EXPECT_EQ(j.size(), 14u);
  EXPECT_TRUE(j["delivered_at"].is_null());
  ASSERT_EQ(j["attempts"].size(), 1u);
  EXPECT_EQ(j["attempts"][0].size(), 7u);

  const auto d = round_trip(r);
  EXPECT_EQ(d.webhook_id, r.webhook_id);
  EXPECT_EQ(d.tenant, "acme");
  EXPECT_EQ(d.event_id, "evt_1");
  EXPECT_EQ(d.event_type, "submission.completed");
  EXPECT_EQ(d.status, DeliveryStatus::pending);
  EXPECT_EQ(d.attempt_count, 3);
  EXPECT_EQ(d.response_status, 503);
  EXPECT_EQ(d.last_error, "HTTP 503");
  EXPECT_FALSE(d.delivered_at);
  EXPECT_EQ(d.next_retry_at, r.next_retry_at);
  EXPECT_EQ(d.created_at, r.created_at);
  EXPECT_EQ(d.event_key, r.event_key);
  ASSERT_EQ(d.attempts.size(), 1u);
  EXPECT_EQ(d.attempts[0].number, 3);
  EXPECT_EQ(d.attempts[0].at, a.at);
  EXPECT_EQ(d.attempts[0].outcome, "http_error");
  EXPECT_EQ(d.attempts[0].response_status, 503);
  EXPECT_EQ(d.attempts[0].response_body, a.response_body);
  EXPECT_EQ(d.attempts[0].error, "HTTP 503");
  EXPECT_EQ(d.attempts[0].duration_ms, 2'500);
}

TEST(DeliveryRecord, TextsThatNeedEscapingOrAreNotAsciiAreReadBackAsWritten) {
  // Every byte, control characters (6 bytes each when escaped) and quotes included, in a body
  // longer than the encoder's stack buffer; valid UTF-8 kept as it is.
  std::string body;
  for (int round = 0; round < 40; ++round)
    for (int c = 0; c < 128; ++c) body.push_back(static_cast<char>(c));
  const auto a = attempt(body, "résumé \"quoted\" \\ \t");
  RecordFields r;
  r.webhook_id = "wh_1";
  r.tenant = "t\n1";
  r.event_type = "ünïcode.type";
  r.status = DeliveryStatus::succeeded;
  r.delivered_at = at_ms(5);
  r.created_at = at_ms(1);
  r.updated_at = at_ms(5);
  r.attempt = &a;
  const auto d = round_trip(r);
  EXPECT_EQ(d.tenant, "t\n1");
  EXPECT_EQ(d.event_type, "ünïcode.type");
  EXPECT_EQ(d.delivered_at, at_ms(5));
  ASSERT_EQ(d.attempts.size(), 1u);
  EXPECT_EQ(d.attempts[0].response_body, body);
  EXPECT_EQ(d.attempts[0].error, a.error);
}

TEST(DeliveryRecord, InvalidUtf8IsReplacedNotCopied) {
  const auto a = attempt(std::string("ok \xff\xfe end"), "");
  RecordFields r;
  r.webhook_id = "wh_1";
  r.created_at = at_ms(1);
  r.attempt = &a;
  const auto d = round_trip(r);
  ASSERT_EQ(d.attempts.size(), 1u);
  EXPECT_EQ(d.attempts[0].response_body, "ok \xef\xbf\xbd\xef\xbf\xbd end");  // U+FFFD twice
}

TEST(DeliveryRecord, ARecordWithoutAnAttemptHasAnEmptyList) {
  RecordFields r;
  r.webhook_id = "wh_1";
  r.created_at = at_ms(1);
  const auto j = nlohmann::json::parse(encode_record(r));
  EXPECT_TRUE(j["attempts"].is_array());
  EXPECT_TRUE(j["attempts"].empty());
  EXPECT_TRUE(round_trip(r).attempts.empty());
}

}  // namespace
}  // namespace hookstream::store
