// Copyright 2026 The libprusaconnect Authors.
//
// WsLoop: every WebSocket the bridge keeps open to printer hosts (Moonraker's
// JSON-RPC socket, OctoPrint's push socket), served by ONE thread through
// libwebsockets (Debian's libwebsockets-dev), on a libuv loop (epoll) when
// lws's libuv plugin is installed, else on lws's own poll() loop. Thousands
// of connections cost file descriptors and buffers, not threads.
//
// libwebsockets is not thread-safe: every lws call happens on the loop's
// thread. Connect(), Send() and Close() queue the work and wake the loop
// (lws_cancel_service, the one call lws allows from other threads).
//
// A connection reports to its WsHandler on the loop's thread: OnOpen once
// the upgrade succeeded, OnMessage per complete text message (fragments
// joined, at most kMaxMessage bytes), then exactly one OnClosed with the
// reason — also when the connection never opened. Idle connections are
// pinged after 15 s of silence and dropped after 45 s (lws's validity
// policy), so a host that vanished is noticed. Reconnecting is the owner's
// business: Connect() again.
#ifndef PRUSACONNECT_EXAMPLES_HOSTIO_WS_LOOP_H_
#define PRUSACONNECT_EXAMPLES_HOSTIO_WS_LOOP_H_

#include <prusaconnect/status.h>

#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

struct lws;
struct lws_context;

namespace hostio {

class WsHandler {
 public:
  virtual ~WsHandler() = default;
  virtual void OnOpen() = 0;
  virtual void OnMessage(const std::string& text) = 0;
  virtual void OnClosed(const std::string& why) = 0;
};

struct WsTarget {
  // ws://host:port/path or wss://… (http:// and https:// are taken as ws://
  // and wss://).
  std::string url;
  // Extra headers of the upgrade request, e.g. {"X-Api-Key", key}.
  std::vector<std::pair<std::string, std::string>> headers;
  bool verify_tls = true;
};

class WsLoop;

class WsConnection {
 public:
  // Queues a text message; FailedPrecondition when the connection is not
  // open (or closing).
  prusaconnect::Status Send(std::string text);
  // Closes (OnClosed follows, "closed by us").
  void Close();
  // No more callbacks after it returns; waits for one in progress. Not
  // callable from the handler's own callbacks.
  void Detach();
  bool open() const { return open_; }
  const std::string& url() const { return url_; }

 private:
  friend class WsLoop;
  friend struct WsLoopCallbacks;
  void Deliver(int what, const std::string& text);

  WsLoop* loop_ = nullptr;
  std::string url_;
  std::string host_, path_;
  int port_ = 0;
  bool tls_ = false;
  WsTarget target_;
  // Loop-thread state.
  struct lws* wsi_ = nullptr;
  std::string partial_;
  bool notified_closed_ = false;
  std::atomic<bool> closing_{false};
  // Shared.
  std::atomic<bool> open_{false};
  std::mutex out_mu_;
  std::deque<std::string> out_;
  std::recursive_mutex handler_mu_;
  WsHandler* handler_ = nullptr;
  std::weak_ptr<WsConnection> self_;
};

class WsLoop {
 public:
  static constexpr size_t kMaxMessage = 64u << 20;

  WsLoop();
  ~WsLoop();  // Stop()
  WsLoop(const WsLoop&) = delete;
  WsLoop& operator=(const WsLoop&) = delete;

  // Creates the lws context and its thread. Internal error when lws cannot.
  prusaconnect::Status Start();
  // Closes every connection (their OnClosed run) and joins the thread.
  void Stop();

  // InvalidArgument for a URL that is not ws(s):// or http(s)://.
  prusaconnect::StatusOr<std::shared_ptr<WsConnection>> Connect(const WsTarget& target,
                                                                WsHandler* handler);
  size_t connections() const;
  // True when the loop runs on libuv (epoll), false on lws's poll() loop.
  bool uses_libuv() const;

 private:
  friend struct WsLoopCallbacks;
  friend class WsConnection;
  enum class Op { kConnect, kWrite, kClose };
  void Queue(Op op, std::shared_ptr<WsConnection> c);
  void Run();
  void ProcessQueue();  // loop thread

  struct lws_context* context_ = nullptr;
  void* uv_loop_ = nullptr;  // uv_loop_t, when libuv drives the loop
  void* uv_stop_ = nullptr;  // uv_async_t that stops it
  std::thread thread_;
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;
  std::vector<std::pair<Op, std::shared_ptr<WsConnection>>> queue_;
  std::map<WsConnection*, std::shared_ptr<WsConnection>> live_;  // loop thread
  std::atomic<size_t> count_{0};
};

// Splits ws[s]:// or http[s]:// URLs; false for anything else.
bool ParseWsUrl(const std::string& url, std::string* host, int* port, std::string* path, bool* tls);

}  // namespace hostio

#endif  // PRUSACONNECT_EXAMPLES_HOSTIO_WS_LOOP_H_
