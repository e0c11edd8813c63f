#include "common/kafka/topics.hpp"

#include <algorithm>

namespace hookstream::kafka {

std::vector<std::string> retry_topics(const KafkaConfig& config,
                                      const std::vector<Millis>& retry_schedule) {
  std::vector<std::string> out;
  for (const auto delay : retry_schedule) {
    auto name = config.retry_topic(delay);
    if (std::find(out.begin(), out.end(), name) == out.end()) out.push_back(std::move(name));
  }
  return out;
}

std::vector<TopicSpec> deployment_topics(const KafkaConfig& config,
                                         const std::vector<Millis>& retry_schedule,
                                         std::int32_t events_partitions,
                                         std::int32_t other_partitions) {
  std::vector<TopicSpec> out{{config.events_topic(), events_partitions},
                             {config.dead_topic(), other_partitions}};
  for (auto& name : retry_topics(config, retry_schedule))
    out.push_back({std::move(name), other_partitions});
  return out;
}

}  // namespace hookstream::kafka
