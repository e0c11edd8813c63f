#include "dispatcher/offset_tracker.hpp"

#include <gtest/gtest.h>

namespace hookstream::dispatcher {
namespace {

const kafka::TopicPartition kP0{"t.events", 0};
const kafka::TopicPartition kP1{"t.events", 1};

TEST(OffsetTracker, CommitsOnlyPastFinishedRecordsWhateverTheCompletionOrder) {
  OffsetTracker t;
  t.assign({kP0});
  for (std::int64_t o = 10; o < 15; ++o) ASSERT_TRUE(t.begin(kP0, o));
  // Nothing finished: the committable offset is the first record still in flight.
  auto c = t.take_committable();
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].offset, 10);
  t.complete(kP0, 12);
  t.complete(kP0, 13);
  EXPECT_TRUE(t.take_committable().empty());  // 10 still in flight: no progress
  t.complete(kP0, 10);
  c = t.take_committable();
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].offset, 11);
  t.complete(kP0, 11);
  t.complete(kP0, 14);
  c = t.take_committable();
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].offset, 15);  // one past the last record
  EXPECT_TRUE(t.take_committable().empty());
  EXPECT_EQ(t.in_flight(), 0u);
}

TEST(OffsetTracker, ResumePointIsTheLowestUnfinishedRecordForTheLagGauge) {
  OffsetTracker t;
  EXPECT_EQ(t.resume_point(kP0), std::nullopt);  // not owned
  t.assign({kP0});
  EXPECT_EQ(t.resume_point(kP0), std::nullopt);  // owned, no record yet: the consumer knows
  t.begin(kP0, 5);
  t.begin(kP0, 6);
  EXPECT_EQ(t.resume_point(kP0), 5);
  t.complete(kP0, 6);
  EXPECT_EQ(t.resume_point(kP0), 5);
  t.complete(kP0, 5);
  EXPECT_EQ(t.resume_point(kP0), 7);
  t.begin(kP0, 7);
  t.abandon(kP0, 7);  // given up at shutdown: never committed past
  EXPECT_EQ(t.resume_point(kP0), 7);
  (void)t.revoke({kP0});
  EXPECT_EQ(t.resume_point(kP0), std::nullopt);
}

TEST(OffsetTracker, PartitionsAreIndependent) {
  OffsetTracker t;
  t.assign({kP0, kP1});
  t.begin(kP0, 1);
  t.begin(kP1, 7);
  t.complete(kP1, 7);
  const auto c = t.take_committable();
  ASSERT_EQ(c.size(), 2u);
  for (const auto& o : c) EXPECT_EQ(o.offset, o.partition == 0 ? 1 : 8);
}

TEST(OffsetTracker, RevokedPartitionsAreForgottenAndLateCompletionsIgnored) {
  OffsetTracker t;
  t.assign({kP0});
  t.begin(kP0, 5);
  t.begin(kP0, 6);
  t.complete(kP0, 5);
  const auto final_offsets = t.revoke({kP0});
  ASSERT_EQ(final_offsets.size(), 1u);
  EXPECT_EQ(final_offsets[0].offset, 6);
  t.complete(kP0, 6);  // too late: the new owner re-reads 6
  EXPECT_TRUE(t.take_committable().empty());
  EXPECT_FALSE(t.begin(kP0, 7));  // not ours any more
  EXPECT_EQ(t.in_flight(), 0u);
}

TEST(OffsetTracker, RecordsStillRunningWhenAPartitionComesBackHoldItsCommit) {
  // An eager rebalance revokes a partition and gives it back while record 6 is still being
  // handled; the consumer may resume after it (at 8) instead of re-reading it.
  OffsetTracker t;
  t.assign({kP0});
  for (std::int64_t o = 5; o < 8; ++o) t.begin(kP0, o);
  t.complete(kP0, 5);
  t.complete(kP0, 7);
  ASSERT_EQ(t.revoke({kP0}).at(0).offset, 6);
  EXPECT_EQ(t.in_flight(), 1u);  // still running here
  t.assign({kP0});
  t.begin(kP0, 8);
  t.complete(kP0, 8);
  auto c = t.take_committable();
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].offset, 6);  // not 9: record 6 has not finished
  t.complete(kP0, 6);
  c = t.take_committable();
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].offset, 9);
  EXPECT_EQ(t.in_flight(), 0u);
}

TEST(OffsetTracker, ARecordReadAgainAfterItsPartitionCameBackCountsOnce) {
  // The count is kept, not recomputed (the consumer reads it on every poll): an offset both
  // lingering and read again is one record.
  OffsetTracker t;
  const kafka::TopicPartition p1{"events", 1};
  t.assign({kP0, p1});
  t.begin(kP0, 6);
  t.begin(p1, 0);
  EXPECT_EQ(t.in_flight(), 2u);
  EXPECT_EQ(t.in_flight(kP0), 1u);
  (void)t.revoke({kP0});
  EXPECT_EQ(t.in_flight(), 2u);
  EXPECT_EQ(t.in_flight(kP0), 0u);  // not owned: lingering only
  t.assign({kP0});
  EXPECT_TRUE(t.begin(kP0, 6));  // read again from the committed offset
  t.begin(kP0, 7);
  EXPECT_EQ(t.in_flight(), 3u);
  EXPECT_EQ(t.in_flight(kP0), 2u);
  t.complete(kP0, 6);
  t.abandon(kP0, 7);
  t.complete(p1, 0);
  EXPECT_EQ(t.in_flight(), 0u);
}

TEST(OffsetTracker, AbandonedRecordsStopCountingButBlockTheCommit) {
  OffsetTracker t;
  t.assign({kP0});
  t.begin(kP0, 3);
  t.begin(kP0, 4);
  t.abandon(kP0, 3);
  t.complete(kP0, 4);
  EXPECT_EQ(t.in_flight(), 0u);
  const auto c = t.take_committable();
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].offset, 3);  // record 3 is read again by the next owner
}

}  // namespace
}  // namespace hookstream::dispatcher
