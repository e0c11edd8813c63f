#include "common/signing.hpp"

#include <gtest/gtest.h>

#include "tests/unit/fakes.hpp"

namespace hookstream::signing {
namespace {

// The reference vector shared by the Standard Webhooks libraries.
constexpr std::string_view kSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
constexpr std::string_view kMsgId = "msg_p5jXN8AQM9LWM0D4loKWxJek";
constexpr std::int64_t kTimestamp = 1614265330;
constexpr std::string_view kBody = R"({"test": 2432232314})";
constexpr std::string_view kSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

const auto kNow = std::chrono::system_clock::time_point{std::chrono::seconds{kTimestamp}};

TEST(Signing, MatchesStandardWebhooksReferenceVector) {
  auto key = decode_secret(kSecret);
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(sign(*key, kMsgId, kTimestamp, kBody), kSignature);
  auto signer = Signer::from_secrets({std::string(kSecret)});
  ASSERT_TRUE(signer.ok());
  EXPECT_EQ(signer->signature_header(kMsgId, kTimestamp, kBody), kSignature);
}

TEST(Signing, SecretWithoutPrefixIsTheSameKey) {
  EXPECT_EQ(*decode_secret(kSecret), *decode_secret(kSecret.substr(6)));
  EXPECT_FALSE(decode_secret("whsec_not base64!").ok());
  EXPECT_FALSE(decode_secret("whsec_").ok());
}

TEST(Signing, VerifiesReferenceVector) {
  VerifyInput in{kMsgId, "1614265330", kSignature, kBody};
  EXPECT_TRUE(verify({std::string(kSecret)}, in, kNow).ok());
}

TEST(Signing, RefusesTamperedBodyIdOrSignature) {
  const std::vector<std::string> secrets{std::string(kSecret)};
  VerifyInput body{kMsgId, "1614265330", kSignature, R"({"test": 2432232315})"};
  EXPECT_EQ(verify(secrets, body, kNow).error(), VerifyErrc::no_matching_signature);
  VerifyInput id{"msg_other", "1614265330", kSignature, kBody};
  EXPECT_EQ(verify(secrets, id, kNow).error(), VerifyErrc::no_matching_signature);
  VerifyInput v2{kMsgId, "1614265330", "v2,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", kBody};
  EXPECT_EQ(verify(secrets, v2, kNow).error(), VerifyErrc::no_matching_signature);
}

TEST(Signing, RefusesTimestampsOutsideTolerance) {
  const std::vector<std::string> secrets{std::string(kSecret)};
  VerifyInput in{kMsgId, "1614265330", kSignature, kBody};
  EXPECT_EQ(verify(secrets, in, kNow + std::chrono::seconds{301}).error(),
            VerifyErrc::timestamp_too_old);
  EXPECT_EQ(verify(secrets, in, kNow - std::chrono::seconds{301}).error(),
            VerifyErrc::timestamp_too_new);
  VerifyInput bad{kMsgId, "16142x", kSignature, kBody};
  EXPECT_EQ(verify(secrets, bad, kNow).error(), VerifyErrc::invalid_timestamp);
  VerifyInput missing{kMsgId, "1614265330", "", kBody};
  EXPECT_EQ(verify(secrets, missing, kNow).error(), VerifyErrc::missing_header);
}

TEST(Signing, RotationSignsWithBothSecretsAndEitherVerifies) {
  testing_support::CountingRandom random;
  const std::string fresh = generate_secret(random);
  ASSERT_TRUE(fresh.starts_with("whsec_"));
  EXPECT_EQ(decode_secret(fresh)->size(), kSecretBytes);

  auto signer = Signer::from_secrets({fresh, std::string(kSecret)});
  ASSERT_TRUE(signer.ok());
  const std::string header = signer->signature_header(kMsgId, kTimestamp, kBody);
  ASSERT_EQ(std::count(header.begin(), header.end(), ' '), 1);
  EXPECT_EQ(header.substr(header.find(' ') + 1), kSignature);

  VerifyInput in{kMsgId, "1614265330", header, kBody};
  EXPECT_TRUE(verify({std::string(kSecret)}, in, kNow).ok());
  EXPECT_TRUE(verify({fresh}, in, kNow).ok());
  EXPECT_FALSE(verify({generate_secret(random)}, in, kNow).ok());
}

TEST(Signing, ConstantTimeEqual) {
  EXPECT_TRUE(constant_time_equal("abc", "abc"));
  EXPECT_FALSE(constant_time_equal("abc", "abd"));
  EXPECT_FALSE(constant_time_equal("abc", "abcd"));
}

}  // namespace
}  // namespace hookstream::signing
