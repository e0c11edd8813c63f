#include "common/http/address_guard.hpp"

#include <gtest/gtest.h>

#include <string>

namespace hookstream::http {
namespace {

struct Case {
  const char* address;
  AddressClass cls;
};

// Every non-public class is blocked by default; allow_private admits only the first four.
const Case kCases[] = {
    {"8.8.8.8", AddressClass::public_},
    {"1.1.1.1", AddressClass::public_},
    {"2606:4700::1111", AddressClass::public_},
    {"::ffff:8.8.8.8", AddressClass::public_},
    {"64:ff9b::808:808", AddressClass::public_},  // NAT64 of 8.8.8.8
    {"172.32.0.1", AddressClass::public_},        // just past 172.16/12
    {"100.128.0.1", AddressClass::public_},       // just past 100.64/10
    {"127.0.0.1", AddressClass::loopback},
    {"127.255.255.254", AddressClass::loopback},
    {"::1", AddressClass::loopback},
    {"::ffff:127.0.0.1", AddressClass::loopback},    // IPv4-mapped
    {"::127.0.0.1", AddressClass::loopback},         // IPv4-compatible
    {"64:ff9b::7f00:1", AddressClass::loopback},     // NAT64
    {"::ffff:0:127.0.0.1", AddressClass::loopback},  // IPv4-translated
    {"2002:7f00:1::1", AddressClass::loopback},      // 6to4
    {"10.0.0.1", AddressClass::private_},
    {"172.16.0.1", AddressClass::private_},
    {"172.31.255.255", AddressClass::private_},
    {"192.168.1.1", AddressClass::private_},
    {"::ffff:10.1.2.3", AddressClass::private_},
    {"64:ff9b::c0a8:101", AddressClass::private_},  // NAT64 of 192.168.1.1
    {"fc00::1", AddressClass::private_},
    {"fd12:3456::1", AddressClass::private_},
    {"169.254.169.254", AddressClass::link_local},
    {"::ffff:169.254.169.254", AddressClass::link_local},
    {"fe80::1", AddressClass::link_local},
    {"febf::1", AddressClass::link_local},
    {"100.64.0.1", AddressClass::cgnat},
    {"100.127.255.255", AddressClass::cgnat},
    {"224.0.0.1", AddressClass::multicast},
    {"239.255.255.250", AddressClass::multicast},
    {"ff02::1", AddressClass::multicast},
    {"240.0.0.1", AddressClass::reserved},
    {"255.255.255.255", AddressClass::reserved},
    {"192.0.0.8", AddressClass::reserved},
    {"198.18.0.1", AddressClass::reserved},
    {"198.19.255.255", AddressClass::reserved},
    {"192.0.2.1", AddressClass::reserved},
    {"2001:db8::1", AddressClass::reserved},
    {"0.0.0.0", AddressClass::unspecified},
    {"0.1.2.3", AddressClass::unspecified},
    {"::", AddressClass::unspecified},
    {"::ffff:0.0.0.0", AddressClass::unspecified},
};

TEST(AddressGuard, ClassifiesAddresses) {
  for (const auto& c : kCases)
    EXPECT_EQ(to_string(classify(asio::ip::make_address(c.address))), to_string(c.cls))
        << c.address;
}

TEST(AddressGuard, BlocksEverythingButPublicByDefault) {
  for (const auto& c : kCases)
    EXPECT_EQ(is_blocked(asio::ip::make_address(c.address), false), c.cls != AddressClass::public_)
        << c.address;
}

TEST(AddressGuard, AllowPrivateAdmitsLocalRangesButNeverMulticastReservedOrUnspecified) {
  for (const auto& c : kCases) {
    const bool expected_blocked = c.cls == AddressClass::multicast ||
                                  c.cls == AddressClass::reserved ||
                                  c.cls == AddressClass::unspecified;
    EXPECT_EQ(is_blocked(asio::ip::make_address(c.address), true), expected_blocked) << c.address;
  }
}

}  // namespace
}  // namespace hookstream::http
