// The Kafka layer: hookstream's own Producer and Consumer against Apache Kafka, and the mock
// cluster (hookstream-kafka-dev) with kcat (an independent client). Tests that stop the cluster or
// need it to drop data run on the mock: the shared Apache Kafka broker is never taken away from
// other tests.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <set>
#include <thread>

#include "common/asio.hpp"
#include "common/kafka/consumer.hpp"
#include "common/kafka/producer.hpp"
#include "common/kafka/topics.hpp"
#include "tests/fixtures/kafka_cluster.hpp"
#include "tests/fixtures/process.hpp"

namespace hookstream {
namespace {

using namespace std::chrono_literals;
using kafka::Consumer;
using kafka::Producer;
using kafka::Record;
using kafka::TopicPartition;
using kafka::TopicPartitionOffset;
using testing::KafkaCluster;
using testing::KafkaClusterOptions;
using testing::run_command;

std::unique_ptr<Producer> make_producer(const KafkaConfig& config,
                                        Millis delivery_timeout = Millis{10000}) {
  kafka::ProducerOptions options;
  options.delivery_timeout = delivery_timeout;
  auto p = Producer::create(config, options);
  EXPECT_TRUE(p) << p.error().message;
  return p ? std::move(*p) : nullptr;
}

// The mock coordinator waits session.timeout - 1 s for members to rejoin (3 s on a group's first
// join); short sessions and frequent heartbeats keep rebalances in tests to about two seconds.
std::unique_ptr<Consumer> make_consumer(KafkaConfig config, const std::string& group,
                                        kafka::ConsumerOptions options = {}) {
  options.session_timeout = Millis{3000};
  config.properties["heartbeat.interval.ms"] = "500";
  auto c = Consumer::create(config, group, options);
  EXPECT_TRUE(c) << c.error().message;
  return c ? std::move(*c) : nullptr;
}

// Produces and waits for every delivery report.
void produce_all(Producer& producer, const std::vector<Record>& records) {
  // Shared with the callbacks, which may outlive this frame if an assertion returns early.
  auto failed = std::make_shared<std::atomic<int>>(0);
  for (const auto& r : records) {
    auto queued = producer.produce(r, [failed](Result<kafka::DeliveryReport> report) {
      if (!report) ++*failed;
    });
    ASSERT_TRUE(queued) << queued.error().message;
  }
  ASSERT_TRUE(producer.flush(Millis{15000}));
  ASSERT_EQ(failed->load(), 0);
}

// The callback owns the promise, so a test that stops early leaves nothing dangling.
std::future<Result<kafka::DeliveryReport>> produce_one(Producer& producer, Record record) {
  auto promise = std::make_shared<std::promise<Result<kafka::DeliveryReport>>>();
  auto future = promise->get_future();
  auto queued = producer.produce(std::move(record), [promise](Result<kafka::DeliveryReport> r) {
    promise->set_value(std::move(r));
  });
  if (!queued) promise->set_value(fail(std::move(queued).error()));
  return future;
}

Record text_record(std::string topic, std::string key, std::string value) {
  Record r;
  r.topic = std::move(topic);
  r.key = std::move(key);
  r.value = std::move(value);
  return r;
}

class OwnedPartitions : public kafka::RebalanceListener {
 public:
  void on_assigned(const std::vector<TopicPartition>& partitions) override {
    owned.insert(partitions.begin(), partitions.end());
  }
  void on_revoked(const std::vector<TopicPartition>& partitions) override {
    for (const auto& tp : partitions) owned.erase(tp);
  }
  std::set<TopicPartition> owned;
};

TEST(KafkaDev, KcatRoundTripKeepsKeyHeadersAndValue) {
  KafkaCluster cluster(KafkaClusterOptions::mock());
  const auto topic = cluster.config().events_topic();
  const std::string value = R"({"submission":{"id":42},"note":"héllo"})";
  auto produced = run_command({"kcat", "-b", cluster.bootstrap(), "-P", "-t", topic, "-k", "evt_1",
                               "-H", "ce_id=evt_1", "-H", "ce_type=submission.completed"},
                              value + "\n", 20s);
  ASSERT_EQ(produced.exit_code, 0) << produced.err;

  auto consumed = run_command(
      {"kcat", "-b", cluster.bootstrap(), "-C", "-t", topic, "-e", "-J", "-q"}, {}, 20s);
  ASSERT_EQ(consumed.exit_code, 0) << consumed.err;
  const auto msg = nlohmann::json::parse(consumed.out);
  EXPECT_EQ(msg["key"], "evt_1");
  EXPECT_EQ(msg["payload"], value);
  EXPECT_EQ(msg["headers"],
            (nlohmann::json::array({"ce_id", "evt_1", "ce_type", "submission.completed"})));
}

TEST(KafkaDev, CreatesTopicsWithRequestedPartitionCounts) {
  KafkaClusterOptions options;
  options.kind = testing::KafkaKind::mock;
  options.events_partitions = 12;
  options.partitions = 3;
  options.retry_schedule = "5s,30s,30s,2m";
  options.extra_topics = {{"side.channel", 5}};
  KafkaCluster cluster(options);

  auto meta = run_command({"kcat", "-b", cluster.bootstrap(), "-L", "-J"}, {}, 20s);
  ASSERT_EQ(meta.exit_code, 0) << meta.err;
  std::map<std::string, std::size_t> partitions;
  const auto metadata = nlohmann::json::parse(meta.out);
  for (const auto& t : metadata["topics"])
    partitions[t["topic"].get<std::string>()] = t["partitions"].size();

  const auto config = cluster.config();
  EXPECT_EQ(partitions, (std::map<std::string, std::size_t>{
                            {config.events_topic(), 12},
                            {config.dead_topic(), 3},
                            {config.retry_topic(5s), 3},
                            {config.retry_topic(30s), 3},
                            {config.retry_topic(2min), 3},
                            {"side.channel", 5},
                        }))
      << meta.out;
}

TEST(KafkaDev, WritesBootstrapFileAndExitsCleanlyOnSigterm) {
  testing::TempDir dir;
  const auto file = dir.path() / "bootstrap";
  testing::Process p({testing::binary_path("hookstream-kafka-dev").string(), "--brokers", "3",
                      "--bootstrap-file", file.string()});
  const auto line = p.wait_for_output("bootstrap=", 15s);
  ASSERT_TRUE(line) << p.output();
  std::ifstream in(file);
  std::string from_file;
  std::getline(in, from_file);
  EXPECT_EQ("bootstrap=" + from_file, *line);
  EXPECT_EQ(std::count(from_file.begin(), from_file.end(), ','), 2);
  EXPECT_EQ(p.terminate(5s), 0) << p.output();
}

TEST(KafkaClient, ProducerToConsumerRoundTripWithHeaders) {
  KafkaCluster cluster;
  const auto config = cluster.config();
  auto producer = make_producer(config);
  ASSERT_TRUE(producer);

  Record out = text_record(config.events_topic(), "evt_7", R"({"x":1})");
  out.headers = {{"ce_id", "evt_7"}, {"ce_tenant", "acme"}, {"empty", ""}};
  auto future = produce_one(*producer, out);
  ASSERT_EQ(future.wait_for(15s), std::future_status::ready);
  const auto report = future.get();
  ASSERT_TRUE(report) << report.error().message;
  EXPECT_EQ(report->topic, config.events_topic());
  EXPECT_GE(report->partition, 0);
  EXPECT_EQ(report->offset, 0);

  auto consumer = make_consumer(config, config.consumer_group());
  ASSERT_TRUE(consumer);
  ASSERT_TRUE(consumer->subscribe({config.events_topic()}));
  std::optional<Record> in;
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (!in && std::chrono::steady_clock::now() < deadline) {
    auto r = consumer->poll(Millis{200});
    ASSERT_TRUE(r || kafka::is_retriable(r.error())) << r.error().message;
    if (r && *r) in = std::move(**r);
  }
  ASSERT_TRUE(in);
  EXPECT_EQ(in->topic, out.topic);
  EXPECT_EQ(in->key, out.key);
  EXPECT_EQ(in->value, out.value);
  EXPECT_EQ(in->partition, report->partition);
  EXPECT_EQ(in->offset, 0);
  EXPECT_GT(in->timestamp_ms, 0);
  ASSERT_EQ(in->headers.size(), 3u);
  EXPECT_EQ(*in->header("ce_tenant"), "acme");
  EXPECT_EQ(*in->header("empty"), "");
  EXPECT_EQ(consumer->rebalance_protocol(), "EAGER");
  EXPECT_TRUE(consumer->close());
}

TEST(KafkaClient, GroupMembersSplitPartitionsAndResumeAfterCommittedOffsets) {
  KafkaClusterOptions options;
  options.events_partitions = 6;
  KafkaCluster cluster(options);
  const auto config = cluster.config();
  const auto topic = config.events_topic();
  const auto group = config.consumer_group();

  OwnedPartitions owned_a, owned_b;
  kafka::ConsumerOptions opts_a, opts_b;
  opts_a.rebalance_listener = &owned_a;
  opts_b.rebalance_listener = &owned_b;
  auto a = make_consumer(config, group, opts_a);
  auto b = make_consumer(config, group, opts_b);
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(a->subscribe({topic}));
  ASSERT_TRUE(b->subscribe({topic}));

  std::map<std::pair<std::int32_t, std::int64_t>, std::string> seen;  // (partition, offset) → by
  std::map<std::string, int> per_value;
  std::map<TopicPartition, std::int64_t> next_a, next_b;
  auto poll_both = [&] {
    for (auto* c : {a.get(), b.get()}) {
      auto r = c->poll(Millis{50});
      if (!r || !*r) continue;
      const auto& rec = **r;
      const bool by_a = c == a.get();
      EXPECT_TRUE((by_a ? owned_a : owned_b).owned.contains({rec.topic, rec.partition}));
      EXPECT_TRUE(seen.emplace(std::pair{rec.partition, rec.offset}, by_a ? "a" : "b").second)
          << "consumed twice: " << rec.partition << "@" << rec.offset;
      ++per_value[rec.value];
      (by_a ? next_a : next_b)[{rec.topic, rec.partition}] = rec.offset + 1;
    }
  };

  // Both members must own a share before records exist, or the first could take them all.
  ASSERT_TRUE(testing::eventually(
      [&] {
        poll_both();
        return owned_a.owned.size() + owned_b.owned.size() == 6 && !owned_a.owned.empty() &&
               !owned_b.owned.empty();
      },
      25s))
      << "a owns " << owned_a.owned.size() << ", b owns " << owned_b.owned.size();
  for (const auto& tp : owned_a.owned) EXPECT_FALSE(owned_b.owned.contains(tp));
  EXPECT_EQ(a->rebalance_protocol(), "EAGER");

  auto producer = make_producer(config);
  std::vector<Record> batch;
  for (int i = 0; i < 60; ++i)
    batch.push_back(text_record(topic, "k" + std::to_string(i), "v" + std::to_string(i)));
  produce_all(*producer, batch);

  ASSERT_TRUE(testing::eventually(
      [&] {
        poll_both();
        return seen.size() >= 60;
      },
      20s))
      << "consumed " << seen.size();
  EXPECT_EQ(seen.size(), 60u);
  EXPECT_EQ(per_value.size(), 60u);
  std::set<std::string> consumers;
  for (const auto& [pos, by] : seen) consumers.insert(by);
  EXPECT_EQ(consumers.size(), 2u) << "one member consumed everything";

  auto to_offsets = [](const std::map<TopicPartition, std::int64_t>& next) {
    std::vector<TopicPartitionOffset> out;
    for (const auto& [tp, off] : next) out.push_back({tp.topic, tp.partition, off});
    return out;
  };
  ASSERT_TRUE(a->commit_sync(to_offsets(next_a)));
  ASSERT_TRUE(b->commit_sync(to_offsets(next_b)));
  ASSERT_TRUE(a->close());
  ASSERT_TRUE(b->close());

  std::vector<Record> more;
  for (int i = 60; i < 90; ++i)
    more.push_back(text_record(topic, "k" + std::to_string(i), "v" + std::to_string(i)));
  produce_all(*producer, more);

  auto c = make_consumer(config, group);
  ASSERT_TRUE(c);
  std::vector<TopicPartition> all;
  for (std::int32_t p = 0; p < 6; ++p) all.push_back({topic, p});
  auto committed = c->committed(all, Millis{10000});
  ASSERT_TRUE(committed) << committed.error().message;
  std::int64_t committed_total = 0;
  for (const auto& o : *committed) committed_total += std::max<std::int64_t>(o.offset, 0);
  EXPECT_EQ(committed_total, 60);

  ASSERT_TRUE(c->subscribe({topic}));
  std::set<std::string> resumed;
  ASSERT_TRUE(testing::eventually(
      [&] {
        auto r = c->poll(Millis{100});
        if (r && *r) {
          EXPECT_TRUE(resumed.insert((*r)->value).second);
          EXPECT_FALSE(per_value.contains((*r)->value)) << "re-read " << (*r)->value;
        }
        return resumed.size() >= 30;
      },
      20s))
      << "resumed " << resumed.size();
  EXPECT_EQ(resumed.size(), 30u);
}

TEST(KafkaClient, DeliveryFailsWithinTimeoutWhenNoBrokerListens) {
  KafkaConfig config;
  config.brokers = "127.0.0.1:" + std::to_string(testing::free_port());
  config.topic_prefix = "nobody";
  auto producer = make_producer(config, Millis{2000});
  ASSERT_TRUE(producer);

  const auto start = std::chrono::steady_clock::now();
  auto future = produce_one(*producer, text_record(config.events_topic(), "k", "v"));
  ASSERT_EQ(future.wait_for(2s + 5s), std::future_status::ready);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  const auto report = future.get();
  ASSERT_FALSE(report);
  EXPECT_EQ(report.error().code, "kafka_timed_out") << report.error().message;
  EXPECT_TRUE(kafka::is_retriable(report.error()));
  EXPECT_GE(elapsed, 1500ms);
  EXPECT_TRUE(producer->flush(Millis{1000}));
}

TEST(KafkaClient, DeliveryFailsWithinTimeoutAfterClusterStops) {
  KafkaCluster cluster(KafkaClusterOptions::mock());
  const auto config = cluster.config();
  auto producer = make_producer(config, Millis{2000});
  ASSERT_TRUE(producer);
  produce_all(*producer, {text_record(config.events_topic(), "k1", "before")});

  ASSERT_EQ(cluster.stop(), 0);
  auto future = produce_one(*producer, text_record(config.events_topic(), "k2", "after"));
  ASSERT_EQ(future.wait_for(2s + 5s), std::future_status::ready);
  const auto report = future.get();
  ASSERT_FALSE(report);
  EXPECT_TRUE(kafka::is_retriable(report.error())) << report.error().code;
  // Destroying a producer whose brokers are gone must not hang either.
  const auto start = std::chrono::steady_clock::now();
  producer.reset();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
}

TEST(KafkaClient, AsyncProduceCompletesOnTheCoroutinesExecutor) {
  KafkaCluster cluster;
  const auto config = cluster.config();
  // Before the producer: its last callbacks post to this context while it is destroyed.
  asio::io_context io;
  auto producer = make_producer(config);
  ASSERT_TRUE(producer);

  std::optional<Result<kafka::DeliveryReport>> first, refused;
  std::thread::id completed_on;
  std::exception_ptr escaped;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        first = co_await producer->async_produce(text_record(config.events_topic(), "k", "v"),
                                                 asio::use_awaitable);
        completed_on = std::this_thread::get_id();
        // Larger than message.max.bytes: refused before it is queued.
        refused = co_await producer->async_produce(
            text_record(config.events_topic(), "k", std::string(2 * 1024 * 1024, 'x')),
            asio::use_awaitable);
      },
      [&](std::exception_ptr e) { escaped = e; });
  io.run_for(20s);
  ASSERT_FALSE(escaped);
  ASSERT_TRUE(first);
  ASSERT_TRUE(*first) << first->error().message;
  EXPECT_EQ((*first)->topic, config.events_topic());
  EXPECT_EQ(completed_on, std::this_thread::get_id());
  ASSERT_TRUE(refused);
  ASSERT_FALSE(*refused);
  EXPECT_EQ(refused->error().code, "kafka_record_too_large") << refused->error().message;
}

