#pragma once
// `hookstream-dispatcher topics`: the topics a deployment must create for this configuration
// (SPEC §1: the deployment creates them, not the services). Prints them, or with --create makes
// the missing ones on HOOKSTREAM_KAFKA_BROKERS (compose.yaml's set-up step, scripts/kafka).
#include <cstdint>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "common/config.hpp"

namespace hookstream::dispatcher {

// The defaults suit a production cluster (compose.yaml): 12 events partitions spread the load over
// up to 12 dispatcher replicas.
struct TopicsFlags {
  std::int32_t events_partitions = 12;
  std::int32_t partitions = 6;  // <prefix>.dead and each retry topic
  bool create = false;
  std::int32_t replication_factor = 1;
  std::vector<std::string> configs;  // NAME=VALUE topic settings, with --create
  std::string timeout = "60s";       // how long --create waits for the cluster
};

// Adds the subcommand and its flags (bound to `flags`) to `app`.
CLI::App* add_topics_command(CLI::App& app, TopicsFlags& flags);

// Prints one "NAME PARTITIONS" line per topic; with flags.create, creates the missing ones and
// adds "created" or "exists" to each line. Reads only the Kafka settings and the retry schedule
// from `source` (a set-up step needs no Redis or secrets). Returns the exit code.
int run_topics_command(const ConfigSource& source, const TopicsFlags& flags);

}  // namespace hookstream::dispatcher
