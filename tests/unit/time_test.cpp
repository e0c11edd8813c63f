#include "common/time.hpp"

#include <gtest/gtest.h>

#include "common/store/redis_hash.hpp"

namespace hookstream {
namespace {

TEST(Time, FormatsUtcWithMilliseconds) {
  const TimePoint t{std::chrono::milliseconds{1614265330123}};
  EXPECT_EQ(format_rfc3339(t), "2021-02-25T15:02:10.123Z");
}

TEST(Time, FormatsEveryFieldWithItsLeadingZerosAndParsesBack) {
  EXPECT_EQ(format_rfc3339(TimePoint{}), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(format_rfc3339(TimePoint{std::chrono::milliseconds{7258118399999}}),
            "2199-12-31T23:59:59.999Z");
  // A step that is no multiple of a second, minute, hour or day walks every field's digits.
  for (std::int64_t ms = 0; ms < 4'102'444'800'000; ms += 7'777'777'777) {
    const TimePoint t{std::chrono::milliseconds{ms}};
    const auto text = format_rfc3339(t);
    ASSERT_EQ(text.size(), 24u) << text;
    const auto back = parse_rfc3339(text);
    ASSERT_TRUE(back.ok()) << text;
    EXPECT_EQ(to_unix_millis(*back), ms) << text;
  }
}

TEST(Time, ParsesZuluOffsetsAndFractions) {
  EXPECT_EQ(to_unix_millis(*parse_rfc3339("2021-02-25T15:02:10.123Z")), 1614265330123);
  EXPECT_EQ(to_unix_millis(*parse_rfc3339("2021-02-25T17:02:10+02:00")), 1614265330000);
  EXPECT_EQ(to_unix_millis(*parse_rfc3339("2021-02-25T15:02:10.1234567Z")), 1614265330123);
}

TEST(Time, RefusesMalformedTimestamps) {
  for (const char* bad : {"", "2021-02-25", "2021-02-30T00:00:00Z", "2021-02-25T15:02:10",
                          "2021-02-25T25:00:00Z", "2021-02-25T15:02:10.Z", "2021-02-25T15:02:10Zx"})
    EXPECT_FALSE(parse_rfc3339(bad).ok()) << bad;
}

TEST(Time, ParsesDurations) {
  EXPECT_EQ(*parse_duration("250ms"), Millis{250});
  EXPECT_EQ(*parse_duration("5s"), Millis{5000});
  EXPECT_EQ(*parse_duration("2m"), Millis{120000});
  EXPECT_EQ(*parse_duration("1h"), Millis{3600000});
  EXPECT_EQ(*parse_duration("30d"), Millis{30LL * 86400000});
  EXPECT_FALSE(parse_duration("5").ok());
  EXPECT_FALSE(parse_duration("-5s").ok());
  EXPECT_FALSE(parse_duration("5 weeks").ok());
  auto list = parse_duration_list("5s, 30s,2m");
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->size(), 3u);
  EXPECT_EQ(format_duration(Millis{300000}), "5m");
  EXPECT_EQ(format_duration(Millis{1500}), "1500ms");
}

TEST(Time, StoredTimesBeyondWhatATimePointHoldsReadAsAbsent) {
  const store::HashFields f = {{"ok", "1767225600000"},
                               {"huge", "9223372036854775807"},
                               {"past", "-9223372036854775807"},
                               {"text", "soon"}};
  EXPECT_EQ(store::time_field(f, "ok"), TimePoint{std::chrono::milliseconds{1767225600000}});
  EXPECT_EQ(store::time_field(f, "huge"), std::nullopt);
  EXPECT_EQ(store::time_field(f, "past"), std::nullopt);
  EXPECT_EQ(store::time_field(f, "text"), std::nullopt);
  EXPECT_EQ(store::time_field(f, "missing"), std::nullopt);
}

}  // namespace
}  // namespace hookstream
