#include "dispatcher/consumer_loop.hpp"

#include <algorithm>

#include "common/kafka/topics.hpp"
#include "common/log.hpp"
#include "common/thread_name.hpp"

namespace hookstream::dispatcher {

ConsumerLoop::ConsumerLoop(const DispatcherConfig& config, std::vector<Shard*> shards,
                           OffsetTracker& offsets, Metrics& metrics)
    : config_(config),
      shards_(std::move(shards)),
      offsets_(offsets),
      metrics_(metrics),
      refill_(std::max<std::size_t>(1, config.max_pending_records / 32)) {}

ConsumerLoop::~ConsumerLoop() {
  request_stop();
  join();
}

std::size_t ConsumerLoop::shard_of(const kafka::TopicPartition& tp) const {
  const auto h = std::hash<std::string>{}(tp.topic) * 31 + static_cast<std::size_t>(tp.partition);
  return h % shards_.size();
}

void ConsumerLoop::post_to_shards(const std::function<void(Engine&)>& work) const {
  for (auto* shard : shards_) asio::post(shard->io(), [shard, work] { work(shard->engine()); });
}

Result<void> ConsumerLoop::start() {
  kafka::ConsumerOptions options;
  options.client_id = "hookstream-dispatcher-" + config_.instance_id;
  options.rebalance_listener = this;
  options.on_commit = [this](const Result<void>& result,
                             const std::vector<kafka::TopicPartitionOffset>& offsets) {
    if (!result) note_failed_commit(offsets);
  };
  options.on_offset_reset = [this](const kafka::OffsetReset& reset) {
    metrics_.offset_reset();
    log::error("committed offset gone: records were lost before they were delivered",
               {{"topic", reset.topic}, {"partition", reset.partition}, {"detail", reset.detail}});
  };
  auto consumer = kafka::Consumer::create(config_.kafka, config_.kafka.consumer_group(), options);
  if (!consumer) return fail(std::move(consumer).error());
  consumer_ = std::move(*consumer);
  std::vector<std::string> topics = {config_.kafka.events_topic()};
  for (auto& t : kafka::retry_topics(config_.kafka, config_.retry_schedule)) topics.push_back(t);
  if (auto ok = consumer_->subscribe(topics); !ok) return ok;
  return {};
}

void ConsumerLoop::run(std::function<void()> on_exit) {
  on_exit_ = std::move(on_exit);
  thread_ = std::thread([this] {
    name_this_thread("hs-consumer");
    loop();
    if (on_exit_) on_exit_();
  });
}

void ConsumerLoop::request_stop() {
  stop_ = true;
  cv_.notify_all();
}

void ConsumerLoop::join() {
  if (thread_.joinable()) thread_.join();
}

void ConsumerLoop::record_done(const kafka::TopicPartition& tp, std::int64_t offset) {
  offsets_.complete(tp, offset);
  const auto finished = finished_.fetch_add(1, std::memory_order_relaxed) + 1;
  if (finished % refill_ != 0 && !wake_each_.load(std::memory_order_relaxed)) return;
  { std::lock_guard lock(mu_); }  // a waiter between its check and its wait is not missed
  cv_.notify_all();
}

void ConsumerLoop::waiting_changed(int delta) {
  waiting_.fetch_add(delta, std::memory_order_relaxed);
  if (delta < 0) return;
  { std::lock_guard lock(mu_); }  // as in record_done: room a waiter must not miss
  cv_.notify_all();
}

void ConsumerLoop::flow(const kafka::TopicPartition& tp, bool pause) {
  std::lock_guard lock(mu_);
  flow_requests_.emplace_back(tp, pause);
}

void ConsumerLoop::on_assigned(const std::vector<kafka::TopicPartition>& partitions) {
  offsets_.assign(partitions);
  log::info("partitions assigned", {{"count", partitions.size()}});
}

void ConsumerLoop::on_revoked(const std::vector<kafka::TopicPartition>& partitions) {
  // Records in hand of the partitions going away are let finish first (bounded), so that their
  // next owner does not deliver them again: a rebalance costs a short wait, not the duplicates of
  // everything in flight. Paused retry partitions' records only wait for their due time: the next
  // owner reads them again, untried. Not when stopping: drain() has waited already.
  const auto started = std::chrono::steady_clock::now();
  std::size_t unfinished = 0;
  if (!stop_) {
    const auto count = [&] {
      std::size_t n = 0;
      for (const auto& tp : partitions)
        if (!flow_paused_.contains(tp)) n += offsets_.in_flight(tp);
      return n;
    };
    wake_each_ = true;
    std::unique_lock lock(mu_);
    cv_.wait_until(lock, started + kRevokeDrain, [&] { return stop_ || count() == 0; });
    wake_each_ = false;
    unfinished = count();
  }
  const auto waited =
      std::chrono::duration_cast<Millis>(std::chrono::steady_clock::now() - started).count();
  // Last chance to commit what was finished; unfinished records go to the next owner.
  auto final_offsets = offsets_.revoke(partitions);
  for (const auto& tp : partitions) {
    const auto failed = failed_commits_.find(tp);
    const bool newer = std::any_of(final_offsets.begin(), final_offsets.end(), [&](const auto& o) {
      return o.topic == tp.topic && o.partition == tp.partition;
    });
    if (failed != failed_commits_.end() && !newer)
      final_offsets.push_back({tp.topic, tp.partition, failed->second});
    if (failed != failed_commits_.end()) failed_commits_.erase(failed);
    last_sent_.erase(tp);
  }
  if (!final_offsets.empty()) {
    if (auto ok = consumer_->commit_sync(final_offsets); !ok)
      log::warn("commit on revocation failed", {{"error", ok.error().message}});
  }
  for (const auto& tp : partitions) flow_paused_.erase(tp);
  // Read and never started: the next owner reads them again (no commit passed them).
  std::erase_if(held_, [&](const kafka::Record& r) {
    return std::find(partitions.begin(), partitions.end(),
                     kafka::TopicPartition{r.topic, r.partition}) != partitions.end();
  });
  post_to_shards([dropped = partitions](Engine& d) { d.drop_partitions(dropped); });
  log::info("partitions revoked",
            {{"count", partitions.size()}, {"waited_ms", waited}, {"left_unfinished", unfinished}});
}

void ConsumerLoop::hand_out(std::vector<kafka::Record> records) {
  // One hand-over per shard and batch, not per record: each post may wake a shard's thread.
  std::vector<std::vector<kafka::Record>> fresh(shards_.size());
  for (auto& record : records) {
    const kafka::TopicPartition tp{record.topic, record.partition};
    if (!offsets_.begin(tp, record.offset)) continue;
    fresh[shard_of(tp)].push_back(std::move(record));
  }
  for (std::size_t i = 0; i < shards_.size(); ++i) {
    if (fresh[i].empty()) continue;
    auto* shard = shards_[i];
    asio::post(shard->io(), [shard, records = std::move(fresh[i])]() mutable {
      for (auto& r : records) shard->engine().handle(std::move(r));
    });
  }
}

void ConsumerLoop::apply_flow_requests() {
  std::vector<std::pair<kafka::TopicPartition, bool>> requests;
  {
    std::lock_guard lock(mu_);
    requests.swap(flow_requests_);
  }
  for (const auto& [tp, pause] : requests) {
    if (pause) {
      flow_paused_.insert(tp);
      (void)consumer_->pause({tp});
    } else if (flow_paused_.erase(tp) > 0) {
      (void)consumer_->resume({tp});
    }
  }
}

std::size_t ConsumerLoop::room() {
  const auto all = offsets_.in_flight();
  metrics_.set_pending_records(static_cast<double>(all));
  // Records of a partition the dispatcher paused (a retry tier whose head is not due yet) wait by
  // design, for up to the longest retry delay, and are bounded by one fetch per partition. They
  // must not count here: once more than half the bound of them waited, the consumer stayed paused
  // until they came due (an hour, with the default schedule), delivering nothing meanwhile.
  std::size_t waiting = 0;
  for (const auto& tp : flow_paused_) waiting += offsets_.in_flight(tp);
  // Records that otherwise wait by design count against a second bound of the same size instead:
  // retry records read ahead of their due time, and records whose every unfinished delivery is
  // being parked (a stalled endpoint's, waiting only for Kafka to take their retry records and for
  // their log entries). A burst of 2,000 events to a hanging endpoint held the whole bound while
  // Kafka acknowledged their 2,000 retry records (about a second), and again when those came due
  // together, and every other endpoint's events waited (bench/, isolation: healthy p99 300 ms).
  const auto by_design = static_cast<std::size_t>(std::max<std::int64_t>(0, waiting_.load()));
  waiting += std::min(by_design, config_.max_pending_records);
  const auto pending = all - std::min(all, waiting);
  return pending >= config_.max_pending_records ? 0 : config_.max_pending_records - pending;
}

void ConsumerLoop::commit(bool sync) {
  auto offsets = offsets_.take_committable();
  for (const auto& o : offsets) {
    failed_commits_.erase({o.topic, o.partition});  // replaced by a newer offset
    last_sent_[{o.topic, o.partition}] = o.offset;
  }
  for (const auto& [tp, offset] : failed_commits_)
    offsets.push_back({tp.topic, tp.partition, offset});
  failed_commits_.clear();  // a failure puts them back
  if (offsets.empty()) return;
  auto ok = sync ? consumer_->commit_sync(offsets) : consumer_->commit_async(offsets);
  if (!ok) {
    log::warn("offset commit failed", {{"error", ok.error().message}});
    note_failed_commit(offsets);
  }
}

void ConsumerLoop::note_failed_commit(const std::vector<kafka::TopicPartitionOffset>& offsets) {
  for (const auto& o : offsets) {
    const kafka::TopicPartition tp{o.topic, o.partition};
    // Only the newest offset sent for a partition is worth sending again.
    if (const auto it = last_sent_.find(tp); it != last_sent_.end() && it->second == o.offset)
      failed_commits_[tp] = o.offset;
  }
}

void ConsumerLoop::report_lag() {
  auto progress = consumer_->progress();
  if (!progress) return;
  std::map<std::string, std::int64_t> lag;
  for (const auto& p : *progress) {
    auto& topic = lag[p.partition.topic];  // an assigned topic reads 0 rather than vanishing
    // Before its first record here, the partition resumes where the consumer will read.
    const auto from = offsets_.resume_point(p.partition).value_or(p.position);
    if (p.high_watermark >= 0 && from >= 0 && p.high_watermark > from)
      topic += p.high_watermark - from;
  }
  metrics_.set_consumer_lag(lag);
}

void ConsumerLoop::loop() {
  auto last_commit = std::chrono::steady_clock::now();
  auto last_lag = last_commit;
  while (!stop_) {
    apply_flow_requests();
    // Backpressure: read no more than the pending-record bound allows. Partitions are not paused
    // for it (librdkafka would drop what it fetched ahead and fetch it again after resuming, an
    // idle round trip each time); librdkafka keeps fetching ahead, bounded by
    // queued.max.messages.kbytes. Full: wait for records to finish (a refill's worth, briefly,
    // then any), but still poll every 100 ms, so rebalances, commit results and
    // max.poll.interval.ms are served; a record that poll returns waits in held_.
    auto room = this->room();
    if (room == 0) {
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, kRefillWait, [&] { return stop_ || this->room() >= refill_; });
      if (!stop_ && this->room() == 0) {
        wake_each_ = true;
        cv_.wait_for(lock, Millis{100}, [&] { return stop_ || this->room() > 0; });
        wake_each_ = false;
      }
      room = this->room();
    }
    // What was read at the bound goes first, in the order it was read.
    std::vector<kafka::Record> records;
    while (room > 0 && !held_.empty()) {
      records.push_back(std::move(held_.front()));
      held_.pop_front();
      --room;
    }
    if (held_.empty() || room == 0) {
      auto batch =
          consumer_->poll_batch(room == 0 ? 1 : std::min<std::size_t>(room, 500), Millis{50});
      if (!batch) {
        log::warn("consumer error", {{"error", batch.error().message}});
      } else {
        // Read at the bound (a poll to serve the group): it waits, not started, until there is
        // room, so the bound holds however long the records in hand take.
        for (auto& r : *batch) {
          if (room == 0)
            held_.push_back(std::move(r));
          else
            records.push_back(std::move(r));
        }
      }
    }
    hand_out(std::move(records));
    if (std::chrono::steady_clock::now() - last_commit >= Millis{200}) {
      commit(false);
      last_commit = std::chrono::steady_clock::now();
    }
    if (last_commit - last_lag >= Millis{1000}) {
      report_lag();
      last_lag = last_commit;
    }
  }
  drain();
}

// SIGTERM: take no more records, let the ones in hand finish (bounded), commit, leave the group.
void ConsumerLoop::drain() {
  if (auto assigned = consumer_->assignment()) (void)consumer_->pause(*assigned);
  post_to_shards([](Engine& d) { d.stop(); });
  const auto deadline = std::chrono::steady_clock::now() + config_.shutdown_grace;
  while (offsets_.in_flight() > 0 && std::chrono::steady_clock::now() < deadline) {
    // Keep serving the consumer (rebalances, commit callbacks) while waiting.
    (void)consumer_->poll_batch(1, Millis{20});
    commit(false);
  }
  const auto left = offsets_.in_flight();
  commit(true);
  if (left > 0)
    log::warn("stopping with unfinished records; they will be read again", {{"records", left}});
  if (auto ok = consumer_->close(); !ok)
    log::warn("consumer close failed", {{"error", ok.error().message}});
  log::info("consumer stopped", {{"unfinished_records", left}});
}

}  // namespace hookstream::dispatcher
