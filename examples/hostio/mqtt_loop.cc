// Copyright 2026 The libprusaconnect Authors.
//
// The loop around libmosquitto's external-loop API (mqtt_loop.h). Notes on
// libmosquitto 2.0 that shape it:
//   * mosquitto_connect_async starts a non-blocking TCP connect and TLS
//     handshake; the handshake only advances in mosquitto_loop_read, so the
//     loop calls it on any readiness of the socket (writable included);
//   * each (re)connection gets a fresh mosquitto object: a dropped or timed
//     out one is destroyed with its socket, never half reused;
//   * the SSL_CTX is ours (MOSQ_OPT_SSL_CTX without defaults), one per CA
//     file shared by the clients using it, so the verify callback sees the
//     certificate before CONNECT (and the password) goes; each connection's
//     policy is found by its socket (tls_pin.h), and during
//     mosquitto_connect_async (which may start the handshake before the
//     socket is known to us) by ConnectingTlsPolicy.
#include "mqtt_loop.h"

#include <fcntl.h>
#include <mosquitto.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>

#include "tls_pin.h"

namespace hostio {

namespace pc = prusaconnect;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int64_t kMaxBackoffMs = 30000;
constexpr int64_t kRefusedRetryMs = 60000;
constexpr int64_t kCertificateRetryMs = 300000;

void InitLibrary() {
  static std::once_flag once;
  std::call_once(once, [] { mosquitto_lib_init(); });
}

int64_t MsUntil(Clock::time_point t, Clock::time_point now) {
  return std::max<int64_t>(0,
                           std::chrono::duration_cast<std::chrono::milliseconds>(t - now).count());
}

}  // namespace

struct MqttClient::Impl {
  MqttTarget target;
  // Guards handler and closed: a callback runs under it, Close() takes it.
  std::recursive_mutex cb_mu;
  MqttHandler* handler = nullptr;
  bool closed = false;
  std::atomic<bool> connected{false};
  SSL_CTX* ctx = nullptr;
  TlsPolicy tls;

  // The loop's thread only.
  enum class Phase { kWaiting, kConnecting, kUp } phase = Phase::kWaiting;
  mosquitto* m = nullptr;
  Clock::time_point retry_at{};
  Clock::time_point deadline{};
  Clock::time_point next_misc{};
  int64_t backoff_ms = 1000;
  int connack_rc = -1;
  int policy_fd = -1;  // the socket SetSocketTlsPolicy knows

  ~Impl() {
    if (policy_fd >= 0) SetSocketTlsPolicy(policy_fd, nullptr);
    if (m != nullptr) mosquitto_destroy(m);
    if (ctx != nullptr) SSL_CTX_free(ctx);  // our reference to the shared one
  }

  template <typename F>
  void Call(F f) {
    std::lock_guard<std::recursive_mutex> lock(cb_mu);
    if (!closed && handler != nullptr) f(handler);
  }
};

namespace {

using Impl = MqttClient::Impl;

// The connection's certificate policy, found by its socket (tls_pin.h).
void AttachPolicy(Impl* c) {
  int fd = c->m != nullptr ? mosquitto_socket(c->m) : -1;
  if (fd == c->policy_fd) return;
  if (c->policy_fd >= 0) SetSocketTlsPolicy(c->policy_fd, nullptr);
  c->policy_fd = fd;
  if (fd >= 0) SetSocketTlsPolicy(fd, &c->tls);
}

void DestroyClient(Impl* c) {
  if (c->policy_fd >= 0) SetSocketTlsPolicy(c->policy_fd, nullptr);
  c->policy_fd = -1;
  if (c->m != nullptr) mosquitto_destroy(c->m);
  c->m = nullptr;
}

void OnConnect(mosquitto* m, void* user, int rc) {
  Impl* c = static_cast<Impl*>(user);
  c->connack_rc = rc;
  if (rc != 0) return;
  c->phase = Impl::Phase::kUp;
  c->backoff_ms = 1000;
  c->connected = true;
  for (const std::string& topic : c->target.subscribe) {
    mosquitto_subscribe(m, nullptr, topic.c_str(), 0);
  }
  c->Call([](MqttHandler* h) { h->OnConnected(); });
}

void OnMessage(mosquitto*, void* user, const mosquitto_message* msg) {
  Impl* c = static_cast<Impl*>(user);
  std::string topic = msg->topic != nullptr ? msg->topic : "";
  std::string payload(static_cast<const char*>(msg->payload),
                      msg->payload != nullptr ? static_cast<size_t>(msg->payloadlen) : 0);
  c->Call([&](MqttHandler* h) { h->OnMessage(topic, payload); });
}

}  // namespace

