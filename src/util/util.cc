// Copyright 2026 The libprusaconnect Authors.
#include "prusaconnect/util.h"

#include "util/sha256.h"

#ifndef PRUSACONNECT_VERSION
#define PRUSACONNECT_VERSION "0.0.0"
#endif

namespace prusaconnect {

std::string FingerprintFromSerial(const std::string& sn) { return internal::Sha256Hex(sn); }
std::string Sha256Hex(const std::string& data) { return internal::Sha256Hex(data); }
const char* Version() { return PRUSACONNECT_VERSION; }

}  // namespace prusaconnect
