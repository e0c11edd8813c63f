#include <gtest/gtest.h>

#include <array>

#include "common/kafka/conf.hpp"
#include "common/kafka/consumer.hpp"
#include "common/kafka/producer.hpp"
#include "common/kafka/topics.hpp"

namespace hookstream::kafka {
namespace {

std::string get(rd_kafka_conf_t* conf, const char* name) {
  std::array<char, 256> buf{};
  std::size_t size = buf.size();
  EXPECT_EQ(rd_kafka_conf_get(conf, name, buf.data(), &size), RD_KAFKA_CONF_OK) << name;
  return buf.data();
}

KafkaConfig config_with(std::map<std::string, std::string> properties) {
  KafkaConfig c;
  c.brokers = "127.0.0.1:1";
  c.topic_prefix = "unit";
  c.properties = std::move(properties);
  return c;
}

TEST(KafkaConf, OverridesApplyOnTopOfFixedSettings) {
  auto conf = make_conf({{"client.id", "fixed"}, {"linger.ms", "5"}},
                        {{"linger.ms", "20"}, {"socket.keepalive.enable", "true"}});
  ASSERT_TRUE(conf) << conf.error().message;
  EXPECT_EQ(get(conf->get(), "client.id"), "fixed");
  EXPECT_EQ(get(conf->get(), "linger.ms"), "20");
  EXPECT_EQ(get(conf->get(), "socket.keepalive.enable"), "true");
}

TEST(KafkaConf, UnknownPropertyNamesItsVariable) {
  auto conf = make_conf({}, {{"no.such.property", "1"}});
  ASSERT_FALSE(conf);
  const Error e = conf.error();
  EXPECT_EQ(e.code, "kafka_invalid_config");
  EXPECT_NE(e.message.find("'no.such.property'"), std::string::npos) << e.message;
  EXPECT_NE(e.message.find("HOOKSTREAM_RDKAFKA_NO_SUCH_PROPERTY"), std::string::npos) << e.message;
}

TEST(KafkaConf, InvalidValueNamesTheProperty) {
  auto conf = make_conf({}, {{"linger.ms", "soon"}});
  ASSERT_FALSE(conf);
  EXPECT_NE(conf.error().message.find("'linger.ms'"), std::string::npos) << conf.error().message;
  EXPECT_FALSE(is_retriable(conf.error().to_error()));
}

TEST(KafkaConf, GuardedPropertiesCannotBeOverridden) {
  const std::array<std::string_view, 1> guarded{"enable.idempotence"};
  auto conf =
      make_conf({{"enable.idempotence", "true"}}, {{"enable.idempotence", "false"}}, guarded);
  ASSERT_FALSE(conf);
  EXPECT_NE(conf.error().message.find("HOOKSTREAM_RDKAFKA_ENABLE_IDEMPOTENCE"), std::string::npos);
}

TEST(KafkaConf, EnvNameOfProperty) {
  EXPECT_EQ(property_env_name("security.protocol"), "HOOKSTREAM_RDKAFKA_SECURITY_PROTOCOL");
}

TEST(KafkaProducer, RefusesBadOrWeakeningProperties) {
  auto bad = Producer::create(config_with({{"bogus.prop", "1"}}), {});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, "kafka_invalid_config");
  EXPECT_NE(bad.error().message.find("bogus.prop"), std::string::npos);

  for (const char* name : {"acks", "enable.idempotence"}) {
    auto weak = Producer::create(config_with({{name, "1"}}), {});
    ASSERT_FALSE(weak) << name;
    EXPECT_NE(weak.error().message.find(name), std::string::npos);
  }
}

TEST(KafkaProducer, CreatesWithoutReachingABrokerAndClosesPromptly) {
  ProducerOptions options;
  options.delivery_timeout = Millis{500};
  auto p = Producer::create(config_with({{"linger.ms", "1"}}), options);
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_TRUE((*p)->flush(Millis{10}));
  EXPECT_EQ((*p)->in_flight(), 0u);
}

TEST(KafkaConsumer, RefusesAutoCommit) {
  auto c = Consumer::create(config_with({{"enable.auto.commit", "true"}}), "g", {});
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().message.find("HOOKSTREAM_RDKAFKA_ENABLE_AUTO_COMMIT"), std::string::npos);
  EXPECT_FALSE(Consumer::create(config_with({}), "", {}));
}

TEST(KafkaTopics, DeploymentTopicsFollowTheConfig) {
  KafkaConfig c;
  c.topic_prefix = "hs";
  using namespace std::chrono_literals;
  const std::vector<Millis> schedule{5s, 30s, 30s, 2min, 5s};
  EXPECT_EQ(retry_topics(c, schedule),
            (std::vector<std::string>{"hs.retry.5s", "hs.retry.30s", "hs.retry.2m"}));
  const auto topics = deployment_topics(c, schedule, 64, 4);
  ASSERT_EQ(topics.size(), 5u);
  EXPECT_EQ(topics[0].name, "hs.events");
  EXPECT_EQ(topics[0].partitions, 64);
  EXPECT_EQ(topics[1].name, "hs.dead");
  EXPECT_EQ(topics[1].partitions, 4);
  EXPECT_EQ(topics[4].name, "hs.retry.2m");
}

}  // namespace
}  // namespace hookstream::kafka