bool MqttClient::connected() const { return impl_ && impl_->connected.load(); }

pc::Status MqttClient::Publish(const std::string& topic, const std::string& payload) {
  if (!impl_ || !impl_->connected) {
    return pc::UnavailableError("not connected to the MQTT broker at " + impl_->target.host + ":" +
                                std::to_string(impl_->target.port));
  }
  std::shared_ptr<Impl> impl = impl_;
  loop_->Post([impl, topic, payload] {
    if (impl->phase != Impl::Phase::kUp || impl->m == nullptr) return;
    mosquitto_publish(impl->m, nullptr, topic.c_str(), static_cast<int>(payload.size()),
                      payload.data(), 0, false);
  });
  return pc::Status::OK();
}

void MqttClient::Close() {
  if (!impl_) return;
  {
    std::lock_guard<std::recursive_mutex> lock(impl_->cb_mu);
    if (impl_->closed) return;
    impl_->closed = true;
    impl_->connected = false;
  }
  std::shared_ptr<Impl> impl = impl_;
  MqttLoop* loop = loop_;
  loop->Post([loop, impl] {
    auto& list = loop->clients_;
    list.erase(std::remove(list.begin(), list.end(), impl), list.end());
    loop->count_ = list.size();
    if (impl->m != nullptr) mosquitto_disconnect(impl->m);
    DestroyClient(impl.get());
  });
}

MqttLoop::MqttLoop() = default;

MqttLoop::~MqttLoop() { Stop(); }

pc::Status MqttLoop::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (running_) return pc::Status::OK();
  if (closed_) return pc::UnavailableError("the MQTT loop is stopped");
  InitLibrary();
  if (pipe2(wake_, O_NONBLOCK | O_CLOEXEC) != 0) {
    return pc::InternalError(std::string("cannot make the MQTT loop's wake pipe: ") +
                             std::strerror(errno));
  }
  running_ = true;
  stopping_ = false;
  thread_ = std::thread([this] { Run(); });
  return pc::Status::OK();
}

void MqttLoop::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
    if (!running_) return;
    stopping_ = true;
  }
  Wake();
  if (thread_.joinable()) thread_.join();
  std::lock_guard<std::mutex> lock(mu_);
  running_ = false;
  for (auto& c : contexts_) SSL_CTX_free(c.second);
  contexts_.clear();
  for (int& fd : wake_) {
    if (fd >= 0) close(fd);
    fd = -1;
  }
}

size_t MqttLoop::client_count() const { return count_.load(); }

void MqttLoop::Wake() {
  char b = 1;
  if (wake_[1] >= 0 && write(wake_[1], &b, 1) < 0) {
    // Full pipe: the loop wakes anyway.
  }
}

void MqttLoop::Post(std::function<void()> task) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!running_ || stopping_) return;
    tasks_.push_back(std::move(task));
  }
  Wake();
}

