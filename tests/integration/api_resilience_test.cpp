// hookstream-api when its clients misbehave and its dependencies fail.
#include <dirent.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "tests/fixtures/api_server.hpp"
#include "tests/fixtures/kafka_cluster.hpp"
#include "tests/fixtures/redis_server.hpp"

namespace hookstream::testing {
namespace {

using nlohmann::json;

std::size_t open_fds(pid_t pid) {
  std::size_t n = 0;
  DIR* d = opendir(("/proc/" + std::to_string(pid) + "/fd").c_str());
  if (!d) return 0;
  while (readdir(d)) ++n;
  closedir(d);
  return n;
}

int connect_to(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  const auto addr = loopback_address(port);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// True when the server closed the connection within `timeout` (read returns 0 or an error).
bool closed_by_server(int fd, std::chrono::milliseconds timeout) {
  pollfd p{fd, POLLIN, 0};
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  char buf[4096];
  while (std::chrono::steady_clock::now() < deadline) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
    const auto n = ::read(fd, buf, sizeof buf);
    if (n <= 0) return true;  // EOF or reset
  }
  return false;
}

// The environment of an API on `redis` and `kafka`.
std::map<std::string, std::string> api_env(const RedisServer& redis, const KafkaCluster& kafka) {
  auto env = kafka.env();
  env["HOOKSTREAM_REDIS_URL"] = redis.url();
  return env;
}

TEST(ApiResilience, StalledAndIdleConnectionsAreClosedAndNothingLeaks) {
  RedisServer redis;
  KafkaCluster kafka;
  auto env = api_env(redis, kafka);
  env["HOOKSTREAM_API_REQUEST_TIMEOUT"] = "1s";
  env["HOOKSTREAM_API_IDLE_TIMEOUT"] = "2s";
  ApiServer api(env);
  const auto key = api.create_key("acme", kAllScopes);
  ASSERT_EQ(api.request("GET", "/v1/webhooks", key.key).status, 200);
  const auto baseline = open_fds(api.process().pid());

  std::vector<int> stalled, idle;
  for (int i = 0; i < 50; ++i) {
    const int fd = connect_to(api.port());
    ASSERT_GE(fd, 0);
    const std::string partial =
        "POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"ty";
    ASSERT_GT(::write(fd, partial.data(), partial.size()), 0);
    stalled.push_back(fd);
    const int quiet = connect_to(api.port());
    ASSERT_GE(quiet, 0);
    idle.push_back(quiet);
  }
  // The server keeps answering while they hang on.
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(api.request("GET", "/healthz").status, 200);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 500ms);

  for (int fd : stalled) EXPECT_TRUE(closed_by_server(fd, 5s)) << "a stalled request stayed open";
  for (int fd : idle) EXPECT_TRUE(closed_by_server(fd, 6s)) << "an idle connection stayed open";
  for (int fd : stalled) ::close(fd);
  for (int fd : idle) ::close(fd);

  // Malformed requests get a 400 and a closed connection.
  const auto garbage =
      run_command({"bash", "-c",
                   "exec 3<>/dev/tcp/127.0.0.1/" + std::to_string(api.port()) +
                       "; printf 'NOT HTTP AT ALL\\r\\n\\r\\n' >&3; timeout 5 cat <&3"},
                  {}, 10s);
  EXPECT_NE(garbage.out.find("400"), std::string::npos) << garbage.out;

