// Copyright 2026 The libprusaconnect Authors.
//
// MqttLoop: one thread serving every MQTT connection of the process
// (libmosquitto, Debian's libmosquitto-dev), as WsLoop does for WebSockets.
// A bridge with 200 Bambu printers has 200 broker connections and one
// thread: the loop polls their sockets and drives libmosquitto through its
// external-loop API (mosquitto_loop_read / _write / _misc); libmosquitto's
// own per-client threads (mosquitto_loop_start) would be one thread per
// printer.
//
// TLS is always on, with an OpenSSL context of our own so that a printer's
// self-signed certificate can be checked by its SHA-256 fingerprint during
// the handshake, before the password is sent (libmosquitto can only verify
// against a CA).
//
// Reconnects: after a drop the loop reconnects by itself, 1 s doubling to
// 30 s; after the broker refused the credentials, every 60 s; after a
// certificate the client refused, every 5 min. Every (re)connection
// subscribes to the target's topics again, then calls OnConnected.
//
// Threads: Connect, Publish and Close may be called from any thread. The
// handler's callbacks run on the loop's thread, one at a time per client;
// none runs after Close() returns (unless Close is called from a callback).
#ifndef PRUSACONNECT_EXAMPLES_HOSTIO_MQTT_LOOP_H_
#define PRUSACONNECT_EXAMPLES_HOSTIO_MQTT_LOOP_H_

#include <prusaconnect/status.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

struct ssl_ctx_st;  // OpenSSL's SSL_CTX

namespace hostio {

enum class MqttDrop {
  kNetwork,      // unreachable, refused, dropped, no answer in time
  kRefused,      // the broker refused the user name or password
  kCertificate,  // the server's certificate was refused (CA or pin)
};

struct MqttTarget {
  std::string host;
  int port = 8883;
  std::string client_id;
  std::string username;
  std::string password;
  int keepalive_s = 30;
  // With a CA file the server's chain must verify against it. The host name
  // is not compared: a Bambu printer's certificate names its serial number,
  // not its address.
  std::string ca_file;
  // Without a CA file: called during the handshake with the SHA-256 of the
  // server's certificate (lowercase hex); false refuses the connection
  // before anything is sent. Runs on the loop's thread.
  std::function<bool(const std::string& sha256_hex)> check_certificate;
  // Subscribed (QoS 0) after every connection.
  std::vector<std::string> subscribe;
  // How long a connection may take to be accepted.
  int connect_timeout_ms = 10000;
};

class MqttHandler {
 public:
  virtual ~MqttHandler() = default;
  // The broker accepted the connection; the subscriptions are sent.
  virtual void OnConnected() = 0;
  virtual void OnMessage(const std::string& topic, const std::string& payload) = 0;
  // A connection failed or dropped; the loop retries after `retry_ms`.
  virtual void OnDisconnected(const std::string& why, MqttDrop kind, int64_t retry_ms) = 0;
};

class MqttLoop;

class MqttClient {
 public:
  // Queues a QoS 0 message; Unavailable while not connected.
  prusaconnect::Status Publish(const std::string& topic, const std::string& payload);
  // No callback after this returns (except from a callback of this client).
  void Close();
  bool connected() const;

  struct Impl;  // the loop's

 private:
  friend class MqttLoop;
  MqttClient() = default;
  MqttLoop* loop_ = nullptr;
  std::shared_ptr<Impl> impl_;
};

class MqttLoop {
 public:
  MqttLoop();
  ~MqttLoop();
  MqttLoop(const MqttLoop&) = delete;
  MqttLoop& operator=(const MqttLoop&) = delete;

  // Idempotent; refused after Stop().
  prusaconnect::Status Start();
  // Closes every client (no callback after it returns). Final.
  void Stop();
  // Starts connecting; the handler hears how it goes.
  prusaconnect::StatusOr<std::shared_ptr<MqttClient>> Connect(const MqttTarget& target,
                                                              MqttHandler* handler);
  size_t client_count() const;

 private:
  friend class MqttClient;
  void Run();
  void Post(std::function<void()> task);
  void Wake();

  mutable std::mutex mu_;
  std::deque<std::function<void()>> tasks_;
  std::vector<std::shared_ptr<MqttClient::Impl>> clients_;  // the loop's thread only
  std::atomic<size_t> count_{0};
  // Shared TLS contexts by CA file ("" for pinned certificates); opaque
  // here (SSL_CTX*) to keep OpenSSL out of this header.
  std::map<std::string, ::ssl_ctx_st*> contexts_;
  std::thread thread_;
  int wake_[2] = {-1, -1};
  bool running_ = false;
  bool stopping_ = false;
  bool closed_ = false;
};

}  // namespace hostio

#endif  // PRUSACONNECT_EXAMPLES_HOSTIO_MQTT_LOOP_H_