pc::StatusOr<std::shared_ptr<MqttClient>> MqttLoop::Connect(const MqttTarget& target,
                                                            MqttHandler* handler) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!running_ || stopping_) return pc::UnavailableError("the MQTT loop is not running");
  }
  auto impl = std::make_shared<Impl>();
  impl->target = target;
  impl->handler = handler;
  impl->tls.ca_file = target.ca_file;
  impl->tls.check_certificate = target.check_certificate;
  {
    // One TLS context per CA file (or none: pinned), shared by the clients
    // that use it; each connection carries its own policy.
    std::lock_guard<std::mutex> lock(mu_);
    SSL_CTX*& shared = contexts_[target.ca_file];
    if (shared == nullptr) {
      SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
      if (ctx == nullptr) return pc::InternalError("cannot make a TLS context");
      SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
      // Idle connections give their 2 x 16 KB of TLS buffers back.
      SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
      if (!PrepareSharedTlsContext(ctx, target.ca_file)) {
        SSL_CTX_free(ctx);
        contexts_.erase(target.ca_file);
        return pc::InvalidArgumentError("cannot read the CA file " + target.ca_file);
      }
      shared = ctx;
    }
    SSL_CTX_up_ref(shared);
    impl->ctx = shared;
  }
  std::shared_ptr<MqttClient> client(new MqttClient());
  client->loop_ = this;
  client->impl_ = impl;
  Post([this, impl] {
    clients_.push_back(impl);
    count_ = clients_.size();
  });
  return client;
}

