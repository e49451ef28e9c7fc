// Copyright 2026 The libprusaconnect Authors.
//
// PushClient: follows OctoPrint's push socket (/sockjs/websocket, the SockJS
// raw transport) on its own thread: passive login (POST /api/login
// {"passive":true} with the API key), {"auth":"name:session"}, then `current`
// / `history` messages and events go to a PushSink. It reconnects with
// backoff (1 s doubling to 30 s) when OctoPrint restarts, the session goes
// stale (reauthRequired) or nothing arrives for 45 s (a ping is sent after
// 15 s of silence). Only http:// OctoPrint URLs have a socket here; with
// https:// the adapter polls.
#ifndef PRUSACONNECT_EXAMPLES_OCTOPRINT_ADAPTER_PUSH_CLIENT_H_
#define PRUSACONNECT_EXAMPLES_OCTOPRINT_ADAPTER_PUSH_CLIENT_H_

#include <prusaconnect/json.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

#include "octoprint_client.h"

namespace octoprint_adapter {

class PushSink {
 public:
  virtual ~PushSink() = default;
  virtual void OnCurrent(const prusaconnect::Json& current) = 0;
  virtual void OnEvent(const std::string& type, const prusaconnect::Json& payload) = 0;
  virtual void OnSocketUp(bool up) = 0;
};

class PushClient {
 public:
  PushClient(std::string base_url, std::string api_key);
  ~PushClient();
  PushClient(const PushClient&) = delete;
  PushClient& operator=(const PushClient&) = delete;

  void Start();
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

 private:
  void Loop();
  void Handle(const std::string& text, bool* reauth);

  std::string base_url_;
  std::string api_key_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> up_{false};
  std::atomic<uint64_t> connects_{0};
  std::thread thread_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  PushSink* sink_ = nullptr;
  prusaconnect::Json firmware_data_;
  std::string firmware_name_;
  uint64_t firmware_seq_ = 0;
};

}  // namespace octoprint_adapter

#endif  // PRUSACONNECT_EXAMPLES_OCTOPRINT_ADAPTER_PUSH_CLIENT_H_
