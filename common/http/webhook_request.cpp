#include "common/http/webhook_request.hpp"

#include <algorithm>
#include <cctype>

#include "common/log.hpp"
#include "common/signing.hpp"

namespace hookstream::http {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

}  // namespace

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
    if (iequals(name, r)) return true;
  constexpr std::string_view kOwn = "x-hookstream-";
  return name.size() >= kOwn.size() && iequals(name.substr(0, kOwn.size()), kOwn);
}

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
  // Reserved names were refused when the webhook was saved; one that reached Redis another way
  // (an older version, a hand edit) must still not replace or duplicate a header set above.
  for (const auto& [name, value] : target.headers) {
    if (is_reserved_header(name)) {
      log::warn("reserved custom header not sent", {{"header", name.substr(0, 64)}});
      continue;
    }
    req.headers.push_back({name, value});
  }
  return req;
}

}  // namespace hookstream::http
