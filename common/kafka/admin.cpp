#include "common/kafka/admin.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <memory>
#include <optional>
#include <thread>

#include "common/kafka/handles.hpp"

namespace hookstream::kafka {
namespace {

// One request's bound while the whole call waits up to its timeout: a broker that is still starting
// refuses connections, and the next try comes soon after.
constexpr Millis kRequestTimeout{10000};
constexpr Millis kRetryPause{250};
constexpr Millis kVisiblePause{20};

Result<HandlePtr, KafkaError> admin_handle(const KafkaConfig& config) {
  auto conf = make_conf({{"bootstrap.servers", config.brokers},
                         {"client.id", "hookstream-admin"},
                         {"reconnect.backoff.max.ms", "500"}},
                        config.properties);
  if (!conf) return fail(conf.error());
  std::array<char, 512> errstr{};
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf->get(), errstr.data(), errstr.size());
  if (!rk)
    return fail(KafkaError{KafkaErrc::invalid_config, RD_KAFKA_RESP_ERR__INVALID_ARG,
                           std::string("cannot create a Kafka admin client: ") + errstr.data()});
  (void)conf->release();
  return HandlePtr(rk);
}

Result<AdminOptionsPtr, KafkaError> admin_options(rd_kafka_t* rk, rd_kafka_admin_op_t op,
                                                  Millis timeout) {
  AdminOptionsPtr options(rd_kafka_AdminOptions_new(rk, op));
  std::array<char, 256> errstr{};
  const auto ms = static_cast<int>(timeout.count());
  if (rd_kafka_AdminOptions_set_request_timeout(options.get(), ms, errstr.data(), errstr.size()) ||
      rd_kafka_AdminOptions_set_operation_timeout(options.get(), ms, errstr.data(), errstr.size()))
    return fail(KafkaError{KafkaErrc::invalid_config, RD_KAFKA_RESP_ERR__INVALID_ARG,
                           std::string("admin options: ") + errstr.data()});
  return options;
}

// Waits for the one result event of an admin request on `queue`.
Result<EventPtr, KafkaError> await_result(rd_kafka_queue_t* queue, Millis timeout) {
  // The request's own timeout fires first; the margin lets its event arrive.
  EventPtr event(rd_kafka_queue_poll(queue, static_cast<int>(timeout.count()) + 5000));
  if (!event) return fail(make_error(RD_KAFKA_RESP_ERR__TIMED_OUT, "admin request"));
  if (const auto err = rd_kafka_event_error(event.get()))
    return fail(make_error(err, rd_kafka_event_error_string(event.get())));
  return event;
}

bool worth_retrying(const KafkaError& e) {
  return e.errc == KafkaErrc::transport || e.errc == KafkaErrc::timed_out ||
         e.errc == KafkaErrc::unavailable;
}

using Clock = std::chrono::steady_clock;

Millis left_until(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<Millis>(deadline - Clock::now());
  return std::max(Millis{1}, std::min(left, kRequestTimeout));
}

// One CreateTopics round for the topics not settled yet. Settled topics move to `done`.
Result<void, KafkaError> create_round(rd_kafka_t* rk, std::vector<TopicSpec>& pending,
                                      const NewTopicOptions& options, Millis timeout,
                                      std::vector<TopicCreation>& done) {
  std::vector<NewTopicPtr> owned;
  std::vector<rd_kafka_NewTopic_t*> raw;
  std::array<char, 256> errstr{};
  for (const auto& spec : pending) {
    NewTopicPtr topic(rd_kafka_NewTopic_new(spec.name.c_str(), spec.partitions,
                                            options.replication_factor, errstr.data(),
                                            errstr.size()));
    if (!topic)
      return fail(KafkaError{KafkaErrc::invalid_config, RD_KAFKA_RESP_ERR__INVALID_ARG,
                             "topic " + spec.name + ": " + errstr.data()});
    for (const auto& c : options.configs)
      if (auto err = rd_kafka_NewTopic_set_config(topic.get(), c.name.c_str(), c.value.c_str()))
        return fail(make_error(err, "topic config " + c.name));
    raw.push_back(topic.get());
    owned.push_back(std::move(topic));
  }
  auto admin = admin_options(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS, timeout);
  if (!admin) return fail(admin.error());
  QueuePtr queue(rd_kafka_queue_new(rk));
  rd_kafka_CreateTopics(rk, raw.data(), raw.size(), admin->get(), queue.get());
  auto event = await_result(queue.get(), timeout);
  if (!event) return fail(event.error());
  const auto* result = rd_kafka_event_CreateTopics_result(event->get());
  std::size_t count = 0;
  const auto** results = rd_kafka_CreateTopics_result_topics(result, &count);
  std::optional<KafkaError> retry;
  for (std::size_t i = 0; i < count; ++i) {
    const std::string name = rd_kafka_topic_result_name(results[i]);
    const auto err = rd_kafka_topic_result_error(results[i]);
    const auto it = std::find_if(pending.begin(), pending.end(),
                                 [&](const TopicSpec& s) { return s.name == name; });
    if (it == pending.end()) continue;
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR || err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
      done.push_back({name, it->partitions, err == RD_KAFKA_RESP_ERR_NO_ERROR});
      pending.erase(it);
      continue;
    }
    const char* why = rd_kafka_topic_result_error_string(results[i]);
    auto error = make_error(err, "creating topic " + name + (why ? std::string(": ") + why : ""));
    if (!worth_retrying(error)) return fail(std::move(error));
    retry = std::move(error);
  }
  if (retry) return fail(std::move(*retry));
  return {};
}