TEST(KafkaClient, ConsumerReportsCommittedOffsetThatTheClusterDropped) {
  // The mock's size limit drops the committed offset's record.
  KafkaCluster cluster(KafkaClusterOptions::mock());
  const auto config = cluster.config();
  const auto topic = config.dead_topic();
  const auto group = config.topic_prefix + ".lossy";
  auto producer = make_producer(config);
  ASSERT_TRUE(producer);
  Record first = text_record(topic, "k", "first");
  first.partition = 0;
  produce_all(*producer, {first});
  {
    auto c = make_consumer(config, group);
    ASSERT_TRUE(c);
    ASSERT_TRUE(c->commit_sync({{topic, 0, 1}}));
    ASSERT_TRUE(c->close());
  }

  // The embedded cluster keeps 5 MiB per partition: 7 MiB more pushes offset 1 out of the log.
  std::vector<Record> bulk;
  for (int i = 0; i < 70; ++i) {
    Record r = text_record(topic, "k", std::string(100 * 1024, 'x'));
    r.partition = 0;
    bulk.push_back(std::move(r));
  }
  produce_all(*producer, bulk);

  std::vector<kafka::OffsetReset> resets;
  kafka::ConsumerOptions options;
  options.on_offset_reset = [&](const kafka::OffsetReset& r) { resets.push_back(r); };
  auto c = make_consumer(config, group, options);
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->subscribe({topic}));
  std::int64_t first_offset = -1;
  ASSERT_TRUE(testing::eventually(
      [&] {
        auto r = c->poll(Millis{100});
        if (r && *r && first_offset < 0) first_offset = (*r)->offset;
        return !resets.empty() && first_offset >= 0;
      },
      20s))
      << "resets: " << resets.size() << ", first offset " << first_offset;
  EXPECT_EQ(resets.front().topic, topic);
  EXPECT_EQ(resets.front().partition, 0);
  EXPECT_GT(first_offset, 1);
  EXPECT_EQ(c->offset_resets(), resets.size());
}

}  // namespace
}  // namespace hookstream
