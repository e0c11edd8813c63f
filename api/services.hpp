#pragma once
// What request handlers work with. Built once by the server (api/app.cpp), passed by reference.
// Redis is reached only through the stores (common/store/): handlers send no commands of their own.
#include <atomic>
#include <optional>
#include <vector>

#include "api/auth.hpp"
#include "api/config.hpp"
#include "api/metrics.hpp"
#include "api/rate_limit.hpp"
#include "api/router.hpp"
#include "api/validation.hpp"
#include "common/event.hpp"
#include "common/http/delivery_client.hpp"
#include "common/ids.hpp"
#include "common/kafka/producer.hpp"
#include "common/store/api_keys.hpp"
#include "common/store/delivery_log.hpp"
#include "common/store/idempotency.hpp"
#include "common/store/webhook_stats.hpp"
#include "common/store/webhooks.hpp"

namespace hookstream::api {

struct Services {
  const ApiConfig& config;
  const Clock& clock;
  Random& random;
  kafka::Producer& producer;
  store::ApiKeyStore& keys;
  store::WebhookStore& webhooks;
  store::DeliveryLog& deliveries;
  store::IdempotencyKeys& idempotency;
  store::WebhookStats& stats;
  hookstream::http::DeliveryClient& http;
  Authenticator& auth;
  RateLimiter& limiter;
  Metrics& metrics;
  const EventCatalog& catalog;
  const IdGenerator& ids;
  ValidationRules rules;
  std::atomic<bool>& kafka_reachable;  // kept fresh by a background probe
};

struct RequestContext {
  Request& req;
  Target target;
  std::vector<std::string> params;
  std::optional<store::ApiKey> key;  // set for every route that needs one
  Services& services;

  const std::string& tenant() const { return key->tenant; }
  const std::string& param(std::size_t i) const { return params.at(i); }
};

// Handlers register their routes here.
void add_webhook_routes(Router& router);
void add_event_routes(Router& router);
void add_api_key_routes(Router& router);
void add_meta_routes(Router& router);
void add_delivery_routes(Router& router);
void add_portal_session_routes(Router& router);
void add_portal_routes(Router& router);

// An API key as the API and the admin CLI show it (never the secret).
nlohmann::json api_key_json(const store::ApiKey& key);

// The store's failure as the API's.
ApiError to_api_error(const store::StoreError& e, std::string_view what);

}  // namespace hookstream::api
