// hookstream-kafka-dev: librdkafka's mock cluster on loopback with hookstream's topics, for fault
// tests that inject broker request errors (everything else runs on Apache Kafka: scripts/kafka).
#include <CLI/CLI.hpp>

#include <charconv>
#include <cstdio>
#include <string_view>

#include "common/config.hpp"
#include "common/log.hpp"
#include "kafka_dev/serve.hpp"

extern char** environ;

namespace {

hookstream::Result<hookstream::kafka::TopicSpec> parse_topic(const std::string& text) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size())
    return hookstream::fail("invalid_topic", "'" + text + "' is not NAME:PARTITIONS");
  int n = 0;
  const auto digits = std::string_view(text).substr(colon + 1);
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  if (ec != std::errc{} || end != digits.data() + digits.size() || n < 1)
    return hookstream::fail("invalid_topic",
                            "'" + text + "': partitions must be a positive integer");
  return hookstream::kafka::TopicSpec{text.substr(0, colon), n};
}

}  // namespace

int main(int argc, char** argv) {
  // Before any thread exists, so every thread inherits the mask and only sigwait sees them.
  hookstream::kafka_dev::block_stop_signals();

  hookstream::kafka_dev::ServeOptions options;
  std::vector<std::string> topic_args;
  std::string bootstrap_file;
  CLI::App app{"Embedded Kafka-protocol cluster (librdkafka mock) with hookstream's topics"};
  app.add_option("--brokers", options.brokers, "number of brokers")->check(CLI::Range(1, 16));
  app.add_option("--events-partitions", options.events_partitions,
                 "partitions of <prefix>.events (each keeps at most 5 MiB)")
      ->check(CLI::Range(1, 10000));
  app.add_option("--partitions", options.partitions, "partitions of the other topics")
      ->check(CLI::Range(1, 10000));
  app.add_option("--topic", topic_args, "extra topic NAME:PARTITIONS (repeatable)");
  app.add_option("--bootstrap-file", bootstrap_file, "write the bootstrap list here once ready");
  app.add_flag("--control-stdin", options.control_stdin,
               "read fault-injection commands from stdin (broker down|up ID, rtt ID MS, errors "
               "API COUNT ERROR, clear API); each is answered on stdout");
  CLI11_PARSE(app, argc, argv);

  for (const auto& t : topic_args) {
    auto spec = parse_topic(t);
    if (!spec) {
      std::fprintf(stderr, "--topic: %s\n", spec.error().message.c_str());
      return 2;
    }
    options.extra_topics.push_back(*spec);
  }
  if (!bootstrap_file.empty()) options.bootstrap_file = bootstrap_file;

  auto source = hookstream::ConfigSource::load(std::nullopt, environ);
  if (!source) {
    std::fprintf(stderr, "%s\n", source.error().message.c_str());
    return 2;
  }
  hookstream::ConfigReader reader(*source);
  const auto log_config = hookstream::read_log(reader);
  options.kafka = hookstream::read_kafka(reader);
  options.retry_schedule = hookstream::read_retry_schedule(reader);
  if (auto ok = reader.finish(); !ok) {
    std::fprintf(stderr, "%s\n", ok.error().message.c_str());
    return 2;
  }
  hookstream::log::init("kafka-dev", log_config.level);
  return hookstream::kafka_dev::serve(options);
}
