#include "emulator/http_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <map>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "emulator/http_parser.h"
#include "emulator/str_util.h"

namespace prusaconnect::emulator {

namespace internal {

// State shared between the loop and everything that may post to it from
// other threads.  Outlives the server if responders do.
struct LoopShared {
  std::mutex mu;
  bool running = false;                      // Guarded by mu; posts are accepted only while true.
  int event_fd = -1;                         // Written under mu while running.
  std::vector<std::function<void()>> tasks;  // Guarded by mu.
  std::atomic<std::thread::id> loop_thread{};

  bool InLoop() const {
    return loop_thread.load(std::memory_order_acquire) == std::this_thread::get_id();
  }

  // Queues `task`; returns false (and drops it) if the loop is not running.
  bool Post(std::function<void()>& task) {
    std::lock_guard<std::mutex> lock(mu);
    if (!running) return false;
    bool wake = tasks.empty();
    tasks.push_back(std::move(task));
    if (wake) {
      uint64_t one = 1;
      ssize_t n;
      do {
        n = ::write(event_fd, &one, sizeof(one));
      } while (n < 0 && errno == EINTR);
      // EAGAIN means the counter is already non-zero: the loop will wake.
    }
    return true;
  }
};

enum class ActionKind { kRespond, kClose, kReset, kHang };

struct Action {
  ActionKind kind = ActionKind::kRespond;
  HttpResponse response;
};

struct ResponderState {
  ResponderState(std::shared_ptr<LoopShared> s, HttpServer::Impl* i, uint64_t c, uint64_t q)
      : shared(std::move(s)), impl(i), conn_id(c), seq(q) {}
  ~ResponderState();
  ResponderState(const ResponderState&) = delete;
  ResponderState& operator=(const ResponderState&) = delete;

  void Dispatch(Action action);

  std::shared_ptr<LoopShared> shared;
  HttpServer::Impl* impl;  // Dereferenced only on the loop thread while it runs.
  uint64_t conn_id;
  uint64_t seq;
  std::atomic<bool> done{false};
};

}  // namespace internal

using internal::Action;
using internal::ActionKind;

namespace {

using Clock = std::chrono::steady_clock;

constexpr uint64_t kListenerKey = 1;
constexpr uint64_t kEventFdKey = 2;
constexpr uint64_t kFirstConnId = 16;
constexpr size_t kReadChunk = 64 * 1024;
constexpr size_t kStreamChunk = 256 * 1024;
constexpr size_t kMaxBufferedWhileBusy = 1024 * 1024;
constexpr auto kLingerTimeout = std::chrono::seconds(2);
constexpr auto kThrottleWindow = std::chrono::milliseconds(100);

Clock::duration ToChrono(absl::Duration d) {
  if (d <= absl::ZeroDuration()) return Clock::duration::zero();
  if (d >= absl::Hours(24 * 365)) return std::chrono::hours(24 * 365);
  return absl::ToChronoNanoseconds(d);
}

void RaiseFileLimit() {
  struct rlimit rl {};
  if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &rl);
  }
}

std::string PeerName(const sockaddr_storage& ss) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (ss.ss_family == AF_INET) {
    const auto* a = reinterpret_cast<const sockaddr_in*>(&ss);
    ::inet_ntop(AF_INET, &a->sin_addr, buf, sizeof(buf));
    return absl::StrCat(buf, ":", ntohs(a->sin_port));
  }
  if (ss.ss_family == AF_INET6) {
    const auto* a = reinterpret_cast<const sockaddr_in6*>(&ss);
    ::inet_ntop(AF_INET6, &a->sin6_addr, buf, sizeof(buf));
    return absl::StrCat("[", buf, "]:", ntohs(a->sin6_port));
  }
  return "unknown";
}

// Header names/values from handlers must not be able to split the response.
void AppendSanitized(std::string* out, std::string_view s) {
  for (char c : s) out->push_back(c == '\r' || c == '\n' ? ' ' : c);
}

class StringBody final : public BodySource {
 public:
  explicit StringBody(std::string s) : s_(std::move(s)) {}
  uint64_t size() const override { return s_.size(); }
  absl::StatusOr<size_t> ReadAt(uint64_t offset, char* buf, size_t len) override {
    size_t n = std::min<size_t>(len, s_.size() - static_cast<size_t>(offset));
    std::memcpy(buf, s_.data() + offset, n);
    return n;
  }

 private:
  std::string s_;
};

}  // namespace

class HttpServer::Impl {
 public:
  Impl(HttpServerOptions options, HttpHandler handler)
      : options_(std::move(options)),
        handler_(std::move(handler)),
        shared_(std::make_shared<internal::LoopShared>()),
        read_buf_(kReadChunk),
        stream_buf_(kStreamChunk) {}

  ~Impl() { Stop(); }

  absl::Status Start();
  void Stop();
  bool running() const { return started_ && !stopped_; }
  uint16_t port() const { return port_.load(); }
  const std::string& host() const { return options_.host; }
  bool listening() const { return listening_.load(); }

