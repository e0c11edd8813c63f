// Inputs the fuzz targets (fuzz/) found crashing, kept as tests. Each names the corpus file that
// holds the original input, so `scripts/fuzz` replays it too.
#include <gtest/gtest.h>

#include "common/cloudevents.hpp"
#include "common/json.hpp"
#include "common/retry_record.hpp"
#include "common/time.hpp"

namespace hookstream {
namespace {

kafka::Record binary_record() {
  kafka::Record r;
  r.topic = "hookstream.events";
  r.value = "{}";
  r.headers = {{"ce_specversion", "1.0"},
               {"ce_id", "evt_1"},
               {"ce_type", "contact.created"},
               {"ce_tenant", "t1"}};
  return r;
}

// corpus/cloudevents/binary_far_future_time: nanoseconds since 1970 overflowed int64 (UB).
TEST(FuzzRegression, TimesBeyondWhatTimePointHoldsAreRefused) {
  EXPECT_FALSE(parse_rfc3339("9999-12-31T23:59:59.999999Z").ok());
  EXPECT_FALSE(parse_rfc3339("2262-04-12T00:00:00Z").ok());
  EXPECT_FALSE(parse_rfc3339("1677-09-21T00:00:00Z").ok());
  EXPECT_EQ(to_unix_millis(*parse_rfc3339("2261-12-31T23:59:59.999Z")), 9'214'646'399'999);
  EXPECT_EQ(to_unix_millis(*parse_rfc3339("1678-01-01T00:00:00Z")), -9'214'560'000'000);

  auto r = binary_record();
  r.headers.push_back({"ce_time", "9999-12-31T23:59:59.999999Z"});
  const auto e = cloudevents::decode(r);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().code, cloudevents::DecodeErrc::invalid_attribute);
}

// corpus/cloudevents/binary_max_timestamp: a record timestamp (any int64 a producer sets) became
// the event time without a range check.
TEST(FuzzRegression, RecordTimestampOutOfRangeIsRefusedNotOverflowed) {
  EXPECT_EQ(from_unix_millis(std::numeric_limits<std::int64_t>::max()), std::nullopt);
  EXPECT_EQ(from_unix_millis(std::numeric_limits<std::int64_t>::min()), std::nullopt);
  EXPECT_EQ(to_unix_millis(*from_unix_millis(1'772'712'000'000)), 1'772'712'000'000);
  EXPECT_EQ(to_unix_millis(*from_unix_millis(-1)), -1);

  auto r = binary_record();
  r.timestamp_ms = std::numeric_limits<std::int64_t>::max();
  const auto e = cloudevents::decode(r);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().code, cloudevents::DecodeErrc::invalid_attribute);
  r.timestamp_ms = 1'772'712'000'000;
  ASSERT_TRUE(cloudevents::decode(r).ok());
  EXPECT_EQ(to_unix_millis(cloudevents::decode(r)->time), 1'772'712'000'000);
}

// corpus/retry_record/retry_extreme_times: hs_due_ms / hs_created_ms overflowed TimePoint, and a
// due time before 1970 would overflow the dispatcher's "due - now".
TEST(FuzzRegression, RetryRecordWithUnusableTimesIsRefused) {
  auto r = binary_record();
  r.headers.push_back({"hs_webhook_id", "wh_1"});
  r.headers.push_back({"hs_attempt", "2"});
  r.headers.push_back({"hs_created_ms", "1772712000000"});
  for (const char* due : {"9223372036854775807", "-9223372036854775808", "-1", "9223372036855"}) {
    auto bad = r;
    bad.headers.push_back({"hs_due_ms", due});
    EXPECT_EQ(read_retry_info(bad), std::nullopt) << due;
  }
  auto bad_created = r;
  bad_created.headers.push_back({"hs_due_ms", "1772712005000"});
  bad_created.headers.push_back({"hs_created_ms", "-5"});
  EXPECT_EQ(read_retry_info(bad_created), std::nullopt);

  auto good = r;
  good.headers.push_back({"hs_due_ms", "9223372036854"});
  const auto info = read_retry_info(good);
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(to_unix_millis(info->due), 9'223'372'036'854);
}

