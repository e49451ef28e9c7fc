// Copyright 2026 The libprusaconnect Authors.
//
// PushClient: follows OctoPrint's push socket (/sockjs/websocket, the SockJS
// raw transport): passive login (POST /api/login {"passive":true} with the
// API key), {"auth":"name:session"}, then `current` / `history` messages and
// events go to a PushSink. It reconnects with backoff (1 s doubling to 30 s)
// when OctoPrint restarts, the session goes stale (reauthRequired) or the
// socket goes silent (pinged after 15 s, dropped after 45 s — the WebSocket
// loop's idle policy). Only http:// OctoPrint URLs have a socket here; with
// https:// the adapter polls.
//
// The socket lives on a hostio::WsLoop (libwebsockets) and the login and
// reconnect attempts run on a hostio::Scheduler: the bridge passes its
// shared ones, so its OctoPrint printers add no thread; the single-printer
// daemon passes none and the client makes a one-thread loop and scheduler
// of its own.
#ifndef PRUSACONNECT_EXAMPLES_OCTOPRINT_ADAPTER_PUSH_CLIENT_H_
#define PRUSACONNECT_EXAMPLES_OCTOPRINT_ADAPTER_PUSH_CLIENT_H_

#include <prusaconnect/json.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "octoprint_client.h"
#include "scheduler.h"
#include "ws_loop.h"

namespace octoprint_adapter {

class PushSink {
 public:
  virtual ~PushSink() = default;
  virtual void OnCurrent(const prusaconnect::Json& current) = 0;
  virtual void OnEvent(const std::string& type, const prusaconnect::Json& payload) = 0;
  virtual void OnSocketUp(bool up) = 0;
};

class PushClient : public hostio::WsHandler {
 public:
  // `loop` and `scheduler` may be null: the client then makes its own.
  PushClient(std::string base_url, std::string api_key, hostio::WsLoop* loop = nullptr,
             hostio::Scheduler* scheduler = nullptr);
  ~PushClient() override;
  PushClient(const PushClient&) = delete;
  PushClient& operator=(const PushClient&) = delete;

  void Start();
  // Start(), but the first login and connect happen on the calling thread
  // (which may be one of the scheduler's workers, e.g. while every worker
  // waits for a socket: no attempt starves).
  void StartNow();
  // Log lines start with "[name] " (the bridge's printer name).
  void set_log_name(const std::string& name) { log_name_ = name; }
  // No sink call after it returns.
  void Stop();
  // Receives everything from now on (nullptr: nobody).
  void SetSink(PushSink* sink);
  // Waits up to `wait_ms` for the socket, sends M115 through `client` and
  // waits for the FirmwareData event; returns its `data` (null when none
  // came in time).
  prusaconnect::Json ProbeFirmware(const OctoPrintClient& client, int64_t wait_ms);
  std::string firmware_name() const;
  bool up() const { return up_; }
  uint64_t connects() const { return connects_; }

  // Splits "http://host:port/base" into host, port (default 80) and base
  // path; false for anything but http://.
  static bool ParseUrl(const std::string& url, std::string* host, int* port, std::string* base);

  // hostio::WsHandler (the loop's thread).
  void OnOpen() override;
  void OnMessage(const std::string& text) override;
  void OnClosed(const std::string& why) override;

 private:
  // The periodic step: a login + connect attempt when one is due.
  int64_t Step();
  void Down(const std::string& why);

  bool Prepare();  // the loop and scheduler; false: no socket
  std::string base_url_;
  std::string api_key_;
  std::string log_name_;
  OctoPrintClient rest_;
  std::unique_ptr<hostio::WsLoop> own_loop_;
  std::unique_ptr<hostio::Scheduler> own_scheduler_;
  hostio::WsLoop* loop_;
  hostio::Scheduler* scheduler_;
  std::unique_ptr<hostio::Periodic> periodic_;
  std::atomic<bool> up_{false};
  std::atomic<uint64_t> connects_{0};
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopped_ = false;
  bool url_ok_ = true;
  std::shared_ptr<hostio::WsConnection> ws_;
  std::string auth_;         // {"auth": "name:session"} of this connection
  bool connecting_ = false;  // a socket exists (opening or open)
  bool announced_ = false;   // history/current arrived: auth took, events come
  std::chrono::steady_clock::time_point retry_at_{};
  int64_t backoff_ms_ = 1000;
  PushSink* sink_ = nullptr;
  prusaconnect::Json firmware_data_;
  std::string firmware_name_;
  uint64_t firmware_seq_ = 0;
};

}  // namespace octoprint_adapter

#endif  // PRUSACONNECT_EXAMPLES_OCTOPRINT_ADAPTER_PUSH_CLIENT_H_
