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

#include "prusaconnect/export.h"

namespace prusaconnect {

namespace internal {
class Engine;
}  // namespace internal

struct PRUSACONNECT_API NetworkOptions {
  // Threads that run host code (handlers, callbacks). At least 1.
  int handler_threads = 2;
  // Requests on the wire at once, across all printers, and the number of
  // kept-alive connections that serve them. Printers beyond it wait their
  // turn in order. One request takes about one round-trip time, so the
  // default serves ~2,500 requests/s over a 100 ms link (10,000 printers at
  // 1 Hz over a 25 ms link); raise it for thousands of printers far away.
  int max_connections = 256;
  // Try to raise RLIMIT_NOFILE to its hard limit when the thread starts, so
  // that thousands of printers can keep connections open.
  bool raise_fd_limit = true;
};

class PRUSACONNECT_API Network {
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
