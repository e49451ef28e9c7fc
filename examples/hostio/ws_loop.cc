// Copyright 2026 The libprusaconnect Authors.
#include "ws_loop.h"

#include <libwebsockets.h>
#include <uv.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>

namespace hostio {

namespace pc = prusaconnect;

namespace {

enum Delivery { kOpened = 0, kMessage = 1, kClosed = 2 };

// Ping after 15 s without traffic, hang up after 45 s: a host that vanished
// (cable pulled, a Pi that lost power) is noticed within a minute.
const lws_retry_bo_t kIdlePolicy = {nullptr, 0, 0, 15, 45, 0};

void LwsLog(int level, const char* line) {
  std::fprintf(stderr, "%s libwebsockets: %s", level == LLL_ERR ? "error" : "warning", line);
}

}  // namespace

bool ParseWsUrl(const std::string& url, std::string* host, int* port, std::string* path,
                bool* tls) {
  std::string rest;
  if (url.rfind("ws://", 0) == 0 || url.rfind("http://", 0) == 0) {
    *tls = false;
    rest = url.substr(url.find("://") + 3);
  } else if (url.rfind("wss://", 0) == 0 || url.rfind("https://", 0) == 0) {
    *tls = true;
    rest = url.substr(url.find("://") + 3);
  } else {
    return false;
  }
  size_t slash = rest.find('/');
  std::string hostport = rest.substr(0, slash);
  *path = slash == std::string::npos ? "/" : rest.substr(slash);
  if (hostport.empty()) return false;
  *port = *tls ? 443 : 80;
  size_t colon = hostport.rfind(':');
  if (!hostport.empty() && hostport.front() == '[') {  // [v6]:port
    size_t close = hostport.find(']');
    if (close == std::string::npos) return false;
    *host = hostport.substr(1, close - 1);
    if (close + 1 < hostport.size()) {
      if (hostport[close + 1] != ':') return false;
      colon = close + 1;
    } else {
      colon = std::string::npos;
    }
  } else {
    *host = hostport.substr(0, colon);
  }
  if (colon != std::string::npos) {
    std::string p = hostport.substr(colon + 1);
    if (p.empty() || p.size() > 5 || p.find_first_not_of("0123456789") != std::string::npos) {
      return false;
    }
    *port = std::atoi(p.c_str());
    if (*port <= 0 || *port > 65535) return false;
  }
  return !host->empty();
}

struct WsLoopCallbacks {
  static void Finish(WsLoop* loop, WsConnection* c, const std::string& why) {
    c->open_ = false;
    c->wsi_ = nullptr;
    if (!c->notified_closed_) {
      c->notified_closed_ = true;
      c->Deliver(kClosed, why);
    }
    auto it = loop->live_.find(c);
    if (it != loop->live_.end()) {
      std::shared_ptr<WsConnection> keep = it->second;  // until we return
      loop->live_.erase(it);
      loop->count_ = loop->live_.size();
    }
  }

