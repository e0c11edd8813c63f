#include "common/http/address_guard.hpp"

#include <array>
#include <cstdint>
#include <string>

namespace hookstream::http {
namespace {

struct V4Range {
  std::uint32_t base;
  int prefix;
  AddressClass cls;
};

constexpr std::uint32_t v4(std::uint32_t a, std::uint32_t b, std::uint32_t c, std::uint32_t d) {
  return (a << 24) | (b << 16) | (c << 8) | d;
}

// Most specific first: 255.255.255.255 and 192.0.0/24 sit inside wider ranges.
constexpr std::array kV4Ranges{
    V4Range{v4(0, 0, 0, 0), 8, AddressClass::unspecified},
    V4Range{v4(127, 0, 0, 0), 8, AddressClass::loopback},
    V4Range{v4(10, 0, 0, 0), 8, AddressClass::private_},
    V4Range{v4(172, 16, 0, 0), 12, AddressClass::private_},
    V4Range{v4(192, 168, 0, 0), 16, AddressClass::private_},
    V4Range{v4(100, 64, 0, 0), 10, AddressClass::cgnat},
    V4Range{v4(169, 254, 0, 0), 16, AddressClass::link_local},
    V4Range{v4(224, 0, 0, 0), 4, AddressClass::multicast},
    V4Range{v4(240, 0, 0, 0), 4, AddressClass::reserved},  // includes 255.255.255.255
    V4Range{v4(192, 0, 0, 0), 24, AddressClass::reserved},
    V4Range{v4(192, 0, 2, 0), 24, AddressClass::reserved},  // TEST-NET-1
    V4Range{v4(192, 88, 99, 0), 24, AddressClass::reserved},
    V4Range{v4(198, 18, 0, 0), 15, AddressClass::reserved},
    V4Range{v4(198, 51, 100, 0), 24, AddressClass::reserved},  // TEST-NET-2
    V4Range{v4(203, 0, 113, 0), 24, AddressClass::reserved},   // TEST-NET-3
};

bool in_prefix(std::uint32_t a, std::uint32_t base, int prefix) {
  const std::uint32_t mask = prefix == 0 ? 0 : ~std::uint32_t{0} << (32 - prefix);
  return (a & mask) == (base & mask);
}

AddressClass classify_v4(std::uint32_t a) {
  for (const auto& r : kV4Ranges)
    if (in_prefix(a, r.base, r.prefix)) return r.cls;
  return AddressClass::public_;
}

std::uint32_t v4_at(const asio::ip::address_v6::bytes_type& b, std::size_t i) {
  return (std::uint32_t{b[i]} << 24) | (std::uint32_t{b[i + 1]} << 16) |
         (std::uint32_t{b[i + 2]} << 8) | std::uint32_t{b[i + 3]};
}

bool bytes_are(const asio::ip::address_v6::bytes_type& b, std::size_t from, std::size_t to,
               unsigned char value) {
  for (std::size_t i = from; i < to; ++i)
    if (b[i] != value) return false;
  return true;
}

AddressClass classify_v6(const asio::ip::address_v6& address) {
  const auto b = address.to_bytes();
  if (address.is_unspecified()) return AddressClass::unspecified;
  if (address.is_loopback()) return AddressClass::loopback;

  // Forms that embed an IPv4 address: whatever the v4 address is, so is this one.
  const bool mapped = bytes_are(b, 0, 10, 0) && b[10] == 0xff && b[11] == 0xff;
  const bool compatible = bytes_are(b, 0, 12, 0);
  const bool translated =
      bytes_are(b, 0, 8, 0) && b[8] == 0xff && b[9] == 0xff && b[10] == 0 && b[11] == 0;
  const bool nat64 =
      b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b && bytes_are(b, 4, 12, 0);
  if (mapped || compatible || translated || nat64) return classify_v4(v4_at(b, 12));
  if (b[0] == 0x20 && b[1] == 0x02) {  // 6to4: the relay forwards to the embedded v4 address
    const auto embedded = classify_v4(v4_at(b, 2));
    if (embedded != AddressClass::public_) return embedded;
  }

  if (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b && b[4] == 0x00 && b[5] == 0x01)
    return AddressClass::private_;  // 64:ff9b:1::/48, local-use NAT64 (RFC 8215)
  if ((b[0] & 0xfe) == 0xfc) return AddressClass::private_;                    // fc00::/7
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return AddressClass::link_local;  // fe80::/10
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0) return AddressClass::private_;    // fec0::/10
  if (b[0] == 0xff) return AddressClass::multicast;                            // ff00::/8
  if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8)
    return AddressClass::reserved;  // 2001:db8::/32, documentation
  if (b[0] == 0x01 && bytes_are(b, 1, 8, 0)) return AddressClass::reserved;  // 100::/64, discard
  return AddressClass::public_;
}

}  // namespace

