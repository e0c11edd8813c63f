#pragma once
#include <cstdint>

#include "dispatcher/config.hpp"

namespace hookstream::dispatcher {

// Runs a dispatcher in the foreground until SIGTERM/SIGINT; returns the exit code.
int run(const DispatcherConfig& config);

// Partition counts for `hookstream-dispatcher topics`. The defaults suit a production cluster
// (compose.yaml): 12 events partitions spread the load over up to 12 dispatcher replicas. The
// embedded development cluster (hookstream-kafka-dev) uses 64 instead, because each of its
// partitions keeps only 5 MiB; the topic names are the same (kafka::deployment_topics).
struct TopicsFlags {
  std::int32_t events_partitions = 12;
  std::int32_t partitions = 6;  // <prefix>.dead and each retry topic
};
// Prints one "NAME PARTITIONS" line per topic the deployment must create; returns the exit code.
int print_topics(const DispatcherConfig& config, const TopicsFlags& flags);
int dispatcher_main(int argc, char** argv);

}  // namespace hookstream::dispatcher
