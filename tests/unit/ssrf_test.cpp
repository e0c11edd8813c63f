// SSRF (SPEC §4 "Safety"): a table of targets the delivery client refuses unless the deployment
// allow-lists private targets. Names go through a fake resolver, so the table does not depend on
// the machine's DNS; literal spellings never reach a resolver at all.
#include <gtest/gtest.h>

#include <map>
#include <memory>

#include "common/http/address_guard.hpp"
#include "common/http/delivery_client.hpp"

namespace hookstream::http {
namespace {

using error_code = boost::system::error_code;

// Answers from a table; counts lookups per name.
class FakeResolver final : public HostResolver {
 public:
  explicit FakeResolver(std::map<std::string, std::vector<std::string>> answers)
      : answers_(std::move(answers)) {}
  asio::awaitable<std::vector<asio::ip::address>> resolve(std::string host,
                                                          std::chrono::steady_clock::time_point,
                                                          error_code& ec) override {
    ++calls_[host];
    std::vector<asio::ip::address> out;
    const auto it = answers_.find(host);
    if (it == answers_.end()) {
      ec = asio::error::host_not_found;
      co_return out;
    }
    for (const auto& a : it->second) out.push_back(asio::ip::make_address(a));
    co_return out;
  }
  int calls(const std::string& host) const {
    const auto it = calls_.find(host);
    return it == calls_.end() ? 0 : it->second;
  }

 private:
  std::map<std::string, std::vector<std::string>> answers_;
  std::map<std::string, int> calls_;
};

struct Target {
  const char* host;      // as written in the URL (IPv6 in brackets)
  const char* resolved;  // the address the guard must see ("" for a name from the fake resolver)
};

// Literal spellings: every one names a blocked address.
const Target kLiterals[] = {
    {"127.0.0.1", "127.0.0.1"},
    {"127.255.255.254", "127.255.255.254"},
    {"[::1]", "::1"},
    {"0.0.0.0", "0.0.0.0"},
    {"[::]", "::"},
    {"10.0.0.1", "10.0.0.1"},
    {"10.255.255.255", "10.255.255.255"},
    {"172.16.0.1", "172.16.0.1"},
    {"172.31.255.255", "172.31.255.255"},
    {"192.168.0.1", "192.168.0.1"},
    {"100.64.0.1", "100.64.0.1"},
    {"100.127.255.255", "100.127.255.255"},
    {"169.254.169.254", "169.254.169.254"},
    {"[fc00::1]", "fc00::1"},
    {"[fd12:3456::1]", "fd12:3456::1"},
    {"[fe80::1]", "fe80::1"},
    {"[febf::1]", "febf::1"},
    {"[::ffff:127.0.0.1]", "::ffff:127.0.0.1"},  // IPv4-mapped
    {"[::ffff:7f00:1]", "::ffff:127.0.0.1"},     // the same, in hex
    {"[::ffff:10.0.0.1]", "::ffff:10.0.0.1"},
    {"[::ffff:169.254.169.254]", "::ffff:169.254.169.254"},
    {"[::ffff:0.0.0.0]", "::ffff:0.0.0.0"},
    {"[::127.0.0.1]", "::127.0.0.1"},                // IPv4-compatible
    {"[64:ff9b::a9fe:a9fe]", "64:ff9b::a9fe:a9fe"},  // NAT64 of 169.254.169.254
    {"[2002:a00:1::1]", "2002:a00:1::1"},            // 6to4 of 10.0.0.1
    {"2130706433", "127.0.0.1"},                     // decimal
    {"0x7f000001", "127.0.0.1"},                     // hex
    {"017700000001", "127.0.0.1"},                   // octal
    {"0177.0.0.1", "127.0.0.1"},
    {"0x7f.0.0.1", "127.0.0.1"},
    {"0x7F.0x0.0x0.0x1", "127.0.0.1"},
    {"127.1", "127.0.0.1"},
    {"127.0.1", "127.0.0.1"},
    {"0x7f.1", "127.0.0.1"},
    {"0", "0.0.0.0"},
    {"0x0", "0.0.0.0"},
    {"10.1", "10.0.0.1"},
    {"167772161", "10.0.0.1"},
    {"3232235521", "192.168.0.1"},
    {"0300.0250.0.1", "192.168.0.1"},
    {"0xa9.0xfe.0xa9.0xfe", "169.254.169.254"},
    {"2852039166", "169.254.169.254"},
    {"0251.0376.0251.0376", "169.254.169.254"},
    {"1681915905", "100.64.0.1"},
};

// Names, and what the fake resolver answers for them.
const std::map<std::string, std::vector<std::string>> kNames = {
    {"localhost", {"127.0.0.1", "::1"}},
    {"metadata.google.internal", {"169.254.169.254"}},
    {"intranet.example", {"10.1.2.3"}},
    {"db.example", {"172.20.0.5"}},
    {"router.example", {"192.168.1.1"}},
    {"carrier.example", {"100.100.100.200"}},
    {"ula.example", {"fd00::5"}},
    {"link.example", {"fe80::1234"}},
    {"mapped.example", {"::ffff:127.0.0.1"}},
    {"mapped-metadata.example", {"::ffff:169.254.169.254"}},
    {"zero.example", {"0.0.0.0"}},
    {"all-private.example", {"10.0.0.1", "192.168.0.1", "fd00::1"}},
};

class Ssrf : public ::testing::Test {
 protected:
  DeliveryResult post(const std::string& host, bool allow_private = false) {
    ClientOptions options;
    options.allow_private_targets = allow_private;
    options.resolver = resolver_;
    options.connect_timeout = Millis{500};
    auto client = DeliveryClient::create(io_.get_executor(), options);
    EXPECT_TRUE(client.ok());
    auto url = parse_url("https://" + host + "/hook");
    EXPECT_TRUE(url.ok()) << host << ": " << (url ? "" : url.error().message);
    DeliveryRequest req;
    req.url = *url;
    req.body = std::make_shared<const std::string>("{}");
    req.timeout = Millis{2000};
    std::optional<DeliveryResult> out;
    asio::co_spawn(io_, (*client)->post(req),
                   [&](std::exception_ptr, DeliveryResult r) { out = std::move(r); });
    io_.restart();
    io_.run_for(std::chrono::seconds(10));
    EXPECT_TRUE(out.has_value()) << host;
    return out.value_or(DeliveryResult{});
  }

