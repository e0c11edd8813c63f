#pragma once
// Configuration: defaults, then a config file, then HOOKSTREAM_* environment variables.
// Each binary has one config struct built from the sections below and validated at start; a bad
// value stops the process with a message naming the variable.
//
// The config file (path from --config or HOOKSTREAM_CONFIG) uses the environment's names:
//   # comment
//   HOOKSTREAM_REDIS_URL=redis://redis:6379/0
// librdkafka properties pass through as HOOKSTREAM_RDKAFKA_<PROPERTY> (dots as underscores), e.g.
// HOOKSTREAM_RDKAFKA_SECURITY_PROTOCOL=ssl sets security.protocol.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/log.hpp"
#include "common/result.hpp"
#include "common/secret_box.hpp"
#include "common/time.hpp"

namespace hookstream {

// Where values come from. Env wins over the file.
class ConfigSource {
 public:
  // `env` is an environ-style array (nullptr-terminated "NAME=value" strings).
  static Result<ConfigSource> load(const std::optional<std::filesystem::path>& file,
                                   const char* const* env);
  static ConfigSource from_map(std::map<std::string, std::string> values);
  // What a binary reads at start: the file given by its --config flag (else HOOKSTREAM_CONFIG),
  // then this process's environment.
  static Result<ConfigSource> for_process(const std::optional<std::string>& config_flag);

  std::optional<std::string> get(std::string_view name) const;
  // Command-line flags win over both the file and the environment.
  void set(std::string name, std::string value) { values_[std::move(name)] = std::move(value); }
  // Names starting with `prefix`, with the prefix stripped.
  std::map<std::string, std::string> with_prefix(std::string_view prefix) const;
  const std::set<std::string>& file_names() const { return file_names_; }

 private:
  std::map<std::string, std::string, std::less<>> values_;
  std::set<std::string> file_names_;
};

// Reads typed values and collects every problem, so one start-up reports all of them.
class ConfigReader {
 public:
  explicit ConfigReader(const ConfigSource& source) : source_(source) {}

  std::string string(std::string_view name, std::string_view fallback);
  bool boolean(std::string_view name, bool fallback);
  std::int64_t integer(std::string_view name, std::int64_t fallback, std::int64_t min,
                       std::int64_t max);
  Millis duration(std::string_view name, Millis fallback);
  std::vector<Millis> duration_list(std::string_view name, std::string_view fallback);
  std::vector<std::string> list(std::string_view name, std::string_view fallback);
  // Byte sizes: "262144", "256KiB", "5MiB".
  std::size_t bytes(std::string_view name, std::size_t fallback, std::size_t min, std::size_t max);

  void problem(std::string_view name, std::string_view message);
  const ConfigSource& source() const { return source_; }

  // Fails with every problem found, including unknown HOOKSTREAM_* names in the config file.
  Result<void> finish() const;

 private:
  const ConfigSource& source_;
  std::vector<std::string> problems_;
};

struct RedisConfig {
  std::string url;  // as given, for logs (password redacted by redacted_url())
  std::string host;
  std::uint16_t port = 6379;
  int db = 0;
  std::string username;
  std::string password;
  Millis connect_timeout{2000};
  Millis command_timeout{2000};

  std::string redacted_url() const;
};
Result<RedisConfig> parse_redis_url(std::string_view url);

struct KafkaConfig {
  std::string brokers;
  std::string topic_prefix;
  // Extra librdkafka properties (HOOKSTREAM_RDKAFKA_*), applied to every client.
  std::map<std::string, std::string> properties;

  std::string events_topic() const { return topic_prefix + ".events"; }
  std::string dead_topic() const { return topic_prefix + ".dead"; }
  std::string retry_topic(Millis delay) const;
  std::string consumer_group() const { return topic_prefix + ".dispatchers"; }
};

struct EventsConfig {
  std::vector<std::string> catalog;  // subscribable/publishable types; test.ping is always known
  std::size_t max_data_bytes = 256 * 1024;
};

struct LogConfig {
  log::Level level = log::Level::info;
};

RedisConfig read_redis(ConfigReader& r);
KafkaConfig read_kafka(ConfigReader& r);
EventsConfig read_events(ConfigReader& r);
LogConfig read_log(ConfigReader& r);
// HOOKSTREAM_SECRET_KEYS, required (no default: ./scripts/run generates a local one). Empty after
// a problem was reported.
SecretKeyring read_secret_keys(ConfigReader& r);
// HOOKSTREAM_RETRY_SCHEDULE: 1 to 50 positive delays. The API (redeliveries), the dispatchers and
// the embedded cluster (its topics) must read the same schedule the same way.
std::vector<Millis> read_retry_schedule(ConfigReader& r);
// HOOKSTREAM_DELIVERY_TIMEOUT: one attempt's limit, 100ms to 5m (dispatchers, API test pings).
Millis read_delivery_timeout(ConfigReader& r);

// Every HOOKSTREAM_* name some binary understands; the config file may use only these.
const std::set<std::string, std::less<>>& known_config_names();

}  // namespace hookstream
