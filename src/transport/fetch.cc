// Copyright 2026 The libprusaconnect Authors.
#include "transport/fetch.h"

#include <algorithm>
#include <cctype>
#include <memory>
#include <string_view>
#include <utility>

#include "transport/curl_common.h"
#include "util/ascii.h"

namespace prusaconnect::internal {
namespace {

struct UrlDeleter {
  void operator()(CURLU* u) const { curl_url_cleanup(u); }
};
using UrlPtr = std::unique_ptr<CURLU, UrlDeleter>;

struct EasyDeleter {
  void operator()(CURL* e) const { curl_easy_cleanup(e); }
};
struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

// One part of a parsed URL, or "" when it has none.
std::string Part(CURLU* u, CURLUPart part, unsigned int flags = 0) {
  char* value = nullptr;
  if (curl_url_get(u, part, &value, flags) != CURLUE_OK || value == nullptr) return "";
  std::string out(value);
  curl_free(value);
  return out;
}

UrlPtr ParseUrl(const std::string& url) {
  UrlPtr u(curl_url());
  if (!u || curl_url_set(u.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK) return nullptr;
  return u;
}

struct Attempt {
  FetchCallbacks* callbacks = nullptr;
  HeaderList headers;
  int status = 0;
  bool head_done = false;
  bool ended_by_us = false;
  bool error_bodies = false;
  CURL* easy = nullptr;

  // The head ends with its blank line; then the callbacks see it.
  bool HeadDone() {
    head_done = true;
    long code = 0;  // NOLINT(google-runtime-int): libcurl's type
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &code);
    status = static_cast<int>(code);
    if (status >= 300 && status < 400) return true;  // the caller looks at the redirect
    if (callbacks->on_head && !callbacks->on_head(status, headers)) {
      ended_by_us = true;
      return false;
    }
    return true;
  }

  static size_t OnHeader(char* data, size_t size, size_t n, void* user) {
    auto* a = static_cast<Attempt*>(user);
    std::string_view line(data, size * n);
    if (line.rfind("HTTP/", 0) == 0) a->head_done = false;
    if (line == "\r\n" || line == "\n") {
      long code = 0;  // NOLINT(google-runtime-int): libcurl's type
      curl_easy_getinfo(a->easy, CURLINFO_RESPONSE_CODE, &code);
      if (code >= 100 && code < 200) return size * n;  // 100 Continue: another head follows
      return a->HeadDone() ? size * n : 0;
    }
    AppendHeaderLine(line, &a->headers);
    return size * n;
  }

  static size_t OnData(char* data, size_t size, size_t n, void* user) {
    auto* a = static_cast<Attempt*>(user);
    size_t len = size * n;
    if ((a->status < 200 || a->status >= 300) && !a->error_bodies) return len;  // ignored
    if (a->callbacks->on_data && !a->callbacks->on_data(data, len)) {
      a->ended_by_us = true;
      return 0;
    }
    return len;
  }

  static int OnProgress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
    auto* a = static_cast<Attempt*>(user);
    if (a->callbacks->cancelled && a->callbacks->cancelled()) {
      a->ended_by_us = true;
      return 1;
    }
    return 0;
  }
};

}  // namespace

namespace {

std::optional<std::string> OriginOnce(const std::string& url) {
  UrlPtr u = ParseUrl(url);
  if (!u) return std::nullopt;
  std::string scheme = AsciiLower(Part(u.get(), CURLUPART_SCHEME));
  if (scheme != "http" && scheme != "https") return std::nullopt;
  std::string host = AsciiLower(Part(u.get(), CURLUPART_HOST));
  std::string port = Part(u.get(), CURLUPART_PORT, CURLU_DEFAULT_PORT);
  // libcurl percent-decodes the host ("a%25b" is "a%b"). A host with a '%'
  // left is no hostname, and its origin would be decoded again when parsed.
  if (host.empty() || port.empty() || host.find('%') != std::string::npos) return std::nullopt;
  return scheme + "://" + host + ":" + port;
}

}  // namespace

std::optional<std::string> UrlOrigin(const std::string& url) {
  // libcurl normalises a numeric IPv4 host before it percent-decodes it:
  // "https:/%34" has the host "4", which parsed again is "0.0.0.4". The
  // origin is what parsing it again gives, and only when that is stable.
  std::optional<std::string> origin = OriginOnce(url);
  if (!origin) return std::nullopt;
  std::optional<std::string> again = OriginOnce(*origin);
  if (!again || *again == *origin) return again;
  std::optional<std::string> third = OriginOnce(*again);
  if (!third || *third != *again) return std::nullopt;
  return again;
}

