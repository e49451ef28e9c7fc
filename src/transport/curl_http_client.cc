// Copyright 2026 The libprusaconnect Authors.
//
// The libcurl HttpClient (http_client.h): one easy handle per client, reset
// between requests so its connection stays alive (a camera's snapshots never
// share the printer's connection nor its network thread, spec Q48); streams
// go through Fetch().
#include "transport/http_client.h"

#include <curl/curl.h>

#include <string>
#include <string_view>
#include <utility>

#include "transport/curl_common.h"

namespace prusaconnect::internal {
namespace {

struct Exchange {
  HttpResponse response;
  size_t max_body = 0;
  bool too_large = false;
};

size_t OnHeader(char* data, size_t size, size_t n, void* user) {
  auto* x = static_cast<Exchange*>(user);
  AppendHeaderLine(std::string_view(data, size * n), &x->response.headers);
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

class CurlHttpClient : public HttpClient {
 public:
  explicit CurlHttpClient(std::string userpwd) : userpwd_(std::move(userpwd)) {
    GlobalInit();  // curl_easy_init would do it, but not thread-safely
    easy_ = curl_easy_init();
  }
  ~CurlHttpClient() override {
    if (easy_ != nullptr) curl_easy_cleanup(easy_);
  }
  CurlHttpClient(const CurlHttpClient&) = delete;
  CurlHttpClient& operator=(const CurlHttpClient&) = delete;

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
    SetCommonOptions(e, r.verify_tls, r.ca_file);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(r.timeout_ms));  // NOLINT
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
                     static_cast<long>(std::min<int64_t>(r.timeout_ms, 10000)));  // NOLINT
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
    x.response.error = MapCurlError(code, x.too_large);
    if (code != CURLE_OK) {
      x.response.error_message = error[0] != '\0' ? error : curl_easy_strerror(code);
      if (x.response.error != TransportError::kTooLarge) x.response.status = 0;
    }
    if (code == CURLE_OK || x.response.error == TransportError::kTooLarge) {
      x.response.status = static_cast<int>(status);
    }
    return std::move(x.response);
  }

  FetchResult Stream(const FetchRequest& request, FetchCallbacks& callbacks) override {
    return Fetch(request, callbacks);
  }

 private:
  std::string userpwd_;
  CURL* easy_ = nullptr;
};

}  // namespace

std::unique_ptr<HttpClient> MakeCurlHttpClient(std::string userpwd) {
  return std::make_unique<CurlHttpClient>(std::move(userpwd));
}

}  // namespace prusaconnect::internal
