// Copyright 2026 The libprusaconnect Authors.
//
// The emulator's HTTP/1.1 server inside: HttpServer::Impl and what its three
// parts share. http_loop.cc is the event loop (start and stop, tasks and
// timers, listening and accepting), http_connection.cc one connection
// (reading, parsing, dispatching a request, writing the response) and
// http_server.cc the public HttpServer and HttpResponder over them.
// Included only by those three files.
#ifndef PRUSACONNECT_EMULATOR_HTTP_SERVER_IMPL_H_
#define PRUSACONNECT_EMULATOR_HTTP_SERVER_IMPL_H_

#include "emulator/http_server.h"

#include <sys/socket.h>

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

namespace internal {

using Clock = std::chrono::steady_clock;

inline constexpr uint64_t kListenerKey = 1;
inline constexpr uint64_t kEventFdKey = 2;
inline constexpr uint64_t kFirstConnId = 16;
inline constexpr size_t kReadChunk = 64 * 1024;
inline constexpr size_t kStreamChunk = 256 * 1024;
inline constexpr size_t kMaxBufferedWhileBusy = 1024 * 1024;
inline constexpr auto kLingerTimeout = std::chrono::seconds(2);
inline constexpr auto kThrottleWindow = std::chrono::milliseconds(100);

Clock::duration ToChrono(absl::Duration d);
// Raises the soft limit of open files to the hard limit.
void RaiseFileLimit();
// "address:port" of a peer.
std::string PeerName(const sockaddr_storage& ss);
// Header names/values from handlers must not be able to split the response.
void AppendSanitized(std::string* out, std::string_view s);

class StringBody final : public BodySource {
 public:
  explicit StringBody(std::string s) : s_(std::move(s)) {}
  uint64_t size() const override { return s_.size(); }
  StatusOr<size_t> ReadAt(uint64_t offset, char* buf, size_t len) override {
    size_t n = std::min<size_t>(len, s_.size() - static_cast<size_t>(offset));
    std::memcpy(buf, s_.data() + offset, n);
    return n;
  }

 private:
  std::string s_;
};

}  // namespace internal

using internal::Clock;

class HttpServer::Impl {
 public:
  Impl(HttpServerOptions options, HttpHandler handler)
      : options_(std::move(options)),
        handler_(std::move(handler)),
        shared_(std::make_shared<internal::LoopShared>()),
        read_buf_(internal::kReadChunk),
        stream_buf_(internal::kStreamChunk) {}

  ~Impl() { Stop(); }

  Status Start();
  void Stop();
  bool running() const { return started_ && !stopped_; }
  uint16_t port() const { return port_.load(); }
  const std::string& host() const { return options_.host; }
  bool listening() const { return listening_.load(); }

  void PauseListening(bool close_idle);
  Status ResumeListening();
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

  StatusOr<int> Bind(uint16_t port);
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
  uint64_t next_conn_id_ = internal::kFirstConnId;
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

}  // namespace prusaconnect::emulator

#endif  // PRUSACONNECT_EMULATOR_HTTP_SERVER_IMPL_H_
