// Copyright 2026 The libprusaconnect Authors.
//
// Engine: the network thread behind prusaconnect::Network.
//
// One thread drives libcurl's multi interface through epoll
// (curl_multi_socket_action), so thousands of printers cost one thread and
// no per-printer timers or sockets beyond their kept-alive connection. For
// each attached Session it repeatedly asks Session::Next() for a request,
// runs it, and reports the outcome with Session::Complete(). A session that
// has nothing to send costs nothing: it is woken by its waker (host queued
// something) or by a timer it asked for (backoff, registration polling).
//
// Host code runs on a separate pool of handler threads (Post()).
//
// libcurl is included only by the transport layer (engine, curl_common,
// fetch, curl_http_client; cmake/CheckLayers.cmake enforces it).
//
// Thread safety: all public methods are safe from any thread. Detach() and
// Execute() block until the network thread has acted and must not be called
// from the network thread itself (they are not: host code never runs there).
#ifndef PRUSACONNECT_TRANSPORT_ENGINE_H_
#define PRUSACONNECT_TRANSPORT_ENGINE_H_

#include <atomic>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "protocol/http_types.h"
#include "prusaconnect/network.h"
#include "util/cond_var.h"

namespace prusaconnect::internal {

class Session;
class CurlLoop;

class Engine {
 public:
  explicit Engine(NetworkOptions options);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Starts sending the session's traffic. Idempotent.
  void Attach(const std::shared_ptr<Session>& session);
  // Stops it; a request in flight is cancelled (its event stays buffered).
  // Returns once the network thread no longer touches the session.
  void Detach(Session* session);
  // Runs one request to completion on the network thread (blocking the
  // caller only).
  HttpResponse Execute(HttpRequest request);
  // Runs `fn` on a handler thread.
  void Post(std::function<void()> fn);
  // The session has something new to send.
  void Wake(Session* session);

  size_t printer_count() const { return printer_count_.load(); }

 private:
  struct Op;  // work handed to the network thread

  void EnsureStarted();
  void EnsurePoolStarted();
  void Enqueue(std::unique_ptr<Op> op);
  void NetworkMain();
  // The handler pool's queue, shared with its threads so that the last
  // reference to a Network may be dropped on one of them.
  struct Pool {
    std::mutex mu;
    internal::CondVar cv;
    std::deque<std::function<void()>> queue;  // guarded by mu
    bool stopping = false;                    // guarded by mu
  };
  static void HandlerMain(const std::shared_ptr<Pool>& pool);

  const NetworkOptions options_;
  std::atomic<size_t> printer_count_{0};

  std::mutex start_mu_;
  bool started_ = false;
  bool pool_started_ = false;  // guarded by start_mu_
  std::unique_ptr<CurlLoop> loop_;
  std::thread network_thread_;
  std::atomic<std::thread::id> network_thread_id_{};

  std::mutex ops_mu_;
  std::vector<std::unique_ptr<Op>> ops_;  // guarded by ops_mu_
  std::vector<Session*> wakes_;           // guarded by ops_mu_
  bool wake_pending_ = false;             // guarded by ops_mu_: eventfd written

  const std::shared_ptr<Pool> pool_state_ = std::make_shared<Pool>();
  std::vector<std::thread> pool_;
};

}  // namespace prusaconnect::internal

#endif  // PRUSACONNECT_TRANSPORT_ENGINE_H_
