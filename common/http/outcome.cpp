#include "common/http/outcome.hpp"

namespace hookstream::http {

std::string_view to_string(Outcome o) {
  switch (o) {
    case Outcome::success:
      return "success";
    case Outcome::http_error:
      return "http_error";
    case Outcome::timeout:
      return "timeout";
    case Outcome::connect:
      return "connect";
    case Outcome::tls:
      return "tls";
    case Outcome::dns:
      return "dns";
    case Outcome::blocked_address:
      return "blocked_address";
    case Outcome::invalid_response:
      return "invalid_response";
  }
  return "unknown";
}

bool is_retriable(Outcome o, int status) {
  switch (o) {
    case Outcome::success:
      return false;
    case Outcome::http_error:
      return status != 410;
    case Outcome::timeout:
    case Outcome::connect:
    case Outcome::dns:
    case Outcome::invalid_response:
      return true;
    case Outcome::tls:
    case Outcome::blocked_address:
      return false;
  }
  return false;
}

}  // namespace hookstream::http
