#include "common/kafka/consumer.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <string_view>

#include "common/kafka/conf.hpp"
#include "common/log.hpp"

namespace hookstream::kafka {
namespace {

constexpr std::int32_t kAnyPartition = -1;  // RD_KAFKA_PARTITION_UA without its C cast

// Manual commits are how at-least-once (SPEC §4) is kept; the deployment may not turn them off.
constexpr std::array<std::string_view, 4> kGuarded{"enable.auto.commit", "enable.auto.offset.store",
                                                   "group.id", "log.queue"};

PartitionListPtr to_list(const std::vector<TopicPartition>& partitions) {
  PartitionListPtr list(rd_kafka_topic_partition_list_new(static_cast<int>(partitions.size())));
  for (const auto& tp : partitions)
    rd_kafka_topic_partition_list_add(list.get(), tp.topic.c_str(), tp.partition);
  return list;
}

PartitionListPtr to_list(const std::vector<TopicPartitionOffset>& offsets) {
  PartitionListPtr list(rd_kafka_topic_partition_list_new(static_cast<int>(offsets.size())));
  for (const auto& o : offsets)
    rd_kafka_topic_partition_list_add(list.get(), o.topic.c_str(), o.partition)->offset = o.offset;
  return list;
}

std::vector<TopicPartition> partitions_of(const rd_kafka_topic_partition_list_t* list) {
  std::vector<TopicPartition> out;
  if (!list) return out;
  out.reserve(static_cast<std::size_t>(list->cnt));
  for (int i = 0; i < list->cnt; ++i)
    out.push_back({list->elems[i].topic, list->elems[i].partition});
  return out;
}

std::vector<TopicPartitionOffset> offsets_of(const rd_kafka_topic_partition_list_t* list) {
  std::vector<TopicPartitionOffset> out;
  if (!list) return out;
  out.reserve(static_cast<std::size_t>(list->cnt));
  for (int i = 0; i < list->cnt; ++i)
    out.push_back({list->elems[i].topic, list->elems[i].partition, list->elems[i].offset});
  return out;
}

// The first per-partition error in a list that librdkafka filled in, if any.
Result<void> partition_errors(const rd_kafka_topic_partition_list_t* list, std::string_view what) {
  for (int i = 0; i < list->cnt; ++i) {
    const auto& e = list->elems[i];
    if (e.err)
      return fail(make_error(e.err, std::string(what) + " " + e.topic + " [" +
                                        std::to_string(e.partition) + "]")
                      .to_error());
  }
  return {};
}

nlohmann::json describe(const std::vector<TopicPartition>& partitions) {
  auto out = nlohmann::json::array();
  for (const auto& tp : partitions)
    out.push_back(tp.topic + "[" + std::to_string(tp.partition) + "]");
  return out;
}

Record to_record(const rd_kafka_message_t* m) {
  Record r;
  r.topic = rd_kafka_topic_name(m->rkt);
  if (m->key) r.key.emplace(static_cast<const char*>(m->key), m->key_len);
  if (m->payload) r.value.assign(static_cast<const char*>(m->payload), m->len);
  r.partition = m->partition;
  r.offset = m->offset;
  rd_kafka_timestamp_type_t type{};
  r.timestamp_ms = rd_kafka_message_timestamp(m, &type);
  rd_kafka_headers_t* headers = nullptr;  // owned by the message
  if (rd_kafka_message_headers(m, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR) {
    r.headers.reserve(rd_kafka_header_cnt(headers));  // a CloudEvent has 8: not 4 regrowths
    const char* name = nullptr;
    const void* value = nullptr;
    std::size_t size = 0;
    for (std::size_t i = 0;
         rd_kafka_header_get_all(headers, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR;
         ++i)
      r.headers.push_back({name, value ? std::string(static_cast<const char*>(value), size) : ""});
  }
  return r;
}

}  // namespace

Consumer::Consumer(ConsumerOptions options) : options_(std::move(options)) {}

Result<std::unique_ptr<Consumer>> Consumer::create(const KafkaConfig& config,
                                                   const std::string& group_id,
                                                   const ConsumerOptions& options) {
  if (group_id.empty()) return fail("kafka_invalid_config", "consumer group id must not be empty");
  auto conf = make_conf(
      {
          {"bootstrap.servers", config.brokers},
          {"client.id", options.client_id},
          {"group.id", group_id},
          {"enable.auto.commit", "false"},
          {"enable.auto.offset.store", "false"},
          {"auto.offset.reset", "earliest"},
          {"partition.assignment.strategy", "roundrobin"},
          {"session.timeout.ms", std::to_string(options.session_timeout.count())},
          {"max.poll.interval.ms", std::to_string(options.max_poll_interval.count())},
          // What librdkafka fetches ahead of the application: it keeps fetching while the
          // application reads no more (backpressure), so this bounds the memory it takes. It must
          // hold more than a second of reading: once full, librdkafka before 2.2 stops fetching
          // every partition for a fixed second (librdkafka#2879). docs/architecture.md has the
          // measured cost of less.
          {"queued.max.messages.kbytes", "65536"},
          // Logs are served by poll(), on the consumer's thread, so an offset reset found in them
          // is reported there (librdkafka signals it only as a log line under earliest).
          {"log.queue", "true"},
      },
      config.properties, kGuarded);
  if (!conf) return fail(conf.error().to_error());

  std::unique_ptr<Consumer> consumer(new Consumer(options));
  rd_kafka_conf_set_opaque(conf->get(), consumer.get());
  rd_kafka_conf_set_rebalance_cb(conf->get(), &Consumer::on_rebalance);
  rd_kafka_conf_set_offset_commit_cb(conf->get(), &Consumer::on_offset_commit);
  rd_kafka_conf_set_error_cb(conf->get(), &Consumer::on_error);
  rd_kafka_conf_set_log_cb(conf->get(), &Consumer::on_log);

  std::array<char, 512> errstr{};
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf->get(), errstr.data(), errstr.size());
  if (!rk)
    return fail("kafka_invalid_config",
                std::string("cannot create Kafka consumer: ") + errstr.data());
  (void)conf->release();
  consumer->handle_.reset(rk);
  rd_kafka_set_log_queue(rk, nullptr);  // logs → main queue → (below) consumer queue
  rd_kafka_poll_set_consumer(rk);
  return consumer;
}

Consumer::~Consumer() {
  if (!handle_) return;
  if (auto r = close(); !r)
    log::warn("kafka consumer close failed", {{"error", r.error().message}});
  handle_.reset();
}

Result<void> Consumer::subscribe(const std::vector<std::string>& topics) {
  PartitionListPtr list(rd_kafka_topic_partition_list_new(static_cast<int>(topics.size())));
  for (const auto& t : topics)
    rd_kafka_topic_partition_list_add(list.get(), t.c_str(), kAnyPartition);
  if (const auto err = rd_kafka_subscribe(handle_.get(), list.get()))
    return fail(make_error(err, "subscribe").to_error());
  return {};
}

Result<std::optional<Record>> Consumer::poll(Millis timeout) {
  if (closed_) return fail(make_error(RD_KAFKA_RESP_ERR__DESTROY, "poll").to_error());
  MessagePtr m(rd_kafka_consumer_poll(handle_.get(), static_cast<int>(timeout.count())));
  if (!m) return std::optional<Record>{};
  if (m->err) {
    std::string context = "consume";
    if (m->rkt)
      context += std::string(" ") + rd_kafka_topic_name(m->rkt) + " [" +
                 std::to_string(m->partition) + "]";
    auto error = make_error(m->err, context);
    if (m->payload)
      error.message += ": " + std::string(static_cast<const char*>(m->payload), m->len);
    return fail(error.to_error());
  }
  return std::optional<Record>(to_record(m.get()));
}

Result<std::vector<Record>> Consumer::poll_batch(std::size_t max, Millis timeout) {
  std::vector<Record> out;
  revoked_in_batch_.clear();
  while (out.size() < max) {
    auto r = poll(out.empty() ? timeout : Millis{0});
    if (!revoked_in_batch_.empty()) {
      // A rebalance ran inside that poll: what came before it from a revoked partition is stale.
      std::erase_if(out, [&](const Record& rec) {
        return std::find(revoked_in_batch_.begin(), revoked_in_batch_.end(),
                         TopicPartition{rec.topic, rec.partition}) != revoked_in_batch_.end();
      });
      revoked_in_batch_.clear();
    }
    if (!r) {
      if (out.empty()) return fail(std::move(r).error());
      log::warn("kafka consumer error", {{"error", r.error().message}});
      break;
    }
    if (!*r) break;
    out.push_back(std::move(**r));
  }
  return out;
}

Result<void> Consumer::commit_sync(const std::vector<TopicPartitionOffset>& offsets) {
  if (offsets.empty()) return {};
  auto list = to_list(offsets);
  if (const auto err = rd_kafka_commit(handle_.get(), list.get(), 0))
    return fail(make_error(err, "commit").to_error());
  return partition_errors(list.get(), "commit");
}

Result<void> Consumer::commit_async(const std::vector<TopicPartitionOffset>& offsets) {
  if (offsets.empty()) return {};
  auto list = to_list(offsets);
  if (const auto err = rd_kafka_commit(handle_.get(), list.get(), 1))
    return fail(make_error(err, "commit").to_error());
  return {};
}

Result<std::vector<TopicPartitionOffset>> Consumer::committed(
    const std::vector<TopicPartition>& partitions, Millis timeout) {
  auto list = to_list(partitions);
  if (const auto err =
          rd_kafka_committed(handle_.get(), list.get(), static_cast<int>(timeout.count())))
    return fail(make_error(err, "committed offsets").to_error());
  if (auto r = partition_errors(list.get(), "committed offset of"); !r)
    return fail(std::move(r).error());
  return offsets_of(list.get());
}

Result<void> Consumer::pause(const std::vector<TopicPartition>& partitions) {
  auto list = to_list(partitions);
  if (const auto err = rd_kafka_pause_partitions(handle_.get(), list.get()))
    return fail(make_error(err, "pause").to_error());
  return partition_errors(list.get(), "pause");
}

Result<void> Consumer::resume(const std::vector<TopicPartition>& partitions) {
  auto list = to_list(partitions);
  if (const auto err = rd_kafka_resume_partitions(handle_.get(), list.get()))
    return fail(make_error(err, "resume").to_error());
  return partition_errors(list.get(), "resume");
}

Result<std::vector<TopicPartition>> Consumer::assignment() const {
  rd_kafka_topic_partition_list_t* raw = nullptr;
  if (const auto err = rd_kafka_assignment(handle_.get(), &raw))
    return fail(make_error(err, "assignment").to_error());
  PartitionListPtr list(raw);
  return partitions_of(list.get());
}

Result<std::vector<PartitionProgress>> Consumer::progress() const {
  rd_kafka_topic_partition_list_t* raw = nullptr;
  if (const auto err = rd_kafka_assignment(handle_.get(), &raw))
    return fail(make_error(err, "assignment").to_error());
  PartitionListPtr list(raw);
  if (const auto err = rd_kafka_position(handle_.get(), list.get()))
    return fail(make_error(err, "position").to_error());
  std::vector<PartitionProgress> out;
  out.reserve(static_cast<std::size_t>(list->cnt));
  for (int i = 0; i < list->cnt; ++i) {
    const auto& e = list->elems[i];
    PartitionProgress p{{e.topic, e.partition}, -1, e.offset >= 0 ? e.offset : -1};
    std::int64_t low = -1;
    std::int64_t high = -1;
    // The cached watermarks of the last fetch (rd_kafka_query_watermark_offsets would ask).
    if (rd_kafka_get_watermark_offsets(handle_.get(), e.topic, e.partition, &low, &high) ==
            RD_KAFKA_RESP_ERR_NO_ERROR &&
        high >= 0)
      p.high_watermark = high;
    out.push_back(std::move(p));
  }
  return out;
}

std::string Consumer::rebalance_protocol() const {
  const char* p = rd_kafka_rebalance_protocol(handle_.get());
  return p ? p : "NONE";
}

Result<void> Consumer::close() {
  if (closed_) return {};
  closed_ = true;
  if (const auto err = rd_kafka_consumer_close(handle_.get()))
    return fail(make_error(err, "close").to_error());
  return {};
}

void Consumer::on_rebalance(rd_kafka_t*, rd_kafka_resp_err_t err,
                            rd_kafka_topic_partition_list_t* partitions, void* opaque) {
  static_cast<Consumer*>(opaque)->handle_rebalance(err, partitions);
}

void Consumer::handle_rebalance(rd_kafka_resp_err_t err,
                                rd_kafka_topic_partition_list_t* partitions) {
  rd_kafka_t* rk = handle_.get();
  const bool cooperative = rebalance_protocol() == "COOPERATIVE";
  const auto changed = partitions_of(partitions);
  auto* listener = options_.rebalance_listener;

  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    log::info("kafka partitions assigned",
              {{"partitions", describe(changed)}, {"protocol", rebalance_protocol()}});
    if (cooperative) {
      if (ErrorPtr e{rd_kafka_incremental_assign(rk, partitions)})
        log::error("kafka incremental assign failed", {{"error", rd_kafka_error_string(e.get())}});
    } else if (const auto e = rd_kafka_assign(rk, partitions)) {
      log::error("kafka assign failed", {{"error", rd_kafka_err2str(e)}});
    }
    // After assigning, so the listener may pause or seek what it was given.
    if (listener) listener->on_assigned(changed);
    return;
  }

