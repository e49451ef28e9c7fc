// Copyright 2026 The libprusaconnect Authors.
#include "transport/engine.h"

#include <curl/curl.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <future>
#include <mutex>
#include <queue>
#include <unordered_map>
#include <utility>

#include "protocol/session.h"
#include "transport/curl_common.h"
#include "util/clock.h"
#include "util/logging.h"

namespace prusaconnect::internal {
namespace {

constexpr char kComponent[] = "transport";
constexpr int64_t kNever = INT64_MAX;

void RaiseFdLimit() {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
}

}  // namespace

// ---------------------------------------------------------------- CurlLoop

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
// Wake(), which is thread-safe).
class CurlLoop {
 public:
  CurlLoop() : proxy_from_env_(ProxyFromEnvironment()) {
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

  ~CurlLoop() {
    for (auto& [easy, t] : active_) {
      curl_multi_remove_handle(multi_, easy);
      curl_easy_cleanup(easy);
    }
    for (auto& [e, config] : free_) curl_easy_cleanup(e);
    curl_multi_cleanup(multi_);
    close(event_fd_);
    close(epoll_fd_);
  }

  // Sizes libcurl's connection cache for `connections` concurrent requests.
  void SetConnectionPool(size_t connections) {
    curl_multi_setopt(multi_, CURLMOPT_MAXCONNECTS, static_cast<long>(connections));  // NOLINT
  }

  void Wake() {
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

  // Starts a request; `done` runs on the network thread when it ends.
  // `request` stays alive (and unchanged) until then.
  Transfer* Start(std::shared_ptr<const HttpRequest> request,
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

  // Aborts a transfer without calling its completion.
  void Cancel(Transfer* t) {
    auto it = active_.find(t->easy);
    if (it == active_.end()) return;
    Finish(it, false, CURLE_OK);
  }

  // Waits for socket activity, a timer or a Wake(), up to `timeout_ms`, and
  // processes what happened (completions run their callbacks).
  void Poll(int64_t timeout_ms) {
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

  // Lets libcurl act on transfers just added (runs their first steps).
  void Kick() {
    int running = 0;
    curl_multi_socket_action(multi_, CURL_SOCKET_TIMEOUT, 0, &running);
    Drain();
  }

  static int64_t NowMs() { return RealClock()->MonoMicros() / 1000; }

 private:
  using ActiveMap = std::unordered_map<CURL*, std::unique_ptr<Transfer>>;

  // The request's headers, then Content-Type, then "Expect:" (no 100
  // Continue), as one text and one node array.
  static void BuildHeaders(Transfer* t) {
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

  void Drain() {
    CURLMsg* msg;
    int left = 0;
    while ((msg = curl_multi_info_read(multi_, &left)) != nullptr) {
      if (msg->msg != CURLMSG_DONE) continue;
      auto it = active_.find(msg->easy_handle);
      if (it == active_.end()) continue;
      Finish(it, true, msg->data.result);
    }
  }

  void Finish(ActiveMap::iterator it, bool deliver, CURLcode code) {
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

  static size_t HeaderCallback(char* data, size_t size, size_t n, void* user) {
    auto* t = static_cast<Transfer*>(user);
    AppendHeaderLine(std::string_view(data, size * n), &t->response.headers);
    return size * n;
  }

  static size_t WriteCallback(char* data, size_t size, size_t n, void* user) {
    auto* t = static_cast<Transfer*>(user);
    size_t len = size * n;
    if (t->response.body.size() + len > t->request->max_response_body) {
      t->too_large = true;
      return 0;  // aborts the transfer with CURLE_WRITE_ERROR
    }
    t->response.body.append(data, len);
    return len;
  }

  static int SocketCallback(CURL*, curl_socket_t s, int what, void* user, void* socketp) {
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

  static int TimerCallback(CURLM*, long timeout_ms, void* user) {  // NOLINT(runtime/int)
    auto* self = static_cast<CurlLoop*>(user);
    self->curl_deadline_ms_ = timeout_ms < 0 ? -1 : NowMs() + timeout_ms;
    return 0;
  }

  int epoll_fd_ = -1;
  int event_fd_ = -1;
  CURLM* multi_ = nullptr;
  int64_t curl_deadline_ms_ = -1;
  ActiveMap active_;
  std::vector<std::pair<CURL*, EasyConfig>> free_;
  const bool proxy_from_env_;
};

// ---------------------------------------------------------------- Engine

struct Engine::Op {
  enum Kind { kAttach, kDetach, kExecute } kind;
  std::shared_ptr<Session> session;  // kAttach
  Session* raw = nullptr;            // kDetach, kWake
  HttpRequest request;               // kExecute
  std::promise<HttpResponse> response;
  std::promise<void> done;
};

namespace {

// The network thread's view of the attached sessions.
class Scheduler {
 public:
  struct Entry {
    std::shared_ptr<Session> session;
    Transfer* in_flight = nullptr;
    int64_t timer_at = kNever;
    bool waiting = false;  // queued for a free transfer slot
  };

  // At most `limit` requests are on the wire at once; libcurl's connection
  // cache holds as many, so every request reuses a kept-alive connection
  // and libcurl's per-request scans of its cache stay short whatever the
  // number of printers.
  Scheduler(CurlLoop* loop, size_t limit) : loop_(loop), limit_(std::max<size_t>(1, limit)) {
    loop_->SetConnectionPool(limit_);
  }

  size_t size() const { return entries_.size(); }

  void Add(std::shared_ptr<Session> s) {
    Session* raw = s.get();
    if (entries_.count(raw)) return;
    entries_.emplace(raw, Entry{std::move(s), nullptr, kNever, false});
    Pump(raw);
  }

  void Remove(Session* raw) {
    auto it = entries_.find(raw);
    if (it == entries_.end()) return;
    if (it->second.in_flight != nullptr) {
      loop_->Cancel(it->second.in_flight);
      --in_flight_count_;
      it->second.session->Cancelled();
    }
    entries_.erase(it);  // a stale entry in waiting_ is skipped later
    PumpWaiting();
  }

  // Asks the session for work and starts it, or queues it for a slot.
  void Pump(Session* raw) {
    auto it = entries_.find(raw);
    if (it == entries_.end() || it->second.in_flight != nullptr) return;
    Entry& entry = it->second;
    if (in_flight_count_ >= limit_) {
      if (!entry.waiting) {
        entry.waiting = true;
        waiting_.push_back(raw);
      }
      return;
    }
    int64_t wake_at = kNever;
    int64_t now = RealClock()->MonoMicros();
    std::optional<Session::Outgoing> out = entry.session->Next(now, &wake_at);
    if (!out) {
      if (wake_at != kNever && wake_at != entry.timer_at) {
        entry.timer_at = wake_at;
        timers_.push({wake_at, raw});
      }
      return;
    }
    entry.timer_at = kNever;
    auto shared_out = std::make_shared<Session::Outgoing>(std::move(*out));
    // The transfer refers to the request inside the Outgoing (no copy).
    std::shared_ptr<const HttpRequest> request(shared_out, &shared_out->request);
    ++in_flight_count_;
    entry.in_flight =
        loop_->Start(std::move(request), [this, raw, shared_out](const HttpResponse& r) {
          auto e = entries_.find(raw);
          if (e == entries_.end()) return;
          e->second.in_flight = nullptr;
          --in_flight_count_;
          e->second.session->Complete(*shared_out, r, RealClock()->MonoMicros());
          // Printers waiting for a slot go first, then this one again.
          PumpWaiting();
          Pump(raw);
        });
  }

  // Starts waiting printers, oldest first, while slots are free.
  void PumpWaiting() {
    while (in_flight_count_ < limit_ && !waiting_.empty()) {
      Session* raw = waiting_.front();
      waiting_.pop_front();
      auto it = entries_.find(raw);
      if (it == entries_.end() || !it->second.waiting) continue;
      it->second.waiting = false;
      Pump(raw);
    }
  }

  // Fires due timers; returns the time of the next one (kNever if none).
  int64_t RunTimers() {
    int64_t now = RealClock()->MonoMicros();
    while (!timers_.empty() && timers_.top().first <= now) {
      auto [at, raw] = timers_.top();
      timers_.pop();
      auto it = entries_.find(raw);
      if (it == entries_.end() || it->second.timer_at != at) continue;  // stale
      it->second.timer_at = kNever;
      Pump(raw);
    }
    return timers_.empty() ? kNever : timers_.top().first;
  }

 private:
  using Timer = std::pair<int64_t, Session*>;
  CurlLoop* loop_;
  const size_t limit_;
  size_t in_flight_count_ = 0;
  std::deque<Session*> waiting_;
  std::unordered_map<Session*, Entry> entries_;
  std::priority_queue<Timer, std::vector<Timer>, std::greater<Timer>> timers_;
};

}  // namespace

Engine::Engine(NetworkOptions options) : options_(options) {}

Engine::~Engine() {
  {
    std::lock_guard<std::mutex> lock(pool_state_->mu);
    pool_state_->stopping = true;
  }
  pool_state_->cv.notify_all();
  if (network_thread_.joinable()) {
    loop_->Wake();
    network_thread_.join();
  }
  for (std::thread& t : pool_) {
    // Dropped from a handler: that thread finishes on its own (it holds the
    // pool state), the others are joined.
    if (t.get_id() == std::this_thread::get_id()) {
      t.detach();
    } else {
      t.join();
    }
  }
}

void Engine::EnsureStarted() {
  std::lock_guard<std::mutex> lock(start_mu_);
  if (started_) return;
  started_ = true;
  if (options_.raise_fd_limit) RaiseFdLimit();
  loop_ = std::make_unique<CurlLoop>();
  network_thread_ = std::thread([this] {
    network_thread_id_ = std::this_thread::get_id();
    pthread_setname_np(pthread_self(), "pc-network");
    NetworkMain();
  });
}

// The handler threads start with the first Post(): most hosts never need
// them (telemetry alone), and each costs a stack and a malloc arena.
void Engine::EnsurePoolStarted() {
  std::lock_guard<std::mutex> lock(start_mu_);
  if (pool_started_) return;
  pool_started_ = true;
  int n = std::max(1, options_.handler_threads);
  for (int i = 0; i < n; ++i) {
    pool_.emplace_back([pool = pool_state_] {
      pthread_setname_np(pthread_self(), "pc-handler");
      HandlerMain(pool);
    });
  }
}

void Engine::Enqueue(std::unique_ptr<Op> op) {
  EnsureStarted();
  {
    std::lock_guard<std::mutex> lock(ops_mu_);
    ops_.push_back(std::move(op));
  }
  loop_->Wake();
}

void Engine::Attach(const std::shared_ptr<Session>& session) {
  EnsureStarted();  // the waker below may fire at once, from any thread
  std::weak_ptr<Session> weak = session;
  Engine* self = this;
  session->SetExecutor([self](std::function<void()> fn) { self->Post(std::move(fn)); });
  Session* raw = session.get();
  session->SetWaker([self, raw] { self->Wake(raw); });
  auto op = std::make_unique<Op>();
  op->kind = Op::kAttach;
  op->session = session;
  std::future<void> done = op->done.get_future();
  Enqueue(std::move(op));
  done.wait();
}

void Engine::Wake(Session* session) {
  bool write;
  {
    std::lock_guard<std::mutex> lock(ops_mu_);
    wakes_.push_back(session);
    write = !wake_pending_;
    wake_pending_ = true;
  }
  // From the network thread itself (an observer, a completion) the loop runs
  // its wake list before sleeping again: no syscall needed.
  if (std::this_thread::get_id() == network_thread_id_.load()) return;
  if (write) loop_->Wake();
}

void Engine::Detach(Session* session) {
  session->SetWaker(nullptr);
  {
    std::lock_guard<std::mutex> lock(start_mu_);
    if (!started_) return;
  }
  auto op = std::make_unique<Op>();
  op->kind = Op::kDetach;
  op->raw = session;
  std::future<void> done = op->done.get_future();
  Enqueue(std::move(op));
  done.wait();
}

HttpResponse Engine::Execute(HttpRequest request) {
  auto op = std::make_unique<Op>();
  op->kind = Op::kExecute;
  op->request = std::move(request);
  std::future<HttpResponse> response = op->response.get_future();
  Enqueue(std::move(op));
  return response.get();
}

void Engine::Post(std::function<void()> fn) {
  EnsureStarted();
  EnsurePoolStarted();
  {
    std::lock_guard<std::mutex> lock(pool_state_->mu);
    pool_state_->queue.push_back(std::move(fn));
  }
  pool_state_->cv.notify_one();
}

void Engine::HandlerMain(const std::shared_ptr<Pool>& pool) {
  for (;;) {
    std::function<void()> fn;
    {
      std::unique_lock<std::mutex> lock(pool->mu);
      pool->cv.wait(lock, [&pool] { return pool->stopping || !pool->queue.empty(); });
      if (pool->queue.empty()) return;  // stopping
      fn = std::move(pool->queue.front());
      pool->queue.pop_front();
    }
    try {
      fn();
    } catch (const std::exception& e) {
      PC_LOG(kError, kComponent) << "host callback threw: " << e.what();
    } catch (...) {
      PC_LOG(kError, kComponent) << "host callback threw";
    }
  }
}

void Engine::NetworkMain() {
  Scheduler scheduler(loop_.get(), static_cast<size_t>(options_.max_connections));
  int64_t next_timer = kNever;
  for (;;) {
    std::vector<std::unique_ptr<Op>> ops;
    std::vector<Session*> wakes;
    {
      std::lock_guard<std::mutex> lock(ops_mu_);
      ops.swap(ops_);
      wakes.swap(wakes_);
      wake_pending_ = false;
    }
    for (auto& op : ops) {
      switch (op->kind) {
        case Op::kAttach:
          scheduler.Add(op->session);
          printer_count_ = scheduler.size();
          op->done.set_value();
          break;
        case Op::kDetach:
          scheduler.Remove(op->raw);
          printer_count_ = scheduler.size();
          op->done.set_value();
          break;
        case Op::kExecute: {
          auto promise = std::make_shared<std::promise<HttpResponse>>(std::move(op->response));
          loop_->Start(std::make_shared<const HttpRequest>(std::move(op->request)),
                       [promise](HttpResponse r) { promise->set_value(std::move(r)); });
          break;
        }
      }
    }
    for (Session* raw : wakes) scheduler.Pump(raw);
    if (!ops.empty() || !wakes.empty()) loop_->Kick();
    {
      std::lock_guard<std::mutex> lock(pool_state_->mu);
      if (pool_state_->stopping) break;
    }
    next_timer = scheduler.RunTimers();
    int64_t timeout_ms = 60000;
    {
      // Woken from this thread meanwhile: do not sleep.
      std::lock_guard<std::mutex> lock(ops_mu_);
      if (!wakes_.empty() || !ops_.empty()) timeout_ms = 0;
    }
    if (timeout_ms != 0 && next_timer != kNever) {
      int64_t now = RealClock()->MonoMicros();
      timeout_ms = std::max<int64_t>(0, (next_timer - now + 999) / 1000);
    }
    loop_->Poll(timeout_ms);
  }
}

}  // namespace prusaconnect::internal
