#pragma once
// SSRF protection: which addresses a webhook delivery may connect to. The check runs on the
// addresses a name resolved to, right before connecting to exactly those addresses, so a name
// that resolves to loopback (including "2130706433" or "0x7f000001", which getaddrinfo reads as
// 127.0.0.1) is refused however it was spelled.
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/asio.hpp"

namespace hookstream::http {

enum class AddressClass {
  public_,      // globally routable
  loopback,     // 127.0.0.0/8, ::1
  private_,     // 10/8, 172.16/12, 192.168/16, fc00::/7, fec0::/10, 64:ff9b:1::/48
  link_local,   // 169.254/16 (cloud metadata lives here), fe80::/10
  cgnat,        // 100.64/10
  multicast,    // 224/4, ff00::/8
  reserved,     // 240/4, broadcast, 192.0.0/24, 198.18/15, documentation ranges, 2001:db8::/32
  unspecified,  // 0.0.0.0/8, :: (Linux connects 0.0.0.0 to the local host)
};

std::string_view to_string(AddressClass c);

// IPv6 forms that carry an IPv4 address (IPv4-mapped ::ffff:a.b.c.d, IPv4-compatible ::a.b.c.d,
// IPv4-translated ::ffff:0:a.b.c.d, NAT64 64:ff9b::/96, 6to4 2002::/16) take the class of the
// embedded IPv4 address when that one is not public.
AddressClass classify(const asio::ip::address& address);

// True when a delivery must not connect to `address`. `allow_private` (a deployment allow-list for
// local setups and tests) admits loopback, private, link-local and CGNAT addresses; unspecified,
// multicast and reserved addresses are never a webhook receiver and stay blocked.
bool is_blocked(AddressClass c, bool allow_private);
bool is_blocked(const asio::ip::address& address, bool allow_private);

// The address a URL host spells literally, or nullopt for a name to resolve. Besides the standard
// forms (a dotted quad, an IPv6 literal without brackets) this reads every IPv4 spelling that
// inet_aton(3) and so getaddrinfo accept: one to four parts, each decimal, octal (leading 0) or
// hex (0x), the last filling the remaining bytes — "2130706433", "0177.0.0.1", "0x7f.0.0.1",
// "127.1" are all 127.0.0.1. The delivery client connects to exactly this address, so what the
// guard judges is what a connection reaches however the resolver would have read the text.
std::optional<asio::ip::address> literal_address(std::string_view host);

// Where a name may be looked up: the system resolver in production, a fake in tests (which is
// also how DNS rebinding is tested: a fake that answers differently on every call).
class HostResolver {
 public:
  virtual ~HostResolver() = default;
  // The addresses `host` resolves to. A failure sets `ec` (beast::error::timeout past `deadline`).
  virtual asio::awaitable<std::vector<asio::ip::address>> resolve(
      std::string host, std::chrono::steady_clock::time_point deadline,
      boost::system::error_code& ec) = 0;
};

// The addresses a delivery may connect to, in order, and a description of those refused.
struct ScreenedAddresses {
  std::vector<asio::ip::address> allowed;
  std::string refused;  // "127.0.0.1 (loopback), …"; empty when none was
};
ScreenedAddresses screen(const std::vector<asio::ip::address>& candidates, bool allow_private);

}  // namespace hookstream::http
