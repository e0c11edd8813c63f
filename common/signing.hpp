#pragma once
// Standard Webhooks signatures (https://www.standardwebhooks.com): a `webhook-signature` header of
// space-separated "v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">" entries, one per active
// secret, so receivers keep verifying while a secret rotates.
#include <openssl/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.hpp"
#include "common/result.hpp"

namespace hookstream::signing {

inline constexpr std::string_view kSecretPrefix = "whsec_";
inline constexpr std::size_t kSecretBytes = 32;
inline constexpr std::chrono::seconds kDefaultTolerance{300};

// "whsec_" + base64 of 32 bytes from `random`.
std::string generate_secret(Random& random);

// The HMAC key inside a secret: base64 after the optional "whsec_" prefix.
Result<std::string> decode_secret(std::string_view secret);

// Frees an HMAC context (defined in signing.cpp, so this header needs no <openssl/evp.h>).
struct MacCtxFree {
  void operator()(EVP_MAC_CTX* ctx) const noexcept;
};
using MacCtxPtr = std::unique_ptr<EVP_MAC_CTX, MacCtxFree>;

// The active secrets of a webhook (current first, then a rotating-out one), each already keyed
// into an HMAC-SHA256 context that every signature restarts instead of hashing the key again.
// Move-only. Signing reuses those contexts, so one Signer serves one thread at a time.
class Signer {
 public:
  // Fails on an empty list, a secret that does not decode, or an OpenSSL failure.
  static Result<Signer> from_secrets(const std::vector<std::string>& secrets);
  // Declared, because a vector of unique_ptr still claims to be copyable.
  Signer(const Signer&) = delete;
  Signer& operator=(const Signer&) = delete;
  Signer(Signer&&) noexcept = default;
  Signer& operator=(Signer&&) noexcept = default;
  ~Signer() = default;

  // The `webhook-signature` header value: one "v1,<base64>" entry per secret, space-separated.
  // An OpenSSL failure is an error, never a wrong or partial header.
  Result<std::string> signature_header(std::string_view msg_id, std::int64_t timestamp,
                                       std::string_view body);

 private:
  Signer() = default;
  std::vector<MacCtxPtr> keyed_;
};

enum class VerifyErrc {
  missing_header,
  invalid_timestamp,
  timestamp_too_old,
  timestamp_too_new,
  no_matching_signature,
};
std::string_view to_string(VerifyErrc e);

struct VerifyInput {
  std::string_view msg_id;
  std::string_view timestamp;  // header text, seconds since the epoch
  std::string_view signature;  // header text
  std::string_view body;
};

// Succeeds when any "v1," entry matches any of `secrets` (constant-time) and the timestamp is
// within `tolerance` of `now`.
Result<void, VerifyErrc> verify(const std::vector<std::string>& secrets, const VerifyInput& in,
                                std::chrono::system_clock::time_point now,
                                std::chrono::seconds tolerance = kDefaultTolerance);

// Constant-time equality (length is not secret).
bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace hookstream::signing
