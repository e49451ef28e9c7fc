// Copyright 2026 The libprusaconnect Authors.
#include "octoprint_client.h"

#include <curl/curl.h>

#include <memory>
#include <utility>
#include <vector>

namespace octoprint_adapter {

namespace pc = prusaconnect;

namespace {

size_t Collect(char* data, size_t size, size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}

struct CurlDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct SlistDeleter {
  void operator()(curl_slist* s) const { curl_slist_free_all(s); }
};
struct MimeDeleter {
  void operator()(curl_mime* m) const { curl_mime_free(m); }
};

}  // namespace

OctoPrintClient::OctoPrintClient(std::string base_url, std::string api_key, int64_t timeout_ms)
    : base_url_(std::move(base_url)), api_key_(std::move(api_key)), timeout_ms_(timeout_ms) {
  while (!base_url_.empty() && base_url_.back() == '/') base_url_.pop_back();
}

std::string OctoPrintClient::PercentEncode(const std::string& component) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : component) {
    bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '-' || c == '_' || c == '.' || c == '~';
    if (plain) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
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
  std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
  if (!curl) return pc::InternalError("curl_easy_init failed");
  CURL* h = curl.get();
  std::string url = base_url_ + path;
  Response r;
  r.method = method;
  r.path = path;
  char errbuf[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout_ms_));  // NOLINT
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, Collect);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &r.body);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(h, CURLOPT_USERAGENT, "prusaconnect-octoprint");
  curl_slist* raw_headers = nullptr;
  std::string key_header = "X-Api-Key: " + api_key_;
  raw_headers = curl_slist_append(raw_headers, key_header.c_str());
  raw_headers = curl_slist_append(raw_headers, "Expect:");
  if (json_body != nullptr) {
    raw_headers = curl_slist_append(raw_headers, "Content-Type: application/json");
  }
  std::unique_ptr<curl_slist, SlistDeleter> headers(raw_headers);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());
  std::unique_ptr<curl_mime, MimeDeleter> mime;
  if (parts != nullptr) {
    mime.reset(curl_mime_init(h));
    for (const Part& p : *parts) {
      curl_mimepart* part = curl_mime_addpart(mime.get());
      curl_mime_name(part, p.name.c_str());
      if (!p.file_path.empty()) {
        if (curl_mime_filedata(part, p.file_path.c_str()) != CURLE_OK) {
          return pc::NotFoundError("cannot read " + p.file_path);
        }
        curl_mime_filename(part, p.file_name.c_str());
        curl_mime_type(part, "application/octet-stream");
      } else {
        curl_mime_data(part, p.value.data(), p.value.size());
      }
    }
    curl_easy_setopt(h, CURLOPT_MIMEPOST, mime.get());
  } else if (json_body != nullptr) {
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, json_body->c_str());
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, static_cast<long>(json_body->size()));  // NOLINT
  } else if (method == "DELETE") {
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "DELETE");
  }
  CURLcode rc = curl_easy_perform(h);
  if (rc != CURLE_OK) {
    std::string why = errbuf[0] != 0 ? errbuf : curl_easy_strerror(rc);
    return pc::UnavailableError("OctoPrint unreachable at " + base_url_ + ": " + why +
                                " (is OctoPrint running, and is octoprint_url right?)");
  }
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r.status);
  return r;
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
