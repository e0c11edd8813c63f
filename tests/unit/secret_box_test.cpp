// Webhook secrets at rest (common/secret_box): AES-256-GCM under a keyring, bound to the webhook.
#include "common/secret_box.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "common/base64.hpp"
#include "common/config.hpp"
#include "tests/unit/fakes.hpp"

namespace hookstream {
namespace {

using testing_support::CountingRandom;

std::string key_text(char fill) {
  return base64_encode(std::string(kSecretKeyBytes, fill));
}

SecretKeyring ring(std::string_view text) {
  auto r = SecretKeyring::parse(text);
  EXPECT_TRUE(r.ok()) << (r ? "" : r.error().message);
  return std::move(*r);
}

constexpr std::string_view kSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

TEST(SecretBox, SealsWithAVersionedPrefixAndOpensWithTheSameAssociatedData) {
  CountingRandom random;
  const auto keys = ring("k1:" + key_text('a'));
  const auto sealed = seal(keys, random, kSecret, "wh_1");
  EXPECT_TRUE(sealed.starts_with("hs1:k1:")) << sealed;
  EXPECT_EQ(sealed.find(kSecret), std::string::npos);
  EXPECT_TRUE(is_sealed(sealed));
  EXPECT_EQ(sealed_key_id(sealed), "k1");
  auto opened = unseal(keys, sealed, "wh_1");
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  EXPECT_EQ(*opened, kSecret);
}

TEST(SecretBox, EveryWriteUsesAFreshNonce) {
  CountingRandom random;
  const auto keys = ring("k1:" + key_text('a'));
  EXPECT_NE(seal(keys, random, kSecret, "wh_1"), seal(keys, random, kSecret, "wh_1"));
}

TEST(SecretBox, AValueMovedToAnotherWebhookDoesNotOpen) {
  CountingRandom random;
  const auto keys = ring("k1:" + key_text('a'));
  const auto sealed = seal(keys, random, kSecret, "wh_1");
  auto opened = unseal(keys, sealed, "wh_2");
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().code, OpenErrc::tampered);
}

TEST(SecretBox, AnyChangedByteIsTampering) {
  CountingRandom random;
  const auto keys = ring("k1:" + key_text('a'));
  const auto sealed = seal(keys, random, kSecret, "wh_1");
  const auto payload = *base64_decode(sealed.substr(std::string_view("hs1:k1:").size()));
  for (std::size_t i = 0; i < payload.size(); ++i) {
    auto changed = payload;
    changed[i] = static_cast<char>(changed[i] ^ 0x01);
    auto opened = unseal(keys, "hs1:k1:" + base64_encode(changed), "wh_1");
    ASSERT_FALSE(opened.ok()) << "byte " << i;
    EXPECT_EQ(opened.error().code, OpenErrc::tampered) << "byte " << i;
  }
}

TEST(SecretBox, RotationNewWritesUseTheFirstKeyReadsAcceptEveryListedKey) {
  CountingRandom random;
  const auto old_ring = ring("k1:" + key_text('a'));
  const auto sealed_old = seal(old_ring, random, kSecret, "wh_1");
  const auto rotated = ring("k2:" + key_text('b') + ",k1:" + key_text('a'));
  EXPECT_EQ(sealed_key_id(seal(rotated, random, kSecret, "wh_1")), "k2");
  auto opened = unseal(rotated, sealed_old, "wh_1");
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  EXPECT_EQ(*opened, kSecret);

  // Once k1 is dropped from the list, its values no longer open: reseal before dropping it.
  const auto only_new = ring("k2:" + key_text('b'));
  auto refused = unseal(only_new, sealed_old, "wh_1");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, OpenErrc::unknown_key);
  EXPECT_NE(refused.error().message.find("k1"), std::string::npos);
}

TEST(SecretBox, TheSameIdWithOtherKeyBytesIsTampering) {
  CountingRandom random;
  const auto sealed = seal(ring("k1:" + key_text('a')), random, kSecret, "wh_1");
  auto opened = unseal(ring("k1:" + key_text('c')), sealed, "wh_1");
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().code, OpenErrc::tampered);
}

TEST(SecretBox, MalformedValuesAreNamedNotThrown) {
  const auto keys = ring("k1:" + key_text('a'));
  for (const std::string& bad :
       std::vector<std::string>{"whsec_plain", "hs1:", "hs1:k1", "hs1:k1:", "hs1:k1:not base64",
                                "hs1:k1:" + base64_encode("short")}) {
    auto opened = unseal(keys, bad, "wh_1");
    ASSERT_FALSE(opened.ok()) << bad;
    EXPECT_EQ(opened.error().code, OpenErrc::malformed) << bad;
  }
}

TEST(SecretKeyring, RefusesMalformedKeyringsWithoutEchoingKeyMaterial) {
  const std::string good = key_text('a');
  const std::string short_key = base64_encode(std::string(16, 'x'));
  for (const std::string& bad : std::vector<std::string>{
           std::string(), std::string("k1"), "k1:" + short_key, "k1:not-base64!", ":" + good,
           "bad id:" + good, "k1:" + good + ",k1:" + good, "k1:" + good + ","}) {
    auto r = SecretKeyring::parse(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().message.find(short_key), std::string::npos) << r.error().message;
    EXPECT_EQ(r.error().message.find(good), std::string::npos) << r.error().message;
  }
  auto two = SecretKeyring::parse("new:" + good + ",old-1_x:" + key_text('b'));
  ASSERT_TRUE(two.ok()) << two.error().message;
  EXPECT_EQ(two->current().id, "new");
  EXPECT_NE(two->find("old-1_x"), nullptr);
}

TEST(SecretKeyring, GeneratedEntriesParse) {
  CountingRandom random;
  auto r = SecretKeyring::parse(SecretKeyring::generate_entry("local-1", random));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->current().id, "local-1");
}

TEST(SecretKeysConfig, IsRequiredAndValidatedAtStart) {
  {
    const auto src = ConfigSource::from_map({});
    ConfigReader r(src);
    (void)read_secret_keys(r);
    auto done = r.finish();
    ASSERT_FALSE(done.ok());
    EXPECT_NE(done.error().message.find("HOOKSTREAM_SECRET_KEYS: is required"), std::string::npos)
        << done.error().message;
  }
  {
    const std::string material = base64_encode(std::string(20, 'z'));
    const auto src = ConfigSource::from_map({{"HOOKSTREAM_SECRET_KEYS", "k1:" + material}});
    ConfigReader r(src);
    (void)read_secret_keys(r);
    auto done = r.finish();
    ASSERT_FALSE(done.ok());
    EXPECT_NE(done.error().message.find("HOOKSTREAM_SECRET_KEYS"), std::string::npos);
    EXPECT_NE(done.error().message.find("32 bytes"), std::string::npos) << done.error().message;
    EXPECT_EQ(done.error().message.find(material), std::string::npos) << done.error().message;
  }
  {
    const auto src = ConfigSource::from_map({{"HOOKSTREAM_SECRET_KEYS", "k1:" + key_text('a')}});
    ConfigReader r(src);
    const auto keys = read_secret_keys(r);
    EXPECT_TRUE(r.finish().ok());
    EXPECT_EQ(keys.current().id, "k1");
  }
}

}  // namespace
}  // namespace hookstream