std::string UrlForLog(const std::string& url) {
  UrlPtr u = ParseUrl(url);
  if (!u) return "(invalid URL)";
  curl_url_set(u.get(), CURLUPART_USER, nullptr, 0);
  curl_url_set(u.get(), CURLUPART_PASSWORD, nullptr, 0);
  curl_url_set(u.get(), CURLUPART_QUERY, nullptr, 0);
  curl_url_set(u.get(), CURLUPART_FRAGMENT, nullptr, 0);
  return Part(u.get(), CURLUPART_URL);
}

FetchResult Fetch(const FetchRequest& request, FetchCallbacks& callbacks) {
  GlobalInit();
  FetchResult result;
  std::unique_ptr<CURL, EasyDeleter> easy(curl_easy_init());
  if (!easy) {
    result.error = TransportError::kOther;
    result.message = "out of memory";
    return result;
  }
  CURL* e = easy.get();
  Attempt attempt;
  attempt.callbacks = &callbacks;
  attempt.easy = e;
  attempt.error_bodies = request.error_bodies;
  char error[CURL_ERROR_SIZE] = {0};

  std::unique_ptr<curl_slist, SlistDeleter> headers;
  curl_slist* list = nullptr;
  auto add = [&list](const std::string& line) {
    curl_slist* next = curl_slist_append(list, line.c_str());
    if (next != nullptr) list = next;
  };
  for (const auto& [name, value] : request.headers) {
    std::string line = name;
    line += ": ";
    line += value;
    add(line);
  }
  add("Expect:");
  if (request.offset > 0) add("Range: bytes=" + std::to_string(request.offset) + "-");
  headers.reset(list);

  curl_easy_setopt(e, CURLOPT_URL, request.url.c_str());
  SetCommonOptions(e, request.verify_tls, request.ca_file);
  if (request.method == "POST") {
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, request.body.data());
  } else {
    curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
  }
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, list);
  // As sent: a Content-Length stays the size of the file (no decoding).
  curl_easy_setopt(e, CURLOPT_HTTP_CONTENT_DECODING, 0L);
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(request.connect_timeout_ms));  // NOLINT
  // Stalls: less than 1 byte/s for stall_timeout (at least a second).
  curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(
      e, CURLOPT_LOW_SPEED_TIME,
      static_cast<long>(std::max<int64_t>(1, request.stall_timeout_ms / 1000)));    // NOLINT
  curl_easy_setopt(e, CURLOPT_BUFFERSIZE, static_cast<long>(request.buffer_size));  // NOLINT
  if (request.max_bytes_per_second > 0) {
    curl_easy_setopt(e, CURLOPT_MAX_RECV_SPEED_LARGE,
                     static_cast<curl_off_t>(request.max_bytes_per_second));
  }
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, &Attempt::OnHeader);
  curl_easy_setopt(e, CURLOPT_HEADERDATA, &attempt);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &Attempt::OnData);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, &attempt);
  curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, &Attempt::OnProgress);
  curl_easy_setopt(e, CURLOPT_XFERINFODATA, &attempt);

  CURLcode code = curl_easy_perform(e);
  result.ended_by_us = attempt.ended_by_us;
  long status = 0;  // NOLINT(google-runtime-int): libcurl's type
  curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
  result.status = static_cast<int>(status);
  if (result.status >= 300 && result.status < 400) {
    char* location = nullptr;
    if (curl_easy_getinfo(e, CURLINFO_REDIRECT_URL, &location) == CURLE_OK && location != nullptr) {
      result.redirect_url = location;
    }
  }
  if (code != CURLE_OK && !attempt.ended_by_us) {
    result.error = MapCurlError(code, false);
    if (result.error == TransportError::kNone) result.error = TransportError::kOther;
    result.message = error[0] != '\0' ? std::string(error) : curl_easy_strerror(code);
  } else if (code == CURLE_OK && !attempt.head_done && result.status >= 200 &&
             result.status < 300) {
    // A head without its end (should not happen): report it as lost.
    result.error = TransportError::kConnection;
    result.message = "incomplete response head";
  }
  return result;
}

}  // namespace prusaconnect::internal
