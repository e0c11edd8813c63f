#include "dispatcher/engine.hpp"

namespace hookstream::dispatcher {

Engine::Engine(asio::any_io_executor executor, const DispatcherConfig& config, EngineDeps deps,
               RecordDone on_done, FlowControl flow, RecordAbandoned on_abandon,
               WaitingChange on_waiting)
    : context_(std::move(executor), config, deps, std::move(on_done), std::move(flow),
               std::move(on_abandon), std::move(on_waiting)),
      dead_letters_(context_),
      retry_scheduler_(context_),
      attempts_(context_, retry_scheduler_, dead_letters_),
      fan_out_(context_, attempts_, dead_letters_),
      retry_queues_(context_, attempts_, dead_letters_) {}

void Engine::handle(kafka::Record record) {
  if (context_.stopping) {
    context_.abandon({record.topic, record.partition}, record.offset);
    return;
  }
  auto shared = std::make_shared<const kafka::Record>(std::move(record));
  if (RetryQueues::is_retry_topic(context_.config, shared->topic))
    retry_queues_.handle(std::move(shared));
  else
    context_.spawn(fan_out_.run(std::move(shared)), "event");
}

void Engine::drop_partitions(const std::vector<kafka::TopicPartition>& partitions) {
  retry_queues_.drop(partitions);
}

void Engine::stop() {
  context_.stopping = true;
  attempts_.stop();
  context_.pending_deliveries.evict_waiters(0);
  retry_queues_.stop();
}

}  // namespace hookstream::dispatcher
