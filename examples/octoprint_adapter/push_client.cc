// Copyright 2026 The libprusaconnect Authors.
#include "push_client.h"

#include <chrono>
#include <utility>

#include "adapter_log.h"
#include "ws_client.h"

namespace octoprint_adapter {

namespace pc = prusaconnect;

PushClient::PushClient(std::string base_url, std::string api_key)
    : base_url_(std::move(base_url)), api_key_(std::move(api_key)) {}

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

void PushClient::Start() {
  if (thread_.joinable()) return;
  stop_ = false;
  thread_ = std::thread([this] { Loop(); });
}

void PushClient::Stop() {
  stop_ = true;
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
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
  if (!cv_.wait_until(lock, deadline, [&] { return up_ || stop_; }) || stop_) return pc::Json();
  uint64_t seq = firmware_seq_;
  lock.unlock();
  pc::StatusOr<pc::Json> r =
      client.Post("/api/printer/command", pc::Json::MakeObject({{"command", "M115"}}));
  if (!r.ok()) LogInfo("cannot ask the firmware for M115: " + r.status().message());
  lock.lock();
  cv_.wait_until(lock, deadline, [&] { return firmware_seq_ != seq || stop_; });
  return firmware_data_;
}

void PushClient::Handle(const std::string& text, bool* reauth) {
  pc::StatusOr<pc::Json> j = pc::Json::Parse(text);
  if (!j.ok() || !j->is_object()) return;
  std::lock_guard<std::mutex> lock(mu_);
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
      *reauth = true;
    }
  }
}

void PushClient::Loop() {
  std::string host, base;
  int port = 0;
  if (!ParseUrl(base_url_, &host, &port, &base)) {
    LogInfo("push socket needs an http:// OctoPrint URL; polling the REST API instead");
    return;
  }
  OctoPrintClient rest(base_url_, api_key_);
  int64_t backoff = 1000;
  while (!stop_) {
    std::string why;
    pc::StatusOr<pc::Json> login =
        rest.Post("/api/login", pc::Json::MakeObject({{"passive", true}}));
    const pc::Json* name = login.ok() ? login->find("name") : nullptr;
    const pc::Json* session = login.ok() ? login->find("session") : nullptr;
    WsClient ws;
    if (!login.ok()) {
      why = login.status().message();
    } else if (name == nullptr || session == nullptr || !name->is_string() ||
               !session->is_string()) {
      why = "OctoPrint's passive login gave no session";
    } else if (pc::Status s = ws.Connect(host, port, base + "/sockjs/websocket", 10000); !s.ok()) {
      why = s.message();
    } else if (pc::Status a = ws.SendText(
                   pc::Json::MakeObject({{"auth", name->as_string() + ":" + session->as_string()}})
                       .Dump());
               !a.ok()) {
      why = a.message();
    } else {
      ++connects_;
      LogDebug("push socket connected");
      auto last_message = std::chrono::steady_clock::now();
      bool pinged = false, announced = false;
      while (!stop_) {
        pc::StatusOr<std::string> msg = ws.Receive(500);
        auto now = std::chrono::steady_clock::now();
        if (msg.ok()) {
          last_message = now;
          pinged = false;
          bool reauth = false;
          Handle(*msg, &reauth);
          if (reauth) {
            why = "OctoPrint asked to authenticate again";
            break;
          }
          if (!announced) {
            // First message after auth: the socket works.
            announced = true;
            backoff = 1000;
            std::lock_guard<std::mutex> lock(mu_);
            up_ = true;
            cv_.notify_all();
            if (sink_ != nullptr) sink_->OnSocketUp(true);
          }
          continue;
        }
        if (msg.status().code() != pc::StatusCode::kDeadlineExceeded) {
          why = msg.status().message();
          break;
        }
        if (now - last_message > std::chrono::seconds(45)) {
          why = "push socket silent for 45 s";
          break;
        }
        if (!pinged && now - last_message > std::chrono::seconds(15)) {
          pinged = true;
          (void)ws.Ping();
        }
      }
      ws.Close();
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (up_ && sink_ != nullptr) sink_->OnSocketUp(false);
        up_ = false;
      }
    }
    if (stop_) break;
    LogInfo("push socket down (" + why + "); polling meanwhile, reconnecting in " +
            std::to_string(backoff / 1000) + " s");
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, std::chrono::milliseconds(backoff), [&] { return stop_.load(); });
    backoff = std::min<int64_t>(backoff * 2, 30000);
  }
}

}  // namespace octoprint_adapter