// corpus/api_body/event_deep_nesting (and ApiAbuse.DeepNestingIsRefused): nlohmann parses deep
// nesting iteratively, but dump() recurses; event data nested 100,000 deep (200 KB, under the
// body limit) overflowed the API's stack. The same record in structured mode would have crashed
// every dispatcher that read it.
TEST(FuzzRegression, DeepNestingIsRefusedWhileParsing) {
  const auto nested = [](std::size_t depth) {
    return std::string(depth, '[') + std::string(depth, ']');
  };
  EXPECT_TRUE(parse_untrusted_json(nested(kMaxJsonDepth)).ok());
  const auto deep = parse_untrusted_json(nested(kMaxJsonDepth + 1));
  ASSERT_FALSE(deep.ok());
  EXPECT_EQ(deep.error().code, JsonErrc::too_deep);
  EXPECT_EQ(parse_untrusted_json(nested(100'000)).error().code, JsonErrc::too_deep);
  std::string objects;
  for (int i = 0; i < 1000; ++i) objects += R"({"a":)";
  objects += "1" + std::string(1000, '}');
  EXPECT_EQ(parse_untrusted_json(objects).error().code, JsonErrc::too_deep);

  kafka::Record r;
  r.headers = {{"content-type", "application/cloudevents+json"}};
  r.value = R"({"specversion":"1.0","id":"evt_1","type":"x.y","tenant":"t","data":{"a":)" +
            nested(100'000) + "}}";
  const auto e = cloudevents::decode(r);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().code, cloudevents::DecodeErrc::invalid_data);
}

TEST(FuzzRegression, AmbiguousJsonIsRefused) {
  EXPECT_EQ(parse_untrusted_json(R"({"a":1,"a":2})").error().code, JsonErrc::duplicate_key);
  EXPECT_EQ(parse_untrusted_json(R"({"x":{"a":1,"b":{"a":2},"a":3}})").error().code,
            JsonErrc::duplicate_key);
  EXPECT_TRUE(parse_untrusted_json(R"({"a":{"a":{"a":1}},"b":[{"a":1},{"a":2}]})").ok());
  EXPECT_EQ(parse_untrusted_json(R"({"n":1e400})").error().code, JsonErrc::syntax);
  EXPECT_EQ(parse_untrusted_json("[-1e400]").error().code, JsonErrc::syntax);
  EXPECT_TRUE(parse_untrusted_json("[1.7976931348623157e308, 18446744073709551616]").ok());
  EXPECT_EQ(parse_untrusted_json("{\"s\":\"\xc3\x28\"}").error().code, JsonErrc::syntax);
  EXPECT_EQ(parse_untrusted_json(R"({"s":"\ud800"})").error().code, JsonErrc::syntax);
  EXPECT_EQ(parse_untrusted_json("").error().code, JsonErrc::syntax);
}

// corpus/api_body/key_expires_in_overflow: "expires_in":"1099511627776d" overflowed n * scale, and
// "100000000h" overflowed now + d (UBSan: signed overflow).
TEST(FuzzRegression, DurationsAreBoundedSoNoArithmeticOverflows) {
  EXPECT_FALSE(parse_duration("1099511627776d").ok());
  EXPECT_FALSE(parse_duration("100000000h").ok());
  EXPECT_FALSE(parse_duration("9223372036854775807ms").ok());
  EXPECT_EQ(*parse_duration("12725d"), Millis{12725LL * 86'400'000});
  EXPECT_EQ(*parse_duration("1099511627776ms"), Millis{std::int64_t{1} << 40});
}

}  // namespace
}  // namespace hookstream
