#pragma once
// How one delivery attempt ended, and whether trying again later can help.
#include <cstddef>
#include <string_view>

namespace hookstream::http {

enum class Outcome {
  success,           // a 2xx status
  http_error,        // any other status, 3xx included: redirects are not followed
  timeout,           // the attempt's deadline passed (resolve, connect, TLS, write or read)
  connect,           // no allowed address accepted a connection, or it broke while sending
  tls,               // handshake or certificate verification failed
  dns,               // the name did not resolve
  blocked_address,   // every address the name resolved to is refused by the address guard
  invalid_response,  // not parseable HTTP, or the connection closed before the response ended
};
// How many outcomes there are, for tables indexed by them.
inline constexpr std::size_t kOutcomeCount =
    static_cast<std::size_t>(Outcome::invalid_response) + 1;

std::string_view to_string(Outcome o);

// The one retry rule. `status` matters only for http_error.
//  - timeout, connect, dns, invalid_response: transient network trouble, retry.
//  - http_error: retry, except 410 Gone (the caller disables the endpoint instead). 4xx are
//    retried too, like Stripe and Svix do: a 404 or 401 is usually a receiver mid-deploy or
//    mid-secret-rotation, and the pause after 10 consecutive failures stops a hopeless endpoint.
//  - tls, blocked_address: configuration problems that a retry a few seconds later will not fix.
bool is_retriable(Outcome o, int status);

}  // namespace hookstream::http