  void PauseListening(bool close_idle);
  absl::Status ResumeListening();
  void Post(std::function<void()> task) { shared_->Post(task); }
  TimerId RunAfter(absl::Duration delay, std::function<void()> task);
  void CancelTimer(TimerId id);
  bool InLoop() const { return shared_->InLoop(); }
  HttpServerStats stats() const;

  bool RunInLoopAndWait(std::function<void()> fn);

  // Loop thread only: applies a responder action to its connection.
  void Deliver(uint64_t conn_id, uint64_t seq, Action action);

 private:
  enum class ConnState { kReading, kHandling, kWriting, kStalled, kLingering };

  struct Conn {
    Conn(uint64_t i, int f, std::string p, const RequestParser::Limits& limits)
        : id(i), fd(f), peer(std::move(p)), parser(limits) {}

    uint64_t id;
    int fd;
    std::string peer;
    ConnState state = ConnState::kReading;
    RequestParser parser;
    std::string in;
    size_t in_off = 0;
    HttpRequest request;  // The request being handled.
    uint64_t seq = 0;     // Sequence of the request being handled.
    uint64_t requests = 0;

    bool readable = false;
    bool writable = true;
    bool peer_eof = false;
    bool hup = false;  // The peer's FIN (or an error) was signalled: read to EOF.
    bool dead = false;
    bool reset_on_close = false;
    bool in_pump = false;
    bool queued = false;
    bool close_after_response = false;  // Set when the current response ends the connection.
    bool force_close = false;           // The next response must end the connection.
    bool sent_continue = false;

    std::string out;
    size_t out_off = 0;

    // Streamed body state.
    bool streaming = false;
    std::shared_ptr<BodySource> src;
    uint64_t src_pos = 0;
    uint64_t src_end = 0;
    bool chunked = false;
    bool chunk_final_sent = false;
    uint64_t body_sent = 0;
    std::optional<uint64_t> stall_at;
    std::optional<uint64_t> drop_at;
    uint64_t throttle_bps = 0;
    Clock::time_point window_start{};
    uint64_t window_bytes = 0;

    TimerId wake_timer = 0;
    Clock::time_point last_activity{};
  };

  absl::StatusOr<int> Bind(uint16_t port);
  void Loop();
  void Teardown();
  void RunTasks();
  void RunTimers();
  int NextTimeoutMs();
  void AcceptAll();
  void DrainPending();
  void Schedule(Conn* c);
  void Kill(Conn* c);
  Conn* Find(uint64_t id);
  void Pump(Conn* c);
  bool ReadSome(Conn* c);
  bool ParseAndDispatch(Conn* c);
  bool WriteOut(Conn* c);
  bool Flush(Conn* c);
  void StartResponse(Conn* c, HttpResponse response);
  void FinishResponse(Conn* c);
  void Destroy(Conn* c);
  void DoPause(bool close_idle);
  void SweepIdle();
  void ScheduleSweep();
  TimerId AddTimerInLoop(TimerId id, Clock::time_point when, std::function<void()> task);
  size_t Buffered(const Conn* c) const { return c->in.size() - c->in_off; }

  HttpServerOptions options_;
  HttpHandler handler_;
  std::shared_ptr<internal::LoopShared> shared_;

  std::atomic<bool> started_{false};
  std::atomic<bool> stopped_{false};
  std::thread thread_;
  int epfd_ = -1;
  int listen_fd_ = -1;  // Loop thread only after Start().
  int spare_fd_ = -1;
  std::atomic<uint16_t> port_{0};
  std::atomic<bool> listening_{false};
  bool stop_requested_ = false;  // Loop thread only.

  // Loop-thread state.
  std::unordered_map<uint64_t, std::unique_ptr<Conn>> conns_;
  uint64_t next_conn_id_ = kFirstConnId;
  std::vector<uint64_t> pending_;
  std::multimap<Clock::time_point, TimerId> timer_queue_;
  std::unordered_map<TimerId, std::function<void()>> timers_;
  std::vector<char> read_buf_;
  std::vector<char> stream_buf_;

  std::atomic<TimerId> next_timer_id_{1};

  std::atomic<uint64_t> connections_accepted_{0};
  std::atomic<uint64_t> connections_open_{0};
  std::atomic<uint64_t> requests_{0};
  std::atomic<uint64_t> responses_{0};
  std::atomic<uint64_t> bytes_received_{0};
  std::atomic<uint64_t> bytes_sent_{0};
};

// ---- Responder ----

namespace internal {

ResponderState::~ResponderState() {
  if (!done.load()) {
    Action a;
    a.response = HttpResponse::Text(500, "request dropped by handler\n");
    Dispatch(std::move(a));
  }
}

void ResponderState::Dispatch(Action action) {
  if (done.exchange(true)) return;
  if (shared->InLoop()) {
    impl->Deliver(conn_id, seq, std::move(action));
    return;
  }
  std::function<void()> task = [i = impl, c = conn_id, q = seq, a = std::move(action)]() mutable {
    i->Deliver(c, q, std::move(a));
  };
  shared->Post(task);
}

}  // namespace internal

void HttpResponder::Respond(HttpResponse response) const {
  Action a;
  a.kind = ActionKind::kRespond;
  a.response = std::move(response);
  state_->Dispatch(std::move(a));
}