  const bool lost = rd_kafka_assignment_lost(rk) != 0;
  if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
    log::info(lost ? "kafka partitions lost" : "kafka partitions revoked",
              {{"partitions", describe(changed)}, {"protocol", rebalance_protocol()}});
  } else {
    log::error("kafka rebalance error", {{"error", rd_kafka_err2str(err)}});
  }
  // Before unassigning: this is the member's last chance to commit for these partitions.
  if (listener) lost ? listener->on_lost(changed) : listener->on_revoked(changed);
  revoked_in_batch_.insert(revoked_in_batch_.end(), changed.begin(), changed.end());
  if (cooperative) {
    if (ErrorPtr e{rd_kafka_incremental_unassign(rk, partitions)})
      log::error("kafka incremental unassign failed", {{"error", rd_kafka_error_string(e.get())}});
  } else if (const auto e = rd_kafka_assign(rk, nullptr)) {
    log::error("kafka unassign failed", {{"error", rd_kafka_err2str(e)}});
  }
}

void Consumer::on_log(const rd_kafka_t* rk, int level, const char* facility, const char* message) {
  log_to_hookstream(rk, level, facility, message);
  // librdkafka logs an offset reset caused by an error (out of range, truncation) at warning
  // level with facility OFFSET; resets of a partition that never had an offset are debug-only.
  if (level <= 4 && facility && message && std::string_view(facility) == "OFFSET" &&
      std::string_view(message).find("offset reset") != std::string_view::npos)
    static_cast<Consumer*>(rd_kafka_opaque(rk))->handle_offset_reset(message);
}

