#pragma once
// An owning copy of one Redis reply (RESP2, as hiredis 0.14 speaks it). hiredis frees its own
// redisReply as soon as the reply callback returns, so everything a caller sees is copied here.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/redis/errors.hpp"
#include "common/result.hpp"

struct redisReply;

namespace hookstream::redis {

enum class ReplyKind { nil, integer, string, status, error, array };

std::string_view to_string(ReplyKind kind);

class Reply {
 public:
  Reply() = default;  // nil

  static Reply nil() { return Reply(); }
  static Reply integer(std::int64_t value);
  static Reply string(std::string value);   // bulk string: binary-safe
  static Reply status(std::string value);   // "+OK", "+PONG", …
  static Reply error(std::string message);  // "-WRONGTYPE …", without the '-'
  static Reply array(std::vector<Reply> elements);

  // Deep copy of a hiredis reply.
  static Reply from_hiredis(const redisReply& reply);

  ReplyKind kind() const { return kind_; }
  bool is_nil() const { return kind_ == ReplyKind::nil; }
  bool is_integer() const { return kind_ == ReplyKind::integer; }
  bool is_string() const { return kind_ == ReplyKind::string; }
  bool is_status() const { return kind_ == ReplyKind::status; }
  bool is_error() const { return kind_ == ReplyKind::error; }
  bool is_array() const { return kind_ == ReplyKind::array; }

  // The bytes of a string, status or error reply; empty for the other kinds.
  std::string_view as_string() const { return text_; }
  // The value of an integer reply; nullopt for the other kinds (a bulk string "42" included).
  std::optional<std::int64_t> as_integer() const;
  // The elements of an array reply; empty for the other kinds.
  const std::vector<Reply>& elements() const { return elements_; }

  // For logs and test failure messages, e.g. `["a", 1, nil, (error) ERR x]`.
  std::string debug_string() const;

  friend bool operator==(const Reply&, const Reply&) = default;

 private:
  ReplyKind kind_ = ReplyKind::nil;
  std::int64_t integer_ = 0;
  std::string text_;
  std::vector<Reply> elements_;
};

// For callers to whom any error reply is a failure: turns an error reply into
// RedisError{server_error, message}; everything else passes through.
Result<Reply, RedisError> reject_error_reply(Result<Reply, RedisError> result);

}  // namespace hookstream::redis
