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
// What every easy handle of ours gets: no signals, http and https only, no
// redirects followed by libcurl (callers decide what goes to a new origin),
// TCP keep-alive, and TLS verified (against `ca_file` when given) unless
// `verify_tls` is false.
void SetCommonOptions(CURL* easy, bool verify_tls, const std::string& ca_file);
// One line of a response head as libcurl's header callback delivers it: a
// status line ("HTTP/...") starts a new head (after 100 Continue, or a
// redirect) and clears `headers`; "Name: value" is appended with the name
// lower-cased and the value trimmed, up to 100 headers; anything else (the
// blank line ending the head) is ignored.
void AppendHeaderLine(std::string_view line, HeaderList* headers);
// What a libcurl result means for the conditions (`too_large`: our write
// callback refused a body over its limit).
TransportError MapCurlError(CURLcode code, bool too_large);

}  // namespace prusaconnect::internal

#endif  // PRUSACONNECT_TRANSPORT_CURL_COMMON_H_
