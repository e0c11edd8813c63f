#pragma once
// At-least-once offsets (SPEC §4): a partition's offset advances only past records whose every
// delivery is done, scheduled for retry, or recorded as failed for good. Records finish out of
// order; the committable offset is the lowest one still in flight (or one past the highest seen).
//
// Thread-safe: the consumer thread begins records and commits, the delivery thread completes them.
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <vector>

#include "common/kafka/consumer.hpp"

namespace hookstream::dispatcher {

class OffsetTracker {
 public:
  void assign(const std::vector<kafka::TopicPartition>& partitions);
  // Forgets the partitions and returns their final committable offsets (for a last commit).
  std::vector<kafka::TopicPartitionOffset> revoke(
      const std::vector<kafka::TopicPartition>& partitions);

  // False when the partition is not owned (the record must not be handled).
  bool begin(const kafka::TopicPartition& tp, std::int64_t offset);
  // Ignored for partitions revoked meanwhile: their new owner reads the record again.
  void complete(const kafka::TopicPartition& tp, std::int64_t offset);

  // The record will not be finished here (shutting down): stop waiting for it, but never commit
  // past it, so its next reader handles it.
  void abandon(const kafka::TopicPartition& tp, std::int64_t offset);

  // Offsets that moved since the last call.
  std::vector<kafka::TopicPartitionOffset> take_committable();
  // Records begun and not finished (revoked partitions' included), in O(1): read on every poll.
  std::size_t in_flight() const;
  // Those of one owned partition.
  std::size_t in_flight(const kafka::TopicPartition& tp) const;
  // The offset a commit of an owned partition would carry now (its lowest unfinished record, or
  // one past the highest begun); nullopt before its first record here, or when not owned.
  std::optional<std::int64_t> resume_point(const kafka::TopicPartition& tp) const;

 private:
  struct PartitionState {
    std::set<std::int64_t> in_flight;
    std::set<std::int64_t> abandoned;
    std::int64_t next = -1;       // one past the highest offset begun
    std::int64_t committed = -1;  // last offset handed out for commit
  };
  static std::int64_t committable(const PartitionState& s);
  // A record of a revoked partition finished or was given up here. Called with mu_ held.
  void forget_lingering(const kafka::TopicPartition& tp, std::int64_t offset);

  mutable std::mutex mu_;
  std::map<kafka::TopicPartition, PartitionState> partitions_;
  // Records of revoked partitions still being handled here. If a partition comes back to this
  // member (an eager rebalance revokes and reassigns), they join its new state, so no commit
  // passes them before they finish: the consumer may resume after them rather than re-read them.
  std::map<kafka::TopicPartition, std::set<std::int64_t>> lingering_;
  std::size_t count_ = 0;  // in-flight offsets in partitions_ and lingering_
};

}  // namespace hookstream::dispatcher
