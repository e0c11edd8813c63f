#pragma once
// hookstream-kafka-dev: librdkafka's mock cluster as a process, for the fault tests that inject
// broker request errors or need it to drop data (Apache Kafka, scripts/kafka, runs everything
// else).
#include <cstdint>
#include <filesystem>
#include <optional>
#include <vector>

#include "common/config.hpp"
#include "common/kafka/topics.hpp"

namespace hookstream::kafka_dev {

struct ServeOptions {
  int brokers = 1;
  std::int32_t events_partitions = 64;  // many, because each keeps only 5 MiB
  std::int32_t partitions = 4;          // dead-letter and retry topics
  std::vector<kafka::TopicSpec> extra_topics;
  std::optional<std::filesystem::path> bootstrap_file;
  // Read fault commands (fault_command.hpp) from stdin, one a line; each is answered on stdout
  // with "control N ok" or "control N error: …" (N counts commands from 1).
  bool control_stdin = false;
  KafkaConfig kafka;                   // topic prefix
  std::vector<Millis> retry_schedule;  // one retry topic per distinct delay
};

// Starts the cluster, creates the topics, announces "bootstrap=…" on stdout (and in
// bootstrap_file), then waits for SIGTERM or SIGINT
// (applying fault commands from stdin meanwhile, if asked). Those signals must already be blocked
// in every thread (call block_stop_signals() first thing in main). Returns the exit code.
int serve(const ServeOptions& options);

void block_stop_signals();

}  // namespace hookstream::kafka_dev
