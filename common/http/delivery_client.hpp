#pragma once
// The outbound HTTP client that delivers webhooks: one POST per call, typed outcomes, SSRF
// protection on the addresses actually connected, TLS with peer verification, kept-alive
// connections pooled per origin. Redirects are never followed.
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/asio.hpp"
#include "common/http/outcome.hpp"
#include "common/result.hpp"
#include "common/time.hpp"
#include "common/url.hpp"

namespace hookstream::http {

struct Header {
  std::string name, value;
};

struct DeliveryRequest {
  Url url;
  std::vector<Header> headers;              // sent as given, after content-type/user-agent
  std::shared_ptr<const std::string> body;  // shared: one body fanned out to many endpoints
  Millis timeout{30000};                    // the whole attempt: resolve+connect+TLS+write+read
};

struct DeliveryResult {
  Outcome outcome = Outcome::invalid_response;
  int status = 0;     // 0 when no status line arrived
  std::string body;   // the first ClientOptions::max_response_bytes of the response body
  std::string error;  // what went wrong, for humans; empty on success
  Millis duration{0};
  std::optional<Millis> retry_after;  // Retry-After on a 429 or 503, as a delay from the response
  std::string remote_address;         // ip:port actually connected ("" if none was)
};

class HostResolver;  // common/http/address_guard.hpp

struct ClientOptions {
  bool allow_private_targets = false;      // admit loopback/private/link-local/CGNAT addresses
  std::shared_ptr<HostResolver> resolver;  // null: the system resolver (getaddrinfo)
  std::optional<std::string> extra_ca_file;
  Millis connect_timeout{10000};  // per address tried, within the request's timeout
  std::size_t max_idle_per_origin = 8;
  Millis idle_timeout{60000};
  std::string user_agent = "hookstream/" HOOKSTREAM_VERSION;
  std::size_t max_response_bytes = 1024;
};

// What the delivery engine and the API's test ping need of an HTTP client: the narrow interface
// that unit tests fake.
class WebhookClient {
 public:
  virtual ~WebhookClient() = default;
  virtual asio::awaitable<DeliveryResult> post(const DeliveryRequest& request) = 0;
};

// One per io_context thread; not thread-safe.
class DeliveryClient final : public WebhookClient {
 public:
  // Loads the system CAs and `extra_ca_file`; a missing or bad file is an error value.
  static Result<std::unique_ptr<DeliveryClient>> create(asio::any_io_executor executor,
                                                        ClientOptions options);
  ~DeliveryClient() override;
  DeliveryClient(const DeliveryClient&) = delete;
  DeliveryClient& operator=(const DeliveryClient&) = delete;

  // POSTs `request.body` to `request.url`. Network and protocol failures come back as an
  // Outcome, never as exceptions. The headers sent are content-type (application/json unless
  // given), user-agent (unless given), the caller's headers, host and content-length; caller
  // headers named host, content-length, transfer-encoding or connection, or containing CR, LF or
  // NUL, are not sent (and logged). `request` must outlive the awaitable. Must run on the
  // executor given to create(), and the client must outlive every post().
  asio::awaitable<DeliveryResult> post(const DeliveryRequest& request) override;

  // Kept-alive connections waiting for the next request, over all origins.
  std::size_t idle_connections() const;

 private:
  struct State;
  explicit DeliveryClient(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace hookstream::http
