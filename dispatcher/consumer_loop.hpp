#pragma once
// The Kafka side of a dispatcher, on its own thread: one consumer-group member reading the events
// topic and every retry topic. It hands records to the shards (each partition always to the same
// one, a poll's records in one post per shard), commits the
// offsets the OffsetTracker allows, pauses partitions on request (retry records not yet due),
// reads no more while too many records are unfinished (backpressure), and on revocation lets the
// records in hand finish (at most kRevokeDrain) and commits them before letting go.
#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "common/kafka/consumer.hpp"
#include "dispatcher/config.hpp"
#include "dispatcher/engine.hpp"
#include "dispatcher/metrics.hpp"
#include "dispatcher/offset_tracker.hpp"
#include "dispatcher/shard.hpp"

namespace hookstream::dispatcher {

class ConsumerLoop final : public kafka::RebalanceListener {
 public:
  ConsumerLoop(const DispatcherConfig& config, std::vector<Shard*> shards, OffsetTracker& offsets,
               Metrics& metrics);
  ~ConsumerLoop() override;

  // Creates the consumer and subscribes; the thread starts with run().
  Result<void> start();
  // Runs the loop on a new thread; `on_exit` runs on that thread when it is done.
  void run(std::function<void()> on_exit);
  void request_stop();
  void join();

  // From the io thread.
  void record_done(const kafka::TopicPartition& tp, std::int64_t offset);
  void flow(const kafka::TopicPartition& tp, bool pause);
  // Records that wait by design (EngineContext::WaitingChange), counted apart: see room().
  void waiting_changed(int delta);

  void on_assigned(const std::vector<kafka::TopicPartition>& partitions) override;
  void on_revoked(const std::vector<kafka::TopicPartition>& partitions) override;

 private:
  void loop();
  // Begins the records (those of partitions still owned) and posts them to their shards.
  void hand_out(std::vector<kafka::Record> records);
  void apply_flow_requests();
  // How many more records may be read before the pending-record bound is reached.
  std::size_t room();
  void commit(bool sync);
  // Sets the consumer-lag gauge from librdkafka's cached watermarks and the offset tracker.
  void report_lag();
  void note_failed_commit(const std::vector<kafka::TopicPartitionOffset>& offsets);
  void drain();
  // The shard that handles every record of this partition.
  std::size_t shard_of(const kafka::TopicPartition& tp) const;
  // Runs `work(dispatcher)` on every shard's thread.
  void post_to_shards(const std::function<void(Engine&)>& work) const;

  const DispatcherConfig& config_;
  std::vector<Shard*> shards_;
  OffsetTracker& offsets_;
  Metrics& metrics_;
  std::unique_ptr<kafka::Consumer> consumer_;
  std::thread thread_;
  std::function<void()> on_exit_;
  std::atomic<bool> stop_{false};

  // How long a revocation waits for the revoked partitions' records in hand to finish.
  static constexpr Millis kRevokeDrain{5000};
  // At the pending-record bound, the consumer waits up to kRefillWait for a refill's worth of
  // records (refill_) to finish, and is woken by every refill_-th finished record, not by each:
  // a wake-up per record cost the shard a futex call and the consumer a poll of a few records.
  // Past kRefillWait it takes any room, woken by each record (finishing is slow then: a stalled
  // or rate-limited endpoint holds most of the bound).
  static constexpr Millis kRefillWait{10};
  const std::size_t refill_;
  std::atomic<std::size_t> finished_{0};  // records finished, counted to wake every refill_-th
  std::atomic<bool> wake_each_{false};    // a waiter needs every finished record (slow, revoking)
  std::atomic<std::int64_t> waiting_{0};  // records that wait by design (see room())
  std::mutex mu_;  // guards flow_requests_ and wakes the waits for records to finish
  std::condition_variable cv_;
  std::vector<std::pair<kafka::TopicPartition, bool>> flow_requests_;
  std::set<kafka::TopicPartition> flow_paused_;  // consumer thread only
  // Records a poll returned at the pending-record bound (the consumer polls then only to serve the
  // group): not begun, so no commit passes them; handed out first once there is room, dropped
  // when their partition is revoked. Consumer thread only.
  std::deque<kafka::Record> held_;
  // The OffsetTracker hands an offset out once; a commit of it that fails (a rebalance, a moving
  // coordinator) is kept here and sent again with the next commit and at revocation, unless a newer
  // offset of its partition was sent meanwhile. Consumer thread only.
  std::map<kafka::TopicPartition, std::int64_t> last_sent_;
  std::map<kafka::TopicPartition, std::int64_t> failed_commits_;
};

}  // namespace hookstream::dispatcher
