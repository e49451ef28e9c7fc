// Copyright 2026 The libprusaconnect Authors.
//
// What the network thread's engine and the transfers' fetches share about
// libcurl. Only src/transport includes <curl/curl.h>.
#ifndef PRUSACONNECT_TRANSPORT_CURL_COMMON_H_
#define PRUSACONNECT_TRANSPORT_CURL_COMMON_H_

#include <curl/curl.h>

#include <string>
#include <string_view>

#include "protocol/http_types.h"

namespace prusaconnect::internal {

// curl_global_init, once per process.
void GlobalInit();
// `s` without surrounding blanks and line ends (header values).
std::string Trim(std::string_view s);
// What a libcurl result means for the conditions (`too_large`: our write
// callback refused a body over its limit).
TransportError MapCurlError(CURLcode code, bool too_large);

}  // namespace prusaconnect::internal

#endif  // PRUSACONNECT_TRANSPORT_CURL_COMMON_H_
