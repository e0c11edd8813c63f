#pragma once
// Stage 5: retries. A failed attempt's next one is written to the retry tier of its delay
// (<prefix>.retry.<delay>, RetryScheduler); the tiers are read back here (RetryQueues), each
// partition in offset order, which is due order: the head waits until it is due while the
// partition is read on only a little (then paused), and a due record goes back to the attempts
// stage as the delivery's next attempt.
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "dispatcher/dead_letters.hpp"
#include "dispatcher/engine_context.hpp"

namespace hookstream::dispatcher {

class Attempts;

class RetryScheduler {
 public:
  explicit RetryScheduler(EngineContext& engine) : engine_(engine) {}
  // Writes the delivery's `attempt` to the topic of `tier` (a delay of the schedule), due at
  // `due` (the delay plus jitter). An error when stopping first or when Kafka refuses for good.
  asio::awaitable<Result<void>> schedule(const DeliveryTask& task, int attempt, Millis tier,
                                         TimePoint due);

 private:
  EngineContext& engine_;
};

class RetryQueues {
 public:
  RetryQueues(EngineContext& engine, Attempts& attempts, DeadLetters& dead_letters);

  static bool is_retry_topic(const DispatcherConfig& config, std::string_view topic);
  void handle(std::shared_ptr<const kafka::Record> record);
  // Records parked for these partitions are dropped: the partitions' new owner re-reads them.
  void drop(const std::vector<kafka::TopicPartition>& partitions);
  // Parked records are handed back (uncommitted).
  void stop();

 private:
  struct Queue {
    std::deque<std::shared_ptr<const kafka::Record>> records;
    bool dropped = false;
    bool paused = false;
    std::size_t reported = 0;  // records reported waiting (EngineContext::waiting)
    std::shared_ptr<asio::steady_timer> timer;
  };
  // Reports the queue's records as waiting by design while its partition is not paused (the
  // consumer counts a paused partition's records apart already), and none once it is dropped.
  void report_waiting(Queue& q);
  asio::awaitable<void> drain(kafka::TopicPartition tp, std::shared_ptr<Queue> q);
  void pause_if_read_ahead(const kafka::TopicPartition& tp, Queue& q);
  asio::awaitable<void> attempt_due(std::shared_ptr<const kafka::Record> record);

  EngineContext& engine_;
  Attempts& attempts_;
  DeadLetters& dead_letters_;
  std::map<kafka::TopicPartition, std::shared_ptr<Queue>> queues_;
  std::map<std::string, Millis, std::less<>> tier_of_topic_;  // each retry topic's delay
};

}  // namespace hookstream::dispatcher
