// Copyright 2026 The libprusaconnect Authors.
//
// SHA-256 digests as lower-case hex, the form the SDK uses for fingerprints
// (`sha256(camera_id).hexdigest()`, and the README's printer fingerprint for
// MK3 and SL1: the hex digest of the serial number).
//
// Thread safety: the function keeps no state and may be called concurrently.

#ifndef PRUSACONNECT_UTIL_SHA256_H_
#define PRUSACONNECT_UTIL_SHA256_H_

#include <string>
#include <string_view>

namespace prusaconnect::internal {

// Returns the SHA-256 digest of `data` as 64 lower-case hex characters
// (Python's `hashlib.sha256(data).hexdigest()`). Returns an empty string only
// if OpenSSL fails, which it does solely when it cannot allocate memory.
std::string Sha256Hex(std::string_view data);

}  // namespace prusaconnect::internal

#endif  // PRUSACONNECT_UTIL_SHA256_H_
