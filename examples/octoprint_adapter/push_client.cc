// Copyright 2026 The libprusaconnect Authors.
#include "push_client.h"

#include <algorithm>
#include <chrono>
#include <utility>

#include "adapter_log.h"

namespace octoprint_adapter {

namespace pc = prusaconnect;

PushClient::PushClient(std::string base_url, std::string api_key, hostio::WsLoop* loop,
                       hostio::Scheduler* scheduler)
    : base_url_(std::move(base_url)),
      api_key_(std::move(api_key)),
      rest_(base_url_, api_key_),
      loop_(loop),
      scheduler_(scheduler) {}

PushClient::~PushClient() { Stop(); }

bool PushClient::ParseUrl(const std::string& url, std::string* host, int* port, std::string* base) {
  const std::string scheme = "http://";
  if (url.compare(0, scheme.size(), scheme) != 0) return false;
  std::string rest = url.substr(scheme.size());
  size_t slash = rest.find('/');
  std::string hostport = rest.substr(0, slash);
  *base = slash == std::string::npos ? "" : rest.substr(slash);
  while (!base->empty() && base->back() == '/') base->pop_back();
  *port = 80;
  size_t colon = hostport.rfind(':');
  size_t bracket = hostport.find(']');
  // A port follows the last ':' unless that ':' is inside an IPv6 literal.
  if (colon != std::string::npos && (bracket == std::string::npos || colon > bracket)) {
    *port = std::atoi(hostport.c_str() + colon + 1);
    hostport.resize(colon);
  }
  if (!hostport.empty() && hostport.front() == '[')
    hostport = hostport.substr(1, hostport.size() - 2);
  *host = hostport;
  return !host->empty() && *port > 0 && *port < 65536;
}

bool PushClient::Prepare() {
  if (stopped_) return false;
  std::string host, base;
  int port = 0;
  if (!ParseUrl(base_url_, &host, &port, &base)) {
    url_ok_ = false;
    LogInfo("push socket needs an http:// OctoPrint URL; polling the REST API instead");
    return false;
  }
  if (loop_ == nullptr) {
    own_loop_ = std::make_unique<hostio::WsLoop>();
    if (pc::Status s = own_loop_->Start(); !s.ok()) {
      LogWarning("no push socket (" + s.message() + "); polling the REST API instead");
      own_loop_.reset();
      return false;
    }
    loop_ = own_loop_.get();
  }
  if (scheduler_ == nullptr) {
    own_scheduler_ = std::make_unique<hostio::Scheduler>(1);
    scheduler_ = own_scheduler_.get();
  }
  periodic_ = std::make_unique<hostio::Periodic>(scheduler_, [this] {
    LogScope scope(log_name_);
    return Step();
  });
  return true;
}

void PushClient::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (periodic_ || !Prepare()) return;
  periodic_->Start();
}

void PushClient::StartNow() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (periodic_ || !Prepare()) return;
  }
  int64_t next = Step();
  periodic_->Start(next);
}

void PushClient::Stop() {
  std::shared_ptr<hostio::WsConnection> ws;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopped_ = true;
    ws = ws_;
    ws_.reset();
  }
  cv_.notify_all();
  if (periodic_) periodic_->Stop();
  if (ws) {
    ws->Detach();
    ws->Close();
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (up_ && sink_ != nullptr) sink_->OnSocketUp(false);
    up_ = false;
  }
  if (own_loop_) own_loop_->Stop();
  if (own_scheduler_) own_scheduler_->Stop();
}

void PushClient::SetSink(PushSink* sink) {
  std::lock_guard<std::mutex> lock(mu_);
  sink_ = sink;
  if (sink_ != nullptr && up_) sink_->OnSocketUp(true);
}

std::string PushClient::firmware_name() const {
  std::lock_guard<std::mutex> lock(mu_);
  return firmware_name_;
}

pc::Json PushClient::ProbeFirmware(const OctoPrintClient& client, int64_t wait_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(wait_ms);
  std::unique_lock<std::mutex> lock(mu_);
  if (!cv_.wait_until(lock, deadline, [&] { return up_ || stopped_; }) || stopped_) {
    return pc::Json();
  }
  uint64_t seq = firmware_seq_;
  lock.unlock();
  pc::StatusOr<pc::Json> r =
      client.Post("/api/printer/command", pc::Json::MakeObject({{"command", "M115"}}));
  if (!r.ok()) LogInfo("cannot ask the firmware for M115: " + r.status().message());
  lock.lock();
  cv_.wait_until(lock, deadline, [&] { return firmware_seq_ != seq || stopped_; });
  return firmware_data_;
}

