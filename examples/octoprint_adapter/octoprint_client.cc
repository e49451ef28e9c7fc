// Copyright 2026 The libprusaconnect Authors.
#include "octoprint_client.h"

#include <curl/curl.h>

#include <memory>
#include <utility>
#include <vector>

namespace octoprint_adapter {

namespace pc = prusaconnect;

OctoPrintClient::OctoPrintClient(std::string base_url, std::string api_key, int64_t timeout_ms)
    : http_(std::move(base_url), std::move(api_key), "OctoPrint", "octoprint_url", timeout_ms) {}

std::string OctoPrintClient::PercentEncode(const std::string& component) {
  return hostio::HostHttp::PercentEncode(component);
}

std::string OctoPrintClient::FilePath(const std::string& path) {
  std::string out = "/api/files/local";
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    if (end > start) out += "/" + PercentEncode(path.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

pc::StatusOr<OctoPrintClient::Response> OctoPrintClient::Perform(
    const std::string& method, const std::string& path, const std::string* json_body,
    const std::vector<Part>* parts) const {
  return http_.Request(method, path, json_body, parts);
}

namespace {

// Flask/werkzeug's default descriptions, which OctoPrint's API passes on as
// {"error": ...} when a route calls abort(code) without a text of its own
// (werkzeug/exceptions.py). They say nothing about what was asked.
bool IsGenericText(const std::string& text) {
  static const char* const kGeneric[] = {
      "The requested URL was not found on the server.",
      "The browser (or proxy) sent a request that this server could not understand.",
      "You don't have the permission to access the requested resource.",
      "The method is not allowed for the requested URL.",
      "A conflict happened while processing the request.",
      "The server does not support the media type transmitted in the request.",
      "The server encountered an internal error and was unable to complete your request.",
      "The server is temporarily unable to service your request",
      "The data value transmitted exceeds the capacity limit.",
  };
  for (const char* g : kGeneric) {
    if (text.rfind(g, 0) == 0) return true;
  }
  return false;
}

std::string Unescape(const std::string& s) {
  int n = 0;
  char* raw = curl_easy_unescape(nullptr, s.data(), static_cast<int>(s.size()), &n);
  if (raw == nullptr) return s;
  std::string out(raw, static_cast<size_t>(n));
  curl_free(raw);
  return out;
}

}  // namespace

pc::Status OctoPrintError(long status, const std::string& body,  // NOLINT(runtime/int)
                          const std::string& method, const std::string& path) {
  std::string text;
  pc::StatusOr<pc::Json> j = pc::Json::Parse(body);
  if (j.ok() && j->is_object() && j->find("error") != nullptr && j->find("error")->is_string()) {
    text = j->find("error")->as_string();
  } else if (j.ok() && j->is_string()) {
    text = j->as_string();
  } else if (!j.ok() && body.find('<') == std::string::npos) {
    text = body;  // plain text; an HTML page is not a reason
  }
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  if (text.size() > 300) text.resize(300);
  if (IsGenericText(text)) text.clear();

  const std::string plain = Unescape(path.substr(0, path.find('?')));
  static const std::string kFiles = "/api/files/local/";
  switch (status) {
    case 403:
      return pc::PermissionDeniedError(
          "OctoPrint refused the request (403" + (text.empty() ? "" : ": " + text) +
          "): check octoprint_api_key — it must be a valid user or application key with the "
          "STATUS, CONTROL, PRINT and FILES permissions");
    case 404:
      if (text.empty() && plain.rfind(kFiles, 0) == 0) {
        text = "File not found: /local/" + plain.substr(kFiles.size());
      }
      return pc::NotFoundError(text.empty() ? "OctoPrint has no " + plain + " (404)" : text);
    case 409:
      return pc::FailedPreconditionError(text.empty() ? "OctoPrint refused " + method + " " +
                                                            plain + " in its current state (409)"
                                                      : text);
    case 400:
    case 415:
      return pc::InvalidArgumentError(text.empty()
                                          ? "OctoPrint refused " + method + " " + plain +
                                                " as invalid (" + std::to_string(status) + ")"
                                          : text);
    default:
      return pc::InternalError("OctoPrint answered " + std::to_string(status) + " to " + method +
                               " " + plain + (text.empty() ? "" : ": " + text));
  }
}

pc::StatusOr<pc::Json> OctoPrintClient::JsonOf(const Response& r) {
  if (r.status < 200 || r.status >= 300) return ErrorOf(r);
  if (r.body.empty()) return pc::Json();
  pc::StatusOr<pc::Json> j = pc::Json::Parse(r.body);
  if (!j.ok()) return pc::InternalError("OctoPrint sent invalid JSON: " + j.status().message());
  return j;
}

pc::StatusOr<pc::Json> OctoPrintClient::Get(const std::string& path) const {
  pc::StatusOr<Response> r = Perform("GET", path, nullptr, nullptr);
  if (!r.ok()) return r.status();
  return JsonOf(*r);
}

pc::StatusOr<pc::Json> OctoPrintClient::Post(const std::string& path, const pc::Json& body) const {
  std::string text = body.Dump();
  pc::StatusOr<Response> r = Perform("POST", path, &text, nullptr);
  if (!r.ok()) return r.status();
  return JsonOf(*r);
}

pc::Status OctoPrintClient::Delete(const std::string& path) const {
  pc::StatusOr<Response> r = Perform("DELETE", path, nullptr, nullptr);
  if (!r.ok()) return r.status();
  if (r->status < 200 || r->status >= 300) return ErrorOf(*r);
  return pc::Status();
}

pc::StatusOr<std::string> OctoPrintClient::GetBytes(const std::string& path) const {
  pc::StatusOr<Response> r = Perform("GET", path, nullptr, nullptr);
  if (!r.ok()) return r.status();
  if (r->status != 200) return ErrorOf(*r);
  return std::move(r->body);
}

pc::StatusOr<pc::Json> OctoPrintClient::Upload(const std::string& folder,
                                               const std::string& filename,
                                               const std::string& local_file, bool select,
                                               bool print) const {
  std::vector<Part> parts;
  parts.push_back({"file", "", local_file, filename});
  if (!folder.empty()) parts.push_back({"path", folder, "", ""});
  if (select || print) parts.push_back({"select", "true", "", ""});
  if (print) parts.push_back({"print", "true", "", ""});
  pc::StatusOr<Response> r = Perform("POST", "/api/files/local", nullptr, &parts);
  if (!r.ok()) return r.status();
  return JsonOf(*r);
}

pc::Status OctoPrintClient::CreateFolder(const std::string& parent, const std::string& name) const {
  std::vector<Part> parts;
  parts.push_back({"foldername", name, "", ""});
  if (!parent.empty()) parts.push_back({"path", parent, "", ""});
  pc::StatusOr<Response> r = Perform("POST", "/api/files/local", nullptr, &parts);
  if (!r.ok()) return r.status();
  if (r->status < 200 || r->status >= 300) return ErrorOf(*r);
  return pc::Status();
}

}  // namespace octoprint_adapter
