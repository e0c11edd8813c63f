// What the mock cluster could not do and Apache Kafka must (SPEC §1): keep every record of a large
// partition, and take its topics from the deployment (`hookstream-dispatcher topics --create`).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <future>
#include <map>
#include <sstream>
#include <string>

#include "common/kafka/admin.hpp"
#include "common/kafka/producer.hpp"
#include "tests/fixtures/kafka_cluster.hpp"
#include "tests/fixtures/process.hpp"

namespace hookstream::testing {
namespace {

std::map<std::string, std::size_t> partition_counts(const std::string& bootstrap) {
  const auto meta = run_command({"kcat", "-b", bootstrap, "-L", "-J"}, {}, 20s);
  EXPECT_EQ(meta.exit_code, 0) << meta.err;
  std::map<std::string, std::size_t> out;
  if (meta.exit_code != 0) return out;
  const auto metadata = nlohmann::json::parse(meta.out);
  for (const auto& t : metadata["topics"])
    out[t["topic"].get<std::string>()] = t["partitions"].size();
  return out;
}

TEST(ApacheKafka, KeepsEveryRecordOfAPartitionPastTheMocksFiveMiB) {
  KafkaClusterOptions options;
  options.partitions = 1;
  KafkaCluster cluster(options);
  const auto config = cluster.config();
  const auto topic = config.dead_topic();  // one partition
  auto producer = kafka::Producer::create(config, {});
  ASSERT_TRUE(producer) << producer.error().message;
  constexpr int kRecords = 20'000;  // 20 MiB: the mock kept the last 5 MiB of a partition
  const std::string value(1024, 'x');
  auto failed = std::make_shared<std::atomic<int>>(0);
  for (int i = 0; i < kRecords; ++i) {
    kafka::Record r;
    r.topic = topic;
    r.partition = 0;
    r.key = "k" + std::to_string(i);
    r.value = value;
    for (;;) {
      auto queued = (*producer)->produce(r, [failed](Result<kafka::DeliveryReport> report) {
        if (!report) ++*failed;
      });
      if (queued) break;
      ASSERT_TRUE(kafka::is_queue_full(queued.error())) << queued.error().message;
      (void)(*producer)->flush(Millis{100});
    }
  }
  ASSERT_TRUE((*producer)->flush(Millis{60'000}));
  ASSERT_EQ(failed->load(), 0);

  // An independent client reads the partition from its start: every offset is there.
  const auto read = run_command({"kcat", "-b", cluster.bootstrap(), "-C", "-t", topic, "-p", "0",
                                 "-o", "beginning", "-e", "-q", "-f", "%o %S\\n"},
                                {}, 120s);
  ASSERT_EQ(read.exit_code, 0) << read.err;
  std::istringstream lines(read.out);
  long expected = 0;
  long offset = 0, size = 0;
  while (lines >> offset >> size) {
    ASSERT_EQ(offset, expected) << "a record is missing";
    ASSERT_EQ(size, 1024);
    ++expected;
  }
  EXPECT_EQ(expected, kRecords);
}

// A fatal idempotence error (a broker killed mid-batch can cause one) used to leave the API's
// producer refusing every event until a restart: 503s for good.
TEST(ApacheKafka, AProducerReplacesAHandleThatFailedFatally) {
  KafkaCluster cluster;
  const auto config = cluster.config();
  auto producer = kafka::Producer::create(config, {});
  ASSERT_TRUE(producer) << producer.error().message;
  const auto publish = [&](const std::string& value) {
    kafka::Record r;
    r.topic = config.events_topic();
    r.value = value;
    auto done = std::make_shared<std::promise<Result<kafka::DeliveryReport>>>();
    auto future = done->get_future();
    auto queued =
        (*producer)->produce(r, [done](Result<kafka::DeliveryReport> d) { done->set_value(d); });
    if (!queued) return Result<kafka::DeliveryReport>(fail(std::move(queued).error()));
    return future.get();
  };
  ASSERT_TRUE(publish("before"));
  (*producer)->raise_fatal_error_for_test("a test's broken sequence");
  // Refused while the handle is replaced (as retriable), then delivered by the new handle.
  std::size_t refused = 0;
  ASSERT_TRUE(eventually(
      [&] {
        auto r = publish("after");
        if (r) return true;
        EXPECT_TRUE(kafka::is_retriable(r.error())) << r.error().code << ": " << r.error().message;
        ++refused;
        return false;
      },
      20s));
  EXPECT_EQ((*producer)->handles_replaced(), 1u);
  const auto read =
      run_command({"kcat", "-b", cluster.bootstrap(), "-C", "-t", config.events_topic(), "-o",
                   "beginning", "-e", "-q", "-f", "%s\\n"},
                  {}, 30s);
  EXPECT_NE(read.out.find("before\n"), std::string::npos) << read.out;
  EXPECT_NE(read.out.find("after\n"), std::string::npos) << read.out;
}

TEST(ApacheKafka, TopicsCreateMakesTheDeploymentsTopicsOnce) {
  // A prefix of this test's own: the fixture's topics are not the ones under test.
  KafkaCluster cluster;
  const std::string prefix = cluster.topic_prefix() + "x";
  ProcessOptions options;
  options.env = {{"HOOKSTREAM_KAFKA_BROKERS", cluster.bootstrap()},
                 {"HOOKSTREAM_TOPIC_PREFIX", prefix},
                 {"HOOKSTREAM_RETRY_SCHEDULE", "5s,30s,30s,2m"}};
  options.unset_env = {"HOOKSTREAM_SECRET_KEYS", "HOOKSTREAM_REDIS_URL"};
  const std::vector<std::string> argv{binary_path("hookstream-dispatcher").string(),
                                      "topics",
                                      "--create",
                                      "--events-partitions",
                                      "5",
                                      "--partitions",
                                      "2"};
  const auto first = run_command(argv, {}, 90s, options);
  ASSERT_EQ(first.exit_code, 0) << first.out << first.err;
  EXPECT_EQ(first.out, prefix + ".events 5 created\n" + prefix + ".dead 2 created\n" + prefix +
                           ".retry.5s 2 created\n" + prefix + ".retry.30s 2 created\n" + prefix +
                           ".retry.2m 2 created\n");
  auto counts = partition_counts(cluster.bootstrap());
  EXPECT_EQ(counts[prefix + ".events"], 5u);
  EXPECT_EQ(counts[prefix + ".retry.2m"], 2u);

  // Again: nothing is changed, and it says so.
  const auto again = run_command(argv, {}, 90s, options);
  ASSERT_EQ(again.exit_code, 0) << again.out << again.err;
  EXPECT_NE(again.out.find(prefix + ".events 5 exists\n"), std::string::npos) << again.out;

  // Bad input is named.
  auto bad = argv;
  bad.insert(bad.end(), {"--topic-config", "no-equals-sign"});
  const auto refused = run_command(bad, {}, 30s, options);
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_NE(refused.err.find("NAME=VALUE"), std::string::npos) << refused.err;

  KafkaConfig config = cluster.config();
  config.topic_prefix = prefix;
  EXPECT_TRUE(kafka::delete_topics(config,
                                   {prefix + ".events", prefix + ".dead", prefix + ".retry.5s",
                                    prefix + ".retry.30s", prefix + ".retry.2m"},
                                   Millis{10'000}));
}

TEST(ApacheKafka, TopicsCreateNamesAClusterThatDoesNotAnswer) {
  ProcessOptions options;
  options.env = {{"HOOKSTREAM_KAFKA_BROKERS", "127.0.0.1:" + std::to_string(free_port())}};
  const auto r = run_command(
      {binary_path("hookstream-dispatcher").string(), "topics", "--create", "--timeout", "2s"}, {},
      30s, options);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("cannot create the topics on 127.0.0.1:"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace hookstream::testing