// True once the cluster lists every topic with every partition led, and each leader answers for its
// partition. CreateTopics returns when the controller has the topic; brokers learn it a moment
// later, and a client that asks in between is told the topic does not exist, or that the broker
// does not lead it.
bool all_visible(rd_kafka_t* rk, const std::vector<TopicSpec>& topics, Millis timeout) {
  const rd_kafka_metadata_t* raw = nullptr;
  if (rd_kafka_metadata(rk, 1, nullptr, &raw, static_cast<int>(timeout.count())) !=
      RD_KAFKA_RESP_ERR_NO_ERROR)
    return false;
  MetadataPtr md(raw);
  for (const auto& spec : topics) {
    const rd_kafka_metadata_topic_t* begin = md->topics;
    const auto* end = begin + md->topic_cnt;
    const auto* t = std::find_if(
        begin, end, [&](const rd_kafka_metadata_topic_t& m) { return spec.name == m.topic; });
    if (t == end || t->err != RD_KAFKA_RESP_ERR_NO_ERROR || t->partition_cnt < spec.partitions)
      return false;
    for (int i = 0; i < t->partition_cnt; ++i)
      if (t->partitions[i].leader < 0) return false;
  }
  // A leader named in metadata may still refuse requests (NOT_LEADER) for a moment after the
  // topic is created; a ListOffsets answered by each partition's leader says it serves.
  for (const auto& spec : topics)
    for (std::int32_t p = 0; p < spec.partitions; ++p) {
      std::int64_t low = 0, high = 0;
      if (rd_kafka_query_watermark_offsets(rk, spec.name.c_str(), p, &low, &high,
                                           static_cast<int>(timeout.count())) !=
          RD_KAFKA_RESP_ERR_NO_ERROR)
        return false;
    }
  return true;
}

}  // namespace

Result<std::vector<TopicCreation>, KafkaError> create_topics(const KafkaConfig& config,
                                                             const std::vector<TopicSpec>& topics,
                                                             const NewTopicOptions& options,
                                                             Millis timeout) {
  auto rk = admin_handle(config);
  if (!rk) return fail(rk.error());
  const auto deadline = Clock::now() + timeout;
  std::vector<TopicSpec> pending = topics;
  std::vector<TopicCreation> done;
  while (!pending.empty()) {
    auto round = create_round(rk->get(), pending, options, left_until(deadline), done);
    if (round) continue;
    if (!worth_retrying(round.error()) || Clock::now() + kRetryPause >= deadline)
      return fail(round.error());
    std::this_thread::sleep_for(kRetryPause);  // a broker still starting: ask again shortly
  }
  while (!all_visible(rk->get(), topics, left_until(deadline))) {
    if (Clock::now() + kVisiblePause >= deadline)
      return fail(make_error(RD_KAFKA_RESP_ERR__TIMED_OUT, "topics created but not yet served"));
    std::this_thread::sleep_for(kVisiblePause);
  }
  // Reported in the order asked for.
  std::vector<TopicCreation> ordered;
  for (const auto& spec : topics)
    for (const auto& d : done)
      if (d.name == spec.name) ordered.push_back(d);
  return ordered;
}

Result<void, KafkaError> delete_topics(const KafkaConfig& config,
                                       const std::vector<std::string>& names, Millis timeout) {
  if (names.empty()) return {};
  auto rk = admin_handle(config);
  if (!rk) return fail(rk.error());
  std::vector<DeleteTopicPtr> owned;
  std::vector<rd_kafka_DeleteTopic_t*> raw;
  for (const auto& name : names) {
    owned.emplace_back(rd_kafka_DeleteTopic_new(name.c_str()));
    raw.push_back(owned.back().get());
  }
  auto admin = admin_options(rk->get(), RD_KAFKA_ADMIN_OP_DELETETOPICS, timeout);
  if (!admin) return fail(admin.error());
  QueuePtr queue(rd_kafka_queue_new(rk->get()));
  rd_kafka_DeleteTopics(rk->get(), raw.data(), raw.size(), admin->get(), queue.get());
  auto event = await_result(queue.get(), timeout);
  if (!event) return fail(event.error());
  const auto* result = rd_kafka_event_DeleteTopics_result(event->get());
  std::size_t count = 0;
  const auto** results = rd_kafka_DeleteTopics_result_topics(result, &count);
  for (std::size_t i = 0; i < count; ++i) {
    const auto err = rd_kafka_topic_result_error(results[i]);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR && err != RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART)
      return fail(
          make_error(err, std::string("deleting topic ") + rd_kafka_topic_result_name(results[i])));
  }
  return {};
}

}  // namespace hookstream::kafka
