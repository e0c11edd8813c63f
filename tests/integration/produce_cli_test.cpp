// hookstream-produce against Apache Kafka, read back with kcat (a second client).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/cloudevents.hpp"
#include "common/kafka/admin.hpp"
#include "common/kafka/topics.hpp"
#include "tests/fixtures/kafka_cluster.hpp"
#include "tests/fixtures/process.hpp"

namespace hookstream::testing {
namespace {

using nlohmann::json;

class ProduceCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { cluster_ = new KafkaCluster(); }
  static void TearDownTestSuite() {
    delete cluster_;
    cluster_ = nullptr;
  }

  // Each test gets its own topic prefix on the shared cluster, and its topics (Kafka creates none
  // by itself).
  void SetUp() override {
    prefix_ = cluster_->topic_prefix() + "-" +
              ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::transform(prefix_.begin(), prefix_.end(), prefix_.begin(),
                   [](char c) { return static_cast<char>(std::tolower(c)); });
    auto config = cluster_->config();
    config.topic_prefix = prefix_;
    topics_ = kafka::deployment_topics(config, {}, 4, 1);
    topics_.push_back({prefix_ + ".structured", 1});  // written by kcat below
    topics_.push_back({prefix_ + ".raw", 1});
    auto created = kafka::create_topics(config, topics_, {}, Millis{30'000});
    ASSERT_TRUE(created) << created.error().message;
  }
  void TearDown() override {
    auto config = cluster_->config();
    std::vector<std::string> names;
    for (const auto& t : topics_) names.push_back(t.name);
    (void)kafka::delete_topics(config, names, Millis{10'000});
  }
  std::string events_topic() const { return prefix_ + ".events"; }

  CommandResult produce(std::vector<std::string> args, const std::string& input = {},
                        std::chrono::milliseconds timeout = 30s,
                        std::map<std::string, std::string> env = {}) {
    args.insert(args.begin(), binary_path("hookstream-produce").string());
    ProcessOptions options;
    options.env = std::move(env);
    options.env["HOOKSTREAM_KAFKA_BROKERS"] = cluster_->bootstrap();
    options.env["HOOKSTREAM_TOPIC_PREFIX"] = prefix_;
    return run_command(args, input, timeout, options);
  }

  // Every record of `topic`, as kcat -J prints them.
  std::vector<json> consume_all(const std::string& topic) {
    auto r = run_command({"kcat", "-C", "-b", cluster_->bootstrap(), "-t", topic, "-e", "-J", "-q"},
                         {}, 30s);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::vector<json> out;
    std::istringstream lines(r.out);
    for (std::string line; std::getline(lines, line);)
      if (!line.empty()) out.push_back(json::parse(line));
    return out;
  }

  // A kcat -J record back into our record type, for decoding.
  static kafka::Record to_record(const json& j) {
    kafka::Record r;
    r.topic = j.at("topic");
    if (j.at("key").is_string()) r.key = j.at("key").get<std::string>();
    r.value = j.at("payload").get<std::string>();
    r.timestamp_ms = j.value("ts", std::int64_t{0});
    if (j.contains("headers"))
      for (std::size_t i = 0; i + 1 < j["headers"].size(); i += 2)
        r.headers.push_back(
            {j["headers"][i].get<std::string>(), j["headers"][i + 1].get<std::string>()});
    return r;
  }

  static std::map<std::string, std::string> headers_of(const json& j) {
    std::map<std::string, std::string> h;
    for (std::size_t i = 0; i + 1 < j["headers"].size(); i += 2)
      h[j["headers"][i]] = j["headers"][i + 1];
    return h;
  }

  static KafkaCluster* cluster_;
  std::string prefix_;
  std::vector<kafka::TopicSpec> topics_;
};

KafkaCluster* ProduceCli::cluster_ = nullptr;

TEST_F(ProduceCli, EventFromFlagsIsABinaryModeCloudEventKeyedByItsId) {
  auto r = produce({"--tenant", "acme", "--type", "submission.completed", "--data",
                    R"({"submission_id":"s-1","score":9})", "--source", "forms"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto printed = json::parse(r.out);
  const std::string id = printed.at("id");
  EXPECT_TRUE(id.starts_with("evt_")) << id;

  const auto records = consume_all(events_topic());
  ASSERT_EQ(records.size(), 1u);
  const auto& rec = records[0];
  EXPECT_EQ(rec["key"], id);
  EXPECT_EQ(rec["payload"], R"({"submission_id":"s-1","score":9})");
  auto h = headers_of(rec);
  EXPECT_EQ(h["ce_specversion"], "1.0");
  EXPECT_EQ(h["ce_id"], id);
  EXPECT_EQ(h["ce_type"], "submission.completed");
  EXPECT_EQ(h["ce_source"], "forms");
  EXPECT_EQ(h["ce_tenant"], "acme");
  EXPECT_EQ(h["content-type"], "application/json");
  EXPECT_TRUE(parse_rfc3339(h["ce_time"]).ok()) << h["ce_time"];
}

TEST_F(ProduceCli, CallerGivenIdIsKept) {
  auto r = produce(
      {"--tenant", "acme", "--type", "contact.created", "--data", "{}", "--id", "evt_given_1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto records = consume_all(events_topic());
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0]["key"], "evt_given_1");
}

TEST_F(ProduceCli, StructuredModeRecordFromKcatDecodesToTheSameEvent) {
  auto r =
      produce({"--tenant", "acme", "--type", "contact.updated", "--data", R"({"name":"Ada"})"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto binary = consume_all(events_topic());
  ASSERT_EQ(binary.size(), 1u);
  auto from_cli = cloudevents::decode(to_record(binary[0]));
  ASSERT_TRUE(from_cli.ok()) << from_cli.error().reason;

  const json structured = {{"specversion", "1.0"},
                           {"id", from_cli->id},
                           {"type", from_cli->type},
                           {"source", from_cli->source},
                           {"time", format_rfc3339(from_cli->time)},
                           {"tenant", from_cli->tenant},
                           {"datacontenttype", "application/json"},
                           {"data", json::parse(from_cli->data)}};
  const std::string topic = prefix_ + ".structured";
  auto k = run_command({"kcat", "-P", "-b", cluster_->bootstrap(), "-t", topic, "-k", from_cli->id,
                        "-H", "content-type=application/cloudevents+json"},
                       structured.dump() + "\n", 30s);
  ASSERT_EQ(k.exit_code, 0) << k.err;
  const auto records = consume_all(topic);
  ASSERT_EQ(records.size(), 1u);
  auto from_kcat = cloudevents::decode(to_record(records[0]));
  ASSERT_TRUE(from_kcat.ok()) << from_kcat.error().reason;
  EXPECT_EQ(from_kcat->id, from_cli->id);
  EXPECT_EQ(from_kcat->type, from_cli->type);
  EXPECT_EQ(from_kcat->source, from_cli->source);
  EXPECT_EQ(from_kcat->tenant, from_cli->tenant);
  EXPECT_EQ(from_kcat->time, from_cli->time);
  EXPECT_EQ(webhook_payload(*from_kcat), webhook_payload(*from_cli));
}

TEST_F(ProduceCli, RecordWithoutTenantFromKcatIsRefusedWithAReason) {
  const std::string topic = prefix_ + ".raw";
  auto k = run_command({"kcat", "-P", "-b", cluster_->bootstrap(), "-t", topic, "-k", "evt_x", "-H",
                        "ce_specversion=1.0", "-H", "ce_id=evt_x", "-H", "ce_type=contact.created",
                        "-H", "content-type=application/json"},
                       "{\"a\":1}\n", 30s);
  ASSERT_EQ(k.exit_code, 0) << k.err;
  const auto records = consume_all(topic);
  ASSERT_EQ(records.size(), 1u);
  auto decoded = cloudevents::decode(to_record(records[0]));
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.error().code, cloudevents::DecodeErrc::missing_attribute);
  EXPECT_NE(decoded.error().reason.find("ce_tenant"), std::string::npos) << decoded.error().reason;
}

TEST_F(ProduceCli, BadInputIsRefusedNamingTheProblemAndNothingIsPublished) {
  struct Case {
    std::vector<std::string> args;
    std::string expect;
  };
  const std::vector<Case> cases = {
      {{"--tenant", "acme", "--type", "contact.created", "--data", "{not json"}, "not valid JSON"},
      {{"--tenant", "acme", "--type", "contact.deleted", "--data", "{}"}, "unknown event type"},
      {{"--tenant", "acme", "--type", "contact.created", "--data",
        "{\"blob\":\"" + std::string(70 * 1024, 'x') + "\"}"},
       "limit is 65536 bytes"},
      {{"--tenant", "a b", "--type", "contact.created", "--data", "{}"}, "tenant"},
      {{"--tenant", "acme", "--type", "contact.created"}, "needs --tenant, --type and --data"},
  };
  for (const auto& c : cases) {
    // A smaller limit than the default keeps the oversized --data under the kernel's 128 KiB
    // argument limit; the default limit is covered over stdin below.
    auto r = produce(c.args, {}, 30s, {{"HOOKSTREAM_MAX_EVENT_BYTES", "64KiB"}});
    EXPECT_NE(r.exit_code, 0) << c.expect;
    EXPECT_NE(r.err.find(c.expect), std::string::npos) << "stderr: " << r.err;
  }
  const std::string oversized = R"({"tenant":"acme","type":"contact.created","data":{"blob":")" +
                                std::string(300 * 1024, 'x') + "\"}}\n";
  auto r = produce({}, oversized);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("line 1: data: event data is"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("limit is 262144 bytes"), std::string::npos) << r.err;
  EXPECT_TRUE(consume_all(events_topic()).empty());
}

TEST_F(ProduceCli, NdjsonReportsBadLinesByNumberAndSendsTheRest) {
  const std::string input =
      R"({"tenant":"acme","type":"submission.completed","data":{"n":1}})"
      "\n"
      "{broken\n"
      R"({"tenant":"acme","type":"nope.nope","data":{}})"
      "\n"
      "\n"
      R"({"tenant":"acme","type":"contact.created","data":{"n":2},"id":"evt_line5"})"
      "\n"
      R"({"tenant":"acme","type":"contact.created","data":[1]})"
      "\n"
      R"({"type":"contact.created","data":{}})"
      "\n";
  auto r = produce({}, input);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("line 2: not valid JSON"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("line 3: type: unknown event type"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("line 6: data: must be a JSON object"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("line 7: tenant: required"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("2 published, 4 failed"), std::string::npos) << r.err;

  const auto records = consume_all(events_topic());
  ASSERT_EQ(records.size(), 2u);
  std::set<std::string> payloads;
  for (const auto& rec : records) payloads.insert(rec["payload"].get<std::string>());
  EXPECT_EQ(payloads, (std::set<std::string>{R"({"n":1})", R"({"n":2})"}));
}

TEST_F(ProduceCli, ManyNdjsonLinesAllArrive) {
  std::string input;
  constexpr int kEvents = 2000;
  for (int i = 0; i < kEvents; ++i)
    input +=
        R"({"tenant":"acme","type":"contact.created","data":{"i":)" + std::to_string(i) + "}}\n";
  auto r = produce({}, input);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), kEvents);
  EXPECT_EQ(consume_all(events_topic()).size(), static_cast<std::size_t>(kEvents));
}

TEST_F(ProduceCli, UnreachableBrokerFailsWithinTheBound) {
  // A port with nothing listening: the publish must fail, not hang.
  const std::string dead = "127.0.0.1:" + std::to_string(free_port());
  const auto start = std::chrono::steady_clock::now();
  auto r = produce({"--brokers", dead, "--timeout", "2s", "--tenant", "acme", "--type",
                    "contact.created", "--data", "{}"},
                   {}, 30s);
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("publish failed"), std::string::npos) << r.err;
  EXPECT_LT(took, 10s);
}

TEST(ProduceCliStoppedBroker, FailsWithinTheBoundWhenTheClusterIsStopped) {
  KafkaCluster cluster(KafkaClusterOptions::mock());  // stopped here: never the shared broker
  const std::string boot = cluster.bootstrap();
  cluster.stop();
  const auto start = std::chrono::steady_clock::now();
  ProcessOptions options;
  options.env = {{"HOOKSTREAM_KAFKA_BROKERS", boot}, {"HOOKSTREAM_PRODUCE_TIMEOUT", "2s"}};
  auto r = run_command({binary_path("hookstream-produce").string(), "--tenant", "acme", "--type",
                        "contact.created", "--data", "{}"},
                       {}, 30s, options);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
}

}  // namespace
}  // namespace hookstream::testing
