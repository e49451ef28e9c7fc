// Copyright 2026 The libprusaconnect Authors.
#include "tls_pin.h"

#include <openssl/err.h>
#include <openssl/evp.h>

#include <mutex>
#include <unordered_map>

namespace hostio {

namespace {

int PolicyIndex() {
  static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

// By socket, not by SSL object: libmosquitto makes a new SSL object for a
// connection when its TCP connect completes, where nothing of ours can be
// attached to it first; the socket stays.
std::mutex g_sockets_mu;
thread_local TlsPolicy* t_connecting = nullptr;
std::unordered_map<int, TlsPolicy*>& Sockets() {
  static auto* sockets = new std::unordered_map<int, TlsPolicy*>();
  return *sockets;
}

int Verify(int preverify, X509_STORE_CTX* store) {
  SSL* ssl =
      static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
  TlsPolicy* policy = nullptr;
  if (ssl != nullptr) {
    {
      std::lock_guard<std::mutex> lock(g_sockets_mu);
      auto it = Sockets().find(SSL_get_fd(ssl));
      if (it != Sockets().end()) policy = it->second;
    }
    if (policy == nullptr) policy = t_connecting;
    if (policy == nullptr) {
      policy = static_cast<TlsPolicy*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), PolicyIndex()));
    }
  }
  if (policy == nullptr) return 0;
  if (!policy->ca_file.empty()) {
    if (preverify == 0 && !policy->refused) {
      policy->refused = true;
      policy->why = "the certificate does not verify against " + policy->ca_file + " (" +
                    X509_verify_cert_error_string(X509_STORE_CTX_get_error(store)) + ")";
    }
    return preverify;
  }
  // Pinned: only the server's own certificate decides (it is self-signed).
  if (X509_STORE_CTX_get_error_depth(store) != 0) return 1;
  std::string fingerprint = CertificateSha256(X509_STORE_CTX_get_current_cert(store));
  bool ok =
      !fingerprint.empty() && policy->check_certificate && policy->check_certificate(fingerprint);
  if (!ok && !policy->refused) {
    policy->refused = true;
    policy->why = "the certificate (SHA-256 " + fingerprint + ") is not the pinned one";
  }
  return ok ? 1 : 0;
}

}  // namespace

std::string CertificateSha256(X509* cert) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned n = 0;
  if (cert == nullptr || X509_digest(cert, EVP_sha256(), md, &n) != 1) return "";
  static const char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < n; ++i) {
    out += kDigits[md[i] >> 4];
    out += kDigits[md[i] & 15];
  }
  return out;
}

bool InstallTlsPolicy(SSL_CTX* ctx, TlsPolicy* policy) {
  if (!policy->ca_file.empty() &&
      SSL_CTX_load_verify_locations(ctx, policy->ca_file.c_str(), nullptr) != 1) {
    ERR_clear_error();
    return false;
  }
  SSL_CTX_set_ex_data(ctx, PolicyIndex(), policy);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, Verify);
  return true;
}

bool PrepareSharedTlsContext(SSL_CTX* ctx, const std::string& ca_file) {
  if (!ca_file.empty() && SSL_CTX_load_verify_locations(ctx, ca_file.c_str(), nullptr) != 1) {
    ERR_clear_error();
    return false;
  }
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, Verify);
  return true;
}

void SetSocketTlsPolicy(int fd, TlsPolicy* policy) {
  std::lock_guard<std::mutex> lock(g_sockets_mu);
  if (policy != nullptr) {
    Sockets()[fd] = policy;
  } else {
    Sockets().erase(fd);
  }
}

ConnectingTlsPolicy::ConnectingTlsPolicy(TlsPolicy* policy) { t_connecting = policy; }
ConnectingTlsPolicy::~ConnectingTlsPolicy() { t_connecting = nullptr; }

}  // namespace hostio
