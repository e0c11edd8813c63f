#include "common/redis/reply.hpp"

#include <hiredis/hiredis.h>

namespace hookstream::redis {

std::string_view to_string(ReplyKind kind) {
  switch (kind) {
    case ReplyKind::nil:
      return "nil";
    case ReplyKind::integer:
      return "integer";
    case ReplyKind::string:
      return "string";
    case ReplyKind::status:
      return "status";
    case ReplyKind::error:
      return "error";
    case ReplyKind::array:
      return "array";
  }
  return "unknown";
}

Reply Reply::integer(std::int64_t value) {
  Reply r;
  r.kind_ = ReplyKind::integer;
  r.integer_ = value;
  return r;
}

Reply Reply::string(std::string value) {
  Reply r;
  r.kind_ = ReplyKind::string;
  r.text_ = std::move(value);
  return r;
}

Reply Reply::status(std::string value) {
  Reply r;
  r.kind_ = ReplyKind::status;
  r.text_ = std::move(value);
  return r;
}

Reply Reply::error(std::string message) {
  Reply r;
  r.kind_ = ReplyKind::error;
  r.text_ = std::move(message);
  return r;
}

Reply Reply::array(std::vector<Reply> elements) {
  Reply r;
  r.kind_ = ReplyKind::array;
  r.elements_ = std::move(elements);
  return r;
}

Reply Reply::from_hiredis(const redisReply& reply) {
  const auto text = [&reply] {
    return reply.str ? std::string(reply.str, reply.len) : std::string();
  };
  switch (reply.type) {
    case REDIS_REPLY_STRING:
      return string(text());
    case REDIS_REPLY_STATUS:
      return status(text());
    case REDIS_REPLY_ERROR:
      return error(text());
    case REDIS_REPLY_INTEGER:
      return integer(static_cast<std::int64_t>(reply.integer));
    case REDIS_REPLY_NIL:
      return nil();
    case REDIS_REPLY_ARRAY: {
      std::vector<Reply> elements;
      elements.reserve(reply.elements);
      for (std::size_t i = 0; i < reply.elements; ++i) {
        // hiredis never stores null elements, but a hand-built reply might.
        elements.push_back(reply.element[i] ? from_hiredis(*reply.element[i]) : nil());
      }
      return array(std::move(elements));
    }
    default:
      // hiredis 0.14 produces no other type; keep an unknown one visible instead of guessing.
      return error("unsupported reply type " + std::to_string(reply.type));
  }
}

std::optional<std::int64_t> Reply::as_integer() const {
  if (kind_ != ReplyKind::integer) return std::nullopt;
  return integer_;
}

std::string Reply::debug_string() const {
  switch (kind_) {
    case ReplyKind::nil:
      return "nil";
    case ReplyKind::integer:
      return std::to_string(integer_);
    case ReplyKind::string:
      return '"' + text_ + '"';
    case ReplyKind::status:
      return text_;
    case ReplyKind::error:
      return "(error) " + text_;
    case ReplyKind::array: {
      std::string out = "[";
      for (std::size_t i = 0; i < elements_.size(); ++i) {
        if (i) out += ", ";
        out += elements_[i].debug_string();
      }
      return out + "]";
    }
  }
  return "?";
}

Result<Reply, RedisError> reject_error_reply(Result<Reply, RedisError> result) {
  if (result && result->is_error()) {
    return fail(RedisError{RedisErrc::server_error, std::string(result->as_string())});
  }
  return result;
}

}  // namespace hookstream::redis
