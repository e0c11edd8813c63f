// The first five minutes of a new user: ./scripts/run (with a temp data dir and free ports) reaches
// a ready stack, the three commands of its banner work as printed, the receiver shows a verified
// delivery, SIGTERM stops everything, a restart keeps the key and the webhook, and a child that
// dies stops the whole stack with its log.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "tests/fixtures/http_client.hpp"
#include "tests/fixtures/kafka_cluster.hpp"
#include "tests/fixtures/process.hpp"

namespace hookstream::testing {
namespace {

using nlohmann::json;

// local.env as the shell reads it: `source` it and print the environment it exported.
std::map<std::string, std::string> read_env_file(const std::filesystem::path& file) {
  const auto r = run_command(
      {"env", "-i", "bash", "-c", "set -eu; source \"$1\"; env", "bash", file.string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::map<std::string, std::string> out;
  std::istringstream in(r.out);
  for (std::string line; std::getline(in, line);)
    if (const auto eq = line.find('='); eq != std::string::npos && line.starts_with("HOOKSTREAM_"))
      out[line.substr(0, eq)] = line.substr(eq + 1);
  return out;
}

// The banner's copy-paste commands: the lines that start with "  $ ".
std::vector<std::string> banner_commands(const std::string& output) {
  std::vector<std::string> out;
  std::istringstream in(output);
  for (std::string line; std::getline(in, line);)
    if (line.starts_with("  $ ")) out.push_back(line.substr(4));
  return out;
}

std::vector<pid_t> children_of(pid_t parent) {
  std::vector<pid_t> out;
  const auto r = run_command({"pgrep", "-P", std::to_string(parent)});
  std::istringstream in(r.out);
  for (pid_t pid = 0; in >> pid;) out.push_back(pid);
  return out;
}

std::string comm_of(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/comm");
  std::string name;
  std::getline(in, name);
  return name;
}

bool alive(pid_t pid) {
  return ::kill(pid, 0) == 0;
}

bool port_free(std::uint16_t port) {
  const int fd = bind_loopback(port);
  if (fd >= 0) ::close(fd);
  return fd >= 0;
}

class Quickstart : public ::testing::Test {
 protected:
  Quickstart()
      : redis_port_(free_port()),
        api_port_(free_port()),
        sink_port_(free_port()),
        kafka_port_(free_port()) {}

  // ./scripts/run on the temp data dir and this test's ports, with the prebuilt binaries.
  ProcessOptions stack_options() const {
    ProcessOptions options;
    options.env = {
        {"HOOKSTREAM_HOME", home_.path().string()},
        {"HOOKSTREAM_BIN_DIR", std::string(HOOKSTREAM_BIN_DIR)},
        {"HOOKSTREAM_REDIS_URL", "redis://127.0.0.1:" + std::to_string(redis_port_) + "/0"},
        {"HOOKSTREAM_API_LISTEN", "127.0.0.1:" + std::to_string(api_port_)},
        {"HOOKSTREAM_SINK_LISTEN", "127.0.0.1:" + std::to_string(sink_port_)},
        {"HOOKSTREAM_KAFKA_PORT", std::to_string(kafka_port_)},
        // Quicker consumer-group rebalances.
        {"HOOKSTREAM_RDKAFKA_SESSION_TIMEOUT_MS", "3000"},
        {"HOOKSTREAM_RDKAFKA_HEARTBEAT_INTERVAL_MS", "500"}};
    // HOOKSTREAM_SECRET_KEYS too: ./scripts/run must generate its own local keyring.
    options.unset_env = {"HOOKSTREAM_KAFKA_BROKERS", "HOOKSTREAM_DISPATCHERS",
                         "HOOKSTREAM_SECRET_KEYS"};
    return options;
  }

  static std::vector<std::string> run_script() {
    return {"bash", std::string(HOOKSTREAM_SOURCE_DIR) + "/scripts/run"};
  }

  std::unique_ptr<Process> start_stack() {
    auto stack = std::make_unique<Process>(run_script(), stack_options());
    const auto ready = stack->wait_for_output("Ctrl-C stops everything", 120s);
    EXPECT_TRUE(ready) << stack->output();
    return stack;
  }

  std::map<std::string, std::string> local_env() const {
    return read_env_file(home_.path() / "local.env");
  }

  // The Kafka JVM that scripts/kafka started for the stack (its pid file).
  pid_t kafka_jvm() const {
    std::ifstream in(home_.path() / "kafka" / "node-1" / "pid");
    pid_t pid = -1;
    in >> pid;
    return pid;
  }

  // SIGTERM; every child (and the Kafka JVM) is gone and every port is free again.
  void stop_cleanly(Process& stack) {
    const auto children = children_of(stack.pid());
    EXPECT_GE(children.size(), 6u) << "redis, kafka, api, sink, 2 dispatchers";
    const pid_t jvm = kafka_jvm();
    EXPECT_TRUE(jvm > 0 && alive(jvm)) << "no Kafka JVM";
    EXPECT_EQ(stack.terminate(60s), 0) << stack.output();
    for (const pid_t pid : children) EXPECT_FALSE(alive(pid)) << "left running: " << pid;
    if (jvm > 0) {
      EXPECT_FALSE(alive(jvm)) << "the Kafka JVM was left running";
    }
    for (const auto port : {redis_port_, api_port_, sink_port_, kafka_port_})
      EXPECT_TRUE(eventually([&] { return port_free(port); }, 5s)) << "port " << port;
  }

  // Records on the stack's events topic, read from its start by an independent client.
  std::size_t events_on_topic() const {
    const auto read =
        run_command({"kcat", "-b", "127.0.0.1:" + std::to_string(kafka_port_), "-C", "-t",
                     "hookstream.events", "-o", "beginning", "-e", "-q", "-f", "%o\\n"},
                    {}, 60s);
    EXPECT_EQ(read.exit_code, 0) << read.err;
    return static_cast<std::size_t>(std::count(read.out.begin(), read.out.end(), '\n'));
  }

  TempDir home_;
  std::uint16_t redis_port_, api_port_, sink_port_, kafka_port_;
};

TEST_F(Quickstart, BannerCommandsDeliverAVerifiedEventAndRestartKeepsState) {
  auto stack = start_stack();
  ASSERT_FALSE(HasFailure());
  const auto env = local_env();
  for (const char* name : {"HOOKSTREAM_API_URL", "HOOKSTREAM_ADMIN_KEY", "HOOKSTREAM_KAFKA_BROKERS",
                           "HOOKSTREAM_REDIS_URL"})
    EXPECT_FALSE(env.contains(name) ? env.at(name).empty() : true) << name << " in local.env";

  const auto commands = banner_commands(stack->output());
  ASSERT_EQ(commands.size(), 3u) << stack->output();
  // The banner names each dispatcher's /metrics (a free port each), which serves the SPEC's
  // metrics.
  std::vector<std::string> metrics_urls;
  {
    std::istringstream banner(stack->output());
    for (std::string word; banner >> word;)
      if (word.starts_with("http://127.0.0.1:") && word.ends_with("/metrics") &&
          word.find(":" + std::to_string(api_port_) + "/") == std::string::npos)
        metrics_urls.push_back(word);
  }
  ASSERT_EQ(metrics_urls.size(), 2u) << stack->output();
  // The lag gauge is reported within a second of joining the group.
  for (const auto& url : metrics_urls) {
    std::string page;
    EXPECT_TRUE(eventually(
        [&] {
          page = run_command({"curl", "-sf", url}, {}, 10s).out;
          return page.find("hookstream_consumer_lag{") != std::string::npos;
        },
        10s))
        << url << "\n"
        << page;
  }
  // The banner's portal link: the page, and a token of the local tenant in its fragment.
  {
    std::string link;
    std::istringstream banner(stack->output());
    for (std::string word; banner >> word;)
      if (word.find("/portal/#token=hsp_") != std::string::npos) link = word;
    ASSERT_FALSE(link.empty()) << stack->output();
    const auto page = run_command({"curl", "-sf", link.substr(0, link.find('#'))}, {}, 10s);
    EXPECT_NE(page.out.find("app.js"), std::string::npos) << page.out;
    const auto token = link.substr(link.find("#token=") + 7);
    const auto listed = run_command(
        {"curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-H",
         "authorization: Bearer " + token, link.substr(0, link.find("/portal/")) + "/v1/webhooks"},
        {}, 10s);
    EXPECT_EQ(listed.out, "200");
  }
  // Steps 1 and 2 in one shell, as a user pastes them; the shell reports the webhook id.
  const auto created = run_command(
      {"bash", "-c", commands[0] + "\n" + commands[1] + "\necho \"id=$WEBHOOK_ID\""}, {}, 30s);
  ASSERT_EQ(created.exit_code, 0) << created.out << created.err;
  const auto at = created.out.find("id=wh_");
  ASSERT_NE(at, std::string::npos) << created.out;
  const std::string webhook_id = created.out.substr(at + 3, created.out.find('\n', at) - at - 3);
  EXPECT_NE(created.out.find("\"evt_"), std::string::npos) << "the publish answer: " << created.out;

  // The receiver (its output streams under the banner) verified the signed delivery.
  const auto delivered = stack->wait_for_line(
      [](const std::string& l) {
        return l.find("submission.completed") != std::string::npos &&
               l.find("verified") != std::string::npos;
      },
      30s);
  ASSERT_TRUE(delivered) << stack->output();

  // Step 3 lists it as succeeded (the dispatcher records the attempt right after the answer).
  json deliveries;
  ASSERT_TRUE(eventually(
      [&] {
        const auto listed =
            run_command({"bash", "-c", "WEBHOOK_ID=" + webhook_id + "\n" + commands[2]}, {}, 30s);
        if (listed.exit_code != 0) return false;
        deliveries = json::parse(listed.out, nullptr, false);
        if (deliveries.is_discarded()) return false;
        const auto list = deliveries["data"]["deliveries"];
        return list.size() == 1 && list[0].value("status", "") == "succeeded";
      },
      15s))
      << deliveries.dump();

  // A service publishing with hookstream-produce, in a shell that sourced local.env (which must
  // export the brokers for it to find the stack's Kafka).
  ProcessOptions produce_options;
  produce_options.unset_env = {"HOOKSTREAM_KAFKA_BROKERS"};
  const auto produced = run_command(
      {"bash", "-c",
       "source \"$1\" && \"$2\"/hookstream-produce --tenant local --type submission.completed "
       "--data '{\"via\":\"produce\"}'",
       "bash", (home_.path() / "local.env").string(), std::string(HOOKSTREAM_BIN_DIR)},
      {}, 30s, produce_options);
  ASSERT_EQ(produced.exit_code, 0) << produced.out << produced.err;
  ASSERT_TRUE(stack->wait_for_line(
      [](const std::string& l) {
        return l.find("\"via\":\"produce\"") != std::string::npos &&
               l.find("verified") != std::string::npos;
      },
      30s))
      << stack->output();

  // Two events so far (the banner's and hookstream-produce's).
  EXPECT_EQ(events_on_topic(), 2u);
  stop_cleanly(*stack);

  // A restart keeps the admin key and the webhook (Redis AOF in the data dir), and Kafka keeps the
  // first run's events (its data dir).
  const std::string key = env.at("HOOKSTREAM_ADMIN_KEY");
  auto again = start_stack();
  ASSERT_FALSE(HasFailure());
  EXPECT_EQ(local_env().at("HOOKSTREAM_ADMIN_KEY"), key);
  EXPECT_EQ(events_on_topic(), 2u) << "the events topic lost the first run's events";
  HttpRequest get_webhook;
  get_webhook.target = "/v1/webhooks/" + webhook_id;
  get_webhook.headers = {{"authorization", "Bearer " + key}};
  const auto got = http_request("127.0.0.1", api_port_, get_webhook);
  EXPECT_EQ(got.status, 200) << got.body;

  // A child that dies stops the whole stack, naming it and showing its log.
  const auto children = children_of(again->pid());
  pid_t api = -1;
  for (const pid_t pid : children)
    if (comm_of(pid) == "hookstream-api") api = pid;
  ASSERT_GT(api, 0);
  ::kill(api, SIGKILL);
  const auto code = again->wait(60s);
  ASSERT_TRUE(code) << again->output();
  EXPECT_EQ(*code, 1);
  EXPECT_NE(again->output().find("api exited"), std::string::npos) << again->output();
  for (const pid_t pid : children) EXPECT_FALSE(alive(pid)) << "left running: " << pid;
}

TEST_F(Quickstart, HookstreamKafkaBrokersReplacesTheLocalKafka) {
  // A Kafka the user runs (here the tests' Apache Kafka, with this test's topics made): the stack
  // uses it and starts none of its own.
  KafkaCluster external;
  auto options = stack_options();
  for (const auto& [name, value] : external.env()) options.env[name] = value;
  std::erase(options.unset_env, "HOOKSTREAM_KAFKA_BROKERS");
  auto stack = std::make_unique<Process>(run_script(), options);
  ASSERT_TRUE(stack->wait_for_output("Ctrl-C stops everything", 120s)) << stack->output();
  EXPECT_NE(stack->output().find(external.bootstrap() + " (external)"), std::string::npos)
      << stack->output();
  EXPECT_EQ(local_env().at("HOOKSTREAM_KAFKA_BROKERS"), external.bootstrap());
  for (const pid_t pid : children_of(stack->pid()))
    EXPECT_TRUE(comm_of(pid) != "kafka" && comm_of(pid) != "java") << "a local Kafka was started";

  const auto commands = banner_commands(stack->output());
  ASSERT_EQ(commands.size(), 3u) << stack->output();
  const auto created = run_command({"bash", "-c", commands[0] + "\n" + commands[1]}, {}, 30s);
  ASSERT_EQ(created.exit_code, 0) << created.out << created.err;
  EXPECT_TRUE(stack->wait_for_line(
      [](const std::string& l) { return l.find("signature=verified") != std::string::npos; }, 30s))
      << stack->output();
  EXPECT_EQ(stack->terminate(60s), 0) << stack->output();

  // A Kafka that does not answer (a shell that sourced an old local.env) is named, not waited for.
  options.env["HOOKSTREAM_KAFKA_BROKERS"] = "127.0.0.1:" + std::to_string(free_port());
  const auto refused = run_command(run_script(), {}, 30s, options);
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.err.find("does not answer"), std::string::npos) << refused.err;
}

TEST_F(Quickstart, PortInUseIsNamedWithTheVariableToChange) {
  // Hold the API port; the script must refuse before starting anything.
  const int fd = bind_loopback(api_port_);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::listen(fd, 1), 0);
  const auto r = run_command(run_script(), {}, 30s, stack_options());
  ::close(fd);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("port " + std::to_string(api_port_) + " is in use"), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("HOOKSTREAM_API_LISTEN"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace hookstream::testing
