#include "common/http/webhook_request.hpp"

#include "common/ascii.hpp"
#include "common/log.hpp"
#include "common/signing.hpp"

namespace hookstream::http {

bool is_reserved_header(std::string_view name) {
  static constexpr std::string_view kReserved[] = {"host",
                                                   "content-type",
                                                   "content-length",
                                                   "content-encoding",
                                                   "transfer-encoding",
                                                   "connection",
                                                   "keep-alive",
                                                   "upgrade",
                                                   "te",
                                                   "trailer",
                                                   "expect",
                                                   "user-agent",
                                                   "webhook-id",
                                                   "webhook-timestamp",
                                                   "webhook-signature",
                                                   "proxy-authorization",
                                                   "proxy-connection"};
  for (auto r : kReserved)
    if (iequals_ascii(name, r)) return true;
  constexpr std::string_view kOwn = "x-hookstream-";
  return name.size() >= kOwn.size() && iequals_ascii(name.substr(0, kOwn.size()), kOwn);
}

Result<PreparedEndpoint> prepare_endpoint(const WebhookTarget& target) {
  auto url = parse_url(target.url);
  if (!url) return fail(std::move(url).error());
  auto signer = signing::Signer::from_secrets(target.secrets);
  if (!signer) return fail(std::move(signer).error());
  PreparedEndpoint endpoint{std::move(*url), std::move(*signer), {}, target.secrets_change_at};
  // Reserved names were refused when the webhook was saved; one that reached Redis another way
  // (an older version, a hand edit) must still not replace or duplicate a header set by us.
  for (const auto& [name, value] : target.headers) {
    if (is_reserved_header(name)) {
      log::warn("reserved custom header not sent", {{"header", name.substr(0, 64)}});
      continue;
    }
    endpoint.headers.push_back({name, value});
  }
  return endpoint;
}

Result<DeliveryRequest> build_webhook_request(PreparedEndpoint& endpoint,
                                              const WebhookMessage& message, TimePoint now,
                                              Millis timeout) {
  const auto timestamp = to_unix_seconds(now);
  auto signature = endpoint.signer.signature_header(message.event_id, timestamp, *message.payload);
  if (!signature) return fail(std::move(signature).error());

  DeliveryRequest req;
  req.url = endpoint.url;
  req.body = message.payload;
  req.timeout = timeout;
  req.headers.reserve(7 + endpoint.headers.size());
  req.headers.push_back({"content-type", "application/json"});
  req.headers.push_back({"webhook-id", message.event_id});
  req.headers.push_back({"webhook-timestamp", std::to_string(timestamp)});
  req.headers.push_back({"webhook-signature", std::move(*signature)});
  req.headers.push_back({"x-hookstream-event-type", message.event_type});
  req.headers.push_back({"x-hookstream-attempt", std::to_string(message.attempt)});
  if (message.test) req.headers.push_back({"x-hookstream-test", "true"});
  req.headers.insert(req.headers.end(), endpoint.headers.begin(), endpoint.headers.end());
  return req;
}

Result<DeliveryRequest> build_webhook_request(const WebhookTarget& target,
                                              const WebhookMessage& message, TimePoint now,
                                              Millis timeout) {
  auto endpoint = prepare_endpoint(target);
  if (!endpoint) return fail(std::move(endpoint).error());
  return build_webhook_request(*endpoint, message, now, timeout);
}

asio::awaitable<DeliveryResult> send_webhook(WebhookClient& client,
                                             Result<PreparedEndpoint*> endpoint,
                                             const WebhookMessage& message, TimePoint now,
                                             const AttemptPolicy& policy) {
  auto request = endpoint ? build_webhook_request(**endpoint, message, now, policy.timeout)
                          : Result<DeliveryRequest>(fail(std::move(endpoint).error()));
  DeliveryResult result;
  if (!request) {
    result.outcome = Outcome::invalid_response;
    result.error = "cannot build the request: " + request.error().message;
  } else if (!request->url.is_https() && !policy.allow_http) {
    result.outcome = Outcome::blocked_address;
    result.error = "plain http:// targets are not allowed by this deployment";
  } else {
    result = co_await client.post(*request);
  }
  co_return result;
}

}  // namespace hookstream::http
