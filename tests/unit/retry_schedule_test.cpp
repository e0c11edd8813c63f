#include "dispatcher/retry_schedule.hpp"

#include <gtest/gtest.h>

#include "tests/unit/fakes.hpp"

namespace hookstream::dispatcher {
namespace {

using namespace std::chrono_literals;

TEST(RetrySchedule, DefaultScheduleGivesTenAttempts) {
  const RetrySchedule s(*parse_duration_list("5s,30s,2m,10m,30m,1h,3h,6h,12h"));
  EXPECT_EQ(s.max_attempts(), 10);
  EXPECT_EQ(s.next_delay(1, std::nullopt), Millis{5000});
  EXPECT_EQ(s.next_delay(2, std::nullopt), Millis{30000});
  EXPECT_EQ(s.next_delay(9, std::nullopt), Millis{12 * 3600 * 1000});
  EXPECT_FALSE(s.next_delay(10, std::nullopt).has_value());
  EXPECT_FALSE(s.next_delay(0, std::nullopt).has_value());
}

TEST(RetrySchedule, RetryAfterRoundsUpToATierWithinBounds) {
  const RetrySchedule s(*parse_duration_list("5s,30s,2m,10m"));
  EXPECT_EQ(s.next_delay(1, Millis{1000}), Millis{5000});       // shorter than the tier: the tier
  EXPECT_EQ(s.next_delay(1, Millis{20000}), Millis{30000});     // rounded up to the next tier
  EXPECT_EQ(s.next_delay(1, Millis{3600000}), Millis{600000});  // capped at the longest tier
  EXPECT_EQ(s.next_delay(3, Millis{1000}), Millis{120000});     // never earlier than the schedule
}

TEST(RetrySchedule, AParkedDeliveryWaitsLongerEachTimeUpToTheThirdShortestTier) {
  const RetrySchedule s(*parse_duration_list("5s,30s,2m,10m,30m"));
  EXPECT_EQ(s.parking_tier(std::nullopt), Millis{5000});       // from the events topic
  EXPECT_EQ(s.parking_tier(Millis{5000}), Millis{30000});      // read back from the first tier
  EXPECT_EQ(s.parking_tier(Millis{30000}), Millis{120000});    // the cap
  EXPECT_EQ(s.parking_tier(Millis{120000}), Millis{120000});   // stays there
  EXPECT_EQ(s.parking_tier(Millis{1800000}), Millis{120000});  // a late retry: the cap too
  // Repeated and unordered delays: the distinct tiers, shortest first.
  const RetrySchedule repeated(*parse_duration_list("1s,1s,50ms,1s"));
  EXPECT_EQ(repeated.parking_tier(std::nullopt), Millis{50});
  EXPECT_EQ(repeated.parking_tier(Millis{50}), Millis{1000});
  EXPECT_EQ(repeated.parking_tier(Millis{1000}), Millis{1000});
}

TEST(RetrySchedule, JitterIsBoundedAndNeverNegative) {
  testing_support::CountingRandom random;
  for (int i = 0; i < 200; ++i) {
    const auto j = RetrySchedule::jitter(Millis{5000}, random);
    EXPECT_GE(j.count(), 0);
    EXPECT_LE(j.count(), 500);
  }
  EXPECT_EQ(RetrySchedule::jitter(Millis{5}, random), Millis{0});
}

TEST(RetrySchedule, RetryRecordRoundTrip) {
  kafka::Record event;
  event.topic = "p.events";
  event.key = "evt_1";
  event.value = "{}";
  event.headers = {{"ce_id", "evt_1"}, {"hs_attempt", "stale"}};
  const RetryInfo info{"wh_1", 3, TimePoint{Millis{1'000'000}}, TimePoint{Millis{900'000}}};
  const auto r = make_retry_record(event, info, "p.retry.5s");
  EXPECT_EQ(r.topic, "p.retry.5s");
  EXPECT_EQ(r.key, "evt_1/wh_1");
  EXPECT_EQ(r.value, "{}");
  EXPECT_EQ(*r.header("ce_id"), "evt_1");
  const auto back = read_retry_info(r);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->webhook_id, "wh_1");
  EXPECT_EQ(back->attempt, 3);
  EXPECT_EQ(back->due, info.due);
  EXPECT_EQ(back->created_at, info.created_at);
  EXPECT_FALSE(read_retry_info(event).has_value());
}

}  // namespace
}  // namespace hookstream::dispatcher
