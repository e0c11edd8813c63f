#include "kafka_dev/serve.hpp"

#include <signal.h>

#include <cstdio>
#include <fstream>

#include "common/log.hpp"
#include "kafka_dev/embedded_cluster.hpp"

namespace hookstream::kafka_dev {
namespace {

sigset_t stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  return set;
}

// Written to a temporary name and renamed, so a reader never sees half a line.
Result<void> write_bootstrap_file(const std::filesystem::path& path, const std::string& line) {
  const auto tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << line << '\n';
    if (!out.flush()) return fail("io", "cannot write " + tmp);
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) return fail("io", "cannot rename " + tmp + " to " + path.string() + ": " + ec.message());
  return {};
}

}  // namespace

void block_stop_signals() {
  const auto set = stop_signals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

int serve(const ServeOptions& options) {
  auto cluster = EmbeddedCluster::start(options.brokers);
  if (!cluster) {
    log::error("cannot start embedded Kafka cluster", {{"error", cluster.error().message}});
    return 1;
  }
  auto topics = kafka::deployment_topics(options.kafka, options.retry_schedule,
                                         options.events_partitions, options.partitions);
  topics.insert(topics.end(), options.extra_topics.begin(), options.extra_topics.end());
  for (const auto& topic : topics) {
    if (auto r = (*cluster)->create_topic(topic); !r) {
      log::error("cannot create topic", {{"topic", topic.name}, {"error", r.error().message}});
      return 1;
    }
    log::info("topic created", {{"topic", topic.name}, {"partitions", topic.partitions}});
  }

  const auto& bootstraps = (*cluster)->bootstraps();
  if (options.bootstrap_file) {
    if (auto r = write_bootstrap_file(*options.bootstrap_file, bootstraps); !r) {
      log::error("cannot write bootstrap file", {{"error", r.error().message}});
      return 1;
    }
  }
  log::info("embedded Kafka cluster ready",
            {{"bootstrap", bootstraps}, {"brokers", (*cluster)->broker_count()}});
  std::printf("bootstrap=%s\n", bootstraps.c_str());
  std::fflush(stdout);

  const auto set = stop_signals();
  int sig = 0;
  while (sigwait(&set, &sig) != 0) {
  }
  log::info("stopping embedded Kafka cluster", {{"signal", sig == SIGINT ? "SIGINT" : "SIGTERM"}});
  return 0;
}

}  // namespace hookstream::kafka_dev
