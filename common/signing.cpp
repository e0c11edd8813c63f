#include "common/signing.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <charconv>

#include "common/base64.hpp"

namespace hookstream::signing {

std::string generate_secret(Random& random) {
  std::array<std::byte, kSecretBytes> key{};
  random.fill(key);
  return std::string(kSecretPrefix) +
         base64_encode(std::string_view(reinterpret_cast<const char*>(key.data()), key.size()));
}

Result<std::string> decode_secret(std::string_view secret) {
  if (secret.starts_with(kSecretPrefix)) secret.remove_prefix(kSecretPrefix.size());
  auto key = base64_decode(secret);
  if (!key || key->empty())
    return fail("invalid_secret", "a webhook secret is \"whsec_\" followed by base64");
  return std::move(*key);
}

std::string sign(std::string_view key, std::string_view msg_id, std::int64_t timestamp,
                 std::string_view body) {
  const std::string ts = std::to_string(timestamp);
  // HMAC over "id.timestamp.body" without building the concatenation (bodies can be 256 KiB).
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  std::size_t mac_len = 0;
  EVP_MAC* hmac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  EVP_MAC_CTX* ctx = EVP_MAC_CTX_new(hmac);
  char digest[] = "SHA256";
  const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("digest", digest, 0),
                               OSSL_PARAM_construct_end()};
  EVP_MAC_init(ctx, reinterpret_cast<const unsigned char*>(key.data()), key.size(), params);
  auto update = [&](std::string_view part) {
    EVP_MAC_update(ctx, reinterpret_cast<const unsigned char*>(part.data()), part.size());
  };
  update(msg_id);
  update(".");
  update(ts);
  update(".");
  update(body);
  EVP_MAC_final(ctx, mac.data(), &mac_len, mac.size());
  EVP_MAC_CTX_free(ctx);
  EVP_MAC_free(hmac);
  return "v1," +
         base64_encode(std::string_view(reinterpret_cast<const char*>(mac.data()), mac_len));
}

Result<Signer> Signer::from_secrets(const std::vector<std::string>& secrets) {
  if (secrets.empty()) return fail("invalid_secret", "a webhook needs at least one secret");
  Signer s;
  for (const auto& secret : secrets) {
    auto key = decode_secret(secret);
    if (!key) return fail(std::move(key).error());
    s.keys_.push_back(std::move(*key));
  }
  return s;
}

std::string Signer::signature_header(std::string_view msg_id, std::int64_t timestamp,
                                     std::string_view body) const {
  std::string header;
  for (const auto& key : keys_) {
    if (!header.empty()) header += ' ';
    header += sign(key, msg_id, timestamp, body);
  }
  return header;
}

std::string_view to_string(VerifyErrc e) {
  switch (e) {
    case VerifyErrc::missing_header:
      return "missing_header";
    case VerifyErrc::invalid_timestamp:
      return "invalid_timestamp";
    case VerifyErrc::timestamp_too_old:
      return "timestamp_too_old";
    case VerifyErrc::timestamp_too_new:
      return "timestamp_too_new";
    case VerifyErrc::no_matching_signature:
      return "no_matching_signature";
  }
  return "unknown";
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

Result<void, VerifyErrc> verify(const std::vector<std::string>& secrets, const VerifyInput& in,
                                std::chrono::system_clock::time_point now,
                                std::chrono::seconds tolerance) {
  if (in.msg_id.empty() || in.timestamp.empty() || in.signature.empty())
    return fail(VerifyErrc::missing_header);
  std::int64_t ts = 0;
  const auto [p, ec] =
      std::from_chars(in.timestamp.data(), in.timestamp.data() + in.timestamp.size(), ts);
  if (ec != std::errc{} || p != in.timestamp.data() + in.timestamp.size())
    return fail(VerifyErrc::invalid_timestamp);
  const auto now_s =
      std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  if (ts < now_s - tolerance.count()) return fail(VerifyErrc::timestamp_too_old);
  if (ts > now_s + tolerance.count()) return fail(VerifyErrc::timestamp_too_new);

  std::vector<std::string> expected;
  for (const auto& secret : secrets)
    if (auto key = decode_secret(secret)) expected.push_back(sign(*key, in.msg_id, ts, in.body));

  std::string_view sigs = in.signature;
  while (!sigs.empty()) {
    const auto space = sigs.find(' ');
    const auto candidate = sigs.substr(0, space);
    for (const auto& e : expected)
      if (candidate.starts_with("v1,") && constant_time_equal(candidate, e)) return {};
    if (space == std::string_view::npos) break;
    sigs.remove_prefix(space + 1);
  }
  return fail(VerifyErrc::no_matching_signature);
}

}  // namespace hookstream::signing
