// Pure parts of the delivery client: the retry rule and Retry-After. The network behaviour is in
// tests/integration/delivery_client_test.cpp.
#include <gtest/gtest.h>

#include "common/http/delivery_client.hpp"
#include "common/http/retry_after.hpp"

namespace hookstream::http {
namespace {

using std::chrono::hours;
using std::chrono::seconds;

TEST(IsRetriable, NetworkFailuresAreRetriedConfigurationFailuresAreNot) {
  EXPECT_FALSE(is_retriable(Outcome::success, 200));
  EXPECT_TRUE(is_retriable(Outcome::timeout, 0));
  EXPECT_TRUE(is_retriable(Outcome::connect, 0));
  EXPECT_TRUE(is_retriable(Outcome::dns, 0));
  EXPECT_TRUE(is_retriable(Outcome::invalid_response, 0));
  EXPECT_TRUE(is_retriable(Outcome::invalid_response, 200));  // a truncated 200 body
  EXPECT_FALSE(is_retriable(Outcome::tls, 0));
  EXPECT_FALSE(is_retriable(Outcome::blocked_address, 0));
}

TEST(IsRetriable, EveryHttpErrorButGoneIsRetried) {
  for (int status : {301, 302, 308, 400, 401, 403, 404, 408, 413, 422, 429, 500, 502, 503, 504})
    EXPECT_TRUE(is_retriable(Outcome::http_error, status)) << status;
  EXPECT_FALSE(is_retriable(Outcome::http_error, 410));
}

TEST(OutcomeNames, AreStable) {
  EXPECT_EQ(to_string(Outcome::success), "success");
  EXPECT_EQ(to_string(Outcome::http_error), "http_error");
  EXPECT_EQ(to_string(Outcome::timeout), "timeout");
  EXPECT_EQ(to_string(Outcome::connect), "connect");
  EXPECT_EQ(to_string(Outcome::tls), "tls");
  EXPECT_EQ(to_string(Outcome::dns), "dns");
  EXPECT_EQ(to_string(Outcome::blocked_address), "blocked_address");
  EXPECT_EQ(to_string(Outcome::invalid_response), "invalid_response");
}

// 1994-11-06T08:49:37Z, the RFC 9110 example date.
const TimePoint kExampleDate = TimePoint{seconds{784111777}};

TEST(RetryAfter, ParsesDelaySeconds) {
  EXPECT_EQ(parse_retry_after("120", kExampleDate), Millis{120000});
  EXPECT_EQ(parse_retry_after("0", kExampleDate), Millis{0});
  EXPECT_EQ(parse_retry_after(" 5 ", kExampleDate), Millis{5000});
}

TEST(RetryAfter, CapsHugeDelays) {
  EXPECT_EQ(parse_retry_after("99999999999999999999999", kExampleDate), kMaxRetryAfter);
  EXPECT_EQ(parse_retry_after("9999999999", kExampleDate), kMaxRetryAfter);
}

TEST(RetryAfter, ParsesAllThreeHttpDateForms) {
  const auto now = kExampleDate - seconds{30};
  EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now), Millis{30000});
  EXPECT_EQ(parse_retry_after("Sunday, 06-Nov-94 08:49:37 GMT", now), Millis{30000});
  EXPECT_EQ(parse_retry_after("Sun Nov  6 08:49:37 1994", now), Millis{30000});
  EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 09:49:37 GMT", now),
            Millis{hours{1}} + seconds{30});
}

TEST(RetryAfter, PastDatesMeanNow) {
  EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", kExampleDate + hours{1}), Millis{0});
}

TEST(RetryAfter, RefusesGarbage) {
  for (const char* bad : {"", "  ", "-5", "1.5", "5s", "soon", "Sun, 06 Nov 1994 08:49:37",
                          "Sun, 31 Feb 1994 08:49:37 GMT", "Sun, 06 Foo 1994 08:49:37 GMT",
                          "Sun, 06 Nov 1994 25:49:37 GMT", "Sun, 6 Nov 1994 08:49:37 GMT x"})
    EXPECT_FALSE(parse_retry_after(bad, kExampleDate).has_value()) << bad;
}

}  // namespace
}  // namespace hookstream::http
