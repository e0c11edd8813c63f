#pragma once
// Building librdkafka configurations: hookstream's fixed settings first, then the deployment's
// pass-through properties (HOOKSTREAM_RDKAFKA_*), each checked by librdkafka itself so a bad name
// or value is reported with the property it came from.
#include <librdkafka/rdkafka.h>

#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/kafka/error.hpp"
#include "common/kafka/handles.hpp"
#include "common/result.hpp"

namespace hookstream::kafka {

struct Property {
  std::string name;
  std::string value;
};

// `fixed` are hookstream's own settings. `overrides` (KafkaConfig::properties) are applied on top,
// except names in `guarded`: those carry a delivery guarantee (idempotence, manual commits) and
// overriding them is refused rather than silently weakening it.
Result<ConfPtr, KafkaError> make_conf(const std::vector<Property>& fixed,
                                      const std::map<std::string, std::string>& overrides,
                                      std::span<const std::string_view> guarded = {});

// The environment variable a pass-through property comes from: "security.protocol" →
// "HOOKSTREAM_RDKAFKA_SECURITY_PROTOCOL".
std::string property_env_name(std::string_view property);

// librdkafka's log_cb, writing hookstream's JSON log lines instead of librdkafka's own format.
void log_to_hookstream(const rd_kafka_t* rk, int level, const char* facility, const char* message);

}  // namespace hookstream::kafka
