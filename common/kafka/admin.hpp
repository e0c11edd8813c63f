#pragma once
// Creating and deleting topics through the Kafka Admin API. The deployment creates topics, not the
// services (SPEC §1): `hookstream-dispatcher topics --create`, scripts/kafka and the test fixtures
// call this.
#include <cstdint>
#include <string>
#include <vector>

#include "common/config.hpp"
#include "common/kafka/conf.hpp"
#include "common/kafka/error.hpp"
#include "common/kafka/topics.hpp"
#include "common/result.hpp"
#include "common/time.hpp"

namespace hookstream::kafka {

struct NewTopicOptions {
  std::int32_t replication_factor = 1;
  std::vector<Property> configs;  // topic-level settings, e.g. min.insync.replicas=2
};

struct TopicCreation {
  std::string name;
  std::int32_t partitions = 0;
  bool created = false;  // false: it existed already and was left as it is
};

// Creates every topic of `topics` that does not exist yet, and returns once the cluster serves them
// all (every partition's leader answers a ListOffsets request). Waits up to `timeout` for the
// cluster to answer (a broker still starting is retried), so it suits a set-up step started beside
// Kafka.
Result<std::vector<TopicCreation>, KafkaError> create_topics(const KafkaConfig& config,
                                                             const std::vector<TopicSpec>& topics,
                                                             const NewTopicOptions& options,
                                                             Millis timeout);

// Deletes the named topics; a topic that does not exist is not an error.
Result<void, KafkaError> delete_topics(const KafkaConfig& config,
                                       const std::vector<std::string>& names, Millis timeout);

}  // namespace hookstream::kafka
