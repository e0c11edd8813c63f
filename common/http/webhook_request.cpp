#include "common/http/webhook_request.hpp"

#include "common/signing.hpp"

namespace hookstream::http {

Result<DeliveryRequest> build_webhook_request(const WebhookTarget& target,
                                              const WebhookMessage& message, TimePoint now,
                                              Millis timeout) {
  auto url = parse_url(target.url);
  if (!url) return fail(std::move(url).error());
  auto signer = signing::Signer::from_secrets(target.secrets);
  if (!signer) return fail(std::move(signer).error());
  const auto timestamp = to_unix_seconds(now);

  DeliveryRequest req;
  req.url = std::move(*url);
  req.body = message.payload;
  req.timeout = timeout;
  req.headers.reserve(8 + target.headers.size());
  req.headers.push_back({"content-type", "application/json"});
  req.headers.push_back({"webhook-id", message.event_id});
  req.headers.push_back({"webhook-timestamp", std::to_string(timestamp)});
  req.headers.push_back({"webhook-signature",
                         signer->signature_header(message.event_id, timestamp, *message.payload)});
  req.headers.push_back({"x-hookstream-event-type", message.event_type});
  req.headers.push_back({"x-hookstream-attempt", std::to_string(message.attempt)});
  if (message.test) req.headers.push_back({"x-hookstream-test", "true"});
  // Reserved names were refused when the webhook was saved, so these cannot override the above.
  for (const auto& [name, value] : target.headers) req.headers.push_back({name, value});
  return req;
}

}  // namespace hookstream::http
