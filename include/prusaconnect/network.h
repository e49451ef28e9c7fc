// Copyright 2026 The libprusaconnect Authors.
//
// Network: the engine that moves every printer's traffic.
//
// One Network runs one network thread (libcurl's multi interface on epoll)
// that sends the requests of any number of Printer instances over kept-alive
// connections, plus a small pool of handler threads on which the library runs
// host code (command handlers when background handling is enabled, the
// registration callback, the RESET_PRINTER stop callback). Host code never
// runs on the network thread, so a slow handler cannot stall telemetry.
//
// A process normally uses Network::Default(), which every Printer picks up
// unless its options name another. Threads start lazily, with the first
// printer that starts, so constructing printers costs no thread.
//
// Thread safety: all methods are safe to call from any thread.
#ifndef PRUSACONNECT_NETWORK_H_
#define PRUSACONNECT_NETWORK_H_

#include <cstddef>
#include <memory>

namespace prusaconnect {

namespace internal {
class Engine;
}  // namespace internal

struct NetworkOptions {
  // Threads that run host code (handlers, callbacks). At least 1.
  int handler_threads = 2;
  // Upper bound of open connections kept in libcurl's pool; 0 = as many as
  // there are printers sending at once.
  long max_connections = 0;  // NOLINT(runtime/int)
  // Try to raise RLIMIT_NOFILE to its hard limit when the thread starts, so
  // that thousands of printers can keep connections open.
  bool raise_fd_limit = true;
};

class Network {
 public:
  explicit Network(NetworkOptions options = {});
  // Stops the threads. REQUIRES: no Printer uses this network any more.
  ~Network();
  Network(const Network&) = delete;
  Network& operator=(const Network&) = delete;

  // The process-wide network used by default. It lives until process exit.
  static std::shared_ptr<Network> Default();

  // Number of printers currently attached (started).
  size_t printer_count() const;

  internal::Engine* engine() const { return engine_.get(); }

 private:
  std::unique_ptr<internal::Engine> engine_;
};

}  // namespace prusaconnect

#endif  // PRUSACONNECT_NETWORK_H_
