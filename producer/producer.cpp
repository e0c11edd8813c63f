#include "producer/producer.hpp"

#include <future>
#include <thread>

#include "common/cloudevents.hpp"

namespace hookstream {

Result<ProducerConfig> load_producer_config(const ConfigSource& source) {
  ConfigReader r(source);
  ProducerConfig cfg;
  cfg.kafka = read_kafka(r);
  cfg.events = read_events(r);
  cfg.log = read_log(r);
  cfg.publish_timeout = r.duration("HOOKSTREAM_PRODUCE_TIMEOUT", Millis{10'000});
  if (cfg.publish_timeout < Millis{100})
    r.problem("HOOKSTREAM_PRODUCE_TIMEOUT", "must be at least 100ms");
  if (auto ok = r.finish(); !ok) return fail(std::move(ok).error());
  return cfg;
}

Producer::Producer(const ProducerConfig& config, const Clock& clock, Random& random,
                   std::unique_ptr<kafka::Producer> kafka)
    : config_(config),
      clock_(clock),
      ids_(clock, random),
      catalog_(config.events.catalog),
      kafka_(std::move(kafka)) {}

Result<std::unique_ptr<Producer>> Producer::create(const ProducerConfig& config, const Clock& clock,
                                                   Random& random) {
  kafka::ProducerOptions options;
  options.delivery_timeout = config.publish_timeout;
  options.client_id = "hookstream-producer";
  auto kafka = kafka::Producer::create(config.kafka, options);
  if (!kafka) return fail(std::move(kafka).error());
  return std::unique_ptr<Producer>(new Producer(config, clock, random, std::move(*kafka)));
}

Result<Event, PublishError> Producer::prepare(EventInput input) const {
  auto event = make_event(std::move(input), config_.events, catalog_, ids_, clock_);
  if (!event) {
    auto problem = std::move(event).error();
    return fail(
        PublishError{problem.too_large ? PublishErrc::event_too_large : PublishErrc::invalid_event,
                     std::move(problem.field), std::move(problem.message)});
  }
  return std::move(*event);
}

void Producer::publish(Event event, std::function<void(Result<Published, PublishError>)> done) {
  auto record = cloudevents::encode_binary(event, config_.kafka.events_topic());
  auto on_delivery = [event = std::move(event),
                      done](Result<kafka::DeliveryReport> report) mutable {
    if (!report) {
      done(fail(PublishError{PublishErrc::broker, {}, report.error().message}));
      return;
    }
    done(Published{std::move(event), std::move(*report)});
  };
  // The local queue can fill when publishing faster than the broker acknowledges; waiting for
  // acknowledgements frees it, so retry until the publish timeout rather than failing at once.
  const auto deadline = std::chrono::steady_clock::now() + config_.publish_timeout;
  for (;;) {
    auto queued = kafka_->produce(record, on_delivery);
    if (queued) return;
    if (!kafka::is_queue_full(queued.error()) || std::chrono::steady_clock::now() >= deadline) {
      done(fail(PublishError{PublishErrc::broker, {}, queued.error().message}));
      return;
    }
    (void)kafka_->flush(Millis{50});
  }
}

Result<Published, PublishError> Producer::publish_sync(EventInput input) {
  auto event = prepare(std::move(input));
  if (!event) return fail(std::move(event).error());
  std::promise<Result<Published, PublishError>> promise;
  auto future = promise.get_future();
  publish(std::move(*event),
          [&promise](Result<Published, PublishError> r) { promise.set_value(std::move(r)); });
  return future.get();
}

Result<void> Producer::flush(Millis timeout) {
  return kafka_->flush(timeout);
}

}  // namespace hookstream