namespace {

void Drop(Impl* c, int rc, const std::string& why_in) {
  bool was_up = c->phase == Impl::Phase::kUp;
  std::string why = why_in;
  MqttDrop kind = MqttDrop::kNetwork;
  int64_t retry = c->backoff_ms;
  if (c->tls.refused) {
    kind = MqttDrop::kCertificate;
    why = c->tls.why;
    retry = kCertificateRetryMs;
  } else if (c->connack_rc > 0) {
    why = std::string("the broker refused the connection: ") +
          mosquitto_connack_string(c->connack_rc);
    if (c->connack_rc == 4 || c->connack_rc == 5) {
      kind = MqttDrop::kRefused;
      retry = kRefusedRetryMs;
    }
  } else if (why.empty()) {
    if (rc == MOSQ_ERR_ERRNO) {
      why = std::strerror(errno);
    } else if (rc == MOSQ_ERR_TLS) {
      unsigned long e = ERR_peek_last_error();
      why = std::string("TLS handshake failed") +
            (e != 0 ? std::string(": ") + ERR_reason_error_string(e) : std::string());
    } else {
      why = mosquitto_strerror(rc);
    }
    if (was_up) why = "connection lost: " + why;
  }
  ERR_clear_error();
  if (kind == MqttDrop::kNetwork) {
    c->backoff_ms = std::min(c->backoff_ms * 2, kMaxBackoffMs);
    // A connection that was up comes back at once the first time.
    if (was_up) retry = 1000;
  }
  c->phase = Impl::Phase::kWaiting;
  c->connected = false;
  DestroyClient(c);
  c->retry_at = Clock::now() + std::chrono::milliseconds(retry);
  c->Call([&](MqttHandler* h) { h->OnDisconnected(why, kind, retry); });
}

void StartConnect(Impl* c) {
  c->connack_rc = -1;
  c->tls.refused = false;
  c->tls.why.clear();
  c->m =
      mosquitto_new(c->target.client_id.empty() ? nullptr : c->target.client_id.c_str(), true, c);
  if (c->m == nullptr) {
    Drop(c, MOSQ_ERR_NOMEM, "cannot make an MQTT client");
    return;
  }
  mosquitto_int_option(c->m, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
  mosquitto_username_pw_set(c->m, c->target.username.c_str(), c->target.password.c_str());
  mosquitto_int_option(c->m, MOSQ_OPT_SSL_CTX_WITH_DEFAULTS, 0);
  mosquitto_void_option(c->m, MOSQ_OPT_SSL_CTX, c->ctx);
  mosquitto_connect_callback_set(c->m, OnConnect);
  mosquitto_message_callback_set(c->m, OnMessage);
  c->phase = Impl::Phase::kConnecting;
  c->deadline = Clock::now() + std::chrono::milliseconds(c->target.connect_timeout_ms);
  int rc;
  {
    ConnectingTlsPolicy connecting(&c->tls);
    rc = mosquitto_connect_async(c->m, c->target.host.c_str(), c->target.port,
                                 c->target.keepalive_s);
  }
  if (rc != MOSQ_ERR_SUCCESS) {
    Drop(c, rc, "");
    return;
  }
  AttachPolicy(c);
}

// Any readiness: read first (it also advances the TLS handshake), then
// write what is queued.
void Service(Impl* c) {
  AttachPolicy(c);
  int rc = mosquitto_loop_read(c->m, 1);
  // Records OpenSSL already took off the socket are no longer readable for
  // poll(): read them now, or they wait for the next packet.
  for (int i = 0; rc == MOSQ_ERR_SUCCESS && c->m != nullptr && i < 64; ++i) {
    auto* ssl = static_cast<SSL*>(mosquitto_ssl_get(c->m));
    if (ssl == nullptr || SSL_pending(ssl) <= 0) break;
    rc = mosquitto_loop_read(c->m, 1);
  }
  if (rc == MOSQ_ERR_SUCCESS && c->m != nullptr && mosquitto_want_write(c->m)) {
    rc = mosquitto_loop_write(c->m, 1);
  }
  if (rc != MOSQ_ERR_SUCCESS || (c->connack_rc > 0)) Drop(c, rc, "");
}

}  // namespace

void MqttLoop::Run() {
  std::vector<pollfd> fds;
  std::vector<Impl*> owners;
  for (;;) {
    std::deque<std::function<void()>> tasks;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) break;
      tasks.swap(tasks_);
    }
    for (auto& t : tasks) t();
    Clock::time_point now = Clock::now();
    int64_t timeout = 1000;
    fds.assign(1, pollfd{wake_[0], POLLIN, 0});
    owners.assign(1, nullptr);
    // A client's steps may close it (a callback calling Close): iterate a copy.
    std::vector<std::shared_ptr<Impl>> clients = clients_;
    for (const std::shared_ptr<Impl>& cp : clients) {
      Impl* c = cp.get();
      switch (c->phase) {
        case Impl::Phase::kWaiting:
          if (now >= c->retry_at) {
            StartConnect(c);
          } else {
            timeout = std::min(timeout, MsUntil(c->retry_at, now));
          }
          break;
        case Impl::Phase::kConnecting:
          if (now >= c->deadline) {
            Drop(c, MOSQ_ERR_SUCCESS,
                 "no answer within " + std::to_string(c->target.connect_timeout_ms / 1000) + " s");
          } else {
            timeout = std::min(timeout, MsUntil(c->deadline, now));
          }
          break;
        case Impl::Phase::kUp:
          if (now >= c->next_misc) {
            c->next_misc = now + std::chrono::seconds(1);
            int rc = mosquitto_loop_misc(c->m);
            if (rc != MOSQ_ERR_SUCCESS) Drop(c, rc, "");
          }
          break;
      }
      if (c->m != nullptr && c->phase != Impl::Phase::kWaiting) {
        int sock = mosquitto_socket(c->m);
        if (sock >= 0) {
          short events = POLLIN;
          if (mosquitto_want_write(c->m)) events |= POLLOUT;
          fds.push_back(pollfd{sock, events, 0});
          owners.push_back(c);
        }
      }
    }
    int n = poll(fds.data(), fds.size(), static_cast<int>(timeout));
    if (n <= 0) continue;
    if (fds[0].revents != 0) {
      char buf[256];
      while (read(wake_[0], buf, sizeof buf) > 0) {
      }
    }
    for (size_t i = 1; i < fds.size(); ++i) {
      if (fds[i].revents == 0) continue;
      Impl* c = owners[i];
      // Closed meanwhile by a task? Then it is no longer listed.
      if (c->m == nullptr || std::none_of(clients_.begin(), clients_.end(),
                                          [c](const auto& p) { return p.get() == c; })) {
        continue;
      }
      Service(c);
    }
  }
  for (const std::shared_ptr<Impl>& c : clients_) {
    std::lock_guard<std::recursive_mutex> lock(c->cb_mu);
    c->closed = true;
    c->connected = false;
    DestroyClient(c.get());
  }
  clients_.clear();
  count_ = 0;
}

}  // namespace hostio
