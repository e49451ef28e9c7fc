// Copyright 2026 The libprusaconnect Authors.
//
// HostHttp: blocking HTTP requests to a printer host's REST API (OctoPrint,
// Moonraker), with its API key in X-Api-Key, through libcurl. The one place
// the host drivers build curl requests; each driver maps the answers to its
// host's errors (OctoPrintError, MoonrakerError).
//
// Blocking on purpose: the bridge runs these on its fixed worker pool
// (scheduler.h) and the single-printer daemon on its own loop, so the number
// of threads never grows with the number of printers.
//
// Thread safety: every method may be called from any thread concurrently
// (each request uses its own curl handle).
#ifndef PRUSACONNECT_EXAMPLES_HOSTIO_HOST_HTTP_H_
#define PRUSACONNECT_EXAMPLES_HOSTIO_HOST_HTTP_H_

#include <prusaconnect/status.h>

#include <cstdint>
#include <string>
#include <vector>

namespace hostio {

struct HttpReply {
  long status = 0;  // NOLINT(google-runtime-int): curl's type
  std::string body;
  std::string method, path;  // what was asked
};

// One part of a multipart/form-data body: a plain field, or a file.
struct FormPart {
  std::string name;
  std::string value;
  std::string file_path;  // a file part when set
  std::string file_name;
};

class HostHttp {
 public:
  // `host_name` ("OctoPrint") and `url_key` ("octoprint_url") make the
  // message of an unreachable host actionable.
  HostHttp(std::string base_url, std::string api_key, std::string host_name, std::string url_key,
           int64_t timeout_ms = 10000);

  const std::string& base_url() const { return base_url_; }
  // Any status answered is a reply; Unavailable when the host cannot be
  // reached ("<host> unreachable at URL: why (is <host> running, and is
  // <url_key> right?)"); NotFound when a file part cannot be read.
  prusaconnect::StatusOr<HttpReply> Request(const std::string& method, const std::string& path,
                                            const std::string* json_body = nullptr,
                                            const std::vector<FormPart>* parts = nullptr,
                                            int64_t timeout_ms = 0) const;

  // RFC 3986 unreserved characters stay, everything else is %XX.
  static std::string PercentEncode(const std::string& component);
  // Each "/"-separated component of `path` percent-encoded, empty ones
  // dropped, joined with "/" (no leading slash).
  static std::string EncodePath(const std::string& path);

 private:
  std::string base_url_;
  std::string api_key_;
  std::string host_name_;
  std::string url_key_;
  int64_t timeout_ms_;
};

// "http://user:secret@host:7125/" -> "http://host:7125/": for logs, states
// and anything shown; a URL may carry credentials.
std::string UrlWithoutCredentials(const std::string& url);

}  // namespace hostio

#endif  // PRUSACONNECT_EXAMPLES_HOSTIO_HOST_HTTP_H_
