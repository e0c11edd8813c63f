#include "common/signing.hpp"

#include <gtest/gtest.h>

#include <type_traits>

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

std::string header(const std::vector<std::string>& secrets, std::string_view msg_id,
                   std::int64_t timestamp, std::string_view body) {
  auto signer = Signer::from_secrets(secrets);
  EXPECT_TRUE(signer.ok()) << signer.error().message;
  if (!signer) return {};
  auto h = signer->signature_header(msg_id, timestamp, body);
  EXPECT_TRUE(h.ok()) << h.error().message;
  return h.value_or("");
}

TEST(Signing, MatchesStandardWebhooksReferenceVector) {
  EXPECT_EQ(header({std::string(kSecret)}, kMsgId, kTimestamp, kBody), kSignature);
}

// Expected values from the openssl CLI, not from this code (then base64-encoded):
//   printf '%s' '<id>.<ts>.<body>' | openssl dgst -sha256 -mac HMAC -macopt hexkey:<key> -binary
TEST(Signing, MatchesIndependentlyComputedVectors) {
  // Key bytes 00..1f.
  EXPECT_EQ(header({"whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="}, "evt_01J9Z", 1772712000,
                   R"({"type":"contact.created","data":{"id":42}})"),
            "v1,tx16gg/5K4whhZDKm0Bl8pUBCqv26vN5/z2Y3pWGyPo=");
  // A 100-byte key (longer than SHA-256's block, so HMAC hashes it first; no "whsec_" prefix),
  // timestamp 0 and an empty body.
  EXPECT_EQ(
      header({"AwoRGB8mLTQ7QklQV15lbHN6gYiPlp2kq7K5wMfO1dzj6vH4/wYNFBsiKTA3PkVMU1phaG92fYSLkpmg"
              "p661vMPK0djf5u30+wIJEBceJSwzOkFIT1ZdZGtyeYCHjpWco6qxuA=="},
             "msg_long_key", 0, ""),
      "v1,TkHOeblESdbdmjteNNAJ5JGakj/6nVgB4FQ4sxfkRoY=");
}

TEST(Signing, TwoSecretsGiveTwoSignaturesInOrder) {
  const std::string other = "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
  const std::string other_sig = header({other}, kMsgId, kTimestamp, kBody);
  EXPECT_EQ(header({std::string(kSecret), other}, kMsgId, kTimestamp, kBody),
            std::string(kSignature) + " " + other_sig);
  EXPECT_EQ(header({other, std::string(kSecret)}, kMsgId, kTimestamp, kBody),
            other_sig + " " + std::string(kSignature));
}

TEST(Signing, RepeatedSignaturesMatchAFreshSigner) {
  // Every signature restarts the same keyed context; nothing may carry over between them.
  auto signer = Signer::from_secrets({std::string(kSecret)});
  ASSERT_TRUE(signer.ok());
  const std::string big(1024, 'x');
  for (int i = 0; i < 50; ++i) {
    const std::string_view body = i % 2 == 0 ? kBody : std::string_view(big);
    const auto ts = kTimestamp + i;
    auto h = signer->signature_header(kMsgId, ts, body);
    ASSERT_TRUE(h.ok());
    EXPECT_EQ(*h, header({std::string(kSecret)}, kMsgId, ts, body)) << i;
  }
  EXPECT_EQ(*signer->signature_header(kMsgId, kTimestamp, kBody), kSignature);
}

TEST(Signing, MovedSignerStillSigns) {
  auto made = Signer::from_secrets({std::string(kSecret)});
  ASSERT_TRUE(made.ok());
  Signer moved = std::move(*made);
  EXPECT_EQ(*moved.signature_header(kMsgId, kTimestamp, kBody), kSignature);
  auto other = Signer::from_secrets({"whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="});
  ASSERT_TRUE(other.ok());
  *other = std::move(moved);
  EXPECT_EQ(*other->signature_header(kMsgId, kTimestamp, kBody), kSignature);
  static_assert(!std::is_copy_constructible_v<Signer> && !std::is_copy_assignable_v<Signer>);
}

TEST(Signing, RefusesMissingOrInvalidSecrets) {
  EXPECT_FALSE(Signer::from_secrets({}).ok());
  EXPECT_FALSE(Signer::from_secrets({std::string(kSecret), "whsec_not base64!"}).ok());
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
  const std::string both = *signer->signature_header(kMsgId, kTimestamp, kBody);
  ASSERT_EQ(std::count(both.begin(), both.end(), ' '), 1);
  EXPECT_EQ(both.substr(both.find(' ') + 1), kSignature);

  VerifyInput in{kMsgId, "1614265330", both, kBody};
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
