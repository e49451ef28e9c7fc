// Copyright 2026 The libprusaconnect Authors.
//
// OctoPrintClient: the adapter's view of OctoPrint's REST API (see
// docs/octoprint.md and the OctoPrint 1.10 API). Every request carries the
// API key in X-Api-Key; answers are JSON. Requests go through hostio::HostHttp (curl).
//
// Errors are Status values whose message a person can act on:
//   * Unavailable        OctoPrint cannot be reached (connection refused,
//                        timeout): "OctoPrint unreachable at URL: ...";
//   * PermissionDenied   403: the API key is wrong or lacks a permission;
//   * FailedPrecondition 409: OctoPrint's state forbids it, with OctoPrint's
//                        own reason ("Printer is not operational");
//   * NotFound           404: "File not found: /local/x.gcode" for a file path;
//   * InvalidArgument    400 / 415;
//   * Internal           anything else, with the status and OctoPrint's text.
// OctoPrint's own sentence is kept where it gave one; where it only passed on
// Flask's generic text for the status ("The requested URL was not found on
// the server. If you entered the URL manually…", see OctoPrintError) or
// sent no JSON at all (a proxy's HTML page), the message says what was asked.
//
// Thread safety: every method may be called from any thread concurrently
// (each request uses its own curl handle).
#ifndef PRUSACONNECT_EXAMPLES_OCTOPRINT_ADAPTER_OCTOPRINT_CLIENT_H_
#define PRUSACONNECT_EXAMPLES_OCTOPRINT_ADAPTER_OCTOPRINT_CLIENT_H_

#include <prusaconnect/json.h>
#include <prusaconnect/status.h>

#include <cstdint>
#include <string>
#include <vector>

#include "host_http.h"

namespace octoprint_adapter {

// The Status for OctoPrint's error answer `status` + `body` to `method`
// `path` (as sent: percent-encoded, with any query). Pure: the OctoPrint
// plugin's tests share its table (tests/octoprint/octoprint_errors.json).
prusaconnect::Status OctoPrintError(long status, const std::string& body,  // NOLINT(runtime/int)
                                    const std::string& method, const std::string& path);

class OctoPrintClient {
 public:
  // `base_url` such as "http://127.0.0.1:5000" (a trailing "/" is ignored).
  OctoPrintClient(std::string base_url, std::string api_key, int64_t timeout_ms = 10000);

  const std::string& base_url() const { return http_.base_url(); }

  // GET `path` ("/api/job"); the parsed JSON body (null for an empty one).
  prusaconnect::StatusOr<prusaconnect::Json> Get(const std::string& path) const;
  // POST a JSON body; 204 answers null.
  prusaconnect::StatusOr<prusaconnect::Json> Post(const std::string& path,
                                                  const prusaconnect::Json& body) const;
  prusaconnect::Status Delete(const std::string& path) const;
  // GET `path` as bytes (thumbnails).
  prusaconnect::StatusOr<std::string> GetBytes(const std::string& path) const;
  // Multipart POST /api/files/local: uploads `local_file` as `filename` into
  // `folder` ("" or "prints/"), selecting / printing it when asked.
  prusaconnect::StatusOr<prusaconnect::Json> Upload(const std::string& folder,
                                                    const std::string& filename,
                                                    const std::string& local_file, bool select,
                                                    bool print) const;
  // Multipart POST /api/files/local with foldername (and path = parent).
  prusaconnect::Status CreateFolder(const std::string& parent, const std::string& name) const;

  // "/api/files/local/" + each path component percent-encoded.
  static std::string FilePath(const std::string& path);
  static std::string PercentEncode(const std::string& component);

 private:
  using Response = hostio::HttpReply;
  using Part = hostio::FormPart;
  prusaconnect::StatusOr<Response> Perform(const std::string& method, const std::string& path,
                                           const std::string* json_body,
                                           const std::vector<Part>* parts) const;
  static prusaconnect::Status ErrorOf(const Response& r) {
    return OctoPrintError(r.status, r.body, r.method, r.path);
  }
  static prusaconnect::StatusOr<prusaconnect::Json> JsonOf(const Response& r);

  hostio::HostHttp http_;
};

}  // namespace octoprint_adapter

#endif  // PRUSACONNECT_EXAMPLES_OCTOPRINT_ADAPTER_OCTOPRINT_CLIENT_H_
