#include "common/url.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>

#include "common/ascii.hpp"

namespace hookstream {
namespace {

Unexpected<Error> bad(std::string why) {
  return fail("invalid_url", std::move(why));
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool valid_hostname(std::string_view host) {
  if (host.empty() || host.size() > 253) return false;
  for (char c : host)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_'))
      return false;
  return host.front() != '.' && host.front() != '-';
}

}  // namespace

std::string Url::host_header() const {
  std::string h;
  append_host_header(h);
  return h;
}

void Url::append_host_header(std::string& out) const {
  const bool default_port = (is_https() && port == 443) || (!is_https() && port == 80);
  std::array<char, 8> digits;
  const auto end = default_port
                       ? digits.data()
                       : std::to_chars(digits.data(), digits.data() + digits.size(), port).ptr;
  append_all(out, {ipv6_literal ? "[" : "", host, ipv6_literal ? "]" : "", default_port ? "" : ":",
                   std::string_view(digits.data(), static_cast<std::size_t>(end - digits.data()))});
}

Result<Url> parse_url(std::string_view text) {
  if (text.empty()) return bad("the URL is empty");
  if (text.size() > kMaxUrlLength)
    return bad("the URL is longer than " + std::to_string(kMaxUrlLength) + " characters");
  for (char c : text)
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f)
      return bad("the URL contains spaces or control characters");
  const auto scheme_end = text.find("://");
  if (scheme_end == std::string_view::npos) return bad("the URL must be absolute (https://…)");
  Url url;
  url.scheme = lower(text.substr(0, scheme_end));
  if (url.scheme != "https" && url.scheme != "http")
    return bad("the URL scheme must be https (or http where the deployment allows it)");
  std::string_view rest = text.substr(scheme_end + 3);
  if (rest.find('#') != std::string_view::npos) return bad("the URL must not have a fragment");
  const auto path_start = rest.find_first_of("/?");
  const std::string_view authority = rest.substr(0, path_start);
  url.target = path_start == std::string_view::npos ? "/" : std::string(rest.substr(path_start));
  if (url.target.front() == '?') url.target.insert(0, "/");
  if (authority.find('@') != std::string_view::npos)
    return bad("the URL must not contain user info (user:password@)");
  std::string_view host = authority;
  std::string_view port_text;
  if (host.starts_with('[')) {
    const auto close = host.find(']');
    if (close == std::string_view::npos) return bad("the URL has an unterminated IPv6 address");
    url.ipv6_literal = true;
    const auto after = host.substr(close + 1);
    host = host.substr(1, close - 1);
    if (!after.empty()) {
      if (after.front() != ':') return bad("the URL has junk after its IPv6 address");
      port_text = after.substr(1);
    }
    if (host.empty() ||
        host.find_first_not_of("0123456789abcdefABCDEF:.") != std::string_view::npos)
      return bad("the URL has an invalid IPv6 address");
  } else if (const auto colon = host.rfind(':'); colon != std::string_view::npos) {
    port_text = host.substr(colon + 1);
    host = host.substr(0, colon);
  }
  if (host.empty()) return bad("the URL has no host");
  if (!url.ipv6_literal && !valid_hostname(host)) return bad("the URL's host is not a valid name");
  url.host = lower(host);
  url.port = url.is_https() ? 443 : 80;
  if (!port_text.empty() || authority.ends_with(':')) {
    unsigned port = 0;
    const auto [p, ec] =
        std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc{} || p != port_text.data() + port_text.size() || port == 0 || port > 65535)
      return bad("the URL's port must be 1-65535");
    url.port = static_cast<std::uint16_t>(port);
  }
  return url;
}

}  // namespace hookstream
