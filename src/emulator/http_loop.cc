// Copyright 2026 The libprusaconnect Authors.
//
// HttpServer's event loop: binding, start and stop, the loop itself, tasks
// and timers posted from any thread, pausing and resuming the listener,
// accepting connections and sweeping idle ones.
#include "emulator/http_server_impl.h"

namespace prusaconnect::emulator {

using internal::kEventFdKey;
using internal::kListenerKey;
using internal::PeerName;
using internal::RaiseFileLimit;
using internal::ToChrono;

// ---- Lifecycle ----

StatusOr<int> HttpServer::Impl::Bind(uint16_t port) {
  std::string host = options_.host == "localhost" ? std::string("127.0.0.1") : options_.host;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV;
  addrinfo* res = nullptr;
  std::string port_str = std::to_string(port);
  int rc = ::getaddrinfo(host.empty() ? nullptr : host.c_str(), port_str.c_str(), &hints, &res);
  if (rc != 0) {
    return InvalidArgumentError(
        absl::StrCat("cannot resolve listen address '", host, "': ", ::gai_strerror(rc)));
  }
  int fd = ::socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    int err = errno;
    ::freeaddrinfo(res);
    return ErrnoToStatus(err, "socket");
  }
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (::bind(fd, res->ai_addr, res->ai_addrlen) != 0) {
    int err = errno;
    ::freeaddrinfo(res);
    ::close(fd);
    return ErrnoToStatus(err, absl::StrCat("bind ", host, ":", port));
  }
  ::freeaddrinfo(res);
  if (::listen(fd, options_.backlog) != 0) {
    int err = errno;
    ::close(fd);
    return ErrnoToStatus(err, "listen");
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
    return ErrnoToStatus(err, "epoll_ctl(listener)");
  }
  return fd;
}

Status HttpServer::Impl::Start() {
  if (started_) return FailedPreconditionError("HttpServer already started");
  RaiseFileLimit();
  epfd_ = ::epoll_create1(EPOLL_CLOEXEC);
  if (epfd_ < 0) return ErrnoToStatus(errno, "epoll_create1");
  shared_->event_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (shared_->event_fd < 0) {
    int err = errno;
    ::close(epfd_);
    epfd_ = -1;
    return ErrnoToStatus(err, "eventfd");
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kEventFdKey;
  ::epoll_ctl(epfd_, EPOLL_CTL_ADD, shared_->event_fd, &ev);
  spare_fd_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);

  StatusOr<int> fd = Bind(options_.port);
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
  return Status();
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

Status HttpServer::Impl::ResumeListening() {
  Status status = FailedPreconditionError("server is not running");
  RunInLoopAndWait([this, &status] {
    if (listen_fd_ >= 0) {
      status = Status();
      return;
    }
    StatusOr<int> fd = Bind(port_.load());
    if (!fd.ok()) {
      status = fd.status();
      return;
    }
    listen_fd_ = *fd;
    listening_.store(true);
    status = Status();
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

}  // namespace prusaconnect::emulator
