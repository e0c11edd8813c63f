#pragma once
// A Kafka consumer-group member with manual offset management (enable.auto.commit=false,
// enable.auto.offset.store=false, auto.offset.reset=earliest): nothing is committed unless the
// caller commits it, so a record is acknowledged only after it has been fully handled.
//
// Rebalancing is eager, with the roundrobin assignor (partition.assignment.strategy =
// roundrobin): every member subscribes to the same topics (events and every retry tier), and
// roundrobin deals each topic's partitions out evenly, so every member gets its share of the
// events topic. cooperative-sticky was used before and is not: it balances only the total
// partition count, so with two members one got all 128 events partitions and the other all the
// retry tiers (the chaos suite's sigterm_under_load found it). Eager means a rebalance revokes
// every partition (the listener commits what was finished) and assigns again. Incremental
// rebalances (one member per feed, so that cooperative-sticky's per-member count is a fair share of
// the events topic) were built and measured on 2026-12-04 and taken back: librdkafka before 2.10
// (Debian 12 has 2.0.2) refuses commits made during a cooperative rebalance with ILLEGAL_GENERATION
// (confluentinc/librdkafka#4059, fixed by #4908), so the commit on revocation failed and the next
// owner replayed the records: chaos_dispatcher_crashes duplicated 940-2,370 pairs of 10,000 against
// ~150 with eager rebalances. A deployment may
// still choose another strategy through HOOKSTREAM_RDKAFKA_PARTITION_ASSIGNMENT_STRATEGY; the
// listener handles both protocols.
//
// Threading: one thread uses a Consumer. Listener and callbacks run inside poll()/poll_batch()
// (and close()), on that thread.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/config.hpp"
#include "common/kafka/error.hpp"
#include "common/kafka/handles.hpp"
#include "common/kafka/record.hpp"
#include "common/result.hpp"
#include "common/time.hpp"

namespace hookstream::kafka {

struct TopicPartition {
  std::string topic;
  std::int32_t partition = 0;
  friend bool operator==(const TopicPartition&, const TopicPartition&) = default;
  friend auto operator<=>(const TopicPartition&, const TopicPartition&) = default;
};

// `offset` is the next offset to read: after handling the record at offset N, commit N + 1.
struct TopicPartitionOffset {
  std::string topic;
  std::int32_t partition = 0;
  std::int64_t offset = 0;
  friend bool operator==(const TopicPartitionOffset&, const TopicPartitionOffset&) = default;
};

// A consumer found its committed position gone (retention, or the embedded cluster's 5 MiB per
// partition limit) and librdkafka moved it to the earliest record still present: the records in
// between were lost and never handled. SPEC §1 requires saying so.
// Where a member stands on one of its partitions, from what librdkafka already knows (no request
// is sent): the high watermark of the partition's last fetch response and the next offset the
// consumer will read; -1 when not known yet.
struct PartitionProgress {
  TopicPartition partition;
  std::int64_t high_watermark = -1;
  std::int64_t position = -1;
};

struct OffsetReset {
  std::string topic;
  std::int32_t partition = 0;
  std::string detail;  // librdkafka's description, including the offset it could not read
};

class RebalanceListener {
 public:
  virtual ~RebalanceListener() = default;
  // Partitions newly assigned to this member (cooperative: only the added ones).
  virtual void on_assigned(const std::vector<TopicPartition>& partitions) = 0;
  // Partitions about to be taken away; commit what was handled for them now, it is the last
  // chance. Called before the new owner starts reading.
  virtual void on_revoked(const std::vector<TopicPartition>& partitions) = 0;
  // Partitions already owned by someone else (session timed out): commits for them will fail.
  virtual void on_lost(const std::vector<TopicPartition>& partitions) { on_revoked(partitions); }
};

struct ConsumerOptions {
  std::string client_id = "hookstream";
  Millis session_timeout{10000};
  Millis max_poll_interval{300000};
  RebalanceListener* rebalance_listener = nullptr;  // not owned; must outlive the Consumer
  // Called from poll(); also logged as a warning. Defaults to logging only.
  std::function<void(const OffsetReset&)> on_offset_reset;
  // Result of each commit_async(), called from poll(). Failures are also logged.
  std::function<void(const Result<void>&, const std::vector<TopicPartitionOffset>&)> on_commit;
};

class Consumer {
 public:
  // Fails (code kafka_invalid_config) on a bad or guarded property, naming it.
  static Result<std::unique_ptr<Consumer>> create(const KafkaConfig& config,
                                                  const std::string& group_id,
                                                  const ConsumerOptions& options);
  ~Consumer();  // close()s if still open
  Consumer(const Consumer&) = delete;
  Consumer& operator=(const Consumer&) = delete;

  Result<void> subscribe(const std::vector<std::string>& topics);

  // One record, nullopt when none arrived within `timeout`, or an error event (the consumer keeps
  // working after an error; is_retriable() tells whether it is transient). Serves the rebalance
  // listener and the other callbacks.
  Result<std::optional<Record>> poll(Millis timeout);
  // Up to `max` records: waits up to `timeout` for the first, then takes what is already there.
  // An error event ends the batch early; it is returned only when no record came before it.
  // Records of a partition revoked by a rebalance served during the call are left out if they
  // came before the rebalance: they belong to the old assignment, and whoever owns the partition
  // now reads them again from its committed offset (if that is this member, handing them over
  // after the new assignment would let its offsets run ahead of records not read yet).
  Result<std::vector<Record>> poll_batch(std::size_t max, Millis timeout);

  Result<void> commit_sync(const std::vector<TopicPartitionOffset>& offsets);
  Result<void> commit_async(const std::vector<TopicPartitionOffset>& offsets);
  // The group's committed offsets for these partitions (-1001 when none), asking the coordinator.
  Result<std::vector<TopicPartitionOffset>> committed(const std::vector<TopicPartition>& partitions,
                                                      Millis timeout);

  // Stops/restarts fetching; the records already fetched for a paused partition are discarded
  // and re-fetched on resume.
  Result<void> pause(const std::vector<TopicPartition>& partitions);
  Result<void> resume(const std::vector<TopicPartition>& partitions);
  Result<std::vector<TopicPartition>> assignment() const;
  // Every assigned partition's progress (consumer lag), cheaply enough to call every second.
  Result<std::vector<PartitionProgress>> progress() const;
  // "COOPERATIVE", "EAGER", or "NONE" before the first rebalance.
  std::string rebalance_protocol() const;
  std::uint64_t offset_resets() const { return offset_resets_; }

  // Leaves the group (revoking the assignment through the listener). Idempotent.
  Result<void> close();

 private:
  Consumer(ConsumerOptions options);
  static void on_rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                           rd_kafka_topic_partition_list_t* partitions, void* opaque);
  static void on_log(const rd_kafka_t* rk, int level, const char* facility, const char* message);
  static void on_offset_commit(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                               rd_kafka_topic_partition_list_t* offsets, void* opaque);
  static void on_error(rd_kafka_t* rk, int err, const char* reason, void* opaque);
  void handle_rebalance(rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* partitions);
  void handle_offset_reset(const char* message);

  ConsumerOptions options_;
  std::uint64_t offset_resets_ = 0;
  bool closed_ = false;
  // Partitions revoked (or lost) by a rebalance served during the current poll_batch().
  std::vector<TopicPartition> revoked_in_batch_;
  // Declared last: destroyed before the state its callbacks use.
  HandlePtr handle_;
};

}  // namespace hookstream::kafka