void Consumer::handle_offset_reset(const char* message) {
  // "[thrd:main]: <topic> [<partition>]: offset reset (at offset 8, broker 1) to offset BEGINNING:
  // …"
  std::string_view text(message);
  if (text.starts_with("[thrd:"))
    if (const auto end = text.find("]: "); end != std::string_view::npos)
      text.remove_prefix(end + 3);
  OffsetReset reset{{}, -1, std::string(text)};
  if (const auto open = text.find(" ["); open != std::string_view::npos) {
    reset.topic = std::string(text.substr(0, open));
    const auto digits = text.substr(open + 2);
    std::from_chars(digits.data(), digits.data() + digits.size(), reset.partition);
  }
  ++offset_resets_;
  log::error("kafka committed offset no longer available; records were lost",
             {{"topic", reset.topic}, {"partition", reset.partition}, {"detail", reset.detail}});
  if (options_.on_offset_reset) options_.on_offset_reset(reset);
}

void Consumer::on_offset_commit(rd_kafka_t*, rd_kafka_resp_err_t err,
                                rd_kafka_topic_partition_list_t* offsets, void* opaque) {
  auto* self = static_cast<Consumer*>(opaque);
  Result<void> result;
  if (err)
    result = fail(make_error(err, "commit").to_error());
  else if (offsets)
    result = partition_errors(offsets, "commit");
  if (!result && err != RD_KAFKA_RESP_ERR__NO_OFFSET)
    log::warn("kafka offset commit failed", {{"error", result.error().message}});
  if (self->options_.on_commit) self->options_.on_commit(result, offsets_of(offsets));
}

void Consumer::on_error(rd_kafka_t*, int err, const char* reason, void*) {
  log::warn(
      "kafka consumer error",
      {{"error", rd_kafka_err2name(static_cast<rd_kafka_resp_err_t>(err))}, {"detail", reason}});
}

}  // namespace hookstream::kafka