  static int Callback(struct lws* wsi, enum lws_callback_reasons reason, void* user, void* in,
                      size_t len) {
    struct lws_context* ctx = lws_get_context(wsi);
    auto* loop = static_cast<WsLoop*>(lws_context_user(ctx));
    auto* c = static_cast<WsConnection*>(user);
    switch (reason) {
      case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
        if (loop != nullptr) loop->ProcessQueue();
        return 0;
      case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER: {
        if (c == nullptr) return 0;
        auto** p = static_cast<unsigned char**>(in);
        unsigned char* end = *p + len;
        for (const auto& h : c->target_.headers) {
          std::string name = h.first + ":";
          if (lws_add_http_header_by_name(wsi, reinterpret_cast<const unsigned char*>(name.c_str()),
                                          reinterpret_cast<const unsigned char*>(h.second.data()),
                                          static_cast<int>(h.second.size()), p, end) != 0) {
            return -1;
          }
        }
        return 0;
      }
      case LWS_CALLBACK_CLIENT_ESTABLISHED:
        if (c == nullptr) return 0;
        c->open_ = true;
        c->Deliver(kOpened, "");
        if (c->closing_) {
          lws_callback_on_writable(wsi);
        } else {
          std::lock_guard<std::mutex> lock(c->out_mu_);
          if (!c->out_.empty()) lws_callback_on_writable(wsi);
        }
        return 0;
      case LWS_CALLBACK_CLIENT_RECEIVE: {
        if (c == nullptr) return 0;
        if (c->partial_.size() + len > WsLoop::kMaxMessage) {
          c->partial_.clear();
          c->closing_ = true;
          Finish(loop, c,
                 "a message larger than " + std::to_string(WsLoop::kMaxMessage >> 20) + " MiB");
          return -1;
        }
        c->partial_.append(static_cast<const char*>(in), len);
        if (lws_is_final_fragment(wsi) != 0 && lws_remaining_packet_payload(wsi) == 0) {
          std::string text;
          text.swap(c->partial_);
          if (lws_frame_is_binary(wsi) == 0) c->Deliver(kMessage, text);
        }
        return 0;
      }
      case LWS_CALLBACK_CLIENT_WRITEABLE: {
        if (c == nullptr) return 0;
        if (c->closing_) {
          lws_close_reason(wsi, LWS_CLOSE_STATUS_NORMAL, nullptr, 0);
          return -1;
        }
        std::string next;
        bool more = false;
        {
          std::lock_guard<std::mutex> lock(c->out_mu_);
          if (c->out_.empty()) return 0;
          next = std::move(c->out_.front());
          c->out_.pop_front();
          more = !c->out_.empty();
        }
        std::string buf(LWS_PRE + next.size(), '\0');
        std::memcpy(&buf[LWS_PRE], next.data(), next.size());
        int n = lws_write(wsi, reinterpret_cast<unsigned char*>(&buf[LWS_PRE]), next.size(),
                          LWS_WRITE_TEXT);
        if (n < static_cast<int>(next.size())) return -1;
        if (more) lws_callback_on_writable(wsi);
        return 0;
      }
      case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        if (c != nullptr) {
          std::string why = in != nullptr && len > 0
                                ? std::string(static_cast<const char*>(in), len)
                            : in != nullptr ? std::string(static_cast<const char*>(in))
                                            : std::string();
          // lws counts the terminating NUL in `len`.
          while (!why.empty() && (why.back() == '\0' || why.back() == '\n')) why.pop_back();
          // "closed before established": nobody accepted the connection.
          if (why.empty() || why == "closed before established") {
            why = "cannot connect" + (why.empty() ? std::string() : " (" + why + ")");
          }
          Finish(loop, c, why);
        }
        return 0;
      case LWS_CALLBACK_CLIENT_CLOSED:
        if (c != nullptr) Finish(loop, c, c->closing_ ? "closed by us" : "closed by the host");
        return 0;
      case LWS_CALLBACK_WSI_DESTROY:
        if (c != nullptr && loop != nullptr && loop->live_.count(c) != 0) {
          Finish(loop, c, c->closing_ ? "closed by us" : "connection lost");
        }
        return 0;
      default:
        return 0;
    }
  }
};

namespace {

const struct lws_protocols kProtocols[] = {
    {"prusaconnect-host", WsLoopCallbacks::Callback, 0, 65536, 0, nullptr, 0},
    {nullptr, nullptr, 0, 0, 0, nullptr, 0},
};

}  // namespace

void WsConnection::Deliver(int what, const std::string& text) {
  std::lock_guard<std::recursive_mutex> lock(handler_mu_);
  if (handler_ == nullptr) return;
  switch (what) {
    case kOpened:
      handler_->OnOpen();
      break;
    case kMessage:
      handler_->OnMessage(text);
      break;
    default:
      handler_->OnClosed(text);
      break;
  }
}

pc::Status WsConnection::Send(std::string text) {
  if (!open_ || closing_) return pc::FailedPreconditionError("the WebSocket is not open");
  {
    std::lock_guard<std::mutex> lock(out_mu_);
    out_.push_back(std::move(text));
  }
  loop_->Queue(WsLoop::Op::kWrite, self_.lock());
  return pc::Status::OK();
}

void WsConnection::Close() { loop_->Queue(WsLoop::Op::kClose, self_.lock()); }

void WsConnection::Detach() {
  std::lock_guard<std::recursive_mutex> lock(handler_mu_);
  handler_ = nullptr;
}

WsLoop::WsLoop() = default;

WsLoop::~WsLoop() { Stop(); }

pc::Status WsLoop::Start() {
  if (context_ != nullptr) return pc::Status::OK();
  // NOLINTNEXTLINE(concurrency-mt-unsafe): read at start, before threads
  lws_set_log_level(std::getenv("PRUSACONNECT_LWS_DEBUG") != nullptr
                        ? LLL_ERR | LLL_WARN | LLL_NOTICE | LLL_INFO | LLL_CLIENT
                        : 0,
                    LwsLog);
  struct lws_context_creation_info info;
  std::memset(&info, 0, sizeof info);
  info.port = CONTEXT_PORT_NO_LISTEN;
  info.protocols = kProtocols;
  info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
  info.user = this;
  info.timeout_secs = 20;
  info.connect_timeout_secs = 10;
  stop_ = false;
  // libuv (epoll) when Debian's libwebsockets-evlib-uv plugin is there: a
  // wakeup costs the same with 10 or 10,000 sockets. lws's own poll() loop
  // otherwise (it walks every socket on each wakeup: a fifth of a core at
  // 1,000 sockets, bench/bridge_load.py).
  auto* loop = new uv_loop_t;
  auto* stop = new uv_async_t;
  if (uv_loop_init(loop) == 0) {
    stop->data = this;
    uv_async_init(loop, stop, [](uv_async_t* a) {
      auto* self = static_cast<WsLoop*>(a->data);
      // Closes every connection (their OnClosed run here, on the loop);
      // the loop runs on until lws has closed its handles.
      lws_context_destroy(self->context_);
      uv_close(reinterpret_cast<uv_handle_t*>(a), nullptr);
    });
    void* foreign[] = {loop};
    info.options |= LWS_SERVER_OPTION_LIBUV;
    info.foreign_loops = foreign;
    context_ = lws_create_context(&info);
    if (context_ != nullptr) {
      uv_loop_ = loop;
      uv_stop_ = stop;
      thread_ = std::thread([this] { uv_run(static_cast<uv_loop_t*>(uv_loop_), UV_RUN_DEFAULT); });
      return pc::Status::OK();
    }
    uv_close(reinterpret_cast<uv_handle_t*>(stop), nullptr);
    uv_run(loop, UV_RUN_DEFAULT);
    uv_loop_close(loop);
    info.options &= ~static_cast<uint64_t>(LWS_SERVER_OPTION_LIBUV);
    info.foreign_loops = nullptr;
  }
  delete stop;
  delete loop;
  context_ = lws_create_context(&info);
  if (context_ == nullptr) return pc::InternalError("libwebsockets: cannot create its context");
  thread_ = std::thread([this] { Run(); });
  return pc::Status::OK();
}

void WsLoop::Run() {
  while (!stop_) {
    if (lws_service(context_, 0) < 0) break;
  }
}

void WsLoop::Stop() {
  if (context_ == nullptr) return;
  stop_ = true;
  if (uv_loop_ != nullptr) {
    uv_async_send(static_cast<uv_async_t*>(uv_stop_));
    if (thread_.joinable()) thread_.join();
    // The second call completes the destruction the loop started.
    lws_context_destroy(context_);
    uv_loop_close(static_cast<uv_loop_t*>(uv_loop_));
    delete static_cast<uv_async_t*>(uv_stop_);
    delete static_cast<uv_loop_t*>(uv_loop_);
    uv_loop_ = nullptr;
    uv_stop_ = nullptr;
  } else {
    lws_cancel_service(context_);
    if (thread_.joinable()) thread_.join();
    // Closes every connection; their callbacks run here, the loop's thread
    // being gone.
    lws_context_destroy(context_);
  }
  context_ = nullptr;
  for (auto& entry : live_) {
    WsConnection* c = entry.first;
    if (!c->notified_closed_) {
      c->notified_closed_ = true;
      c->open_ = false;
      c->Deliver(kClosed, "shutting down");
    }
  }
  live_.clear();
  count_ = 0;
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& op : queue_) {
    if (op.first == Op::kConnect && !op.second->notified_closed_) {
      op.second->notified_closed_ = true;
      op.second->Deliver(kClosed, "shutting down");
    }
  }
  queue_.clear();
}

