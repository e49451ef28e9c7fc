// Copyright 2026 The libprusaconnect Authors.
//
// TlsPolicy: how a host with a self-signed certificate (a Bambu printer) is
// trusted — against a CA file when one is configured (without comparing the
// host name), else by the SHA-256 fingerprint of its certificate, checked in
// OpenSSL's verify callback, i.e. during the handshake and before anything
// (a password) is sent. The MQTT loop and the FTPS client both install it on
// the SSL_CTX they use.
#ifndef PRUSACONNECT_EXAMPLES_HOSTIO_TLS_PIN_H_
#define PRUSACONNECT_EXAMPLES_HOSTIO_TLS_PIN_H_

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <functional>
#include <string>

namespace hostio {

struct TlsPolicy {
  // With a CA file: the chain must verify against it.
  std::string ca_file;
  // Without: the server certificate's SHA-256 (lowercase hex); false
  // refuses the handshake.
  std::function<bool(const std::string& sha256_hex)> check_certificate;
  // Set by the handshake that refused the certificate.
  bool refused = false;
  std::string why;
};

// Lowercase hex SHA-256 of the certificate's DER form ("" on failure).
std::string CertificateSha256(X509* cert);

// Makes `ctx` verify peers by `policy` (which must outlive its handshakes).
// Loads the CA file into `ctx` when there is one; false when it cannot be
// read.
bool InstallTlsPolicy(SSL_CTX* ctx, TlsPolicy* policy);

// A context shared by many connections, each with its own policy found by
// its socket (SetSocketTlsPolicy): loads `ca_file` when not empty (false
// when it cannot be read) and installs the verify callback. A connection
// without a policy is refused.
bool PrepareSharedTlsContext(SSL_CTX* ctx, const std::string& ca_file);
// The policy of the TLS connection on socket `fd` (null: none any more;
// before the socket is closed).
void SetSocketTlsPolicy(int fd, TlsPolicy* policy);

// While it lives, handshakes on this thread whose socket has no policy yet
// use `policy` (a connect call that may start the handshake before the
// socket is known).
class ConnectingTlsPolicy {
 public:
  explicit ConnectingTlsPolicy(TlsPolicy* policy);
  ~ConnectingTlsPolicy();
  ConnectingTlsPolicy(const ConnectingTlsPolicy&) = delete;
  ConnectingTlsPolicy& operator=(const ConnectingTlsPolicy&) = delete;
};

}  // namespace hostio

#endif  // PRUSACONNECT_EXAMPLES_HOSTIO_TLS_PIN_H_
