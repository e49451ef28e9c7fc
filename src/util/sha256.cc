// Copyright 2026 The libprusaconnect Authors.

#include "util/sha256.h"

// OpenSSL's low-level SHA-256 computes the digest directly. The EVP one-shot
// (EVP_Digest with EVP_sha256()) first sets up OpenSSL 3's default provider,
// which faults in ~190 kB of libcrypto that a host talking plain HTTP (a
// local server, the emulator) never needs otherwise — for a fingerprint
// computed once at start-up (docs/PERFORMANCE.md, issue #2). The low-level
// functions are deprecated since OpenSSL 3.0 but present in every 3.x; where
// they are gone, the EVP call is used.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/opensslv.h>
#if OPENSSL_VERSION_MAJOR < 4
#include <openssl/sha.h>
#else
#include <openssl/evp.h>
#endif

namespace prusaconnect::internal {

std::string Sha256Hex(std::string_view data) {
  unsigned char digest[32];
#if OPENSSL_VERSION_MAJOR < 4
  SHA256_CTX ctx;
  if (SHA256_Init(&ctx) != 1 || SHA256_Update(&ctx, data.data(), data.size()) != 1 ||
      SHA256_Final(digest, &ctx) != 1) {
    return std::string();
  }
#else
  unsigned int length = 0;
  if (EVP_Digest(data.data(), data.size(), digest, &length, EVP_sha256(), nullptr) != 1 ||
      length != sizeof(digest)) {
    return std::string();
  }
#endif
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(2 * sizeof(digest));
  for (unsigned char byte : digest) {
    hex += kHex[byte >> 4];
    hex += kHex[byte & 0x0F];
  }
  return hex;
}

}  // namespace prusaconnect::internal