void HttpResponder::Close(bool reset) const {
  Action a;
  a.kind = reset ? ActionKind::kReset : ActionKind::kClose;
  state_->Dispatch(std::move(a));
}

void HttpResponder::Hang() const {
  Action a;
  a.kind = ActionKind::kHang;
  state_->Dispatch(std::move(a));
}

bool HttpResponder::done() const { return state_->done.load(); }

// ---- Lifecycle ----

absl::StatusOr<int> HttpServer::Impl::Bind(uint16_t port) {
  std::string host = options_.host == "localhost" ? std::string("127.0.0.1") : options_.host;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV;
  addrinfo* res = nullptr;
  std::string port_str = std::to_string(port);
  int rc = ::getaddrinfo(host.empty() ? nullptr : host.c_str(), port_str.c_str(), &hints, &res);
  if (rc != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot resolve listen address '", host, "': ", ::gai_strerror(rc)));
  }
  int fd = ::socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    int err = errno;
    ::freeaddrinfo(res);
    return absl::ErrnoToStatus(err, "socket");
  }
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (::bind(fd, res->ai_addr, res->ai_addrlen) != 0) {
    int err = errno;
    ::freeaddrinfo(res);
    ::close(fd);
    return absl::ErrnoToStatus(err, absl::StrCat("bind ", host, ":", port));
  }
  ::freeaddrinfo(res);
  if (::listen(fd, options_.backlog) != 0) {
    int err = errno;
    ::close(fd);
    return absl::ErrnoToStatus(err, "listen");
  }
  sockaddr_storage ss{};
  socklen_t len = sizeof(ss);
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) == 0) {
    uint16_t p = ss.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port)
                                          : ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
    port_.store(p);
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kListenerKey;
  if (::epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
    int err = errno;
    ::close(fd);
    return absl::ErrnoToStatus(err, "epoll_ctl(listener)");
  }
  return fd;
}

absl::Status HttpServer::Impl::Start() {
  if (started_) return absl::FailedPreconditionError("HttpServer already started");
  RaiseFileLimit();
  epfd_ = ::epoll_create1(EPOLL_CLOEXEC);
  if (epfd_ < 0) return absl::ErrnoToStatus(errno, "epoll_create1");
  shared_->event_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (shared_->event_fd < 0) {
    int err = errno;
    ::close(epfd_);
    epfd_ = -1;
    return absl::ErrnoToStatus(err, "eventfd");
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kEventFdKey;
  ::epoll_ctl(epfd_, EPOLL_CTL_ADD, shared_->event_fd, &ev);
  spare_fd_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);

  absl::StatusOr<int> fd = Bind(options_.port);
  if (!fd.ok()) {
    ::close(shared_->event_fd);
    shared_->event_fd = -1;
    ::close(epfd_);
    epfd_ = -1;
    if (spare_fd_ >= 0) ::close(spare_fd_);
    spare_fd_ = -1;
    return fd.status();
  }
  listen_fd_ = *fd;
  listening_.store(true);
  {
    std::lock_guard<std::mutex> lock(shared_->mu);
    shared_->running = true;
  }
  started_ = true;
  thread_ = std::thread([this] { Loop(); });
  return absl::OkStatus();
}

void HttpServer::Impl::Stop() {
  if (!started_ || stopped_) return;
  if (shared_->InLoop()) {
    // Cannot join ourselves; ask the loop to finish and let the owner join.
    stop_requested_ = true;
    return;
  }
  std::function<void()> task = [this] { stop_requested_ = true; };
  shared_->Post(task);
  if (thread_.joinable()) thread_.join();
  stopped_ = true;
  {
    std::lock_guard<std::mutex> lock(shared_->mu);
    if (shared_->event_fd >= 0) ::close(shared_->event_fd);
    shared_->event_fd = -1;
  }
  if (epfd_ >= 0) ::close(epfd_);
  epfd_ = -1;
  if (spare_fd_ >= 0) ::close(spare_fd_);
  spare_fd_ = -1;
}

void HttpServer::Impl::Loop() {
  shared_->loop_thread.store(std::this_thread::get_id(), std::memory_order_release);
  // Writing to a socket the peer closed must give EPIPE, not kill the
  // process.  A SIGPIPE raised by this thread's own write is delivered to
  // this thread, so blocking it here is enough (and leaves the host's
  // signal disposition alone).
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);

  if (options_.idle_timeout != absl::InfiniteDuration()) ScheduleSweep();

  std::vector<epoll_event> events(1024);
  while (!stop_requested_) {
    int timeout = pending_.empty() ? NextTimeoutMs() : 0;
    int n = ::epoll_wait(epfd_, events.data(), static_cast<int>(events.size()), timeout);
    if (n < 0 && errno != EINTR) break;
    for (int i = 0; i < n && !stop_requested_; ++i) {
      const epoll_event& ev = events[static_cast<size_t>(i)];
      if (ev.data.u64 == kListenerKey) {
        AcceptAll();
      } else if (ev.data.u64 == kEventFdKey) {
        RunTasks();
      } else if (Conn* c = Find(ev.data.u64); c != nullptr) {
        if (ev.events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) c->readable = true;
        if (ev.events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) c->hup = true;
        if (ev.events & (EPOLLOUT | EPOLLHUP | EPOLLERR)) c->writable = true;
        Pump(c);
      }
    }
    RunTimers();
    DrainPending();
  }
  Teardown();
}

