#include "common/kafka/conf.hpp"

#include <algorithm>
#include <array>
#include <cctype>

#include "common/log.hpp"

namespace hookstream::kafka {
namespace {

Result<void, KafkaError> set(rd_kafka_conf_t* conf, const std::string& name,
                             const std::string& value, std::string_view origin) {
  std::array<char, 512> errstr{};
  if (rd_kafka_conf_set(conf, name.c_str(), value.c_str(), errstr.data(), errstr.size()) !=
      RD_KAFKA_CONF_OK)
    return fail(KafkaError{
        KafkaErrc::invalid_config, RD_KAFKA_RESP_ERR__INVALID_ARG,
        "librdkafka property '" + name + "'" + std::string(origin) + ": " + errstr.data()});
  return {};
}

}  // namespace

std::string property_env_name(std::string_view property) {
  std::string out = "HOOKSTREAM_RDKAFKA_";
  for (char c : property)
    out += c == '.' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

Result<ConfPtr, KafkaError> make_conf(const std::vector<Property>& fixed,
                                      const std::map<std::string, std::string>& overrides,
                                      std::span<const std::string_view> guarded) {
  ConfPtr conf(rd_kafka_conf_new());
  for (const auto& p : fixed)
    if (auto r = set(conf.get(), p.name, p.value, ""); !r) return fail(std::move(r).error());
  for (const auto& [name, value] : overrides) {
    if (std::find(guarded.begin(), guarded.end(), name) != guarded.end())
      return fail(KafkaError{KafkaErrc::invalid_config, RD_KAFKA_RESP_ERR__CONFLICT,
                             "librdkafka property '" + name + "' (" + property_env_name(name) +
                                 ") cannot be overridden: hookstream's delivery guarantees "
                                 "depend on its value"});
    if (auto r = set(conf.get(), name, value, " (" + property_env_name(name) + ")"); !r)
      return fail(std::move(r).error());
  }
  rd_kafka_conf_set_log_cb(conf.get(), &log_to_hookstream);
  return conf;
}

void log_to_hookstream(const rd_kafka_t* rk, int level, const char* facility, const char* message) {
  // librdkafka uses syslog levels: 0-3 errors, 4 warning, 5-6 notice/info, 7 debug.
  const auto hs_level = level <= 3   ? log::Level::error
                        : level == 4 ? log::Level::warn
                        : level <= 6 ? log::Level::info
                                     : log::Level::debug;
  if (!log::enabled(hs_level)) return;
  log::write(hs_level, "librdkafka",
             {{"client", rk ? rd_kafka_name(rk) : ""},
              {"facility", facility ? facility : ""},
              {"detail", message ? message : ""}});
}

}  // namespace hookstream::kafka
