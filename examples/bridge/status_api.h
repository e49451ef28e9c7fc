// Copyright 2026 The libprusaconnect Authors.
//
// StatusApi: the bridge's local HTTP status API and dashboard
// (docs/status-api.md), served with cpp-httplib (Debian's
// libcpp-httplib-dev): a small fixed thread pool, keep-alive, chunked
// responses for the Server-Sent Events stream.
//
//   GET /                          the dashboard (one page, no CDN)
//   GET /api/                      "OK"
//   GET /api/printers              every printer
//   GET /api/printer/NAME          one printer
//   GET /api/printer/NAME/image    its newest camera image (404: none)
//   GET /api/printer/NAME/qr.svg   its registration QR code (404: none)
//   GET /api/events                Server-Sent Events: state, job, progress
//   GET /metrics                   Prometheus text
//
// Every route is ours (a pre-routing handler): a bad path is 404 and a bad
// method 405, both with a JSON error; a client over its request rate gets
// 429. Bound to anything but loopback, a bearer token is required
// (`Authorization: Bearer …`, or `?access_token=…` for the page and its
// event stream, which browsers cannot give headers): 401 without it.
// Nothing served contains a Connect token or a host API key.
#ifndef PRUSACONNECT_EXAMPLES_BRIDGE_STATUS_API_H_
#define PRUSACONNECT_EXAMPLES_BRIDGE_STATUS_API_H_

#include <prusaconnect/json.h>
#include <prusaconnect/status.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "status_hub.h"

namespace bridge {

// What the API reads; the bridge implements it.
class StatusSource {
 public:
  virtual ~StatusSource() = default;
  // {"printers": [ printer, … ]} in config order.
  virtual prusaconnect::Json Printers() const = 0;
  virtual std::optional<prusaconnect::Json> Printer(const std::string& name) const = 0;
  // Prometheus lines of every printer (HELP/TYPE included).
  virtual std::string PrinterMetrics() const = 0;
  virtual StatusHub* hub() = 0;
};

struct StatusApiOptions {
  std::string listen = "127.0.0.1:8421";  // HOST:PORT; port 0: any free port
  std::string token;                      // required unless on loopback
  int rate_per_second = 100;              // per client address, burst 2x
  int threads = 6;
  int max_streams = 4;  // open /api/events streams (each holds a thread)
};

// Splits "HOST:PORT" / "[V6]:PORT"; false when malformed.
bool ParseListen(const std::string& listen, std::string* host, int* port);
bool IsLoopback(const std::string& host);

class StatusApi {
 public:
  StatusApi(StatusSource* source, StatusApiOptions options);
  ~StatusApi();  // Stop()
  StatusApi(const StatusApi&) = delete;
  StatusApi& operator=(const StatusApi&) = delete;

  // Binds and starts serving. InvalidArgument (bad listen address, no token
  // off loopback), Unavailable (the port is taken).
  prusaconnect::Status Start();
  void Stop();
  int port() const { return port_; }
  std::string url() const;

  struct Impl;

 private:
  StatusSource* source_;
  StatusApiOptions options_;
  std::unique_ptr<Impl> impl_;
  std::thread thread_;
  int port_ = 0;
  std::string host_;
};

}  // namespace bridge

#endif  // PRUSACONNECT_EXAMPLES_BRIDGE_STATUS_API_H_
