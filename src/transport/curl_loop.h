// Copyright 2026 The libprusaconnect Authors.
//
// CurlLoop: libcurl's multi interface driven through epoll and an eventfd —
// the network thread's I/O (engine.h decides what to send; this sends it).
// Easy handles are kept configured and reused; a request's headers go to
// libcurl as one text and one node array. Used only on the network thread,
// except Wake(), which is thread-safe.
#ifndef PRUSACONNECT_TRANSPORT_CURL_LOOP_H_
#define PRUSACONNECT_TRANSPORT_CURL_LOOP_H_

#include <curl/curl.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "protocol/http_types.h"
#include "util/clock.h"

namespace prusaconnect::internal {

// What an easy handle was last configured with. Handles are reused without
// curl_easy_reset() when these match: only the per-request options (URL,
// method, body, headers, the transfer's pointers) are set again.
struct EasyConfig {
  bool configured = false;
  bool verify_tls = true;
  std::string ca_file;
  int64_t timeout_ms = 0;
  std::string url;  // the last CURLOPT_URL (libcurl copies it)
  bool custom_request = false;
};

// A request on the wire: refers to the request (kept alive by its owner)
// and collects the response.
struct Transfer {
  CURL* easy = nullptr;
  EasyConfig config;
  std::shared_ptr<const HttpRequest> request;
  // The header lines, NUL-separated, and libcurl's list nodes pointing into
  // them: two allocations instead of two per header.
  std::string header_text;
  std::vector<curl_slist> header_nodes;
  HttpResponse response;
  bool too_large = false;
  char error[CURL_ERROR_SIZE] = {0};
  std::function<void(HttpResponse)> done;
};

class CurlLoop {
 public:
  CurlLoop();
  ~CurlLoop();
  CurlLoop(const CurlLoop&) = delete;
  CurlLoop& operator=(const CurlLoop&) = delete;

  // Sizes libcurl's connection cache for `connections` concurrent requests.
  void SetConnectionPool(size_t connections);
  // Interrupts a Poll() from any thread.
  void Wake();
  // Starts a request; `done` runs on the network thread when it ends.
  // `request` stays alive (and unchanged) until then.
  Transfer* Start(std::shared_ptr<const HttpRequest> request,
                  std::function<void(HttpResponse)> done);
  // Aborts a transfer without calling its completion.
  void Cancel(Transfer* t);
  // Waits for socket activity, a timer or a Wake(), up to `timeout_ms`, and
  // processes what happened (completions run their callbacks).
  void Poll(int64_t timeout_ms);
  // Lets libcurl act on transfers just added (runs their first steps).
  void Kick();

  static int64_t NowMs() { return RealClock()->MonoMicros() / 1000; }

 private:
  using ActiveMap = std::unordered_map<CURL*, std::unique_ptr<Transfer>>;

  // The request's headers, then Content-Type, then "Expect:" (no 100
  // Continue), as one text and one node array.
  static void BuildHeaders(Transfer* t);
  void Drain();
  void Finish(ActiveMap::iterator it, bool deliver, CURLcode code);
  static size_t HeaderCallback(char* data, size_t size, size_t n, void* user);
  static size_t WriteCallback(char* data, size_t size, size_t n, void* user);
  static int SocketCallback(CURL*, curl_socket_t s, int what, void* user, void* socketp);
  static int TimerCallback(CURLM*, long timeout_ms, void* user);  // NOLINT(runtime/int)

  int epoll_fd_ = -1;
  int event_fd_ = -1;
  CURLM* multi_ = nullptr;
  int64_t curl_deadline_ms_ = -1;
  ActiveMap active_;
  std::vector<std::pair<CURL*, EasyConfig>> free_;
  const bool proxy_from_env_;
};

}  // namespace prusaconnect::internal

#endif  // PRUSACONNECT_TRANSPORT_CURL_LOOP_H_
