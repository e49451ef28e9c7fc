// A small, fast, generic HTTP/1.1 server for test fixtures: the local
// Prusa Connect emulator and fake printer hosts (e.g. a fake OctoPrint).
//
// Design:
//  * One epoll event loop on its own thread, non-blocking sockets,
//    edge-triggered readiness.  Every handler call, timer and posted task
//    runs on that loop thread, one at a time.
//  * Keep-alive and pipelining: requests on a connection are handled
//    strictly one after another; the next pipelined request is parsed only
//    once the previous response has been written completely.
//  * Request bodies with Content-Length or chunked transfer coding,
//    "Expect: 100-continue", size limits (431 for the head, 413 for the
//    body).
//  * Responses may be answered synchronously or later from any thread via
//    HttpResponder, may stream large bodies from a BodySource (sendfile for
//    files), and carry fault hooks: close after responding, close without
//    responding, never respond, throttled or stalled bodies.
//  * The listening socket can be closed temporarily (clients get
//    ECONNREFUSED) and reopened on the same port.
//
// Thread-safety: HttpServer's methods are safe to call from any thread,
// except Start() and Stop(), which the owner calls (not from a handler).
// Handlers run on the loop thread and must not block; slow work should
// answer later through the responder.

#ifndef PRUSACONNECT_SRC_EMULATOR_HTTP_SERVER_H_
#define PRUSACONNECT_SRC_EMULATOR_HTTP_SERVER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/time/time.h"
#include "emulator/http_message.h"
#include "prusaconnect/status.h"

namespace prusaconnect::emulator {

namespace internal {
struct ResponderState;
}  // namespace internal

// The handle a handler uses to answer one request.  Copyable; all copies
// refer to the same request.  Every method is thread-safe and may be called
// from any thread; only the first of Respond/Close/Hang has an effect.
//
// If every copy is destroyed without any of them being called, the request
// is answered with 500, so a forgetful handler cannot wedge a client.
// Answers for a connection that has meanwhile closed are discarded.
class HttpResponder {
 public:
  explicit HttpResponder(std::shared_ptr<internal::ResponderState> state)
      : state_(std::move(state)) {}

  // Sends `response`.
  void Respond(HttpResponse response) const;

  // Closes the connection without a response: a FIN, or with `reset` an RST.
  void Close(bool reset = false) const;

  // Never answers: the connection stays open and silent until the client
  // closes it or the server stops.
  void Hang() const;

  // True once Respond, Close or Hang has been called on any copy.
  bool done() const;

 private:
  std::shared_ptr<internal::ResponderState> state_;
};

using HttpHandler = std::function<void(const HttpRequest& request, HttpResponder responder)>;

struct HttpServerOptions {
  // Address to listen on; numeric IPv4/IPv6 or "localhost".
  std::string host = "127.0.0.1";
  // 0 picks an ephemeral port; see HttpServer::port().
  uint16_t port = 0;
  int backlog = 4096;
  // Request line plus headers; larger heads get 431.
  size_t max_header_bytes = 64 * 1024;
  // Decoded request body; larger bodies get 413.
  uint64_t max_body_bytes = 64 * 1024 * 1024;
  // Keep-alive connections idle (no request in progress) for this long are
  // closed.  InfiniteDuration() disables the sweep.
  absl::Duration idle_timeout = absl::Minutes(5);
  // If set, a "Server" header added to every response.
  std::string server_name;
};

struct HttpServerStats {
  uint64_t connections_accepted = 0;
  uint64_t connections_open = 0;
  uint64_t requests = 0;   // Complete requests dispatched to the handler.
  uint64_t responses = 0;  // Responses (including error responses) started.
  uint64_t bytes_received = 0;
  uint64_t bytes_sent = 0;
};

class HttpServer {
 public:
  using TimerId = uint64_t;

  HttpServer(HttpServerOptions options, HttpHandler handler);
  // Stops the server if running.
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Raises RLIMIT_NOFILE to its hard limit, binds, listens and starts the
  // loop thread.  Fails if the address cannot be bound.
  // REQUIRES: not started.
  Status Start();

  // Closes every connection and the listener, drops pending timers and
  // tasks, and joins the loop thread.  Idempotent.
  // REQUIRES: not called from the loop thread (a handler, timer or task).
  void Stop();

  bool running() const;

  // The bound port (valid after a successful Start()).
  uint16_t port() const;
  const std::string& host() const;

  // Closes the listening socket so new connections are refused.  With
  // `close_idle`, also closes keep-alive connections that have no request in
  // progress, and closes busy ones once their current response is written,
  // so clients must reconnect (and get refused).  Blocks until done unless
  // called on the loop thread, where it runs inline.  No-op if not
  // listening.
  void PauseListening(bool close_idle = true);

  // Reopens the listening socket on the same port (SO_REUSEADDR).  Runs
  // inline on the loop thread, otherwise blocks until done.  OK if already
  // listening.
  Status ResumeListening();

  bool listening() const;

  // Runs `task` on the loop thread soon.  Dropped if the server is stopped
  // first.
  void Post(std::function<void()> task);

  // Runs `task` on the loop thread after `delay`.  Returns an id for
  // CancelTimer.  Dropped (destroyed without running) if the server stops.
  TimerId RunAfter(absl::Duration delay, std::function<void()> task);
  // Cancels a pending timer; no-op if it already ran or is unknown.
  void CancelTimer(TimerId id);

  // Runs `task` on the loop thread and waits for it to finish (inline when
  // already on the loop thread).  Returns false, without running it, if the
  // server is not running.
  bool RunInLoop(std::function<void()> task);

  // True when called from the loop thread.
  bool InLoopThread() const;

  HttpServerStats stats() const;

  class Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace prusaconnect::emulator

#endif  // PRUSACONNECT_SRC_EMULATOR_HTTP_SERVER_H_