void HttpServer::Impl::Teardown() {
  // From here on nothing may reach the loop: responders and posters see
  // running == false and drop their work.
  std::vector<std::function<void()>> tasks;
  {
    std::lock_guard<std::mutex> lock(shared_->mu);
    shared_->running = false;
    tasks.swap(shared_->tasks);
  }
  shared_->loop_thread.store(std::thread::id(), std::memory_order_release);
  tasks.clear();
  std::unordered_map<TimerId, std::function<void()>> timers;
  timers.swap(timers_);
  timer_queue_.clear();
  timers.clear();
  for (auto& [id, c] : conns_) {
    ::close(c->fd);
  }
  conns_.clear();
  connections_open_.store(0);
  pending_.clear();
  if (listen_fd_ >= 0) ::close(listen_fd_);
  listen_fd_ = -1;
  listening_.store(false);
}

// ---- Tasks and timers ----

void HttpServer::Impl::RunTasks() {
  uint64_t value;
  while (::read(shared_->event_fd, &value, sizeof(value)) > 0) {
  }
  std::vector<std::function<void()>> tasks;
  {
    std::lock_guard<std::mutex> lock(shared_->mu);
    tasks.swap(shared_->tasks);
  }
  for (auto& t : tasks) {
    if (stop_requested_) break;
    t();
  }
}

HttpServer::TimerId HttpServer::Impl::AddTimerInLoop(TimerId id, Clock::time_point when,
                                                     std::function<void()> task) {
  timers_.emplace(id, std::move(task));
  timer_queue_.emplace(when, id);
  return id;
}

HttpServer::TimerId HttpServer::Impl::RunAfter(absl::Duration delay, std::function<void()> task) {
  TimerId id = next_timer_id_.fetch_add(1);
  Clock::time_point when = Clock::now() + ToChrono(delay);
  if (shared_->InLoop()) return AddTimerInLoop(id, when, std::move(task));
  std::function<void()> post = [this, id, when, t = std::move(task)]() mutable {
    AddTimerInLoop(id, when, std::move(t));
  };
  shared_->Post(post);
  return id;
}

void HttpServer::Impl::CancelTimer(TimerId id) {
  if (shared_->InLoop()) {
    timers_.erase(id);  // The queue entry is skipped when it comes due.
    return;
  }
  std::function<void()> post = [this, id] { timers_.erase(id); };
  shared_->Post(post);
}

