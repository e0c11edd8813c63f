#pragma once
// The ways a Redis call can fail without the server answering it. An error *reply* (WRONGTYPE,
// NOSCRIPT, …) is not one of these: the server did answer, so it arrives as a Reply of kind error.
#include <string>
#include <string_view>

namespace hookstream::redis {

enum class RedisErrc {
  connect_failed,  // TCP connect refused or timed out; the command was never sent
  disconnected,    // the connection dropped (or the client closed) before the reply arrived
  timeout,         // no reply within RedisConfig::command_timeout; the connection was dropped
  server_error,    // the server refused the connection set-up (AUTH, SELECT); retrying won't help
  protocol_error,  // unparsable bytes from the server, or a request that cannot be encoded
};

struct RedisError {
  RedisErrc code;
  std::string message;
};

std::string_view to_string(RedisErrc code);

// Whether the same call may succeed if tried again later. It says nothing about idempotency: a
// command that failed with `disconnected` or `timeout` may still have been executed by the server.
bool is_retriable(RedisErrc code);

}  // namespace hookstream::redis
