#pragma once
// Webhook signing secrets at rest (docs/security.md): AES-256-GCM under a keyring from
// HOOKSTREAM_SECRET_KEYS, so a copy of the Redis data (an RDB/AOF file, a replica, a backup) does
// not hold secrets that sign deliveries.
//
// A sealed value reads "hs1:<key id>:<base64 of nonce (12 bytes) | ciphertext | tag (16 bytes)>".
// The nonce is random per write; the associated data names the record (the webhook id), so a
// value copied onto another webhook does not open. New writes use the keyring's first key; reads
// accept every key listed, which is what lets keys rotate (docs/operations.md).
#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.hpp"
#include "common/result.hpp"

namespace hookstream {

inline constexpr std::string_view kSealedPrefix = "hs1:";
inline constexpr std::size_t kSecretKeyBytes = 32;

struct SecretKey {
  std::string id;  // [A-Za-z0-9_-]{1,32}
  std::array<unsigned char, kSecretKeyBytes> bytes{};
};

// Why a stored value did not open.
enum class OpenErrc {
  malformed,    // not "hs1:<id>:<base64>", or too short to hold a nonce and a tag
  unknown_key,  // sealed under a key id the keyring does not list
  tampered,     // the tag does not verify: wrong key bytes, other associated data, or edited
};
std::string_view to_string(OpenErrc e);

struct OpenError {
  OpenErrc code;
  std::string message;  // names the key id, never the value
};

class SecretKeyring {
 public:
  // "id:base64key[,id:base64key…]", each key 32 bytes; the first one seals new writes.
  static Result<SecretKeyring> parse(std::string_view text);
  // A fresh random key, for ./scripts/run's local default: "<id>:<base64>".
  static std::string generate_entry(std::string_view id, Random& random);

  const SecretKey& current() const { return keys_.front(); }
  const SecretKey* find(std::string_view id) const;
  const std::vector<SecretKey>& keys() const { return keys_; }

 private:
  std::vector<SecretKey> keys_;
};

// Whether `stored` is a sealed value (otherwise: a legacy plaintext value, or junk).
bool is_sealed(std::string_view stored);

// Encrypts `plaintext` under the keyring's current key with a fresh nonce from `random`.
std::string seal(const SecretKeyring& keyring, Random& random, std::string_view plaintext,
                 std::string_view associated_data);

Result<std::string, OpenError> unseal(const SecretKeyring& keyring, std::string_view stored,
                                      std::string_view associated_data);

// The key id a sealed value names ("" when it is not sealed).
std::string_view sealed_key_id(std::string_view stored);

}  // namespace hookstream
