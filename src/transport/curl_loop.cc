// Copyright 2026 The libprusaconnect Authors.
#include "transport/curl_loop.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <string_view>

#include "transport/curl_common.h"

namespace prusaconnect::internal {
namespace {

// True when the environment names a proxy for libcurl (or exceptions to
// one). Read once: without any, the engine tells libcurl there is no proxy,
// which spares it the environment lookups on every request.
bool ProxyFromEnvironment() {
  for (const char* name : {"http_proxy", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY",
                           "no_proxy", "NO_PROXY"}) {
    const char* v = getenv(name);  // NOLINT(concurrency-mt-unsafe): read-only use
    if (v != nullptr && *v != '\0') return true;
  }
  return false;
}

// libcurl multi + epoll + eventfd. Used only on the network thread (except

}  // namespace

CurlLoop::CurlLoop() : proxy_from_env_(ProxyFromEnvironment()) {
  GlobalInit();
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  event_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  // Edge-triggered: every write() to the eventfd is a new edge, so the
  // loop never needs to read() the counter back (one system call less per
  // wake-up). The counter only grows; see Wake() for the day it is full.
  struct epoll_event ev {};
  ev.events = EPOLLIN | EPOLLET;
  ev.data.fd = event_fd_;
  epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, event_fd_, &ev);
  multi_ = curl_multi_init();
  curl_multi_setopt(multi_, CURLMOPT_SOCKETFUNCTION, &CurlLoop::SocketCallback);
  curl_multi_setopt(multi_, CURLMOPT_SOCKETDATA, this);
  curl_multi_setopt(multi_, CURLMOPT_TIMERFUNCTION, &CurlLoop::TimerCallback);
  curl_multi_setopt(multi_, CURLMOPT_TIMERDATA, this);
}

CurlLoop::~CurlLoop() {
  for (auto& [easy, t] : active_) {
    curl_multi_remove_handle(multi_, easy);
    curl_easy_cleanup(easy);
  }
  for (auto& [e, config] : free_) curl_easy_cleanup(e);
  curl_multi_cleanup(multi_);
  close(event_fd_);
  close(epoll_fd_);
}

void CurlLoop::SetConnectionPool(size_t connections) {
  curl_multi_setopt(multi_, CURLMOPT_MAXCONNECTS, static_cast<long>(connections));  // NOLINT
}

void CurlLoop::Wake() {
  uint64_t one = 1;
  if (write(event_fd_, &one, sizeof(one)) == sizeof(one)) return;
  // EAGAIN: the counter is at its maximum (after ~1.8e19 wake-ups). Reset
  // it and write again; the write is the edge the loop waits for.
  uint64_t value;
  ssize_t r = read(event_fd_, &value, sizeof(value));
  ssize_t w = write(event_fd_, &one, sizeof(one));
  (void)r;
  (void)w;
}

Transfer* CurlLoop::Start(std::shared_ptr<const HttpRequest> request,
                          std::function<void(HttpResponse)> done) {
  auto t = std::make_unique<Transfer>();
  t->request = std::move(request);
  t->done = std::move(done);
  CURL* e;
  if (!free_.empty()) {
    e = free_.back().first;
    t->config = std::move(free_.back().second);
    free_.pop_back();
  } else {
    e = curl_easy_init();
  }
  t->easy = e;
  const HttpRequest& r = *t->request;
  EasyConfig& c = t->config;
  if (!c.configured || c.verify_tls != r.verify_tls || c.ca_file != r.ca_file ||
      c.timeout_ms != r.timeout_ms) {
    if (c.configured) curl_easy_reset(e);
    c = EasyConfig{true, r.verify_tls, r.ca_file, r.timeout_ms, "", false};
    SetCommonOptions(e, r.verify_tls, r.ca_file);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(r.timeout_ms));  // NOLINT
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
                     static_cast<long>(std::min<int64_t>(r.timeout_ms, 10000)));  // NOLINT
    curl_easy_setopt(e, CURLOPT_BUFFERSIZE, 8192L);
    if (!proxy_from_env_) curl_easy_setopt(e, CURLOPT_PROXY, "");
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, &CurlLoop::HeaderCallback);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &CurlLoop::WriteCallback);
  }
  if (c.url != r.url) {
    curl_easy_setopt(e, CURLOPT_URL, r.url.c_str());
    c.url = r.url;
  }
  curl_easy_setopt(e, CURLOPT_PRIVATE, t.get());
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->error);
  curl_easy_setopt(e, CURLOPT_HEADERDATA, t.get());
  curl_easy_setopt(e, CURLOPT_WRITEDATA, t.get());
  BuildHeaders(t.get());
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->header_nodes.data());
  bool custom = r.method != "GET" && r.method != "POST";
  if (custom || c.custom_request) {
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, custom ? r.method.c_str() : nullptr);
    c.custom_request = custom;
  }
  if (r.method == "GET") {
    curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
  } else {
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, r.body.data());
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(r.body.size()));
  }
  Transfer* raw = t.get();
  active_.emplace(e, std::move(t));
  curl_multi_add_handle(multi_, e);
  return raw;
}

void CurlLoop::Cancel(Transfer* t) {
  auto it = active_.find(t->easy);
  if (it == active_.end()) return;
  Finish(it, false, CURLE_OK);
}