std::string_view to_string(AddressClass c) {
  switch (c) {
    case AddressClass::public_:
      return "public";
    case AddressClass::loopback:
      return "loopback";
    case AddressClass::private_:
      return "private";
    case AddressClass::link_local:
      return "link-local";
    case AddressClass::cgnat:
      return "cgnat";
    case AddressClass::multicast:
      return "multicast";
    case AddressClass::reserved:
      return "reserved";
    case AddressClass::unspecified:
      return "unspecified";
  }
  return "unknown";
}

AddressClass classify(const asio::ip::address& address) {
  if (address.is_v4()) return classify_v4(address.to_v4().to_uint());
  return classify_v6(address.to_v6());
}

bool is_blocked(AddressClass c, bool allow_private) {
  switch (c) {
    case AddressClass::public_:
      return false;
    case AddressClass::loopback:
    case AddressClass::private_:
    case AddressClass::link_local:
    case AddressClass::cgnat:
      return !allow_private;
    case AddressClass::multicast:
    case AddressClass::reserved:
    case AddressClass::unspecified:
      return true;
  }
  return true;
}

bool is_blocked(const asio::ip::address& address, bool allow_private) {
  return is_blocked(classify(address), allow_private);
}

namespace {

// One part of an inet_aton-style IPv4 address: decimal, 0-prefixed octal or 0x-prefixed hex.
std::optional<std::uint64_t> inet_aton_part(std::string_view text) {
  if (text.empty()) return std::nullopt;
  unsigned base = 10;
  if (text.size() > 1 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    base = 16;
    text.remove_prefix(2);
    if (text.empty()) return std::nullopt;
  } else if (text.size() > 1 && text[0] == '0') {
    base = 8;
    text.remove_prefix(1);
  }
  std::uint64_t value = 0;
  for (char c : text) {
    unsigned digit = 0;
    if (c >= '0' && c <= '9')
      digit = static_cast<unsigned>(c - '0');
    else if (c >= 'a' && c <= 'f')
      digit = static_cast<unsigned>(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F')
      digit = static_cast<unsigned>(c - 'A' + 10);
    else
      return std::nullopt;
    if (digit >= base) return std::nullopt;
    value = value * base + digit;
    if (value > 0xffffffffu) return std::nullopt;
  }
  return value;
}

std::optional<std::uint32_t> inet_aton_v4(std::string_view host) {
  std::vector<std::uint64_t> parts;
  while (true) {
    const auto dot = host.find('.');
    const auto part = inet_aton_part(host.substr(0, dot));
    if (!part || parts.size() == 4) return std::nullopt;
    parts.push_back(*part);
    if (dot == std::string_view::npos) break;
    host.remove_prefix(dot + 1);
  }
  std::uint64_t address = 0;
  for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
    if (parts[i] > 0xff) return std::nullopt;
    address |= parts[i] << (8 * (3 - i));
  }
  const std::uint64_t last_max = 0xffffffffu >> (8 * (parts.size() - 1));
  if (parts.back() > last_max) return std::nullopt;
  return static_cast<std::uint32_t>(address | parts.back());
}

}  // namespace

std::optional<asio::ip::address> literal_address(std::string_view host) {
  boost::system::error_code ec;
  const auto strict = asio::ip::make_address(std::string(host), ec);
  if (!ec) return strict;
  if (const auto v4 = inet_aton_v4(host)) return asio::ip::address(asio::ip::address_v4(*v4));
  return std::nullopt;
}

ScreenedAddresses screen(const std::vector<asio::ip::address>& candidates, bool allow_private) {
  ScreenedAddresses out;
  for (const auto& address : candidates) {
    const auto cls = classify(address);
    if (!is_blocked(cls, allow_private)) {
      out.allowed.push_back(address);
      continue;
    }
    if (!out.refused.empty()) out.refused += ", ";
    out.refused += address.to_string() + " (" + std::string(to_string(cls)) + ")";
  }
  return out;
}

}  // namespace hookstream::http
