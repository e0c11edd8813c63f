#include "common/redis/errors.hpp"

namespace hookstream::redis {

std::string_view to_string(RedisErrc code) {
  switch (code) {
    case RedisErrc::connect_failed:
      return "connect_failed";
    case RedisErrc::disconnected:
      return "disconnected";
    case RedisErrc::timeout:
      return "timeout";
    case RedisErrc::server_error:
      return "server_error";
    case RedisErrc::protocol_error:
      return "protocol_error";
  }
  return "unknown";
}

bool is_retriable(RedisErrc code) {
  switch (code) {
    case RedisErrc::connect_failed:
    case RedisErrc::disconnected:
    case RedisErrc::timeout:
      return true;
    // A rejected AUTH/SELECT needs a configuration change, and a protocol error is a bug on one
    // side or the other; repeating the call only repeats the failure.
    case RedisErrc::server_error:
    case RedisErrc::protocol_error:
      return false;
  }
  return false;
}

}  // namespace hookstream::redis