  EXPECT_TRUE(eventually([&] { return open_fds(api.process().pid()) <= baseline; }, 5s))
      << "fds: " << open_fds(api.process().pid()) << " baseline " << baseline;
  EXPECT_EQ(api.request("GET", "/v1/webhooks", key.key).status, 200);
}

TEST(ApiResilience, RedisDownGives503AndTheApiRecoversByItself) {
  RedisServer redis(RedisServerOptions{.appendonly = true});
  KafkaCluster kafka;
  auto env = api_env(redis, kafka);
  env["HOOKSTREAM_REDIS_CONNECT_TIMEOUT"] = "500ms";
  env["HOOKSTREAM_REDIS_COMMAND_TIMEOUT"] = "500ms";
  ApiServer api(env);
  const auto key = api.create_key("acme", kAllScopes);
  const json hook = {{"url", "https://example.com/h"}, {"events", {"*"}}};
  ASSERT_EQ(api.request("POST", "/v1/webhooks", key.key, hook.dump()).status, 201);
  ASSERT_TRUE(eventually([&] { return api.request("GET", "/readyz").status == 200; }, 15s));

  redis.kill9();
  // Cached key or not, anything needing Redis answers 503 with the envelope, quickly.
  const auto start = std::chrono::steady_clock::now();
  const auto down = api.request("GET", "/v1/webhooks", key.key);
  EXPECT_EQ(down.status, 503) << down.body;
  EXPECT_EQ(down.json()["error"]["code"], "service_unavailable") << down.body;
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
  EXPECT_EQ(api.request("GET", "/readyz").status, 503);
  EXPECT_EQ(api.request("GET", "/healthz").status, 200);
  EXPECT_EQ(down.body.find("redis://"), std::string::npos) << "leaks internals: " << down.body;

  redis.restart();
  EXPECT_TRUE(
      eventually([&] { return api.request("GET", "/v1/webhooks", key.key).status == 200; }, 10s));
  const auto after = api.request("GET", "/v1/webhooks", key.key);
  EXPECT_EQ(after.json()["data"]["webhooks"].size(), 1u) << after.body;
  EXPECT_EQ(api.request("GET", "/readyz").status, 200);
}

// Redis that answers but refuses writes (out of memory under maxmemory with noeviction, as
// docs/operations.md asks; a read-only replica after a failover answers the same way) is not an
// outage: the API says storage refused the request, and takes writes again once Redis does.
TEST(ApiResilience, RedisRefusingWritesGives503SayingSoAndWritesWorkOnceItTakesThemAgain) {
  RedisServer redis;
  KafkaCluster kafka;
  ApiServer api(api_env(redis, kafka));
  const auto key = api.create_key("acme", kAllScopes);
  const json hook = {{"url", "https://example.com/h"}, {"events", {"*"}}};
  const auto redis_cli = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"redis-cli", "-p", std::to_string(redis.port())});
    return run_command(args).out;
  };
  ASSERT_EQ(redis_cli({"CONFIG", "SET", "maxmemory-policy", "noeviction"}), "OK\n");
  ASSERT_EQ(redis_cli({"CONFIG", "SET", "maxmemory", "1"}), "OK\n");

  const auto refused = api.request("POST", "/v1/webhooks", key.key, hook.dump());
  EXPECT_EQ(refused.status, 503) << refused.body;
  EXPECT_EQ(refused.json()["error"]["code"], "service_unavailable") << refused.body;
  EXPECT_NE(refused.json()["error"]["message"].get<std::string>().find("refused"),
            std::string::npos)
      << refused.body;
  EXPECT_EQ(refused.body.find("OOM"), std::string::npos) << "leaks internals: " << refused.body;
  EXPECT_TRUE(eventually(
      [&] { return api.process().output().find("redis refused a request") != std::string::npos; },
      5s))
      << api.process().output();

  ASSERT_EQ(redis_cli({"CONFIG", "SET", "maxmemory", "0"}), "OK\n");
  EXPECT_EQ(api.request("POST", "/v1/webhooks", key.key, hook.dump()).status, 201);
  const auto listed = api.request("GET", "/v1/webhooks", key.key);
  EXPECT_EQ(listed.json()["data"]["webhooks"].size(), 1u) << listed.body;  // nothing half-written
}

TEST(ApiResilience, KafkaDownGives503ForEventsAndTheApiRecovers) {
  RedisServer redis;
  // The mock: this test kills its broker, which the shared Apache Kafka must never be.
  auto kafka = std::make_unique<KafkaCluster>(KafkaClusterOptions::mock());
  auto env = api_env(redis, *kafka);
  env["HOOKSTREAM_PRODUCE_TIMEOUT"] = "2s";
  ApiServer api(env);
  const auto key = api.create_key("acme", kAllScopes);
  const std::string event = R"({"type":"contact.created","data":{}})";
  ASSERT_EQ(api.request("POST", "/v1/events", key.key, event).status, 202);

  kafka->kill9();
  const auto down = api.request("POST", "/v1/events", key.key, event);
  EXPECT_EQ(down.status, 503) << down.body;
  EXPECT_EQ(down.json()["error"]["code"], "service_unavailable");
  EXPECT_TRUE(eventually([&] { return api.request("GET", "/readyz").status == 503; }, 10s));
  // Webhook management does not need Kafka.
  EXPECT_EQ(api.request("GET", "/v1/webhooks", key.key).status, 200);
}

TEST(ApiResilience, SigtermStopsCleanly) {
  RedisServer redis;
  KafkaCluster kafka;
  ApiServer api(api_env(redis, kafka));
  const auto key = api.create_key("acme", kAllScopes);
  ASSERT_EQ(api.request("GET", "/v1/webhooks", key.key).status, 200);
  const int idle = connect_to(api.port());
  EXPECT_EQ(api.terminate(), 0) << api.process().output();
  ::close(idle);
}

TEST(ApiResilience, BadConfigStopsWithAMessageNamingIt) {
  ProcessOptions options;
  options.env = {{"HOOKSTREAM_API_LISTEN", "not-an-address"}};
  const auto r = run_command({binary_path("hookstream-api").string()}, {}, 10s, options);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("HOOKSTREAM_API_LISTEN"), std::string::npos) << r.err;
  // The API sends test pings with the delivery timeout and redeliveries to the first retry tier:
  // it refuses what the dispatchers refuse.
  for (const auto& [name, value] :
       std::vector<std::pair<std::string, std::string>>{{"HOOKSTREAM_DELIVERY_TIMEOUT", "0s"},
                                                        {"HOOKSTREAM_DELIVERY_TIMEOUT", "10m"},
                                                        {"HOOKSTREAM_RETRY_SCHEDULE", "0ms,1s"}}) {
    options.env = {{name, value}};
    const auto refused = run_command({binary_path("hookstream-api").string()}, {}, 10s, options);
    EXPECT_EQ(refused.exit_code, 2) << name << "=" << value;
    EXPECT_NE(refused.err.find(name), std::string::npos) << refused.err;
  }
}

TEST(ApiResilience, PortInUseIsAClearError) {
  RedisServer redis;
  KafkaCluster kafka;
  const auto env = api_env(redis, kafka);
  ApiServer api(env);
  ProcessOptions options;
  options.env = env;
  options.env["HOOKSTREAM_API_LISTEN"] = "127.0.0.1:" + std::to_string(api.port());
  const auto r = run_command({binary_path("hookstream-api").string()}, {}, 10s, options);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("HOOKSTREAM_API_LISTEN"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace hookstream::testing
