#pragma once
// Webhook target URLs: absolute http(s) URLs with a host, no user info and no fragment.
#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace hookstream {

struct Url {
  std::string scheme;  // "https" or "http", lowercase
  std::string host;    // lowercase; an IPv6 literal without brackets
  std::uint16_t port = 0;
  std::string target;  // path and query, at least "/"
  bool ipv6_literal = false;

  bool is_https() const { return scheme == "https"; }
  // "host:port" as the Host header wants it (brackets around IPv6, port omitted when default).
  std::string host_header() const;
  void append_host_header(std::string& out) const;  // the same, appended (no string of its own)
};

inline constexpr std::size_t kMaxUrlLength = 2048;

Result<Url> parse_url(std::string_view text);

}  // namespace hookstream
