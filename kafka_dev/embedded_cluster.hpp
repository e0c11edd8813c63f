#pragma once
// An in-process Kafka-protocol cluster: librdkafka's mock cluster (rdkafka_mock.h) listening on
// loopback. Good for local runs and tests, not for data that matters: it keeps at most 5 MiB (or
// 100,000 batches) per partition, dropping the oldest beyond that, and nothing survives a restart.
// librdkafka 2.0.2's mock ignores CreateTopics and auto-creates unknown topics with 4 partitions,
// so topics must be created here, up front, with their real partition counts.
#include <librdkafka/rdkafka.h>
// After rdkafka.h, which it requires.
#include <librdkafka/rdkafka_mock.h>

#include <memory>
#include <string>

#include "common/kafka/handles.hpp"
#include "common/kafka/topics.hpp"
#include "common/result.hpp"
#include "kafka_dev/fault_command.hpp"

namespace hookstream::kafka_dev {

class EmbeddedCluster {
 public:
  // Starts `brokers` mock brokers, each on its own 127.0.0.1 port chosen by the kernel.
  static Result<std::unique_ptr<EmbeddedCluster>> start(int brokers);
  ~EmbeddedCluster();
  EmbeddedCluster(const EmbeddedCluster&) = delete;
  EmbeddedCluster& operator=(const EmbeddedCluster&) = delete;

  // Replication factor min(brokers, 3). Creating an existing topic fails.
  Result<void> create_topic(const kafka::TopicSpec& topic);
  // Applies one injected fault (see fault_command.hpp). The mock applies it on its own thread,
  // before it serves the next request.
  Result<void> apply(const FaultCommand& command);
  // "127.0.0.1:PORT[,127.0.0.1:PORT…]"
  const std::string& bootstraps() const { return bootstraps_; }
  int broker_count() const { return brokers_; }

 private:
  struct MockDeleter {
    void operator()(rd_kafka_mock_cluster_t* p) const noexcept { rd_kafka_mock_cluster_destroy(p); }
  };
  EmbeddedCluster() = default;

  int brokers_ = 0;
  std::string bootstraps_;
  // The cluster runs on this handle's threads, so it is declared first and destroyed last.
  kafka::HandlePtr handle_;
  std::unique_ptr<rd_kafka_mock_cluster_t, MockDeleter> cluster_;
};

}  // namespace hookstream::kafka_dev
