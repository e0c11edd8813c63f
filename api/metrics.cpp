#include "api/metrics.hpp"

#include <prometheus/text_serializer.h>

#include <sstream>

namespace hookstream::api {

Metrics::Metrics() : registry_(std::make_shared<prometheus::Registry>()) {
  requests_ = &prometheus::BuildCounter()
                   .Name("hookstream_api_requests_total")
                   .Help("API requests by route pattern and HTTP status")
                   .Register(*registry_);
  latency_ = &prometheus::BuildHistogram()
                  .Name("hookstream_api_request_duration_seconds")
                  .Help("API request latency by route pattern")
                  .Register(*registry_);
  auto& events = prometheus::BuildCounter()
                     .Name("hookstream_api_events_total")
                     .Help("Events accepted by POST /v1/events, by outcome")
                     .Register(*registry_);
  events_published_ = &events.Add({{"outcome", "published"}});
  events_failed_ = &events.Add({{"outcome", "failed"}});
}

void Metrics::request(const std::string& route, unsigned status, double seconds) {
  requests_->Add({{"route", route}, {"status", std::to_string(status)}}).Increment();
  static const prometheus::Histogram::BucketBoundaries kBuckets = {
      0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
  latency_->Add({{"route", route}}, kBuckets).Observe(seconds);
}

std::string Metrics::serialize() const {
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, registry_->Collect());
  return out.str();
}

}  // namespace hookstream::api
