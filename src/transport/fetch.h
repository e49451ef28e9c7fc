// Copyright 2026 The libprusaconnect Authors.
//
// Fetch: one streaming HTTP request on its own libcurl easy handle, for
// downloads (src/transfer) and ConnectClient's user-API calls. It runs in the calling thread — a
// transfer's own thread — and never on the network thread, so a download cannot delay telemetry.
// Redirects are not followed here: the caller decides which headers (if any) go to the new origin.
//
// Thread safety: Fetch() may be called from several threads at once.
#ifndef PRUSACONNECT_TRANSPORT_FETCH_H_
#define PRUSACONNECT_TRANSPORT_FETCH_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "protocol/http_types.h"

namespace prusaconnect::internal {

// scheme://host:port of a URL, lower-cased, with the default port filled in
// ("https://connect.prusa3d.com:443"). nullopt for anything but a valid
// http or https URL.
std::optional<std::string> UrlOrigin(const std::string& url);

// `url` with its user name, password, query and fragment left out (for logs).
std::string UrlForLog(const std::string& url);

struct FetchRequest {
  std::string url;
  std::string method = "GET";  // GET, or POST with `body`
  std::string body;
  // Deliver the body of any status to on_data, not only of a 2xx (an API's
  // JSON errors); redirects are still not followed.
  bool error_bodies = false;
  HeaderList headers;
  int64_t offset = 0;  // > 0: ask for "Range: bytes=<offset>-"
  int64_t connect_timeout_ms = 10000;
  // The attempt fails when no byte arrives for this long.
  int64_t stall_timeout_ms = 30000;
  bool verify_tls = true;
  std::string ca_file;
  size_t buffer_size = size_t{256} << 10;
  // libcurl paces the receiving at this rate (0 = unlimited).
  int64_t max_bytes_per_second = 0;
};

struct FetchCallbacks {
  // The response head: status and headers (names lower-cased). Return false
  // to end the attempt (no body is read).
  std::function<bool(int status, const HeaderList& headers)> on_head;
  // A piece of the body (of a 2xx response only). Return false to end.
  std::function<bool(const char* data, size_t size)> on_data;
  // Asked now and then; true ends the attempt at once.
  std::function<bool()> cancelled;
};

struct FetchResult {
  TransportError error = TransportError::kNone;
  std::string message;       // the transport error, for people
  bool ended_by_us = false;  // a callback ended it
  int status = 0;
  std::string redirect_url;  // of a 3xx response with a Location, resolved
};

FetchResult Fetch(const FetchRequest& request, FetchCallbacks& callbacks);

}  // namespace prusaconnect::internal

#endif  // PRUSACONNECT_TRANSPORT_FETCH_H_
