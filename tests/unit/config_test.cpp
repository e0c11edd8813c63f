#include "common/config.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "dispatcher/config.hpp"

namespace hookstream {
namespace {

using namespace std::chrono_literals;

// A well-formed keyring (32 zero bytes): the loaders require one.
constexpr const char* kTestKeyring = "test:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";

TEST(Config, DefaultsMatchTheSpec) {
  const auto src = ConfigSource::from_map({});
  ConfigReader r(src);
  const auto redis = read_redis(r);
  const auto kafka = read_kafka(r);
  const auto events = read_events(r);
  ASSERT_TRUE(r.finish().ok());
  EXPECT_EQ(redis.host, "127.0.0.1");
  EXPECT_EQ(redis.port, 6379);
  EXPECT_EQ(redis.db, 0);
  EXPECT_EQ(kafka.brokers, "127.0.0.1:9092");
  EXPECT_EQ(kafka.events_topic(), "hookstream.events");
  EXPECT_EQ(kafka.dead_topic(), "hookstream.dead");
  EXPECT_EQ(kafka.retry_topic(Millis{5000}), "hookstream.retry.5s");
  EXPECT_EQ(events.catalog.size(), 5u);
  EXPECT_EQ(events.max_data_bytes, 256u * 1024);
}

TEST(Config, EnvOverridesFileOverridesDefaults) {
  const auto path = std::filesystem::temp_directory_path() /
                    ("hookstream-config-" + std::to_string(::getpid()) + ".env");
  {
    std::ofstream f(path);
    f << "# comment\nHOOKSTREAM_TOPIC_PREFIX=fromfile\nexport "
         "HOOKSTREAM_KAFKA_BROKERS=\"k1:9092\"\n"
         "HOOKSTREAM_RDKAFKA_SOCKET_TIMEOUT_MS=1000\n";
  }
  const char* env[] = {"HOOKSTREAM_TOPIC_PREFIX=fromenv", "PATH=/bin", nullptr};
  auto src = ConfigSource::load(path, env);
  std::filesystem::remove(path);
  ASSERT_TRUE(src.ok()) << src.error().message;
  ConfigReader r(*src);
  const auto kafka = read_kafka(r);
  ASSERT_TRUE(r.finish().ok());
  EXPECT_EQ(kafka.topic_prefix, "fromenv");
  EXPECT_EQ(kafka.brokers, "k1:9092");
  EXPECT_EQ(kafka.properties.at("socket.timeout.ms"), "1000");
}

TEST(Config, ReportsEveryBadValueByName) {
  const auto src = ConfigSource::from_map({{"HOOKSTREAM_REDIS_URL", "http://x"},
                                           {"HOOKSTREAM_TOPIC_PREFIX", "bad prefix!"},
                                           {"HOOKSTREAM_EVENT_TYPES", "ok.type,Bad.Type"},
                                           {"HOOKSTREAM_MAX_EVENT_BYTES", "lots"},
                                           {"HOOKSTREAM_LOG_LEVEL", "loud"}});
  ConfigReader r(src);
  read_redis(r);
  read_kafka(r);
  read_events(r);
  read_log(r);
  const auto result = r.finish();
  ASSERT_FALSE(result.ok());
  for (const char* name :
       {"HOOKSTREAM_REDIS_URL", "HOOKSTREAM_TOPIC_PREFIX", "HOOKSTREAM_EVENT_TYPES",
        "HOOKSTREAM_MAX_EVENT_BYTES", "HOOKSTREAM_LOG_LEVEL"})
    EXPECT_NE(result.error().message.find(name), std::string::npos) << result.error().message;
}

TEST(Config, UnknownNameInFileIsAnError) {
  const auto path = std::filesystem::temp_directory_path() /
                    ("hookstream-config-typo-" + std::to_string(::getpid()) + ".env");
  { std::ofstream(path) << "HOOKSTREAM_REDIS_ULR=redis://x\n"; }
  auto src = ConfigSource::load(path, nullptr);
  std::filesystem::remove(path);
  ASSERT_TRUE(src.ok());
  ConfigReader r(*src);
  const auto result = r.finish();
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.error().message.find("HOOKSTREAM_REDIS_ULR"), std::string::npos);
}

TEST(Config, MissingFileIsAnError) {
  EXPECT_FALSE(
      ConfigSource::load(std::filesystem::path("/nonexistent/hookstream.env"), nullptr).ok());
}

TEST(Config, ParsesRedisUrls) {
  auto full = parse_redis_url("redis://user:pa%ss@redis.internal:6380/3");
  ASSERT_TRUE(full.ok());
  EXPECT_EQ(full->username, "user");
  EXPECT_EQ(full->password, "pa%ss");
  EXPECT_EQ(full->host, "redis.internal");
  EXPECT_EQ(full->port, 6380);
  EXPECT_EQ(full->db, 3);
  EXPECT_EQ(full->redacted_url(), "redis://***@redis.internal:6380/3");
  auto v6 = parse_redis_url("redis://[::1]:7000");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 7000);
  for (const char* bad : {"redis://", "redis://h:0", "redis://h:99999", "redis://h/16", "tcp://h"})
    EXPECT_FALSE(parse_redis_url(bad).ok()) << bad;
}

