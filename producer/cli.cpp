#include "producer/cli.hpp"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <optional>

#include "producer/producer.hpp"

namespace hookstream {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;

struct Flags {
  std::optional<std::string> config_file;
  std::optional<std::string> brokers;
  std::optional<std::string> tenant;
  std::optional<std::string> type;
  std::optional<std::string> data;
  std::optional<std::string> id;
  std::optional<std::string> source;
  std::optional<std::string> timeout;
};

// Parses one NDJSON line into an EventInput; the error names the field.
Result<EventInput, std::string> parse_line(const std::string& line) {
  const auto doc = nlohmann::json::parse(line, nullptr, false);
  if (doc.is_discarded()) return fail(std::string("not valid JSON"));
  if (!doc.is_object()) return fail(std::string("expected a JSON object"));
  EventInput in;
  for (const auto& [key, value] : doc.items()) {
    if (key == "data") {
      if (!value.is_object()) return fail(std::string("data: must be a JSON object"));
      in.data = value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    } else if (key == "tenant" || key == "type" || key == "id" || key == "source") {
      if (!value.is_string()) return fail(key + ": must be a string");
      const auto& text = value.get_ref<const std::string&>();
      if (key == "tenant")
        in.tenant = text;
      else if (key == "type")
        in.type = text;
      else if (key == "id")
        in.id = text;
      else
        in.source = text;
    } else {
      return fail(key + ": unknown field (expected tenant, type, data, id, source)");
    }
  }
  for (auto [name, value] : {std::pair{"tenant", &in.tenant}, {"type", &in.type}})
    if (value->empty()) return fail(std::string(name) + ": required");
  if (!doc.contains("data")) return fail(std::string("data: required"));
  return in;
}

// Tracks outstanding publishes so the CLI can report each and wait for all.
class Outcomes {
 public:
  Outcomes(std::ostream& out, std::ostream& err) : out_(out), err_(err) {}

  void started() {
    std::lock_guard lock(mu_);
    ++pending_;
  }
  void finished(std::size_t line, const Result<Published, PublishError>& r) {
    std::lock_guard lock(mu_);
    if (r) {
      out_ << nlohmann::json{{"line", line},
                             {"id", r->event.id},
                             {"type", r->event.type},
                             {"tenant", r->event.tenant},
                             {"partition", r->report.partition},
                             {"offset", r->report.offset}}
                  .dump()
           << '\n';
      ++published_;
    } else {
      report_locked(line, "publish failed: " + r.error().message);
    }
    --pending_;
    cv_.notify_all();
  }
  void rejected(std::size_t line, const std::string& why) {
    std::lock_guard lock(mu_);
    report_locked(line, why);
  }
  // Waits for every publish to be answered; the producer's own timeout bounds the wait.
  void wait_all() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return pending_ == 0; });
  }
  std::size_t failed() const {
    std::lock_guard lock(mu_);
    return failed_;
  }
  std::size_t published() const {
    std::lock_guard lock(mu_);
    return published_;
  }

 private:
  void report_locked(std::size_t line, const std::string& why) {
    if (line == 0)
      err_ << "hookstream-produce: " << why << '\n';
    else
      err_ << "hookstream-produce: line " << line << ": " << why << '\n';
    ++failed_;
  }
  std::ostream& out_;
  std::ostream& err_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::size_t pending_ = 0;
  std::size_t published_ = 0;
  std::size_t failed_ = 0;
};

std::string describe(const PublishError& e) {
  return e.field.empty() ? e.message : e.field + ": " + e.message;
}

}  // namespace

int run_produce_cli(int argc, char** argv, std::istream& in, std::ostream& out, std::ostream& err) {
  CLI::App app{
      "Publish events to hookstream's Kafka topic (CloudEvents binary mode).\n"
      "One event from flags, or NDJSON on stdin: one "
      "{\"tenant\":…,\"type\":…,\"data\":{…},\"id\"?:…} a line.",
      "hookstream-produce"};
  Flags f;
  app.add_option("--tenant", f.tenant, "tenant id");
  app.add_option("--type", f.type, "event type, from the catalog");
  app.add_option("--data", f.data, "event data, a JSON object");
  app.add_option("--id", f.id, "event id (default: a new evt_… id)");
  app.add_option("--source", f.source, "CloudEvents source (default: hookstream)");
  app.add_option("--brokers", f.brokers, "Kafka bootstrap list (HOOKSTREAM_KAFKA_BROKERS)");
  app.add_option("--timeout", f.timeout,
                 "how long to wait for the broker (HOOKSTREAM_PRODUCE_TIMEOUT)");
  app.add_option("--config", f.config_file, "config file of HOOKSTREAM_* settings");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e, out, err) == 0 ? kExitOk : kExitUsage;
  }

  const bool from_flags = f.tenant || f.type || f.data || f.id || f.source;
  if (from_flags && (!f.tenant || !f.type || !f.data)) {
    err << "hookstream-produce: one event from flags needs --tenant, --type and --data "
           "(or give no event flags and pipe NDJSON on stdin)\n";
    return kExitUsage;
  }

  auto source = ConfigSource::for_process(f.config_file);
  if (!source) {
    err << "hookstream-produce: " << source.error().message << '\n';
    return kExitUsage;
  }
  if (f.brokers) source->set("HOOKSTREAM_KAFKA_BROKERS", *f.brokers);
  if (f.timeout) source->set("HOOKSTREAM_PRODUCE_TIMEOUT", *f.timeout);
  auto config = load_producer_config(*source);
  if (!config) {
    err << "hookstream-produce: " << config.error().message << '\n';
    return kExitUsage;
  }
  log::init("produce", config->log.level);

  SystemClock clock;
  SecureRandom random;
  auto producer = Producer::create(*config, clock, random);
  if (!producer) {
    err << "hookstream-produce: " << producer.error().message << '\n';
    return kExitUsage;
  }

  Outcomes outcomes(out, err);
  auto publish = [&](std::size_t line, EventInput input) {
    auto event = (*producer)->prepare(std::move(input));
    if (!event) {
      outcomes.rejected(line, describe(event.error()));
      return;
    }
    outcomes.started();
    (*producer)->publish(std::move(*event), [&outcomes, line](Result<Published, PublishError> r) {
      outcomes.finished(line, r);
    });
  };

  if (from_flags) {
    publish(
        0,
        EventInput{
            .tenant = *f.tenant, .type = *f.type, .data = *f.data, .id = f.id, .source = f.source});
  } else {
    std::string line;
    std::size_t lineno = 0;
    while (std::getline(in, line)) {
      ++lineno;
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
      auto input = parse_line(line);
      if (!input) {
        outcomes.rejected(lineno, input.error());
        continue;
      }
      publish(lineno, std::move(*input));
    }
  }
  (void)(*producer)->flush(config->publish_timeout);
  outcomes.wait_all();
  if (outcomes.failed() > 0) {
    if (!from_flags)
      err << "hookstream-produce: " << outcomes.published() << " published, " << outcomes.failed()
          << " failed\n";
    return kExitFailed;
  }
  return kExitOk;
}

}  // namespace hookstream
