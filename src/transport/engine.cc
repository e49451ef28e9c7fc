// Copyright 2026 The libprusaconnect Authors.
#include "transport/engine.h"

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
#include "transport/curl_loop.h"
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
