// Copyright 2026 The libprusaconnect Authors.
//
// Small helpers a host needs around identity. Thread-safe, stateless.
#ifndef PRUSACONNECT_UTIL_H_
#define PRUSACONNECT_UTIL_H_

#include <string>

#include "prusaconnect/export.h"

namespace prusaconnect {

// The fingerprint Prusa printers use: the lower-case hex SHA-256 of the
// serial number (the SDK README's advice for MK3 and SL1).
PRUSACONNECT_API std::string FingerprintFromSerial(const std::string& sn);

// Lower-case hex SHA-256 of any bytes.
PRUSACONNECT_API std::string Sha256Hex(const std::string& data);

// The library's version, "0.1.0".
PRUSACONNECT_API const char* Version();

}  // namespace prusaconnect

#endif  // PRUSACONNECT_UTIL_H_
