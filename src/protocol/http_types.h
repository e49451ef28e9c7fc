// Copyright 2026 The libprusaconnect Authors.
//
// The HTTP request/response values exchanged between the sans-IO protocol
// core (Session) and the transport (Engine + libcurl).
#ifndef PRUSACONNECT_PROTOCOL_HTTP_TYPES_H_
#define PRUSACONNECT_PROTOCOL_HTTP_TYPES_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace prusaconnect::internal {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method = "GET";  // GET, POST or PUT
  std::string url;
  HeaderList headers;        // in the order they are sent
  std::string content_type;  // with a body only
  std::string body;
  int64_t timeout_ms = 10000;
  bool verify_tls = true;
  std::string ca_file;
  // Bodies longer than this are cut off and reported as kTooLarge.
  size_t max_response_body = 1 << 20;
};

// Why no (complete) response arrived.
enum class TransportError {
  kNone,
  kDns,         // the host name did not resolve: INTERNET
  kConnect,     // refused, unreachable, connect timeout: HTTP
  kTimeout,     // no answer within the request timeout: HTTP
  kConnection,  // dropped mid-exchange, empty reply, bad HTTP: HTTP
  kTls,         // handshake or certificate failure: HTTP
  kTooLarge,    // the body exceeded max_response_body (headers are valid)
  kOther,
};

const char* TransportErrorName(TransportError e);

struct HttpResponse {
  TransportError error = TransportError::kNone;
  std::string error_message;
  int os_error = 0;    // errno of the failed connect (ECONNREFUSED...), 0 if none
  int status = 0;      // 0 when no status line arrived
  HeaderList headers;  // names lower-cased, values trimmed
  std::string body;

  // The value of a header (name given in lower case), or nullptr.
  const std::string* header(std::string_view lower_name) const {
    for (const auto& [name, value] : headers) {
      if (name == lower_name) return &value;
    }
    return nullptr;
  }
};

// What went wrong with a request that got no answer, for people: "connection
// refused (<libcurl's message>)", "timed out (...)", "TLS failure (...)".
std::string DescribeTransportFailure(const HttpResponse& r);

}  // namespace prusaconnect::internal

#endif  // PRUSACONNECT_PROTOCOL_HTTP_TYPES_H_
