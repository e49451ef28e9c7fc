// Copyright 2026 The libprusaconnect Authors.
//
// URL text helpers without a URL parser (parsing, origins: transport/fetch.h,
// which uses libcurl's).
#ifndef PRUSACONNECT_UTIL_URL_H_
#define PRUSACONNECT_UTIL_URL_H_

#include <string>

namespace prusaconnect::internal {

// Percent-encodes everything but RFC 3986 unreserved characters.
std::string PercentEncode(const std::string& text);

}  // namespace prusaconnect::internal

#endif  // PRUSACONNECT_UTIL_URL_H_
