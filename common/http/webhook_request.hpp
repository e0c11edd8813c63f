#pragma once
// The signed POST for one delivery attempt (SPEC §4): the Standard Webhooks headers, hookstream's
// own, then the webhook's custom headers. Shared by the dispatcher and the API's test pings, so a
// test ping is exactly what a real delivery looks like.
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <utility>
#include <vector>
#include "common/http/delivery_client.hpp"
#include "common/result.hpp"
#include "common/signing.hpp"

namespace hookstream::http {

struct WebhookMessage {
  std::string event_id;  // webhook-id: the same on every retry
  std::string event_type;
  std::shared_ptr<const std::string> payload;  // the body, built once per event
  int attempt = 1;
  bool test = false;
};

// The endpoint as a delivery needs it (store::Webhook has these as url, signing_secrets(now) and
// headers).
struct WebhookTarget {
  const std::string& url;
  std::vector<std::string> secrets;  // current first, then one rotating out
  const std::vector<std::pair<std::string, std::string>>& headers;
  std::optional<TimePoint> secrets_change_at = {};  // when the one rotating out stops signing
};

// What a webhook's deliveries share, made ready once per version of the webhook instead of once
// per attempt: the parsed URL, the signing keys (HMAC contexts keyed once) and the custom headers
// that may be sent. Stale once the webhook changes or at `valid_until`. One thread at a time.
struct PreparedEndpoint {
  Url url;
  signing::Signer signer;
  std::vector<Header> headers;
  std::optional<TimePoint> valid_until;
};
Result<PreparedEndpoint> prepare_endpoint(const WebhookTarget& target);

// Header names a webhook's custom headers may not use: the signing headers (webhook-id,
// webhook-timestamp, webhook-signature), hookstream's own (x-hookstream-*), and those that decide
// framing or content (host, content-type, content-length, …). The API refuses them when a webhook
// is saved; build_webhook_request drops them if one is stored anyway.
bool is_reserved_header(std::string_view name);

Result<DeliveryRequest> build_webhook_request(PreparedEndpoint& endpoint,
                                              const WebhookMessage& message, TimePoint now,
                                              Millis timeout);
// Prepares the endpoint for this one request (test pings).
Result<DeliveryRequest> build_webhook_request(const WebhookTarget& target,
                                              const WebhookMessage& message, TimePoint now,
                                              Millis timeout);

// The deployment's rules for one attempt (HOOKSTREAM_DELIVERY_TIMEOUT, HOOKSTREAM_ALLOW_HTTP).
struct AttemptPolicy {
  Millis timeout{30'000};
  bool allow_http = false;
};

// One attempt, as the dispatcher and the API's test ping both make it: the signed request to the
// prepared endpoint (or, when it could not be prepared, why not), refused as blocked_address when
// the URL is plain http:// and the deployment does not allow it, else POSTed. Every failure comes
// back as an Outcome.
asio::awaitable<DeliveryResult> send_webhook(WebhookClient& client,
                                             Result<PreparedEndpoint*> endpoint,
                                             const WebhookMessage& message, TimePoint now,
                                             const AttemptPolicy& policy);

}  // namespace hookstream::http