int64_t PushClient::Step() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopped_ || connecting_) return 1000;
    auto now = std::chrono::steady_clock::now();
    if (now < retry_at_) {
      return std::chrono::duration_cast<std::chrono::milliseconds>(retry_at_ - now).count() + 1;
    }
  }
  // Blocking REST on the scheduler's worker: a few ms on the LAN, at most
  // the client's timeout.
  pc::StatusOr<pc::Json> login =
      rest_.Post("/api/login", pc::Json::MakeObject({{"passive", true}}));
  const pc::Json* name = login.ok() ? login->find("name") : nullptr;
  const pc::Json* session = login.ok() ? login->find("session") : nullptr;
  std::string why;
  if (!login.ok()) {
    why = login.status().message();
  } else if (name == nullptr || session == nullptr || !name->is_string() || !session->is_string()) {
    why = "OctoPrint's passive login gave no session";
  }
  if (!why.empty()) {
    Down(why);
    return 1000;
  }
  std::string host, base;
  int port = 0;
  ParseUrl(base_url_, &host, &port, &base);
  hostio::WsTarget target;
  target.url = "ws://" + (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" +
               std::to_string(port) + base + "/sockjs/websocket";
  std::lock_guard<std::mutex> lock(mu_);
  if (stopped_) return 1000;
  auth_ = pc::Json::MakeObject({{"auth", name->as_string() + ":" + session->as_string()}}).Dump();
  announced_ = false;
  pc::StatusOr<std::shared_ptr<hostio::WsConnection>> c = loop_->Connect(target, this);
  if (!c.ok()) {
    LogWarning("push socket: " + c.status().message());
    retry_at_ = std::chrono::steady_clock::now() + std::chrono::milliseconds(backoff_ms_);
    return backoff_ms_;
  }
  ws_ = *c;
  connecting_ = true;
  return 1000;
}

void PushClient::Down(const std::string& why) {
  int64_t backoff;
  PushSink* sink = nullptr;
  bool was_up;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopped_) return;
    connecting_ = false;
    ws_.reset();
    was_up = up_;
    up_ = false;
    if (was_up) sink = sink_;
    backoff = backoff_ms_;
    retry_at_ = std::chrono::steady_clock::now() + std::chrono::milliseconds(backoff);
    backoff_ms_ = std::min<int64_t>(backoff_ms_ * 2, 30000);
    // The sink is called under the lock, as before: SetSink(nullptr) waits.
    if (sink != nullptr) sink->OnSocketUp(false);
  }
  LogInfo("push socket down (" + why + "); polling meanwhile, reconnecting in " +
          std::to_string(backoff / 1000) + " s");
  if (periodic_) periodic_->Wake();
}

void PushClient::OnOpen() {
  LogScope scope(log_name_);
  std::shared_ptr<hostio::WsConnection> ws;
  std::string auth;
  {
    std::lock_guard<std::mutex> lock(mu_);
    ws = ws_;
    auth = auth_;
  }
  if (ws) (void)ws->Send(auth);
  ++connects_;
  LogDebug("push socket connected");
}

void PushClient::OnClosed(const std::string& why) {
  LogScope scope(log_name_);
  Down(why);
}

void PushClient::OnMessage(const std::string& text) {
  LogScope scope(log_name_);
  pc::StatusOr<pc::Json> j = pc::Json::Parse(text);
  if (!j.ok() || !j->is_object()) return;
  bool reauth = false;
  std::shared_ptr<hostio::WsConnection> ws;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopped_) return;
    // OctoPrint sends "connected" before it reads our auth; only after a
    // good auth does it register the socket for events and send "history"
    // (then "current"). So the socket is up, and events will come, once a
    // history or current message has arrived, not on the first message.
    if (!announced_ && (j->find("history") != nullptr || j->find("current") != nullptr)) {
      announced_ = true;
      backoff_ms_ = 1000;
      up_ = true;
      cv_.notify_all();
      if (sink_ != nullptr) sink_->OnSocketUp(true);
    }
    for (const pc::Json::Member& m : j->as_object()) {
      if (m.key == "current" || m.key == "history") {
        if (sink_ != nullptr) sink_->OnCurrent(m.value);
      } else if (m.key == "event" && m.value.is_object()) {
        const pc::Json* type = m.value.find("type");
        const pc::Json* payload = m.value.find("payload");
        if (type == nullptr || !type->is_string()) continue;
        pc::Json p = payload != nullptr ? *payload : pc::Json();
        if (type->as_string() == "FirmwareData" && p.is_object()) {
          const pc::Json* data = p.find("data");
          const pc::Json* name = p.find("name");
          firmware_data_ = data != nullptr ? *data : pc::Json();
          if (name != nullptr && name->is_string()) firmware_name_ = name->as_string();
          ++firmware_seq_;
          cv_.notify_all();
        }
        if (sink_ != nullptr) sink_->OnEvent(type->as_string(), p);
      } else if (m.key == "reauthRequired") {
        reauth = true;
      }
    }
    ws = ws_;
  }
  // OctoPrint wants a new login: close; OnClosed schedules the next attempt.
  if (reauth && ws) {
    LogInfo("OctoPrint asked to authenticate again");
    ws->Close();
  }
}

}  // namespace octoprint_adapter
