#pragma once
// The topics a hookstream deployment creates (SPEC §1: services never create topics themselves).
#include <cstdint>
#include <string>
#include <vector>

#include "common/config.hpp"
#include "common/time.hpp"

namespace hookstream::kafka {

struct TopicSpec {
  std::string name;
  std::int32_t partitions = 1;
};

// One retry topic per distinct delay, in schedule order (a schedule may repeat a delay).
std::vector<std::string> retry_topics(const KafkaConfig& config,
                                      const std::vector<Millis>& retry_schedule);

// <prefix>.events with `events_partitions`; <prefix>.dead and every retry topic with
// `other_partitions`.
std::vector<TopicSpec> deployment_topics(const KafkaConfig& config,
                                         const std::vector<Millis>& retry_schedule,
                                         std::int32_t events_partitions,
                                         std::int32_t other_partitions);

}  // namespace hookstream::kafka
