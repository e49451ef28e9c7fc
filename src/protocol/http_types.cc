// Copyright 2026 The libprusaconnect Authors.
#include "protocol/http_types.h"

#include <cerrno>

namespace prusaconnect::internal {

std::string DescribeTransportFailure(const HttpResponse& r) {
  std::string what = TransportErrorName(r.error);
  if (r.error == TransportError::kConnect) {
    switch (r.os_error) {
      case ECONNREFUSED:
        what = "connection refused";
        break;
      case ETIMEDOUT:
        what = "connection timed out";
        break;
      case EHOSTUNREACH:
        what = "host unreachable";
        break;
      case ENETUNREACH:
        what = "network unreachable";
        break;
      default:
        break;
    }
  }
  if (r.error_message.empty()) return what;
  return what + " (" + r.error_message + ")";
}

const char* TransportErrorName(TransportError e) {
  switch (e) {
    case TransportError::kNone:
      return "none";
    case TransportError::kDns:
      return "name resolution failed";
    case TransportError::kConnect:
      return "connection failed";
    case TransportError::kTimeout:
      return "timed out";
    case TransportError::kConnection:
      return "connection broken";
    case TransportError::kTls:
      return "TLS failure";
    case TransportError::kTooLarge:
      return "response too large";
    case TransportError::kOther:
      return "transport error";
  }
  return "transport error";
}

}  // namespace prusaconnect::internal
