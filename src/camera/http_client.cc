// Copyright 2026 The libprusaconnect Authors.
#include "camera/http_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <string>
#include <string_view>
#include <utility>

namespace prusaconnect::internal {
namespace {

std::string Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())) != 0) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())) != 0) s.remove_suffix(1);
  return std::string(s);
}

TransportError Classify(CURLcode code, bool too_large) {
  switch (code) {
    case CURLE_OK:
      return TransportError::kNone;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
      return TransportError::kDns;
    case CURLE_COULDNT_CONNECT:
      return TransportError::kConnect;
    case CURLE_OPERATION_TIMEDOUT:
      return TransportError::kTimeout;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
      return TransportError::kTls;
    case CURLE_WRITE_ERROR:
      return too_large ? TransportError::kTooLarge : TransportError::kOther;
    case CURLE_GOT_NOTHING:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_PARTIAL_FILE:
    case CURLE_WEIRD_SERVER_REPLY:
      return TransportError::kConnection;
    default:
      return TransportError::kOther;
  }
}

struct Exchange {
  HttpResponse response;
  size_t max_body = 0;
  bool too_large = false;
};

size_t OnHeader(char* data, size_t size, size_t n, void* user) {
  auto* x = static_cast<Exchange*>(user);
  std::string_view line(data, size * n);
  if (line.rfind("HTTP/", 0) == 0) {
    x->response.headers.clear();
    return size * n;
  }
  size_t colon = line.find(':');
  if (colon != std::string_view::npos && x->response.headers.size() < 100) {
    std::string name(line.substr(0, colon));
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    x->response.headers.emplace_back(std::move(name), Trim(line.substr(colon + 1)));
  }
  return size * n;
}

size_t OnBody(char* data, size_t size, size_t n, void* user) {
  auto* x = static_cast<Exchange*>(user);
  size_t len = size * n;
  if (x->response.body.size() + len > x->max_body) {
    x->too_large = true;
    return 0;
  }
  x->response.body.append(data, len);
  return len;
}

class CurlCameraHttp : public CameraHttp {
 public:
  explicit CurlCameraHttp(std::string userpwd)
      : userpwd_(std::move(userpwd)), easy_(curl_easy_init()) {}
  ~CurlCameraHttp() override {
    if (easy_ != nullptr) curl_easy_cleanup(easy_);
  }
  CurlCameraHttp(const CurlCameraHttp&) = delete;
  CurlCameraHttp& operator=(const CurlCameraHttp&) = delete;

  HttpResponse Send(const HttpRequest& r) override {
    Exchange x;
    x.max_body = r.max_response_body;
    if (easy_ == nullptr) {
      x.response.error = TransportError::kOther;
      x.response.error_message = "curl_easy_init failed";
      return std::move(x.response);
    }
    CURL* e = easy_;
    curl_easy_reset(e);  // keeps the connection cache
    char error[CURL_ERROR_SIZE] = {0};
    curl_easy_setopt(e, CURLOPT_URL, r.url.c_str());
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(r.timeout_ms));  // NOLINT
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
                     static_cast<long>(std::min<int64_t>(r.timeout_ms, 10000)));  // NOLINT
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, r.verify_tls ? 1L : 0L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, r.verify_tls ? 2L : 0L);
    if (!r.ca_file.empty()) curl_easy_setopt(e, CURLOPT_CAINFO, r.ca_file.c_str());
    if (!userpwd_.empty()) {
      curl_easy_setopt(e, CURLOPT_HTTPAUTH, static_cast<long>(CURLAUTH_BASIC));  // NOLINT
      curl_easy_setopt(e, CURLOPT_USERPWD, userpwd_.c_str());
    }
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, error);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, &OnHeader);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, &x);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &OnBody);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &x);
    curl_slist* headers = nullptr;
    for (const auto& [name, value] : r.headers) {
      std::string line = name;
      line += ": ";
      line += value;
      headers = curl_slist_append(headers, line.c_str());
    }
    if (!r.content_type.empty()) {
      headers = curl_slist_append(headers, ("Content-Type: " + r.content_type).c_str());
    }
    headers = curl_slist_append(headers, "Expect:");
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers);
    if (r.method == "GET") {
      curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    } else {
      if (r.method != "POST") curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r.method.c_str());
      curl_easy_setopt(e, CURLOPT_POSTFIELDS, r.body.data());
      curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(r.body.size()));
    }
    CURLcode code = curl_easy_perform(e);
    curl_slist_free_all(headers);
    long status = 0;  // NOLINT(runtime/int)
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
    x.response.error = Classify(code, x.too_large);
    if (code != CURLE_OK) {
      x.response.error_message = error[0] != '\0' ? error : curl_easy_strerror(code);
      if (x.response.error != TransportError::kTooLarge) x.response.status = 0;
    }
    if (code == CURLE_OK || x.response.error == TransportError::kTooLarge) {
      x.response.status = static_cast<int>(status);
    }
    return std::move(x.response);
  }

 private:
  std::string userpwd_;
  CURL* easy_;
};

}  // namespace

std::unique_ptr<CameraHttp> MakeCurlCameraHttp(std::string userpwd) {
  return std::make_unique<CurlCameraHttp>(std::move(userpwd));
}

}  // namespace prusaconnect::internal