TEST(Config, TypedReaders) {
  const auto src = ConfigSource::from_map({{"HOOKSTREAM_ALLOW_HTTP", "yes"},
                                           {"HOOKSTREAM_RETRY_SCHEDULE", "10ms, 20ms"},
                                           {"HOOKSTREAM_PAUSE_AFTER_FAILURES", "0"},
                                           {"HOOKSTREAM_MAX_EVENT_BYTES", "1MiB"}});
  ConfigReader r(src);
  EXPECT_TRUE(r.boolean("HOOKSTREAM_ALLOW_HTTP", false));
  EXPECT_EQ(r.duration_list("HOOKSTREAM_RETRY_SCHEDULE", "5s"),
            (std::vector<Millis>{Millis{10}, Millis{20}}));
  EXPECT_EQ(r.bytes("HOOKSTREAM_MAX_EVENT_BYTES", 1, 1, 4u << 20), 1u << 20);
  EXPECT_EQ(r.integer("HOOKSTREAM_PAUSE_AFTER_FAILURES", 10, 1, 1000), 10);
  EXPECT_FALSE(r.finish().ok());
}

// SPEC §6's table, through the dispatcher's loader (with only the required keyring set).
TEST(Config, TheSpecDefaultsHoldInTheDispatcherLoader) {
  const auto src = ConfigSource::from_map({{"HOOKSTREAM_SECRET_KEYS", kTestKeyring}});
  const auto config = dispatcher::load_dispatcher_config(src);
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->redis.host, "127.0.0.1");
  EXPECT_EQ(config->redis.port, 6379);
  EXPECT_EQ(config->kafka.brokers, "127.0.0.1:9092");
  EXPECT_EQ(config->kafka.events_topic(), "hookstream.events");
  EXPECT_FALSE(config->allow_http);
  EXPECT_FALSE(config->allow_private_targets);
  EXPECT_EQ(config->retry_schedule,
            (std::vector<Millis>{5s, 30s, 2min, 10min, 30min, 1h, 3h, 6h, 12h}));
  EXPECT_EQ(config->delivery_timeout, 30s);
  EXPECT_EQ(config->delivery_log.pause_after_failures, 10);
}

TEST(Config, RetrySchedulesAndDeliveryTimeoutsOutOfRangeAreRefused) {
  for (const auto& [name, value] :
       std::vector<std::pair<std::string, std::string>>{{"HOOKSTREAM_DELIVERY_TIMEOUT", "0s"},
                                                        {"HOOKSTREAM_DELIVERY_TIMEOUT", "10m"},
                                                        {"HOOKSTREAM_RETRY_SCHEDULE", "0ms,1s"}}) {
    const auto src = ConfigSource::from_map({{name, value}});
    ConfigReader r(src);
    (void)read_retry_schedule(r);
    (void)read_delivery_timeout(r);
    const auto done = r.finish();
    ASSERT_FALSE(done.ok()) << name << "=" << value;
    EXPECT_NE(done.error().message.find(name), std::string::npos) << done.error().message;
  }
}

}  // namespace
}  // namespace hookstream
