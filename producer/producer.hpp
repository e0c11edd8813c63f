#pragma once
// hookstream::Producer: validates events against the catalog and limits, fills id and time, and
// publishes them to <prefix>.events in CloudEvents binary mode (SPEC §2, §5), idempotently with
// acks=all. Services that publish straight to Kafka link this library.
#include <functional>
#include <memory>

#include "common/clock.hpp"
#include "common/config.hpp"
#include "common/event.hpp"
#include "common/ids.hpp"
#include "common/kafka/producer.hpp"
#include "common/result.hpp"

namespace hookstream {

struct ProducerConfig {
  KafkaConfig kafka;
  EventsConfig events;
  LogConfig log;
  // How long a publish may wait for the broker's acknowledgement before it fails.
  Millis publish_timeout{10'000};
};

// Reads HOOKSTREAM_* values (SPEC §6) for producers; fails naming every bad value.
Result<ProducerConfig> load_producer_config(const ConfigSource& source);

enum class PublishErrc {
  invalid_event,    // refused by validation; `field` says which input
  event_too_large,  // data over HOOKSTREAM_MAX_EVENT_BYTES
  broker,           // the broker did not acknowledge within the timeout, or refused
};

struct PublishError {
  PublishErrc code;
  std::string field;  // for invalid_event / event_too_large
  std::string message;
};

struct Published {
  Event event;
  kafka::DeliveryReport report;
};

class Producer {
 public:
  static Result<std::unique_ptr<Producer>> create(const ProducerConfig& config, const Clock& clock,
                                                  Random& random);

  // Validates and completes an event without publishing it.
  Result<Event, PublishError> prepare(EventInput input) const;

  // Publishes a prepared event; `done` is called exactly once, on the Kafka client's thread.
  void publish(Event event, std::function<void(Result<Published, PublishError>)> done);

  // Blocking convenience for scripts and tests: prepare + publish + wait for the ack.
  Result<Published, PublishError> publish_sync(EventInput input);

  // Waits until every publish has been acknowledged or failed, up to `timeout`.
  Result<void> flush(Millis timeout);

 private:
  Producer(const ProducerConfig& config, const Clock& clock, Random& random,
           std::unique_ptr<kafka::Producer> kafka);

  ProducerConfig config_;
  const Clock& clock_;
  IdGenerator ids_;
  EventCatalog catalog_;
  std::unique_ptr<kafka::Producer> kafka_;
};

}  // namespace hookstream
