#include "dispatcher/topics_command.hpp"

#include <iostream>

#include "common/kafka/admin.hpp"
#include "common/kafka/topics.hpp"
#include "common/time.hpp"

namespace hookstream::dispatcher {

CLI::App* add_topics_command(CLI::App& app, TopicsFlags& flags) {
  auto* topics = app.add_subcommand(
      "topics",
      "print the topics a deployment must create for this configuration, one 'NAME PARTITIONS' "
      "line each, and exit; with --create, create the missing ones on HOOKSTREAM_KAFKA_BROKERS");
  topics
      ->add_option("--events-partitions", flags.events_partitions, "partitions of <prefix>.events")
      ->check(CLI::Range(1, 10000))
      ->capture_default_str();
  topics
      ->add_option("--partitions", flags.partitions,
                   "partitions of <prefix>.dead and of every retry topic")
      ->check(CLI::Range(1, 10000))
      ->capture_default_str();
  topics->add_flag(
      "--create", flags.create,
      "create every topic that does not exist yet (existing ones are left as they are)");
  topics
      ->add_option("--replication-factor", flags.replication_factor,
                   "replicas of each topic created (3 on a 3-broker cluster)")
      ->check(CLI::Range(1, 100))
      ->capture_default_str();
  topics->add_option("--topic-config", flags.configs,
                     "a topic setting for the topics created, NAME=VALUE (repeatable), e.g. "
                     "min.insync.replicas=2");
  topics
      ->add_option("--timeout", flags.timeout,
                   "how long --create waits for the cluster to answer (ms, s, m)")
      ->capture_default_str();
  return topics;
}

int run_topics_command(const ConfigSource& source, const TopicsFlags& flags) {
  ConfigReader r(source);
  const auto kafka = read_kafka(r);
  const auto retry_schedule = read_retry_schedule(r);
  if (auto ok = r.finish(); !ok) {
    std::cerr << "hookstream-dispatcher: " << ok.error().message << '\n';
    return 2;
  }
  const auto topics =
      kafka::deployment_topics(kafka, retry_schedule, flags.events_partitions, flags.partitions);
  if (!flags.create) {
    for (const auto& topic : topics) std::cout << topic.name << ' ' << topic.partitions << '\n';
    return std::cout.flush() ? 0 : 1;
  }
  const auto timeout = parse_duration(flags.timeout);
  if (!timeout) {
    std::cerr << "hookstream-dispatcher topics: --timeout " << flags.timeout << ": "
              << timeout.error().message << '\n';
    return 2;
  }
  kafka::NewTopicOptions options;
  options.replication_factor = flags.replication_factor;
  for (const auto& setting : flags.configs) {
    const auto eq = setting.find('=');
    if (eq == std::string::npos || eq == 0) {
      std::cerr << "hookstream-dispatcher topics: --topic-config " << setting
                << ": expected NAME=VALUE\n";
      return 2;
    }
    options.configs.push_back({setting.substr(0, eq), setting.substr(eq + 1)});
  }
  auto created = kafka::create_topics(kafka, topics, options, *timeout);
  if (!created) {
    std::cerr << "hookstream-dispatcher topics: cannot create the topics on " << kafka.brokers
              << ": " << created.error().message << '\n';
    return 1;
  }
  for (const auto& topic : *created)
    std::cout << topic.name << ' ' << topic.partitions << ' '
              << (topic.created ? "created" : "exists") << '\n';
  return std::cout.flush() ? 0 : 1;
}

}  // namespace hookstream::dispatcher
