#include "kafka_dev/embedded_cluster.hpp"

#include <algorithm>
#include <array>
#include <vector>

#include "common/kafka/conf.hpp"

namespace hookstream::kafka_dev {

Result<std::unique_ptr<EmbeddedCluster>> EmbeddedCluster::start(int brokers) {
  if (brokers < 1) return fail("invalid_argument", "an embedded cluster needs at least one broker");
  // A bare handle whose only job is to host the mock brokers; it never connects anywhere.
  // Warnings and up only: at notice level it complains that it has no bootstrap.servers.
  auto conf = kafka::make_conf({{"client.id", "hookstream-kafka-dev"}, {"log_level", "4"}}, {});
  if (!conf) return fail(conf.error().to_error());
  std::array<char, 512> errstr{};
  kafka::HandlePtr handle(
      rd_kafka_new(RD_KAFKA_PRODUCER, conf->get(), errstr.data(), errstr.size()));
  if (!handle)
    return fail("kafka_invalid_config", std::string("cannot create host handle: ") + errstr.data());
  (void)conf->release();

  std::unique_ptr<EmbeddedCluster> cluster(new EmbeddedCluster());
  cluster->handle_ = std::move(handle);
  cluster->cluster_.reset(rd_kafka_mock_cluster_new(cluster->handle_.get(), brokers));
  if (!cluster->cluster_)
    return fail("kafka_mock", "cannot start the embedded Kafka cluster (mock brokers)");
  cluster->brokers_ = brokers;
  cluster->bootstraps_ = rd_kafka_mock_cluster_bootstraps(cluster->cluster_.get());
  return cluster;
}

EmbeddedCluster::~EmbeddedCluster() {
  // Takes about a second in librdkafka 2.0.2: the mock thread notices termination at its next
  // 1 s poll timeout.
  cluster_.reset();
  handle_.reset();
}

Result<void> EmbeddedCluster::create_topic(const kafka::TopicSpec& topic) {
  if (topic.partitions < 1)
    return fail("invalid_argument", "topic " + topic.name + " needs at least one partition");
  const int replication = std::min(brokers_, 3);
  if (const auto err = rd_kafka_mock_topic_create(cluster_.get(), topic.name.c_str(),
                                                  topic.partitions, replication))
    return fail(kafka::make_error(err, "create topic " + topic.name).to_error());
  return {};
}

Result<void> EmbeddedCluster::apply(const FaultCommand& command) {
  auto* mock = cluster_.get();
  rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
  switch (command.kind) {
    case FaultCommand::Kind::broker_down:
      err = rd_kafka_mock_broker_set_down(mock, command.broker);
      break;
    case FaultCommand::Kind::broker_up:
      err = rd_kafka_mock_broker_set_up(mock, command.broker);
      break;
    case FaultCommand::Kind::rtt:
      err = rd_kafka_mock_broker_set_rtt(mock, command.broker, command.rtt_ms);
      break;
    case FaultCommand::Kind::errors: {
      const std::vector<rd_kafka_resp_err_t> errors(static_cast<std::size_t>(command.count),
                                                    command.error);
      rd_kafka_mock_push_request_errors_array(mock, command.api_key, errors.size(), errors.data());
      break;
    }
    case FaultCommand::Kind::clear_errors:
      rd_kafka_mock_clear_request_errors(mock, command.api_key);
      break;
  }
  if (err) return fail(kafka::make_error(err, "inject fault").to_error());
  return {};
}

}  // namespace hookstream::kafka_dev