  asio::io_context io_;
  std::shared_ptr<FakeResolver> resolver_ = std::make_shared<FakeResolver>(kNames);
};

TEST(LiteralAddress, ReadsEveryIpv4SpellingGetaddrinfoAccepts) {
  for (const auto& t : kLiterals) {
    std::string host = t.host;
    if (host.front() == '[') host = host.substr(1, host.size() - 2);
    const auto a = literal_address(host);
    ASSERT_TRUE(a.has_value()) << t.host;
    EXPECT_EQ(a->to_string(), asio::ip::make_address(t.resolved).to_string()) << t.host;
  }
}

TEST(LiteralAddress, NamesAndOutOfRangeSpellingsAreNotLiterals) {
  for (const char* host : {"example.com", "127.0.0.1.nip.io", "0x", "08.0.0.1", "256.0.0.1",
                           "1.2.3.4.5", "4294967296", "127..1", "127.0.0.", "0x1g"})
    EXPECT_FALSE(literal_address(host).has_value()) << host;
}

TEST_F(Ssrf, EveryLiteralSpellingOfALocalAddressIsRefusedWithoutAResolver) {
  for (const auto& t : kLiterals) {
    const auto r = post(t.host);
    EXPECT_EQ(r.outcome, Outcome::blocked_address) << t.host << ": " << r.error;
    EXPECT_TRUE(r.remote_address.empty()) << t.host;
    EXPECT_NE(r.error.find(asio::ip::make_address(t.resolved).to_string()), std::string::npos)
        << t.host << ": " << r.error;
  }
  for (const auto& [name, answers] : kNames) EXPECT_EQ(resolver_->calls(name), 0) << name;
}

TEST_F(Ssrf, NamesThatResolveToALocalAddressAreRefused) {
  for (const auto& [name, answers] : kNames) {
    const auto r = post(name);
    EXPECT_EQ(r.outcome, Outcome::blocked_address) << name << ": " << r.error;
    EXPECT_TRUE(r.remote_address.empty()) << name;
    for (const auto& a : answers) EXPECT_NE(r.error.find(a), std::string::npos) << r.error;
    EXPECT_EQ(resolver_->calls(name), 1) << name;
    EXPECT_FALSE(is_retriable(r.outcome, r.status));
  }
}

TEST_F(Ssrf, AllowListAdmitsPrivateRangesButNeverUnspecifiedOrMulticast) {
  // With allow_private_targets the guard lets 10.0.0.1 through: the client then tries to connect
  // (and fails or times out here), which shows the guard was passed.
  const auto admitted = post("10.255.255.1", true);
  EXPECT_NE(admitted.outcome, Outcome::blocked_address) << admitted.error;
  for (const char* host : {"0.0.0.0", "0", "[::]", "224.0.0.1", "[ff02::1]", "240.0.0.1"}) {
    const auto r = post(host, true);
    EXPECT_EQ(r.outcome, Outcome::blocked_address) << host << ": " << r.error;
  }
}

TEST_F(Ssrf, AnUnresolvableNameIsADnsFailure) {
  const auto r = post("nowhere.example");
  EXPECT_EQ(r.outcome, Outcome::dns) << r.error;
  EXPECT_EQ(resolver_->calls("nowhere.example"), 1);
}

}  // namespace
}  // namespace hookstream::http