void CurlLoop::Poll(int64_t timeout_ms) {
  if (curl_deadline_ms_ >= 0) {
    int64_t until = curl_deadline_ms_ - NowMs();
    timeout_ms = std::min<int64_t>(timeout_ms, std::max<int64_t>(until, 0));
  }
  if (timeout_ms > INT_MAX) timeout_ms = INT_MAX;
  struct epoll_event events[256];
  int n = epoll_wait(epoll_fd_, events, 256, static_cast<int>(timeout_ms));
  int running = 0;
  for (int i = 0; i < n; ++i) {
    int fd = events[i].data.fd;
    if (fd == event_fd_) continue;  // edge-triggered: nothing to read back
    int flags = 0;
    if (events[i].events & EPOLLIN) flags |= CURL_CSELECT_IN;
    if (events[i].events & EPOLLOUT) flags |= CURL_CSELECT_OUT;
    if (events[i].events & (EPOLLERR | EPOLLHUP)) flags |= CURL_CSELECT_ERR;
    curl_multi_socket_action(multi_, fd, flags, &running);
  }
  if (curl_deadline_ms_ >= 0 && NowMs() >= curl_deadline_ms_) {
    curl_deadline_ms_ = -1;
    curl_multi_socket_action(multi_, CURL_SOCKET_TIMEOUT, 0, &running);
  }
  Drain();
}

void CurlLoop::Kick() {
  int running = 0;
  curl_multi_socket_action(multi_, CURL_SOCKET_TIMEOUT, 0, &running);
  Drain();
}

void CurlLoop::BuildHeaders(Transfer* t) {
  const HttpRequest& r = *t->request;
  std::string& text = t->header_text;
  size_t size = 32 + r.content_type.size();
  for (const auto& [name, value] : r.headers) size += name.size() + value.size() + 3;
  text.reserve(size);
  std::vector<size_t> starts;
  starts.reserve(r.headers.size() + 2);
  for (const auto& [name, value] : r.headers) {
    starts.push_back(text.size());
    text += name;
    text += ": ";
    text += value;
    text += '\0';
  }
  if (!r.content_type.empty()) {
    starts.push_back(text.size());
    text += "Content-Type: ";
    text += r.content_type;
    text += '\0';
  }
  starts.push_back(text.size());
  text += "Expect:";
  text += '\0';
  t->header_nodes.resize(starts.size());
  for (size_t i = 0; i < starts.size(); ++i) {
    t->header_nodes[i].data = &text[starts[i]];
    t->header_nodes[i].next = i + 1 < starts.size() ? &t->header_nodes[i + 1] : nullptr;
  }
}

void CurlLoop::Drain() {
  CURLMsg* msg;
  int left = 0;
  while ((msg = curl_multi_info_read(multi_, &left)) != nullptr) {
    if (msg->msg != CURLMSG_DONE) continue;
    auto it = active_.find(msg->easy_handle);
    if (it == active_.end()) continue;
    Finish(it, true, msg->data.result);
  }
}

void CurlLoop::Finish(CurlLoop::ActiveMap::iterator it, bool deliver, CURLcode code) {
  std::unique_ptr<Transfer> t = std::move(it->second);
  active_.erase(it);
  CURL* e = t->easy;
  if (deliver) {
    long status = 0;  // NOLINT(runtime/int)
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
    t->response.status = static_cast<int>(status);
    t->response.error = MapCurlError(code, t->too_large);
    if (code != CURLE_OK) {
      t->response.error_message = t->error[0] ? t->error : curl_easy_strerror(code);
      long os_error = 0;  // NOLINT(runtime/int)
      curl_easy_getinfo(e, CURLINFO_OS_ERRNO, &os_error);
      t->response.os_error = static_cast<int>(os_error);
    }
    if (t->response.error != TransportError::kNone &&
        t->response.error != TransportError::kTooLarge) {
      t->response.status = 0;
    }
  }
  curl_multi_remove_handle(multi_, e);
  // Keep a few easy handles for reuse, configured; each holds buffers.
  if (free_.size() < 256) {
    free_.emplace_back(e, std::move(t->config));
  } else {
    curl_easy_cleanup(e);
  }
  if (deliver && t->done) t->done(std::move(t->response));
}

size_t CurlLoop::HeaderCallback(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  AppendHeaderLine(std::string_view(data, size * n), &t->response.headers);
  return size * n;
}

size_t CurlLoop::WriteCallback(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t len = size * n;
  if (t->response.body.size() + len > t->request->max_response_body) {
    t->too_large = true;
    return 0;  // aborts the transfer with CURLE_WRITE_ERROR
  }
  t->response.body.append(data, len);
  return len;
}

int CurlLoop::SocketCallback(CURL*, curl_socket_t s, int what, void* user, void* socketp) {
  auto* self = static_cast<CurlLoop*>(user);
  if (what == CURL_POLL_REMOVE) {
    epoll_ctl(self->epoll_fd_, EPOLL_CTL_DEL, s, nullptr);
    curl_multi_assign(self->multi_, s, nullptr);
    return 0;
  }
  struct epoll_event ev {};
  ev.data.fd = s;
  if (what == CURL_POLL_IN || what == CURL_POLL_INOUT) ev.events |= EPOLLIN;
  if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT) ev.events |= EPOLLOUT;
  if (socketp == nullptr) {
    if (epoll_ctl(self->epoll_fd_, EPOLL_CTL_ADD, s, &ev) != 0 && errno == EEXIST) {
      epoll_ctl(self->epoll_fd_, EPOLL_CTL_MOD, s, &ev);
    }
    curl_multi_assign(self->multi_, s, self);  // any non-null marker
  } else if (epoll_ctl(self->epoll_fd_, EPOLL_CTL_MOD, s, &ev) != 0 && errno == ENOENT) {
    epoll_ctl(self->epoll_fd_, EPOLL_CTL_ADD, s, &ev);
  }
  return 0;
}

int CurlLoop::TimerCallback(CURLM*, long timeout_ms, void* user) {  // NOLINT(runtime/int)
  auto* self = static_cast<CurlLoop*>(user);
  self->curl_deadline_ms_ = timeout_ms < 0 ? -1 : NowMs() + timeout_ms;
  return 0;
}

}  // namespace prusaconnect::internal
