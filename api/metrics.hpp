#pragma once
// The API's Prometheus metrics, served at /metrics.
#include <prometheus/counter.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <memory>
#include <string>

namespace hookstream::api {

class Metrics {
 public:
  Metrics();
  void request(const std::string& route, unsigned status, double seconds);
  void event_published() { events_published_->Increment(); }
  void event_publish_failed() { events_failed_->Increment(); }
  std::string serialize() const;

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>* requests_;
  prometheus::Family<prometheus::Histogram>* latency_;
  prometheus::Counter* events_published_;
  prometheus::Counter* events_failed_;
};

}  // namespace hookstream::api
