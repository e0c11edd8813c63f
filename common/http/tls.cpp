#include "common/http/tls.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <filesystem>

namespace hookstream::http {
namespace {

std::string openssl_error() {
  const unsigned long code = ERR_get_error();
  if (code == 0) return "unknown OpenSSL error";
  char buf[256];
  ERR_error_string_n(code, buf, sizeof buf);
  return buf;
}

}  // namespace

Result<asio::ssl::context> make_client_tls_context(
    const std::optional<std::string>& extra_ca_file) {
  asio::ssl::context ctx(asio::ssl::context::tls_client);
  if (SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_2_VERSION) != 1)
    return fail("tls_context", "cannot require TLS 1.2: " + openssl_error());
  boost::system::error_code ec;
  ctx.set_default_verify_paths(ec);
  if (ec) return fail("tls_context", "cannot load the system CA certificates: " + ec.message());
  if (extra_ca_file) {
    std::error_code fs_ec;
    if (!std::filesystem::is_regular_file(*extra_ca_file, fs_ec))
      return fail("tls_ca_file", "the CA file " + *extra_ca_file + " does not exist");
    ctx.load_verify_file(*extra_ca_file, ec);
    if (ec)
      return fail("tls_ca_file",
                  "cannot load CA certificates from " + *extra_ca_file + ": " + ec.message());
  }
  ctx.set_verify_mode(asio::ssl::verify_peer, ec);
  if (ec) return fail("tls_context", "cannot enable peer verification: " + ec.message());
  return ctx;
}

Result<void> prepare_peer_verification(SSL* ssl, const Url& url) {
  boost::system::error_code ec;
  asio::ip::make_address(url.host, ec);
  if (!ec) {
    if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), url.host.c_str()) != 1)
      return fail("tls_setup", "cannot verify IP address " + url.host + ": " + openssl_error());
    return {};
  }
  // SSL_set_tlsext_host_name is a macro with a C-style cast; this is what it expands to.
  if (SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
               const_cast<char*>(url.host.c_str())) != 1)
    return fail("tls_setup", "cannot set SNI to " + url.host + ": " + openssl_error());
  SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  if (SSL_set1_host(ssl, url.host.c_str()) != 1)
    return fail("tls_setup", "cannot verify host name " + url.host + ": " + openssl_error());
  return {};
}

}  // namespace hookstream::http
