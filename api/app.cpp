#include "api/app.hpp"

#include <CLI/CLI.hpp>

#include <iostream>
#include <thread>

#include "common/log.hpp"

namespace hookstream::api {
namespace {

using nlohmann::json;

void add_rate_limit_headers(Response& res, const RateLimitDecision& d) {
  res.set("X-RateLimit-Limit", std::to_string(d.limit));
  res.set("X-RateLimit-Remaining", std::to_string(d.remaining));
  res.set("X-RateLimit-Reset", std::to_string(d.reset_at));
}

Response refusal(http::status status, std::string_view message) {
  ApiErrc code = ApiErrc::validation_failed;
  if (status == http::status::payload_too_large)
    code = ApiErrc::payload_too_large;
  else if (status == http::status::request_header_fields_too_large)
    code = ApiErrc::headers_too_large;
  else if (status == http::status::internal_server_error)
    code = ApiErrc::internal_error;
  return error_response({code, std::string(message)});
}

asio::awaitable<Response> dispatch(const Router& router, Services& s, Request& req,
                                   std::string& route_name) {
  auto target = parse_target(req.target());
  if (!target)
    co_return error_response({ApiErrc::validation_failed, "the request target is malformed"});
  const auto match = router.match(req.method(), target->path);
  if (!match.route) {
    if (!match.allowed.empty()) {
      std::string allow;
      for (auto v : match.allowed)
        allow += (allow.empty() ? "" : ", ") + std::string(http::to_string(v));
      auto res =
          error_response({ApiErrc::method_not_allowed,
                          std::string(req.method_string()) + " is not allowed here; use " + allow});
      res.set(http::field::allow, allow);
      co_return res;
    }
    co_return error_response({ApiErrc::resource_not_found, "no such endpoint: " + target->path});
  }
  const Route& route = *match.route;
  route_name = route.pattern;
  RequestContext ctx{req, std::move(*target), match.params, std::nullopt, s};
  if (route.access == Access::open) co_return co_await route.handler(ctx);

  // Authenticate, then authorize, then count: a request the key may never make gets its 403
  // (the answer that tells the caller what to fix) whatever its budget, and does not spend it.
  auto key = co_await s.auth.authenticate(req);
  if (!key) co_return error_response(key.error());
  const std::int64_t limit = key->rate_limit.value_or(s.config.default_rate_limit);
  if (route.access == Access::scoped && !key->has_scope(*route.scope)) {
    auto res =
        error_response({ApiErrc::insufficient_scopes,
                        "this API key lacks the scope " + std::string(to_string(*route.scope)),
                        {{"required_scopes", {to_string(*route.scope)}}}});
    if (auto current = co_await s.limiter.peek(key->id, limit))
      add_rate_limit_headers(res, *current);
    co_return res;
  }
  auto decision = co_await s.limiter.check(key->id, limit);
  if (!decision) co_return error_response(to_api_error(decision.error(), "rate limit"));
  if (!decision->allowed) {
    auto res = error_response({ApiErrc::rate_limit_exceeded,
                               "rate limit of " + std::to_string(limit) +
                                   " requests per minute exceeded; retry after " +
                                   std::to_string(decision->retry_after) + " s",
                               {{"limit", limit}, {"retry_after", decision->retry_after}}});
    res.set(http::field::retry_after, std::to_string(decision->retry_after));
    add_rate_limit_headers(res, *decision);
    co_return res;
  }
  ctx.key = std::move(*key);
  Response res = co_await route.handler(ctx);
  add_rate_limit_headers(res, *decision);
  co_return res;
}

// Keeps `reachable` current: whether Kafka answers a metadata request (for /readyz).
void probe_kafka(kafka::Producer& producer, std::atomic<bool>& reachable, std::atomic<bool>& stop) {
  while (!stop.load()) {
    reachable.store(producer.check_cluster(Millis{2000}).ok());
    for (int i = 0; i < 20 && !stop.load(); ++i) std::this_thread::sleep_for(Millis{100});
  }
}

}  // namespace

ApiError to_api_error(const store::StoreError& e, std::string_view what) {
  switch (e.code) {
    case store::StoreErrc::not_found:
      return {ApiErrc::resource_not_found, std::string(what) + " not found"};
    case store::StoreErrc::unavailable:
      return {ApiErrc::service_unavailable, "storage is unavailable; retry shortly"};
    case store::StoreErrc::refused:
      log::error("redis refused a request", {{"error", e.message}});
      return {ApiErrc::service_unavailable, "storage refused the request; retry shortly"};
    case store::StoreErrc::corrupt:
      log::error("corrupt record in redis", {{"error", e.message}});
      return {ApiErrc::internal_error, "internal error"};
  }
  return {ApiErrc::internal_error, "internal error"};
}

asio::awaitable<Response> handle_request(const Router& router, Services& services, Request& req) {
  const auto start = std::chrono::steady_clock::now();
  std::string route_name = "unmatched";
  Response res = co_await dispatch(router, services, req, route_name);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  services.metrics.request(route_name, res.result_int(), seconds);
  co_return res;
}

Router make_router() {
  Router router;
  add_meta_routes(router);
  add_webhook_routes(router);
  add_event_routes(router);
  add_api_key_routes(router);
  add_delivery_routes(router);
  add_portal_session_routes(router);
  add_portal_routes(router);
  return router;
}

int run_server(const ApiConfig& config) {
  asio::io_context io(1);
  SystemClock clock;
  SecureRandom random;

  kafka::ProducerOptions kafka_options;
  kafka_options.delivery_timeout = config.publish_timeout;
  kafka_options.client_id = "hookstream-api";
  auto producer = kafka::Producer::create(config.kafka, kafka_options);
  if (!producer) {
    log::error("cannot create the Kafka producer", {{"error", producer.error().message}});
    return 2;
  }
  redis::Client redis(io.get_executor(), config.redis);
  store::ApiKeyStore keys(redis, clock, random);
  store::WebhookStore webhooks(redis, clock, random, config.secret_keys);
  store::DeliveryLog deliveries(redis, store::DeliveryLogLimits{});
  store::WebhookStats stats(redis);
  // A claim outlives its publish: the claim, the produce and the tries to complete it.
  const Millis settle = 2 * config.redis.command_timeout + Millis{1000};
  store::IdempotencyKeys idempotency(
      redis, {.lease = config.publish_timeout + settle + 4 * config.redis.command_timeout,
              .settle = settle});
  hookstream::http::ClientOptions http_options;
  http_options.allow_private_targets = config.allow_private_targets;
  http_options.extra_ca_file = config.extra_ca_file;
  auto http_client = hookstream::http::DeliveryClient::create(io.get_executor(), http_options);
  if (!http_client) {
    log::error("cannot create the HTTP client", {{"error", http_client.error().message}});
    return 2;
  }
  Authenticator auth(keys, clock, config.key_cache_ttl);
  RateLimiter limiter(redis, clock);
  Metrics metrics;
  const EventCatalog catalog(config.events.catalog);
  const IdGenerator ids(clock, random);
  std::atomic<bool> kafka_reachable{false};
  std::atomic<bool> stop_probe{false};
  Services services{
      config,
      clock,
      random,
      **producer,
      keys,
      webhooks,
      deliveries,
      idempotency,
      stats,
      **http_client,
      auth,
      limiter,
      metrics,
      catalog,
      ids,
      {config.allow_http, &catalog, config.events.max_data_bytes, config.allow_private_targets},
      kafka_reachable};
  const Router router = make_router();

  HttpServer server(
      io, config.http, [&](Request& req) { return handle_request(router, services, req); },
      refusal);
  if (auto ok = server.listen(config.listen); !ok) {
    log::error("cannot start the API", {{"error", ok.error().message}});
    std::cerr << "hookstream-api: " << ok.error().message
              << " (set HOOKSTREAM_API_LISTEN to another address)\n";
    return 1;
  }
  server.start();
  std::thread probe([&] { probe_kafka(**producer, kafka_reachable, stop_probe); });

  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    log::info("shutting down", {{"signal", sig}});
    server.shutdown();
    // Requests in flight finish (they may still need Redis and Kafka); then let go of Redis so
    // the io_context runs out of work.
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
          asio::steady_timer timer(io);
          const auto deadline = std::chrono::steady_clock::now() + config.http.request_timeout;
          while (server.connection_count() > 0 && std::chrono::steady_clock::now() < deadline) {
            timer.expires_after(Millis{10});
            co_await timer.async_wait(asio::use_awaitable);
          }
          redis.disconnect();
        },
        asio::detached);
  });
  const auto ep = server.local_endpoint();
  log::info("hookstream-api listening",
            {{"address", ep.address().to_string() + ":" + std::to_string(ep.port())},
             {"redis", config.redis.redacted_url()},
             {"kafka", config.kafka.brokers},
             {"topic", config.kafka.events_topic()}});
  io.run();
  stop_probe = true;
  probe.join();
  (void)(*producer)->flush(Millis{5000});
  log::info("hookstream-api stopped");
  return 0;
}

}  // namespace hookstream::api