bool WsLoop::uses_libuv() const { return uv_loop_ != nullptr; }

void WsLoop::Queue(Op op, std::shared_ptr<WsConnection> c) {
  if (c == nullptr) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.emplace_back(op, std::move(c));
  }
  if (context_ != nullptr) lws_cancel_service(context_);
}

pc::StatusOr<std::shared_ptr<WsConnection>> WsLoop::Connect(const WsTarget& target,
                                                            WsHandler* handler) {
  auto c = std::make_shared<WsConnection>();
  if (!ParseWsUrl(target.url, &c->host_, &c->port_, &c->path_, &c->tls_)) {
    return pc::InvalidArgumentError("not a WebSocket URL: " + target.url);
  }
  if (context_ == nullptr) return pc::FailedPreconditionError("the WebSocket loop is not running");
  c->loop_ = this;
  c->self_ = c;
  c->url_ = target.url;
  c->target_ = target;
  c->handler_ = handler;
  Queue(Op::kConnect, c);
  return c;
}

size_t WsLoop::connections() const { return count_; }

void WsLoop::ProcessQueue() {
  std::vector<std::pair<Op, std::shared_ptr<WsConnection>>> ops;
  {
    std::lock_guard<std::mutex> lock(mu_);
    ops.swap(queue_);
  }
  for (auto& op : ops) {
    WsConnection* c = op.second.get();
    switch (op.first) {
      case Op::kConnect: {
        if (c->closing_) {
          c->notified_closed_ = true;
          c->Deliver(kClosed, "closed by us");
          break;
        }
        live_[c] = op.second;
        count_ = live_.size();
        struct lws_client_connect_info ci;
        std::memset(&ci, 0, sizeof ci);
        ci.context = context_;
        ci.address = c->host_.c_str();
        ci.port = c->port_;
        ci.path = c->path_.c_str();
        ci.host = c->host_.c_str();
        ci.ietf_version_or_minus_one = -1;
        ci.userdata = c;
        ci.pwsi = &c->wsi_;
        ci.local_protocol_name = kProtocols[0].name;
        ci.retry_and_idle_policy = &kIdlePolicy;
        if (c->tls_) {
          ci.ssl_connection = LCCSCF_USE_SSL;
          if (!c->target_.verify_tls) {
            ci.ssl_connection |= LCCSCF_ALLOW_SELFSIGNED | LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK |
                                 LCCSCF_ALLOW_EXPIRED | LCCSCF_ALLOW_INSECURE;
          }
        }
        if (lws_client_connect_via_info(&ci) == nullptr) {
          WsLoopCallbacks::Finish(this, c, "cannot connect to " + c->url_);
        }
        break;
      }
      case Op::kWrite:
        if (c->wsi_ != nullptr && c->open_) lws_callback_on_writable(c->wsi_);
        break;
      case Op::kClose:
        c->closing_ = true;
        if (c->wsi_ != nullptr) {
          lws_callback_on_writable(c->wsi_);
        } else if (live_.count(c) != 0 || !c->notified_closed_) {
          WsLoopCallbacks::Finish(this, c, "closed by us");
        }
        break;
    }
  }
}

}  // namespace hostio
