// Copyright 2026 The libprusaconnect Authors.
//
// WsClient: a small RFC 6455 WebSocket client over a plain TCP socket, for
// OctoPrint's push socket on the LAN or localhost (ws:// only; Debian 12's
// libcurl 7.88 has no WebSocket support). Text messages only; pings are
// answered, fragmented messages reassembled, frames to the server masked,
// the handshake's Sec-WebSocket-Accept checked (SHA-1 via OpenSSL).
//
// Thread safety: Receive() on one thread; SendText()/Ping() may be called
// from another (writes are serialized); Close() from any thread wakes a
// blocked Receive().
#ifndef PRUSACONNECT_EXAMPLES_OCTOPRINT_ADAPTER_WS_CLIENT_H_
#define PRUSACONNECT_EXAMPLES_OCTOPRINT_ADAPTER_WS_CLIENT_H_

#include <prusaconnect/status.h>

#include <cstdint>
#include <mutex>
#include <string>

namespace octoprint_adapter {

class WsClient {
 public:
  WsClient() = default;
  ~WsClient();
  WsClient(const WsClient&) = delete;
  WsClient& operator=(const WsClient&) = delete;

  // Connects to host:port and upgrades `path`. Unavailable when the
  // connection fails, FailedPrecondition when the server refuses the
  // upgrade or answers a wrong accept key.
  prusaconnect::Status Connect(const std::string& host, int port, const std::string& path,
                               int64_t timeout_ms);
  prusaconnect::Status SendText(const std::string& text);
  prusaconnect::Status Ping();
  // The next text message. DeadlineExceeded after `timeout_ms` without one
  // (the connection stays usable); Unavailable when the connection closed.
  prusaconnect::StatusOr<std::string> Receive(int64_t timeout_ms);
  void Close();

  // base64(SHA-1(key + RFC 6455 GUID)).
  static std::string AcceptKey(const std::string& key);
  // One frame as a client sends it (FIN set, masked with `mask`).
  static std::string EncodeFrame(int opcode, const std::string& payload, uint32_t mask);
  // Parses one frame at the start of `buf`: returns its total length (0 when
  // incomplete, -1 when malformed) and sets fin, opcode and the unmasked
  // payload.
  static int64_t DecodeFrame(const std::string& buf, bool* fin, int* opcode, std::string* payload);

 private:
  prusaconnect::Status SendFrame(int opcode, const std::string& payload);
  prusaconnect::Status WriteAll(const std::string& data);

  int fd_ = -1;
  std::mutex write_mu_;
  std::string buf_;
  std::string message_;  // fragments so far
};

}  // namespace octoprint_adapter

#endif  // PRUSACONNECT_EXAMPLES_OCTOPRINT_ADAPTER_WS_CLIENT_H_
