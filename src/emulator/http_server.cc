// Copyright 2026 The libprusaconnect Authors.
//
// HttpServer and HttpResponder, the public face of the emulator's HTTP/1.1
// server (the loop: http_loop.cc; a connection: http_connection.cc).
#include "emulator/http_server_impl.h"

namespace prusaconnect::emulator {

namespace internal {

Clock::duration ToChrono(absl::Duration d) {
  if (d <= absl::ZeroDuration()) return Clock::duration::zero();
  if (d >= absl::Hours(24 * 365)) return std::chrono::hours(24 * 365);
  return absl::ToChronoNanoseconds(d);
}
void RaiseFileLimit() {
  struct rlimit rl {};
  if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &rl);
  }
}

std::string PeerName(const sockaddr_storage& ss) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (ss.ss_family == AF_INET) {
    const auto* a = reinterpret_cast<const sockaddr_in*>(&ss);
    ::inet_ntop(AF_INET, &a->sin_addr, buf, sizeof(buf));
    return absl::StrCat(buf, ":", ntohs(a->sin_port));
  }
  if (ss.ss_family == AF_INET6) {
    const auto* a = reinterpret_cast<const sockaddr_in6*>(&ss);
    ::inet_ntop(AF_INET6, &a->sin6_addr, buf, sizeof(buf));
    return absl::StrCat("[", buf, "]:", ntohs(a->sin6_port));
  }
  return "unknown";
}

// Header names/values from handlers must not be able to split the response.
void AppendSanitized(std::string* out, std::string_view s) {
  for (char c : s) out->push_back(c == '\r' || c == '\n' ? ' ' : c);
}

}  // namespace internal

// ---- Responder ----

namespace internal {

ResponderState::~ResponderState() {
  if (!done.load()) {
    Action a;
    a.response = HttpResponse::Text(500, "request dropped by handler\n");
    Dispatch(std::move(a));
  }
}

void ResponderState::Dispatch(Action action) {
  if (done.exchange(true)) return;
  if (shared->InLoop()) {
    impl->Deliver(conn_id, seq, std::move(action));
    return;
  }
  std::function<void()> task = [i = impl, c = conn_id, q = seq, a = std::move(action)]() mutable {
    i->Deliver(c, q, std::move(a));
  };
  shared->Post(task);
}

}  // namespace internal

void HttpResponder::Respond(HttpResponse response) const {
  Action a;
  a.kind = ActionKind::kRespond;
  a.response = std::move(response);
  state_->Dispatch(std::move(a));
}

void HttpResponder::Close(bool reset) const {
  Action a;
  a.kind = reset ? ActionKind::kReset : ActionKind::kClose;
  state_->Dispatch(std::move(a));
}

void HttpResponder::Hang() const {
  Action a;
  a.kind = ActionKind::kHang;
  state_->Dispatch(std::move(a));
}

bool HttpResponder::done() const { return state_->done.load(); }

// ---- HttpServer ----

HttpServer::HttpServer(HttpServerOptions options, HttpHandler handler)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(handler))) {}
HttpServer::~HttpServer() { impl_->Stop(); }
Status HttpServer::Start() { return impl_->Start(); }
void HttpServer::Stop() { impl_->Stop(); }
bool HttpServer::running() const { return impl_->running(); }
uint16_t HttpServer::port() const { return impl_->port(); }
const std::string& HttpServer::host() const { return impl_->host(); }
void HttpServer::PauseListening(bool close_idle) { impl_->PauseListening(close_idle); }
Status HttpServer::ResumeListening() { return impl_->ResumeListening(); }
bool HttpServer::listening() const { return impl_->listening(); }
void HttpServer::Post(std::function<void()> task) { impl_->Post(std::move(task)); }
HttpServer::TimerId HttpServer::RunAfter(absl::Duration delay, std::function<void()> task) {
  return impl_->RunAfter(delay, std::move(task));
}
void HttpServer::CancelTimer(TimerId id) { impl_->CancelTimer(id); }
bool HttpServer::RunInLoop(std::function<void()> task) {
  return impl_->RunInLoopAndWait(std::move(task));
}
bool HttpServer::InLoopThread() const { return impl_->InLoop(); }
HttpServerStats HttpServer::stats() const { return impl_->stats(); }

}  // namespace prusaconnect::emulator
