#include "common/secret_box.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <span>
#include <stdexcept>

#include "common/base64.hpp"

namespace hookstream {
namespace {

constexpr std::size_t kNonceBytes = 12;
constexpr std::size_t kTagBytes = 16;
constexpr std::size_t kMaxKeyId = 32;

struct CipherCtxDeleter {
  void operator()(EVP_CIPHER_CTX* ctx) const { EVP_CIPHER_CTX_free(ctx); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxDeleter>;

bool valid_key_id(std::string_view id) {
  return !id.empty() && id.size() <= kMaxKeyId && std::all_of(id.begin(), id.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
  });
}

const unsigned char* bytes_of(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

int int_size(std::size_t n) {
  return static_cast<int>(n);
}

// OpenSSL failures here are programming errors (a valid key and sizes are guaranteed by the
// keyring); they are not expected at run time.
[[noreturn]] void openssl_broke(const char* what) {
  throw std::runtime_error(std::string("OpenSSL AES-256-GCM failed: ") + what);
}

}  // namespace

std::string_view to_string(OpenErrc e) {
  switch (e) {
    case OpenErrc::malformed:
      return "malformed";
    case OpenErrc::unknown_key:
      return "unknown_key";
    case OpenErrc::tampered:
      return "tampered";
  }
  return "unknown";
}

Result<SecretKeyring> SecretKeyring::parse(std::string_view text) {
  SecretKeyring ring;
  auto bad = [](std::string why) { return fail("invalid_secret_keys", std::move(why)); };
  if (text.empty())
    return bad("is empty; give \"<key id>:<base64 of 32 random bytes>\" (openssl rand -base64 32)");
  std::size_t index = 0;
  while (true) {
    const auto comma = text.find(',');
    const auto entry = text.substr(0, comma);
    const std::string where = "entry " + std::to_string(index + 1);
    const auto colon = entry.find(':');
    if (colon == std::string_view::npos) return bad(where + " is not \"<key id>:<base64 key>\"");
    const auto id = entry.substr(0, colon);
    if (!valid_key_id(id))
      return bad(where + ": the key id must be 1-32 letters, digits, '-' or '_'");
    if (ring.find(id)) return bad(where + ": key id \"" + std::string(id) + "\" appears twice");
    const auto raw = base64_decode(entry.substr(colon + 1));
    if (!raw || raw->size() != kSecretKeyBytes)
      return bad(where + " (key id \"" + std::string(id) +
                 "\"): the key must be base64 of exactly 32 bytes (openssl rand -base64 32)");
    SecretKey key;
    key.id = std::string(id);
    std::copy(raw->begin(), raw->end(), reinterpret_cast<char*>(key.bytes.data()));
    ring.keys_.push_back(std::move(key));
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
    ++index;
  }
  return ring;
}

std::string SecretKeyring::generate_entry(std::string_view id, Random& random) {
  std::string raw(kSecretKeyBytes, '\0');
  random.fill(std::as_writable_bytes(std::span(raw.data(), raw.size())));
  return std::string(id) + ":" + base64_encode(raw);
}

const SecretKey* SecretKeyring::find(std::string_view id) const {
  for (const auto& k : keys_)
    if (k.id == id) return &k;
  return nullptr;
}

bool is_sealed(std::string_view stored) {
  return stored.starts_with(kSealedPrefix);
}

std::string_view sealed_key_id(std::string_view stored) {
  if (!is_sealed(stored)) return {};
  stored.remove_prefix(kSealedPrefix.size());
  return stored.substr(0, stored.find(':'));
}

std::string seal(const SecretKeyring& keyring, Random& random, std::string_view plaintext,
                 std::string_view associated_data) {
  const SecretKey& key = keyring.current();
  std::string out(kNonceBytes + plaintext.size() + kTagBytes, '\0');
  auto* nonce = reinterpret_cast<unsigned char*>(out.data());
  random.fill(std::as_writable_bytes(std::span(out.data(), kNonceBytes)));

  CipherCtx ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  if (!ctx || EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, int_size(kNonceBytes), nullptr) != 1 ||
      EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr, key.bytes.data(), nonce) != 1 ||
      EVP_EncryptUpdate(ctx.get(), nullptr, &len, bytes_of(associated_data),
                        int_size(associated_data.size())) != 1)
    openssl_broke("init");
  auto* cipher = nonce + kNonceBytes;
  if (EVP_EncryptUpdate(ctx.get(), cipher, &len, bytes_of(plaintext), int_size(plaintext.size())) !=
          1 ||
      EVP_EncryptFinal_ex(ctx.get(), cipher + len, &len) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, int_size(kTagBytes),
                          cipher + plaintext.size()) != 1)
    openssl_broke("encrypt");
  return std::string(kSealedPrefix) + key.id + ":" + base64_encode(out);
}

Result<std::string, OpenError> unseal(const SecretKeyring& keyring, std::string_view stored,
                                      std::string_view associated_data) {
  auto error = [](OpenErrc code, std::string message) {
    return fail(OpenError{code, std::move(message)});
  };
  if (!is_sealed(stored))
    return error(OpenErrc::malformed, "the value is not sealed (no \"hs1:\" prefix)");
  stored.remove_prefix(kSealedPrefix.size());
  const auto colon = stored.find(':');
  if (colon == std::string_view::npos)
    return error(OpenErrc::malformed, "the sealed value has no key id");
  const auto id = stored.substr(0, colon);
  const SecretKey* key = keyring.find(id);
  if (!key)
    return error(OpenErrc::unknown_key, "sealed under key id \"" +
                                            std::string(id).substr(0, kMaxKeyId) +
                                            "\", which HOOKSTREAM_SECRET_KEYS does not list");
  const auto raw = base64_decode(stored.substr(colon + 1));
  if (!raw || raw->size() < kNonceBytes + kTagBytes)
    return error(OpenErrc::malformed, "the sealed value's payload is not valid");
  const auto* nonce = bytes_of(*raw);
  const std::size_t cipher_size = raw->size() - kNonceBytes - kTagBytes;
  const auto* cipher = nonce + kNonceBytes;
  // EVP_CTRL_GCM_SET_TAG takes a non-const pointer but only reads it.
  std::array<unsigned char, kTagBytes> tag{};
  std::copy(cipher + cipher_size, cipher + cipher_size + kTagBytes, tag.begin());

  std::string plain(cipher_size, '\0');
  auto* out = reinterpret_cast<unsigned char*>(plain.data());
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  if (!ctx || EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, int_size(kNonceBytes), nullptr) != 1 ||
      EVP_DecryptInit_ex(ctx.get(), nullptr, nullptr, key->bytes.data(), nonce) != 1 ||
      EVP_DecryptUpdate(ctx.get(), nullptr, &len, bytes_of(associated_data),
                        int_size(associated_data.size())) != 1 ||
      EVP_DecryptUpdate(ctx.get(), out, &len, cipher, int_size(cipher_size)) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, int_size(kTagBytes), tag.data()) != 1)
    openssl_broke("decrypt");
  if (EVP_DecryptFinal_ex(ctx.get(), out + len, &len) != 1)
    return error(OpenErrc::tampered, "the sealed value does not verify under key id \"" +
                                         std::string(id) +
                                         "\" (another key with that id, or altered data)");
  return plain;
}

}  // namespace hookstream
