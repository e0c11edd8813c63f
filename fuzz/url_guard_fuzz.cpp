// Webhook URLs (API input) and the SSRF address guard (SPEC §4 "Safety").
//   - parse_url refuses what it cannot use; what it accepts is consistent and re-parses to itself;
//   - an IP-literal host is classified like the same address given as bytes;
//   - an IPv4 address hidden inside IPv6 (mapped, compatible, NAT64) is blocked exactly when the
//     IPv4 address itself is, so no spelling slips through the guard.
#include <array>
#include <cstdlib>
#include <cstring>

#include "common/http/address_guard.hpp"
#include "common/url.hpp"

using namespace hookstream;
namespace hh = hookstream::http;

namespace {

void check_url(std::string_view text) {
  const auto url = parse_url(text);
  if (!url) {
    if (url.error().message.empty()) std::abort();
    return;
  }
  if (url->host.empty() || url->port == 0 || !url->target.starts_with('/')) std::abort();
  if (url->scheme != "https" && url->scheme != "http") std::abort();
  const auto again = parse_url(url->scheme + "://" + url->host_header() + url->target);
  if (!again || again->host != url->host || again->port != url->port ||
      again->target != url->target || again->ipv6_literal != url->ipv6_literal)
    std::abort();
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(url->host, ec);
  if (ec) return;
  for (bool allow : {false, true}) (void)hh::is_blocked(address, allow);
}

void check_address_bytes(const std::uint8_t* data, std::size_t size) {
  if (size < 16) return;
  asio::ip::address_v6::bytes_type v6{};
  std::memcpy(v6.data(), data, v6.size());
  const asio::ip::address_v6 six(v6);
  (void)hh::to_string(hh::classify(six));

  asio::ip::address_v4::bytes_type v4{};
  std::memcpy(v4.data(), data, v4.size());
  const asio::ip::address_v4 four(v4);
  const auto four_class = hh::classify(four);
  // ::ffff:a.b.c.d, ::a.b.c.d (except :: and ::1, which are IPv6's own) and 64:ff9b::a.b.c.d.
  asio::ip::address_v6::bytes_type mapped{};
  mapped[10] = mapped[11] = 0xff;
  std::memcpy(mapped.data() + 12, v4.data(), 4);
  asio::ip::address_v6::bytes_type nat64{0x00, 0x64, 0xff, 0x9b};
  std::memcpy(nat64.data() + 12, v4.data(), 4);
  for (const auto& embedded : {mapped, nat64}) {
    const asio::ip::address_v6 wrapped(embedded);
    for (bool allow : {false, true})
      if (hh::is_blocked(hh::classify(wrapped), allow) != hh::is_blocked(four_class, allow))
        std::abort();
  }
  // Text spellings of the same address parse back to it.
  boost::system::error_code ec;
  const auto reparsed = asio::ip::make_address(six.to_string(), ec);
  if (ec || hh::classify(reparsed) != hh::classify(six)) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  check_url({reinterpret_cast<const char*>(data), size});
  check_address_bytes(data, size);
  return 0;
}
