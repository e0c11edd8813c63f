#include "dispatcher/app.hpp"

#include <CLI/CLI.hpp>

#include <iostream>

#include "common/http/server.hpp"
#include "common/log.hpp"
#include "dispatcher/consumer_loop.hpp"
#include "dispatcher/metrics.hpp"
#include "dispatcher/offset_tracker.hpp"
#include "dispatcher/shard.hpp"
#include "dispatcher/topics_command.hpp"

namespace hookstream::dispatcher {

int run(const DispatcherConfig& config) {
  SystemClock clock;
  SecureRandom random;

  kafka::ProducerOptions producer_options;
  producer_options.client_id = "hookstream-dispatcher-" + config.instance_id;
  auto producer = kafka::Producer::create(config.kafka, producer_options);
  if (!producer) {
    std::cerr << "hookstream-dispatcher: " << producer.error().message << '\n';
    return 2;
  }
  Metrics metrics;
  std::vector<std::unique_ptr<Shard>> shards;
  std::vector<Shard*> shard_list;
  for (std::size_t i = 0; i < config.shards; ++i) {
    auto shard = Shard::create(config, config.shards, {**producer, metrics, clock, random});
    if (!shard) {
      std::cerr << "hookstream-dispatcher: " << shard.error().message << '\n';
      return 2;
    }
    shard_list.push_back(shard->get());
    shards.push_back(std::move(*shard));
  }
  OffsetTracker offsets;
  ConsumerLoop loop(config, shard_list, offsets, metrics);
  for (auto& shard : shards)
    shard->connect(
        [&](const kafka::TopicPartition& tp, std::int64_t offset) { loop.record_done(tp, offset); },
        [&](const kafka::TopicPartition& tp, bool pause) { loop.flow(tp, pause); },
        [&](const kafka::TopicPartition& tp, std::int64_t offset) { offsets.abandon(tp, offset); },
        [&](int delta) { loop.waiting_changed(delta); });
  if (auto ok = loop.start(); !ok) {
    std::cerr << "hookstream-dispatcher: " << ok.error().message << '\n';
    return 2;
  }
  // The first shard also serves /metrics and takes the signals.
  auto& io = shards.front()->io();

  // /metrics and /healthz for Prometheus and orchestrators, when HOOKSTREAM_DISPATCHER_LISTEN is
  // set.
  namespace bhttp = http::bhttp;
  std::optional<http::HttpServer> status_server;
  if (config.metrics_listen) {
    auto plain = [](bhttp::status status, std::string content_type, std::string body) {
      http::Response res{status, 11};
      res.set(bhttp::field::content_type, content_type);
      res.body() = std::move(body);
      return res;
    };
    status_server.emplace(
        io, http::HttpServerLimits{},
        [&, plain](http::Request& req) -> asio::awaitable<http::Response> {
          if (req.target() == "/metrics") {
            // Counted in Redis at scrape time; the last figure stays if Redis does not answer.
            auto paused = co_await shards.front()->webhooks().count_paused();
            if (paused) metrics.set_paused_endpoints(*paused);
            co_return plain(bhttp::status::ok, "text/plain; version=0.0.4", metrics.serialize());
          }
          if (req.target() == "/healthz")
            co_return plain(bhttp::status::ok, "application/json", R"({"status":"ok"})");
          co_return plain(bhttp::status::not_found, "application/json", R"({"error":"not found"})");
        },
        [plain](bhttp::status status, std::string_view message) {
          return plain(status, "text/plain", std::string(message));
        });
    auto listening = status_server->listen(*config.metrics_listen);
    if (!listening) {
      std::cerr << "hookstream-dispatcher: HOOKSTREAM_DISPATCHER_LISTEN: "
                << listening.error().message << '\n';
      return 2;
    }
    status_server->start();
    const auto ep = status_server->local_endpoint();
    log::info("metrics listening",
              {{"address", ep.address().to_string() + ":" + std::to_string(ep.port())}});
  }

  loop.run([&] {
    // The consumer has committed and left the group: wind the shards down.
    asio::post(io, [&] {
      if (status_server) status_server->shutdown();
    });
    for (auto& shard : shards) shard->shut_down();
  });
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    log::info("shutting down", {{"signal", sig}});
    loop.request_stop();
  });
  log::info("hookstream-dispatcher started", {{"instance", config.instance_id},
                                              {"group", config.kafka.consumer_group()},
                                              {"topic", config.kafka.events_topic()},
                                              {"shards", config.shards},
                                              {"redis", config.redis.redacted_url()},
                                              {"retry_schedule", [&] {
                                                 std::string s;
                                                 for (auto d : config.retry_schedule)
                                                   s += (s.empty() ? "" : ",") + format_duration(d);
                                                 return s;
                                               }()}});
  for (std::size_t i = 1; i < shards.size(); ++i)
    shards[i]->start_thread("hs-shard-" + std::to_string(i));
  shards.front()->run_here("hs-shard-0");
  for (auto& shard : shards) shard->join();
  loop.join();
  (void)(*producer)->flush(Millis{5000});
  log::info("hookstream-dispatcher stopped");
  return 0;
}

int dispatcher_main(int argc, char** argv) {
  CLI::App app{"hookstream-dispatcher: delivers events from Kafka to subscribed webhooks",
               "hookstream-dispatcher"};
  std::optional<std::string> config_file;
  app.add_option("--config", config_file, "config file of HOOKSTREAM_* settings");
  // --config may also follow the subcommand.
  app.fallthrough();
  TopicsFlags topics_flags;
  auto* topics = add_topics_command(app, topics_flags);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  auto source = ConfigSource::for_process(config_file);
  if (!source) {
    std::cerr << "hookstream-dispatcher: " << source.error().message << '\n';
    return 2;
  }
  if (topics->parsed()) return run_topics_command(*source, topics_flags);
  auto config = load_dispatcher_config(*source);
  if (!config) {
    std::cerr << "hookstream-dispatcher: " << config.error().message << '\n';
    return 2;
  }
  log::init("dispatcher", config->log.level);
  return run(*config);
}

}  // namespace hookstream::dispatcher
