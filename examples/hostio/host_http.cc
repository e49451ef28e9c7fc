// Copyright 2026 The libprusaconnect Authors.
#include "host_http.h"

#include <curl/curl.h>

#include <memory>
#include <utility>

namespace hostio {

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

HostHttp::HostHttp(std::string base_url, std::string api_key, std::string host_name,
                   std::string url_key, int64_t timeout_ms)
    : base_url_(std::move(base_url)),
      api_key_(std::move(api_key)),
      host_name_(std::move(host_name)),
      url_key_(std::move(url_key)),
      timeout_ms_(timeout_ms) {
  while (!base_url_.empty() && base_url_.back() == '/') base_url_.pop_back();
}

std::string HostHttp::PercentEncode(const std::string& component) {
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

std::string HostHttp::EncodePath(const std::string& path) {
  std::string out;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    if (end > start) {
      if (!out.empty()) out += '/';
      out += PercentEncode(path.substr(start, end - start));
    }
    start = end + 1;
  }
  return out;
}

pc::StatusOr<HttpReply> HostHttp::Request(const std::string& method, const std::string& path,
                                          const std::string* json_body,
                                          const std::vector<FormPart>* parts,
                                          int64_t timeout_ms) const {
  std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
  if (!curl) return pc::InternalError("curl_easy_init failed");
  CURL* h = curl.get();
  std::string url = base_url_ + path;
  HttpReply r;
  r.method = method;
  r.path = path;
  char errbuf[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS,
                   static_cast<long>(timeout_ms > 0 ? timeout_ms : timeout_ms_));  // NOLINT
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, Collect);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &r.body);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(h, CURLOPT_USERAGENT, "libprusaconnect");
  curl_slist* raw_headers = nullptr;
  std::string key_header = "X-Api-Key: " + api_key_;
  // Moonraker's trusted clients send no key at all.
  if (!api_key_.empty()) raw_headers = curl_slist_append(raw_headers, key_header.c_str());
  raw_headers = curl_slist_append(raw_headers, "Expect:");
  if (json_body != nullptr) {
    raw_headers = curl_slist_append(raw_headers, "Content-Type: application/json");
  }
  std::unique_ptr<curl_slist, SlistDeleter> headers(raw_headers);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());
  std::unique_ptr<curl_mime, MimeDeleter> mime;
  if (parts != nullptr) {
    mime.reset(curl_mime_init(h));
    for (const FormPart& p : *parts) {
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
    if (method != "POST") curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method.c_str());
  } else if (method == "POST") {
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, 0L);
  } else if (method != "GET") {
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method.c_str());
  }
  CURLcode rc = curl_easy_perform(h);
  if (rc != CURLE_OK) {
    std::string why = errbuf[0] != 0 ? errbuf : curl_easy_strerror(rc);
    return pc::UnavailableError(host_name_ + " unreachable at " + base_url_ + ": " + why + " (is " +
                                host_name_ + " running, and is " + url_key_ + " right?)");
  }
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r.status);
  return r;
}

std::string UrlWithoutCredentials(const std::string& url) {
  size_t scheme = url.find("://");
  if (scheme == std::string::npos) return url;
  size_t start = scheme + 3;
  size_t end = url.find('/', start);
  size_t at = url.rfind('@', end == std::string::npos ? url.size() : end);
  if (at == std::string::npos || at < start) return url;
  return url.substr(0, start) + url.substr(at + 1);
}

}  // namespace hostio