int HttpServer::Impl::NextTimeoutMs() {
  while (!timer_queue_.empty() && timers_.count(timer_queue_.begin()->second) == 0) {
    timer_queue_.erase(timer_queue_.begin());  // Cancelled.
  }
  if (timer_queue_.empty()) return -1;
  auto delta = timer_queue_.begin()->first - Clock::now();
  if (delta <= Clock::duration::zero()) return 0;
  auto ms = std::chrono::ceil<std::chrono::milliseconds>(delta).count();
  return static_cast<int>(std::min<int64_t>(ms, 60'000));
}

void HttpServer::Impl::RunTimers() {
  Clock::time_point now = Clock::now();
  while (!timer_queue_.empty() && !stop_requested_) {
    auto it = timer_queue_.begin();
    if (it->first > now) break;
    TimerId id = it->second;
    timer_queue_.erase(it);
    auto t = timers_.find(id);
    if (t == timers_.end()) continue;
    std::function<void()> task = std::move(t->second);
    timers_.erase(t);
    task();
  }
}

bool HttpServer::Impl::RunInLoopAndWait(std::function<void()> fn) {
  if (shared_->InLoop()) {
    fn();
    return true;
  }
  struct Sync {
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
    bool ran = false;
  };
  // Signals completion when the task is destroyed, whether it ran or was
  // dropped because the loop stopped.
  struct Signal {
    explicit Signal(std::shared_ptr<Sync> s) : sync(std::move(s)) {}
    ~Signal() {
      std::lock_guard<std::mutex> lock(sync->mu);
      sync->done = true;
      sync->cv.notify_all();
    }
    Signal(const Signal&) = delete;
    Signal& operator=(const Signal&) = delete;
    std::shared_ptr<Sync> sync;
  };
  auto sync = std::make_shared<Sync>();
  {
    auto signal = std::make_shared<Signal>(sync);
    std::function<void()> task = [f = std::move(fn), signal]() {
      f();
      std::lock_guard<std::mutex> lock(signal->sync->mu);
      signal->sync->ran = true;
    };
    signal.reset();
    shared_->Post(task);
  }
  std::unique_lock<std::mutex> lock(sync->mu);
  sync->cv.wait(lock, [&] { return sync->done; });
  return sync->ran;
}

// ---- Listening ----

void HttpServer::Impl::PauseListening(bool close_idle) {
  RunInLoopAndWait([this, close_idle] { DoPause(close_idle); });
}

void HttpServer::Impl::DoPause(bool close_idle) {
  if (listen_fd_ >= 0) {
    ::epoll_ctl(epfd_, EPOLL_CTL_DEL, listen_fd_, nullptr);
    ::close(listen_fd_);
    listen_fd_ = -1;
    listening_.store(false);
  }
  if (!close_idle) return;
  for (auto& [id, conn] : conns_) {
    Conn* c = conn.get();
    if (c->dead) continue;
    switch (c->state) {
      case ConnState::kReading:
        if (Buffered(c) == 0 && !c->parser.head_complete()) {
          Kill(c);
        } else {
          c->force_close = true;
        }
        break;
      case ConnState::kHandling:
        c->force_close = true;
        break;
      case ConnState::kWriting:
        c->close_after_response = true;
        break;
      case ConnState::kStalled:
      case ConnState::kLingering:
        break;
    }
  }
}

absl::Status HttpServer::Impl::ResumeListening() {
  absl::Status status = absl::FailedPreconditionError("server is not running");
  RunInLoopAndWait([this, &status] {
    if (listen_fd_ >= 0) {
      status = absl::OkStatus();
      return;
    }
    absl::StatusOr<int> fd = Bind(port_.load());
    if (!fd.ok()) {
      status = fd.status();
      return;
    }
    listen_fd_ = *fd;
    listening_.store(true);
    status = absl::OkStatus();
  });
  return status;
}

void HttpServer::Impl::AcceptAll() {
  for (int i = 0; i < 256 && listen_fd_ >= 0; ++i) {
    sockaddr_storage ss{};
    socklen_t len = sizeof(ss);
    int fd =
        ::accept4(listen_fd_, reinterpret_cast<sockaddr*>(&ss), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if ((errno == EMFILE || errno == ENFILE) && spare_fd_ >= 0) {
        // Out of descriptors: accept and immediately close the connection
        // using the reserved descriptor, rather than spinning on a
        // level-triggered listener.
        ::close(spare_fd_);
        int victim = ::accept(listen_fd_, nullptr, nullptr);
        if (victim >= 0) ::close(victim);
        spare_fd_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
        continue;
      }
      break;  // EAGAIN or an unexpected error.
    }
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    uint64_t id = next_conn_id_++;
    auto conn = std::make_unique<Conn>(
        id, fd, PeerName(ss),
        RequestParser::Limits{options_.max_header_bytes, options_.max_body_bytes});
    conn->last_activity = Clock::now();
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
    ev.data.u64 = id;
    if (::epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
      ::close(fd);
      continue;
    }
    conns_.emplace(id, std::move(conn));
    connections_accepted_.fetch_add(1, std::memory_order_relaxed);
    connections_open_.fetch_add(1, std::memory_order_relaxed);
  }
}

void HttpServer::Impl::ScheduleSweep() {
  auto interval = std::clamp<Clock::duration>(
      ToChrono(options_.idle_timeout / 4), std::chrono::milliseconds(10), std::chrono::seconds(5));
  AddTimerInLoop(next_timer_id_.fetch_add(1), Clock::now() + interval, [this] {
    SweepIdle();
    ScheduleSweep();
  });
}

void HttpServer::Impl::SweepIdle() {
  if (options_.idle_timeout == absl::InfiniteDuration()) return;
  Clock::time_point cutoff = Clock::now() - ToChrono(options_.idle_timeout);
  for (auto& [id, conn] : conns_) {
    Conn* c = conn.get();
    if (!c->dead && c->state == ConnState::kReading && c->last_activity < cutoff) Kill(c);
  }
}

// ---- Connections ----

HttpServer::Impl::Conn* HttpServer::Impl::Find(uint64_t id) {
  auto it = conns_.find(id);
  return it == conns_.end() ? nullptr : it->second.get();
}

void HttpServer::Impl::Schedule(Conn* c) {
  if (c->queued || c->in_pump) return;
  c->queued = true;
  pending_.push_back(c->id);
}

void HttpServer::Impl::Kill(Conn* c) {
  c->dead = true;
  Schedule(c);
}

void HttpServer::Impl::DrainPending() {
  while (!pending_.empty() && !stop_requested_) {
    std::vector<uint64_t> ids;
    ids.swap(pending_);
    for (uint64_t id : ids) {
      if (Conn* c = Find(id); c != nullptr) {
        c->queued = false;
        Pump(c);
      }
    }
  }
}

void HttpServer::Impl::Destroy(Conn* c) {
  if (c->wake_timer != 0) timers_.erase(c->wake_timer);
  if (c->reset_on_close) {
    linger lg{};
    lg.l_onoff = 1;
    lg.l_linger = 0;
    ::setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
  }
  ::close(c->fd);  // Also removes it from the epoll set.
  connections_open_.fetch_sub(1, std::memory_order_relaxed);
  conns_.erase(c->id);
}

void HttpServer::Impl::Pump(Conn* c) {
  if (c->in_pump) return;
  c->in_pump = true;
  for (;;) {
    if (c->dead) break;
    bool progressed = false;
    switch (c->state) {
      case ConnState::kReading:
        // A pending "100 Continue" may still be in the output buffer.
        if (c->out_off < c->out.size()) progressed = WriteOut(c);
        if (c->dead) break;
        if (ParseAndDispatch(c)) {
          progressed = true;
        } else if (c->readable) {
          progressed = ReadSome(c);
        } else if (c->peer_eof) {
          Kill(c);  // EOF with no complete request left.
        }
        break;
      case ConnState::kHandling:
      case ConnState::kStalled:
        // Keep reading to notice the client giving up.
        if (c->readable && Buffered(c) < kMaxBufferedWhileBusy) progressed = ReadSome(c);
        if (c->peer_eof) Kill(c);
        break;
      case ConnState::kWriting:
        progressed = Flush(c);
        if (!progressed && !c->dead && c->readable && Buffered(c) < kMaxBufferedWhileBusy) {
          progressed = ReadSome(c);
          if (c->peer_eof) c->close_after_response = true;
        }
        break;
      case ConnState::kLingering:
        if (c->readable) progressed = ReadSome(c);
        if (c->peer_eof) Kill(c);
        break;
    }
    if (!progressed) break;
  }
  c->in_pump = false;
  if (c->dead) Destroy(c);
}

bool HttpServer::Impl::ReadSome(Conn* c) {
  bool any = false;
  while (c->readable) {
    ssize_t n = ::recv(c->fd, read_buf_.data(), read_buf_.size(), 0);
    if (n > 0) {
      bytes_received_.fetch_add(static_cast<uint64_t>(n), std::memory_order_relaxed);
      c->last_activity = Clock::now();
      if (c->state != ConnState::kLingering) c->in.append(read_buf_.data(), static_cast<size_t>(n));
      any = true;
      // A short read drained the socket; edge-triggered epoll reports any
      // data arriving later as a new event.  A FIN that arrived with the
      // data is not reported again, so then keep reading until recv() says
      // EOF.
      if (static_cast<size_t>(n) < read_buf_.size() && !c->hup) c->readable = false;
      if (c->state != ConnState::kLingering && c->state != ConnState::kReading &&
          Buffered(c) >= kMaxBufferedWhileBusy) {
        break;  // Resume once the current request is done.
      }
      if (c->state == ConnState::kReading) break;  // Parse before reading more.
      continue;
    }
    if (n == 0) {
      c->peer_eof = true;
      c->readable = false;
      return true;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      c->readable = false;
      return any;
    }
    Kill(c);  // ECONNRESET and friends.
    return true;
  }
  return any;
}

bool HttpServer::Impl::ParseAndDispatch(Conn* c) {
  if (Buffered(c) == 0) return false;
  std::string_view data(c->in.data() + c->in_off, Buffered(c));
  size_t consumed = 0;
  RequestParser::Result result = c->parser.Parse(data, &consumed);
  c->in_off += consumed;
  if (c->in_off == c->in.size()) {
    c->in.clear();
    c->in_off = 0;
  } else if (c->in_off > 64 * 1024 && c->in_off > c->in.size() / 2) {
    c->in.erase(0, c->in_off);
    c->in_off = 0;
  }
  switch (result) {
    case RequestParser::Result::kNeedMore:
      if (c->parser.wants_continue() && !c->sent_continue) {
        c->sent_continue = true;
        c->out.append("HTTP/1.1 100 Continue\r\n\r\n");
        WriteOut(c);
        return true;
      }
      return consumed > 0;
    case RequestParser::Result::kError: {
      c->force_close = true;
      c->request = HttpRequest();
      HttpResponse r = HttpResponse::Text(c->parser.error_status(),
                                          absl::StrCat(c->parser.error_message(), "\n"));
      StartResponse(c, std::move(r));
      return true;
    }
    case RequestParser::Result::kComplete:
      break;
  }
  bool force_close = c->parser.force_close();
  c->request = c->parser.TakeRequest();
  c->request.connection_id = c->id;
  c->request.request_index = c->requests++;
  c->request.peer = c->peer;
  if (force_close) c->force_close = true;
  c->sent_continue = false;
  c->state = ConnState::kHandling;
  c->seq++;
  requests_.fetch_add(1, std::memory_order_relaxed);
  HttpResponder responder(std::make_shared<internal::ResponderState>(shared_, this, c->id, c->seq));
  handler_(c->request, std::move(responder));
  return true;
}

void HttpServer::Impl::Deliver(uint64_t conn_id, uint64_t seq, Action action) {
  Conn* c = Find(conn_id);
  if (c == nullptr || c->dead || c->state != ConnState::kHandling || c->seq != seq) return;
  switch (action.kind) {
    case ActionKind::kRespond:
      StartResponse(c, std::move(action.response));
      break;
    case ActionKind::kReset:
      c->reset_on_close = true;
      c->dead = true;
      break;
    case ActionKind::kClose:
      c->dead = true;
      break;
    case ActionKind::kHang:
      break;  // Stay in kHandling until the peer goes away.
  }
  Schedule(c);
}

void HttpServer::Impl::StartResponse(Conn* c, HttpResponse response) {
  const HttpRequest& req = c->request;
  const bool head = req.method == "HEAD";
  const int status = response.status;
  const bool no_body = (status >= 100 && status < 200) || status == 204 || status == 304;
  BodyFraming framing = response.framing;
  if (framing == BodyFraming::kChunked && req.http_minor == 0)
    framing = BodyFraming::kCloseDelimited;

  uint64_t body_len = response.body.size();
  uint64_t src_offset = 0;
  if (response.source) {
    uint64_t size = response.source->size();
    src_offset = std::min(response.source_offset, size);
    body_len = std::min(response.source_length.value_or(size - src_offset), size - src_offset);
  }
  bool keep = req.keep_alive && !response.close_connection && !c->force_close && !c->peer_eof &&
              !(framing == BodyFraming::kCloseDelimited && !no_body && !head);
  if (c->request.method.empty()) keep = false;  // Parse error: no request.

  std::string& out = c->out;
  if (c->out_off == out.size()) {
    out.clear();
    c->out_off = 0;
  }
  absl::StrAppend(&out, "HTTP/1.1 ", status, " ");
  AppendSanitized(
      &out, response.reason.empty() ? StatusReason(status) : std::string_view(response.reason));
  out.append("\r\n");
  for (const auto& [name, value] : response.headers) {
    if (EqualsIgnoreCase(name, "Content-Length") || EqualsIgnoreCase(name, "Transfer-Encoding") ||
        EqualsIgnoreCase(name, "Connection")) {
      continue;
    }
    AppendSanitized(&out, name);
    out.append(": ");
    AppendSanitized(&out, value);
    out.append("\r\n");
  }
  if (!options_.server_name.empty()) {
    out.append("Server: ");
    AppendSanitized(&out, options_.server_name);
    out.append("\r\n");
  }
  if (!no_body) {
    if (framing == BodyFraming::kContentLength) {
      absl::StrAppend(&out, "Content-Length: ", body_len, "\r\n");
    } else if (framing == BodyFraming::kChunked) {
      out.append("Transfer-Encoding: chunked\r\n");
    }
  }
  if (!keep) {
    out.append("Connection: close\r\n");
  } else if (req.http_minor == 0) {
    out.append("Connection: keep-alive\r\n");
  }
  out.append("\r\n");

  c->streaming = false;
  c->body_sent = 0;
  if (!head && !no_body) {
    const bool simple = !response.source && framing != BodyFraming::kChunked &&
                        response.throttle_bytes_per_sec == 0 &&
                        !response.stall_after_body_bytes.has_value() &&
                        !response.drop_after_body_bytes.has_value();
    if (simple) {
      out.append(response.body);
    } else {
      c->streaming = true;
      c->src = response.source ? std::move(response.source)
                               : std::make_shared<StringBody>(std::move(response.body));
      c->src_pos = src_offset;
      c->src_end = src_offset + body_len;
      c->chunked = framing == BodyFraming::kChunked;
      c->chunk_final_sent = false;
      c->stall_at = response.stall_after_body_bytes;
      c->drop_at = response.drop_after_body_bytes;
      c->throttle_bps = response.throttle_bytes_per_sec;
      c->window_start = Clock::now();
      c->window_bytes = 0;
    }
  }
  c->close_after_response = !keep;
  c->state = ConnState::kWriting;
  responses_.fetch_add(1, std::memory_order_relaxed);
}

bool HttpServer::Impl::WriteOut(Conn* c) {
  bool any = false;
  while (c->out_off < c->out.size() && c->writable) {
    ssize_t n = ::send(c->fd, c->out.data() + c->out_off, c->out.size() - c->out_off, MSG_NOSIGNAL);
    if (n > 0) {
      c->out_off += static_cast<size_t>(n);
      bytes_sent_.fetch_add(static_cast<uint64_t>(n), std::memory_order_relaxed);
      c->last_activity = Clock::now();
      any = true;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      c->writable = false;
      break;
    }
    Kill(c);  // EPIPE, ECONNRESET...
    return true;
  }
  if (c->out_off == c->out.size()) {
    c->out.clear();
    c->out_off = 0;
  }
  return any;
}

bool HttpServer::Impl::Flush(Conn* c) {
  bool progressed = false;
  for (;;) {
    if (c->out_off < c->out.size()) {
      progressed |= WriteOut(c);
      if (c->dead) return true;
      if (c->out_off < c->out.size()) return progressed;  // Wait for EPOLLOUT.
    }
    if (!c->streaming) {
      FinishResponse(c);
      return true;
    }
    if (c->src_pos >= c->src_end) {
      if (c->chunked && !c->chunk_final_sent) {
        c->chunk_final_sent = true;
        c->out.append("0\r\n\r\n");
        continue;
      }
      c->streaming = false;
      c->src.reset();
      continue;
    }
    uint64_t budget = c->src_end - c->src_pos;
    if (c->stall_at.has_value()) {
      if (c->body_sent >= *c->stall_at) {
        c->state = ConnState::kStalled;
        c->src.reset();
        c->streaming = false;
        return true;
      }
      budget = std::min(budget, *c->stall_at - c->body_sent);
    }
    if (c->drop_at.has_value()) {
      if (c->body_sent >= *c->drop_at) {
        Kill(c);
        return true;
      }
      budget = std::min(budget, *c->drop_at - c->body_sent);
    }
    if (c->throttle_bps > 0) {
      Clock::time_point now = Clock::now();
      if (now - c->window_start >= kThrottleWindow) {
        c->window_start = now;
        c->window_bytes = 0;
      }
      uint64_t per_window = std::max<uint64_t>(1, c->throttle_bps / 10);
      if (c->window_bytes >= per_window) {
        if (c->wake_timer == 0) {
          uint64_t id = c->id;
          TimerId timer = next_timer_id_.fetch_add(1);
          c->wake_timer = AddTimerInLoop(timer, c->window_start + kThrottleWindow, [this, id] {
            if (Conn* conn = Find(id); conn != nullptr) {
              conn->wake_timer = 0;
              Schedule(conn);
            }
          });
        }
        return progressed;
      }
      budget = std::min(budget, per_window - c->window_bytes);
    }
    if (!c->writable) return progressed;
    if (c->src->fd() >= 0 && !c->chunked) {
      off_t off = static_cast<off_t>(c->src_pos);
      size_t count = static_cast<size_t>(std::min<uint64_t>(budget, 1024 * 1024));
      ssize_t n = ::sendfile(c->fd, c->src->fd(), &off, count);
      if (n > 0) {
        c->src_pos += static_cast<uint64_t>(n);
        c->body_sent += static_cast<uint64_t>(n);
        c->window_bytes += static_cast<uint64_t>(n);
        bytes_sent_.fetch_add(static_cast<uint64_t>(n), std::memory_order_relaxed);
        c->last_activity = Clock::now();
        progressed = true;
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        c->writable = false;
        return progressed;
      }
      Kill(c);  // Peer gone, or the file shrank (n == 0).
      return true;
    }
    size_t want = static_cast<size_t>(std::min<uint64_t>(budget, stream_buf_.size()));
    absl::StatusOr<size_t> got = c->src->ReadAt(c->src_pos, stream_buf_.data(), want);
    if (!got.ok() || *got == 0) {
      Kill(c);
      return true;
    }
    size_t n = std::min(*got, want);
    if (c->chunked) {
      char hex[24];
      int len = std::snprintf(hex, sizeof(hex), "%zx\r\n", n);
      c->out.append(hex, static_cast<size_t>(len));
    }
    c->out.append(stream_buf_.data(), n);
    if (c->chunked) c->out.append("\r\n");
    c->src_pos += n;
    c->body_sent += n;
    c->window_bytes += n;
    progressed = true;
  }
}

void HttpServer::Impl::FinishResponse(Conn* c) {
  c->request = HttpRequest();
  if (c->close_after_response) {
    // Lingering close: send FIN, then discard input until the peer closes
    // (or a timeout), so unread pipelined bytes do not turn into an RST
    // that could destroy the response in flight.
    ::shutdown(c->fd, SHUT_WR);
    c->state = ConnState::kLingering;
    c->in.clear();
    c->in_off = 0;
    if (c->peer_eof) {
      Kill(c);
      return;
    }
    uint64_t id = c->id;
    c->wake_timer =
        AddTimerInLoop(next_timer_id_.fetch_add(1), Clock::now() + kLingerTimeout, [this, id] {
          if (Conn* conn = Find(id); conn != nullptr) {
            conn->wake_timer = 0;
            Kill(conn);
          }
        });
    return;
  }
  c->state = ConnState::kReading;
  c->last_activity = Clock::now();
}

HttpServerStats HttpServer::Impl::stats() const {
  HttpServerStats s;
  s.connections_accepted = connections_accepted_.load(std::memory_order_relaxed);
  s.connections_open = connections_open_.load(std::memory_order_relaxed);
  s.requests = requests_.load(std::memory_order_relaxed);
  s.responses = responses_.load(std::memory_order_relaxed);
  s.bytes_received = bytes_received_.load(std::memory_order_relaxed);
  s.bytes_sent = bytes_sent_.load(std::memory_order_relaxed);
  return s;
}

// ---- HttpServer ----

HttpServer::HttpServer(HttpServerOptions options, HttpHandler handler)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(handler))) {}
HttpServer::~HttpServer() { impl_->Stop(); }
absl::Status HttpServer::Start() { return impl_->Start(); }
void HttpServer::Stop() { impl_->Stop(); }
bool HttpServer::running() const { return impl_->running(); }
uint16_t HttpServer::port() const { return impl_->port(); }
const std::string& HttpServer::host() const { return impl_->host(); }
void HttpServer::PauseListening(bool close_idle) { impl_->PauseListening(close_idle); }
absl::Status HttpServer::ResumeListening() { return impl_->ResumeListening(); }
bool HttpServer::listening() const { return impl_->listening(); }
void HttpServer::Post(std::function<void()> task) { impl_->Post(std::move(task)); }
HttpServer::TimerId HttpServer::RunAfter(absl::Duration delay, std::function<void()> task) {
  return impl_->RunAfter(delay, std::move(task));
}
void HttpServer::CancelTimer(TimerId id) { impl_->CancelTimer(id); }
bool HttpServer::RunInLoop(std::function<void()> task) {
  return impl_->RunInLoopAndWait(std::move(task));
}
bool HttpServer::InLoopThread() const { return impl_->InLoop(); }
HttpServerStats HttpServer::stats() const { return impl_->stats(); }

}  // namespace prusaconnect::emulator
