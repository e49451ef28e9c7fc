// Copyright 2026 The libprusaconnect Authors.
#include "protocol/session.h"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <exception>
#include <utility>

#include "protocol/render.h"
#include "util/logging.h"

#ifndef PRUSACONNECT_VERSION
#define PRUSACONNECT_VERSION "0.0.0"
#endif

namespace prusaconnect::internal {
namespace {

constexpr char kComponent[] = "printer";
constexpr char kUserAgent[] =
    "Prusa-Connect-SDK-Printer/0.8.1 libprusaconnect/" PRUSACONNECT_VERSION;
constexpr char kNotInitialised[] = "Printer has not been initialized properly";
constexpr int64_t kNever = INT64_MAX;

bool StartsWith(const std::string& s, std::string_view prefix) {
  return s.size() >= prefix.size() && s.compare(0, prefix.size(), prefix) == 0;
}

// Statuses after which a request is worth repeating later.
bool Retryable(int status) {
  return status >= 500 || status == 408 || status == 429 || status == 401 || status == 403 ||
         (status >= 300 && status < 400) || status < 200;
}

Event TerminalLastState(Event e) {
  return (e == Event::REJECTED || e == Event::FAILED) ? e : Event::FINISHED;
}

}  // namespace

// Holds the session lock; on destruction releases it, then applies the
// condition changes and runs the host work decided meanwhile, and wakes the
// driver when new traffic was queued.
class SessionGuard {
 public:
  explicit SessionGuard(Session* s) : s_(s), lock_(s->mu_) {}
  ~SessionGuard() {
    std::vector<Session::CondUpdate> conds = std::move(s_->pending_conds_);
    s_->pending_conds_.clear();
    Session::Work work = std::move(s_->pending_work_);
    s_->pending_work_.clear();
    bool wake = s_->pending_wake_;
    s_->pending_wake_ = false;
    Session::Executor executor = work.empty() ? nullptr : s_->executor_;
    std::function<void()> waker = wake ? s_->waker_ : nullptr;
    lock_.unlock();
    for (const Session::CondUpdate& c : conds) {
      if (c.reason.empty()) {
        c.cond->set_state(c.state);
      } else {
        c.cond->set_state(c.state, c.reason);
      }
    }
    for (auto& w : work) {
      if (executor) {
        executor(std::move(w));
      } else {
        w();
      }
    }
    if (waker) waker();
  }
  SessionGuard(const SessionGuard&) = delete;
  SessionGuard& operator=(const SessionGuard&) = delete;
  std::unique_lock<std::mutex>& lock() { return lock_; }

 private:
  Session* s_;
  std::unique_lock<std::mutex> lock_;
};

Session::Session(std::optional<PrinterType> type, std::string sn, std::string fingerprint,
                 PrinterOptions options, const Clock* clock)
    : options_(std::move(options)),
      clock_(clock),
      watcher_(clock),
      type_(type),
      sn_(std::move(sn)),
      fingerprint_(std::move(fingerprint)),
      rng_(0x9E3779B97F4A7C15ULL ^ reinterpret_cast<uintptr_t>(this) ^
           static_cast<uint64_t>(clock->MonoMicros())) {}

Session::~Session() = default;

void Session::SetExecutor(Executor executor) {
  std::lock_guard<std::mutex> lock(mu_);
  executor_ = std::move(executor);
}

void Session::SetWaker(std::function<void()> waker) {
  std::lock_guard<std::mutex> lock(mu_);
  waker_ = std::move(waker);
}

// ---------------------------------------------------------------- helpers

std::string Session::NowTimestampLocked() const { return FormatTimestamp(clock_->WallMicros()); }

HeaderList Session::MakeHeadersLocked(const std::string& timestamp, bool clock_flag) {
  HeaderList h;
  h.reserve(8);
  if (!fingerprint_.empty()) h.emplace_back("Fingerprint", fingerprint_);
  h.emplace_back("Timestamp", timestamp);
  h.emplace_back("User-Agent", kUserAgent);
  h.emplace_back("User-Agent-Printer", type_ ? type_->ToString() : "None");
  const std::string& version = !software_.empty() ? software_ : firmware_;
  h.emplace_back("User-Agent-Version", version.empty() ? "None" : version);
  if (!token_.empty()) h.emplace_back("Token", token_);
  if (clock_flag && watcher_.CheckAndReset()) h.emplace_back("Clock-Adjusted", "1");
  return h;
}

HttpRequest Session::BaseRequestLocked(const char* method, const std::string& path) {
  HttpRequest r;
  r.method = method;
  r.url = server_ + path;
  r.timeout_ms = options_.request_timeout_ms;
  r.verify_tls = options_.verify_tls;
  r.ca_file = options_.ca_file;
  return r;
}

bool Session::IsInitialisedLocked() {
  bool ok = !sn_.empty() && !fingerprint_.empty() && type_.has_value();
  if (!ok) pending_conds_.push_back({&conditions_.API, CondState::kNok});
  return ok;
}

void Session::BackoffLocked(int64_t now_us) {
  ++failures_;
  int64_t delay_ms = options_.backoff_min_ms;
  for (int i = 1; i < failures_ && delay_ms < options_.backoff_max_ms; ++i) delay_ms *= 2;
  delay_ms = std::min(delay_ms, options_.backoff_max_ms);
  // Jitter: uniformly within [delay/2, delay] (xorshift64*).
  rng_ ^= rng_ >> 12;
  rng_ ^= rng_ << 25;
  rng_ ^= rng_ >> 27;
  uint64_t r = rng_ * 0x2545F4914F6CDD1DULL;
  int64_t half = delay_ms / 2;
  int64_t jittered = half + static_cast<int64_t>(r % static_cast<uint64_t>(delay_ms - half + 1));
  not_before_us_ = now_us + jittered * 1000;
}

void Session::LogFailureLocked(const std::string& key, const std::string& what, int64_t now_us) {
  ++failures_since_answer_;
  constexpr int64_t kRepeatUs = 60 * 1000000LL;
  if (key == last_failure_logged_ && now_us - last_failure_log_us_ < kRepeatUs) {
    ++failures_not_logged_;
    return;
  }
  if (failures_not_logged_ > 0) {
    PC_LOG(kWarning, kComponent) << what << " (" << failures_not_logged_
                                 << " more failed requests since the last message)";
  } else {
    PC_LOG(kWarning, kComponent) << what;
  }
  last_failure_logged_ = key;
  last_failure_log_us_ = now_us;
  failures_not_logged_ = 0;
}

void Session::LogAnsweredLocked() {
  if (failures_since_answer_ == 0) return;
  PC_LOG(kInfo, kComponent) << "Connect answers again, after " << failures_since_answer_
                            << " failed requests";
  failures_since_answer_ = 0;
  failures_not_logged_ = 0;
  last_failure_logged_.clear();
}

void Session::DeduceFromStatusLocked(int status) {
  if (status >= 200 && status < 300) {
    pending_conds_.push_back({&conditions_.API, CondState::kOk});
  } else if (status == 401 || status == 403) {
    pending_conds_.push_back(
        {&conditions_.TOKEN, CondState::kNok,
         "Connect refused the printer's token (HTTP " + std::to_string(status) + ")"});
  } else if (status >= 500) {
    pending_conds_.push_back(
        {&conditions_.HTTP, CondState::kNok, "Connect answered HTTP " + std::to_string(status)});
  } else if (status > 400) {
    pending_conds_.push_back(
        {&conditions_.API, CondState::kNok, "Connect answered HTTP " + std::to_string(status)});
  }
}

void Session::EmitLocked(Event event, Source source, EventFields fields, const Json& data,
                         std::string* head) {
  if (token_.empty()) {
    PC_LOG(kDebug, kComponent) << "no token: event " << ToString(event) << " not queued";
    return;
  }
  if (job_id_ && *job_id_ != 0) fields.job_id = job_id_;
  if (transfer_probe_) {
    if (std::optional<TransferStatus> t = transfer_probe_()) fields.transfer_id = t->transfer_id;
  }
  if (fields.omit_state) {
    fields.state.reset();
  } else if (!fields.state) {
    fields.state = state_;
  }
  if (!IsInitialisedLocked()) {
    PC_LOG(kWarning, kComponent) << kNotInitialised;
  }
  std::string timestamp =
      fields.timestamp ? FormatSeconds(*fields.timestamp) : NowTimestampLocked();
  std::string body;
  if (head != nullptr) {
    body = std::move(*head);
    AppendEventTail(fields, &body);
  } else {
    body = RenderEvent(event, source, fields, data);
  }
  if (events_.size() >= std::max<size_t>(1, options_.event_buffer_size)) {
    // Drop the oldest event that is not on the wire right now.
    auto victim = events_.begin();
    if (in_flight_seq_ != 0 && victim->seq == in_flight_seq_ && events_.size() > 1) ++victim;
    PC_LOG(kWarning, kComponent) << "event buffer full (" << events_.size()
                                 << "): dropping the oldest unsent event: " << victim->body;
    events_.erase(victim);
    ++stats_.events_dropped_overflow;
  }
  events_.push_back(
      OutEvent{next_seq_++, std::move(timestamp), std::move(body), clock_->MonoMicros()});
  ++stats_.events_queued;
  pending_wake_ = true;
}

void Session::SetStateLocked(State state, Source source, std::optional<bool> ready,
                             const EventFields& fields, const Json& data) {
  if (state == State::PRINTING) {
    ready_ = false;
  } else if (ready) {
    ready_ = *ready;
  }
  state_ = state;
  EventFields f = fields;
  f.state = state;
  EmitLocked(Event::STATE_CHANGED, source, f, data);
}

// ---------------------------------------------------------------- driver side

std::optional<Session::Outgoing> Session::Next(int64_t now_us, int64_t* wake_at_us) {
  SessionGuard guard(this);
  *wake_at_us = kNever;
  if (in_flight_ || server_.empty()) return std::nullopt;

  bool polling = registering_ && token_.empty();
  if (polling && now_us >= register_deadline_us_) {
    PC_LOG(kWarning, kComponent) << "registration code " << code_
                                 << " expired before it was confirmed in Connect";
    // As the SDK, code() keeps the code ("code expired: ..."); the ended
    // registration shows in registration_status().
    registering_ = false;
    polling = false;
  }
  bool has_traffic = !events_.empty() || telemetry_.has_value();
  if (!polling && !has_traffic) return std::nullopt;
  if (now_us < not_before_us_) {
    *wake_at_us = not_before_us_;
    return std::nullopt;
  }

  if (polling) {
    if (now_us >= next_poll_us_) {
      Outgoing out;
      out.kind = Kind::kRegistrationPoll;
      out.request = BaseRequestLocked("GET", "/p/register");
      out.request.headers = MakeHeadersLocked(NowTimestampLocked());
      out.request.headers.emplace_back("Code", code_);
      in_flight_ = true;
      return out;
    }
    *wake_at_us = next_poll_us_;
    if (!has_traffic) return std::nullopt;
  }
  if (token_.empty()) {
    // Items queued before the token was withdrawn wait for a new one.
    pending_conds_.push_back({&conditions_.TOKEN, CondState::kNok});
    return std::nullopt;
  }

  Outgoing out;
  bool event_first = !events_.empty() && (!telemetry_ || events_.front().seq < telemetry_->seq);
  if (event_first) {
    const OutEvent& e = events_.front();
    out.kind = Kind::kEvent;
    out.seq = e.seq;
    out.request = BaseRequestLocked("POST", "/p/events");
    out.request.headers = MakeHeadersLocked(e.timestamp);
    out.request.body = e.body;
    out.queued_us = e.queued_us;
    in_flight_seq_ = e.seq;
  } else {
    out.kind = Kind::kTelemetry;
    out.seq = telemetry_->seq;
    out.request = BaseRequestLocked("POST", "/p/telemetry");
    out.request.headers = MakeHeadersLocked(telemetry_->timestamp);
    out.request.body = telemetry_->body;
    out.queued_us = telemetry_->queued_us;
    in_flight_telemetry_ = std::move(telemetry_);
    telemetry_.reset();
  }
  out.request.content_type = "application/json";
  in_flight_ = true;
  return out;
}

void Session::SetObserver(RequestObserver observer) {
  std::lock_guard<std::mutex> lock(mu_);
  observer_ = std::move(observer);
}

void Session::Complete(const Outgoing& out, const HttpResponse& r, int64_t now_us) {
  RequestObserver observer;
  {
    std::lock_guard<std::mutex> lock(mu_);
    observer = observer_;
  }
  if (observer) {
    RequestRecord record;
    record.kind = out.kind;
    record.http_status = r.status;
    record.queued_us = out.queued_us;
    record.done_us = now_us;
    observer(record);
  }
  SessionGuard guard(this);
  in_flight_ = false;
  std::optional<OutTelemetry> sent_telemetry = std::move(in_flight_telemetry_);
  in_flight_telemetry_.reset();
  if (out.kind == Kind::kEvent) in_flight_seq_ = 0;

  bool transport_failed =
      r.status == 0 || (r.error != TransportError::kNone && r.error != TransportError::kTooLarge);
  if (transport_failed) {
    ++stats_.requests_failed;
    pending_conds_.push_back(
        {r.error == TransportError::kDns ? &conditions_.INTERNET : &conditions_.HTTP,
         CondState::kNok, DescribeTransportFailure(r)});
    LogFailureLocked(
        std::string("transport ") + TransportErrorName(r.error) + " " + std::to_string(r.os_error),
        "request to " + out.request.method + " " + out.request.url +
            " failed: " + DescribeTransportFailure(r),
        now_us);
    BackoffLocked(now_us);
    if (out.kind == Kind::kEvent) ++stats_.events_retried;
    if (out.kind == Kind::kTelemetry && !telemetry_) telemetry_ = std::move(sent_telemetry);
    cv_.notify_all();
    return;
  }

  const int status = r.status;
  const bool success = status >= 200 && status < 300;
  switch (out.kind) {
    case Kind::kEvent: {
      if (success || !Retryable(status)) {
        auto it = std::find_if(events_.begin(), events_.end(),
                               [&](const OutEvent& e) { return e.seq == out.seq; });
        if (it != events_.end()) {
          if (success) {
            ++stats_.events_sent;
          } else {
            ++stats_.events_dropped_rejected;
            PC_LOG(kWarning, kComponent) << "Connect refused an event with HTTP " << status << " ("
                                         << r.body.substr(0, 200) << "); dropped: " << it->body;
          }
          events_.erase(it);
        }
      } else {
        ++stats_.events_retried;
      }
      break;
    }
    case Kind::kTelemetry: {
      if (success) {
        ++stats_.telemetry_sent;
        if (status == 200) HandleCommandResponseLocked(r);
      } else if (Retryable(status)) {
        if (!telemetry_) telemetry_ = std::move(sent_telemetry);
      } else {
        PC_LOG(kWarning, kComponent) << "Connect refused telemetry with HTTP " << status << " ("
                                     << r.body.substr(0, 200) << ")";
      }
      break;
    }
    case Kind::kRegistrationPoll: {
      if (status == 200) {
        const std::string* token = r.header("token");
        if (token == nullptr || token->empty()) {
          PC_LOG(kError, kComponent) << "Connect confirmed the registration without a Token "
                                        "header; polling again";
          next_poll_us_ = now_us + options_.register_poll_interval_ms * 1000;
        } else {
          token_ = *token;
          code_.clear();
          registering_ = false;
          pending_conds_.push_back({&conditions_.TOKEN, CondState::kOk});
          PC_LOG(kInfo, kComponent) << "registered; token " << RedactToken(token_);
          if (register_handler_) {
            auto handler = register_handler_;
            std::string t = token_;
            pending_work_.push_back([handler, t] { handler(t); });
          }
          cv_.notify_all();
        }
      } else if (status == 202) {
        next_poll_us_ = now_us + options_.register_poll_interval_ms * 1000;
      } else if (Retryable(status) && status != 401 && status != 403) {
        next_poll_us_ = 0;  // after the backoff below
      } else {
        PC_LOG(kWarning, kComponent)
            << "registration ended: Connect answered HTTP " << status << " for code " << code_;
        registering_ = false;  // code() keeps the code, as the SDK's printer.code
        cv_.notify_all();
      }
      break;
    }
  }
  DeduceFromStatusLocked(status);
  if (success || status == 202 || !Retryable(status)) {
    failures_ = 0;
    not_before_us_ = 0;
    LogAnsweredLocked();
  } else {
    ++stats_.requests_failed;
    LogFailureLocked("HTTP " + std::to_string(status),
                     out.request.method + " " + out.request.url + " answered HTTP " +
                         std::to_string(status) + "; retrying later",
                     now_us);
    BackoffLocked(now_us);
  }
  cv_.notify_all();
}

void Session::Cancelled() {
  SessionGuard guard(this);
  in_flight_ = false;
  in_flight_seq_ = 0;
  if (!telemetry_) telemetry_ = std::move(in_flight_telemetry_);
  in_flight_telemetry_.reset();
}

void Session::RunLoop(const std::function<void()>& started) {
  {
    std::lock_guard<std::mutex> lock(loop_mu_);
    loop_running_ = true;
  }
  // Marked running before traffic starts, so a stop_loop() that follows
  // anything the loop sent cannot be lost.
  started();
  std::unique_lock<std::mutex> lock(loop_mu_);
  loop_cv_.wait(lock, [this] { return !loop_running_; });
}

void Session::StopLoop() {
  {
    std::lock_guard<std::mutex> lock(loop_mu_);
    loop_running_ = false;
  }
  loop_cv_.notify_all();
}

StatusOr<HttpRequest> Session::MakePrinterRequest(const char* method, const std::string& path) {
  SessionGuard guard(this);
  if (server_.empty()) return FailedPreconditionError("Server is not set");
  HttpRequest r = BaseRequestLocked(method, path);
  r.headers = MakeHeadersLocked(NowTimestampLocked());
  return r;
}

StatusOr<HttpRequest> Session::MakeRegisterRequest() {
  SessionGuard guard(this);
  if (server_.empty()) return FailedPreconditionError("Server is not set");
  HttpRequest r = BaseRequestLocked("POST", "/p/register");
  r.headers = MakeHeadersLocked(NowTimestampLocked());
  Json body = Json::MakeObject();
  body.set("sn", sn_.empty() ? Json() : Json(sn_));
  body.set("fingerprint", fingerprint_.empty() ? Json() : Json(fingerprint_));
  body.set("printer_type", type_ ? type_->ToString() : "None");
  body.set("firmware", firmware_.empty() ? Json() : Json(firmware_));
  r.body = body.Dump();
  r.content_type = "application/json";
  return r;
}

StatusOr<std::string> Session::CompleteRegister(const HttpResponse& r) {
  SessionGuard guard(this);
  if (r.status == 0 || (r.error != TransportError::kNone && r.error != TransportError::kTooLarge)) {
    std::string why = DescribeTransportFailure(r);
    pending_conds_.push_back(
        {r.error == TransportError::kDns ? &conditions_.INTERNET : &conditions_.HTTP,
         CondState::kNok, why});
    return UnavailableError("cannot reach Connect at " + server_ + ": " + why);
  }
  if (r.status != 200) {
    std::string answered = "Connect answered HTTP " + std::to_string(r.status);
    pending_conds_.push_back({&conditions_.API, CondState::kNok, answered});
    pending_conds_.push_back({&conditions_.HTTP, r.status >= 500 ? CondState::kNok : CondState::kOk,
                              r.status >= 500 ? answered : std::string()});
    // The message is Connect's answer itself, as the SDK's
    // RuntimeError(<response text>) (hosts show it); the log has the status.
    PC_LOG(kWarning, kComponent) << "Connect refused the registration (HTTP " << r.status << ")"
                                 << (r.body.empty() ? "" : ": " + r.body.substr(0, 500));
    std::string text = !r.body.empty() ? r.body.substr(0, 4096)
                                       : "Connect refused the registration (HTTP " +
                                             std::to_string(r.status) + ")";
    if (r.status >= 500) return UnavailableError(text);
    return FailedPreconditionError(text);
  }
  const std::string* code = r.header("code");
  if (code == nullptr || code->empty()) {
    return InternalError("Connect accepted the registration but sent no Code header");
  }
  code_ = *code;
  registering_ = true;
  int64_t now = clock_->MonoMicros();
  register_deadline_us_ = now + options_.register_timeout_ms * 1000;
  next_poll_us_ = now + options_.register_poll_interval_ms * 1000;
  pending_conds_.push_back({&conditions_.API, CondState::kOk});
  pending_wake_ = true;
  return code_;
}

// ---------------------------------------------------------------- commands

void Session::HandleCommandResponseLocked(const HttpResponse& r) {
  ++stats_.commands_received;
  const std::string* id_header = r.header("command-id");
  std::optional<int64_t> id = id_header ? ParseCommandId(*id_header) : std::nullopt;
  if (!id) {
    EventFields f;
    f.reason = "Invalid Command-Id header";
    EmitLocked(Event::REJECTED, Source::CONNECT, f, Json());
    return;
  }
  EventFields f;
  f.command_id = *id;
  if (!IsInitialisedLocked()) {
    f.reason = kNotInitialised;
    EmitLocked(Event::REJECTED, Source::WUI, f, Json());
    return;
  }
  if (r.error == TransportError::kTooLarge) {
    f.reason = "Command is too large (over " + std::to_string(r.body.size()) + " bytes)";
    EmitLocked(Event::REJECTED, Source::CONNECT, f, Json());
    return;
  }
  static const std::string kEmpty;
  const std::string* ct = r.header("content-type");
  const std::string& content_type = ct ? *ct : kEmpty;
  if (StartsWith(content_type, "application/json")) {
    StatusOr<Json> parsed = Json::Parse(r.body);
    if (!parsed.ok()) {
      f.reason = "Invalid command: " + parsed.status().message();
      EmitLocked(Event::REJECTED, Source::CONNECT, f, Json());
      return;
    }
    if (!parsed->is_object()) {
      f.reason = "Invalid command: the body is not a JSON object";
      EmitLocked(Event::REJECTED, Source::CONNECT, f, Json());
      return;
    }
    const Json* name_json = parsed->find("command");
    std::string name;
    if (name_json != nullptr && !name_json->is_null()) {
      name = name_json->is_string() ? name_json->as_string() : name_json->Dump();
    }
    if (CheckStateLocked(*id, name)) {
      const Json* args = parsed->find("args");
      const Json* kwargs = parsed->find("kwargs");
      Json kw = kwargs ? *kwargs : Json();
      if (CheckDefinitionLocked(*id, name, &kw)) {
        AcceptLocked(*id, name, args ? *args : Json(), std::move(kw), false);
      }
    }
  } else if (content_type == "text/x.gcode") {
    Json kw = Json::MakeObject({{"gcode", r.body}});
    if (CheckStateLocked(*id, "GCODE") && CheckDefinitionLocked(*id, "GCODE", &kw)) {
      const std::string* force = r.header("force");
      AcceptLocked(*id, "GCODE", Json::MakeArray({Json(r.body)}), std::move(kw),
                   force != nullptr && *force == "1");
    }
  } else {
    f.reason = "Invalid command content type";
    EmitLocked(Event::REJECTED, Source::CONNECT, f, Json());
  }
}

bool Session::CheckStateLocked(int64_t id, const std::string& name) {
  EventFields f;
  f.command_id = id;
  Command c;
  if (Parse(name, &c) && IsPriorityCommand(c)) {
    if (cmd_.has_id && id == cmd_.command_id) {
      // A re-sent priority command is answered like any duplicate (Q7 fix).
      EmitLocked(cmd_.accepted ? Event::ACCEPTED : cmd_.last_state, Source::CONNECT, f, Json());
      return false;
    }
    if (cmd_.accepted) {
      int64_t old_id = cmd_.command_id;
      if (cmd_.run == RunState::kRunning) {
        // Its handler ends later with its own id; that must not tear down
        // the priority command (Q7 fix).
        preempted_.push_back(old_id);
        if (preempted_.size() > 16) preempted_.erase(preempted_.begin());
      } else {
        EventFields old;
        old.command_id = old_id;
        old.reason = "Interrupted by " + name;
        EmitLocked(Event::REJECTED, Source::CONNECT, old, Json());
      }
      if (stop_cb_) pending_work_.push_back(stop_cb_);
    }
    return true;
  }
  if (cmd_.accepted) {
    if (id != cmd_.command_id) {
      f.reason = "Another command is running";
      EmitLocked(Event::REJECTED, Source::CONNECT, f,
                 Json::MakeObject({{"actual_command_id", cmd_.command_id}}));
    } else {
      EmitLocked(Event::ACCEPTED, Source::CONNECT, f, Json());
    }
    return false;
  }
  if (cmd_.has_id && id == cmd_.command_id) {
    EmitLocked(cmd_.last_state, Source::CONNECT, f, Json());
    return false;
  }
  return true;
}

bool Session::CheckDefinitionLocked(int64_t id, const std::string& name, Json* kwargs) {
  const CommandDefinition* d = FindCommand(definitions_, name);
  if (d == nullptr) return true;  // no definition: as without any
  // The state is the printer's as reported; kwargs gain the defaults (a
  // refused command's kwargs are dropped with it).
  Status s = ValidateCommand(*d, kwargs, state_);
  if (!s.ok()) {
    EventFields f;
    f.command_id = id;
    f.reason = s.message();
    EmitLocked(Event::REJECTED, Source::WUI, f, Json());
    cmd_.has_id = true;
    cmd_.command_id = id;
    cmd_.last_state = Event::REJECTED;
    return false;
  }
  return true;
}

void Session::set_supported_commands(std::vector<CommandDefinition> definitions) {
  Json json = definitions.empty() ? Json() : ToJson(definitions);
  SessionGuard guard(this);
  definitions_ = std::move(definitions);
  definitions_json_ = std::move(json);
}

std::vector<Command> Session::HandledCommands() {
  std::vector<Command> out;
  std::lock_guard<std::mutex> lock(mu_);
  for (int i = 0; i <= static_cast<int>(Command::DIALOG_ACTION); ++i) {
    auto c = static_cast<Command>(i);
    if (handlers_.Find(c) != nullptr || default_handlers_.Find(c) != nullptr || BuiltinHandler(c)) {
      out.push_back(c);
    }
  }
  return out;
}

std::vector<CommandDefinition> Session::supported_commands() const {
  std::lock_guard<std::mutex> lock(mu_);
  return definitions_;
}

void Session::AcceptLocked(int64_t id, std::string name, Json args, Json kwargs, bool force) {
  cmd_.accepted = true;
  cmd_.has_id = true;
  cmd_.command_id = id;
  cmd_.command_name = std::move(name);
  // Absent args / kwargs stay null, as the SDK's accept(args=None,
  // kwargs=None): a handler that echoes caller.args sends no "args" key.
  cmd_.args = std::move(args);
  cmd_.kwargs = std::move(kwargs);
  cmd_.force = force;
  cmd_.run = RunState::kPending;
  EventFields f;
  f.command_id = id;
  EmitLocked(Event::ACCEPTED, Source::CONNECT, f, Json());
  cv_.notify_all();
  if (options_.background_handlers) {
    std::weak_ptr<Session> weak = weak_from_this();
    pending_work_.push_back([weak] {
      if (auto self = weak.lock()) self->RunCommand();
    });
  }
}

void Session::EndLocked(int64_t id, Event event, Source source, EventFields fields,
                        const Json& data, std::string* head) {
  fields.command_id = id;
  EmitLocked(event, source, fields, data, head);
  if (cmd_.accepted && id == cmd_.command_id) {
    cmd_.last_state = TerminalLastState(event);
    cmd_.accepted = false;
    cmd_.run = RunState::kIdle;
    cv_.notify_all();
  }
}

Status Session::EndCommand(std::optional<int64_t> command_id, Event event, Source source,
                           const EventFields& fields, const Json& data, std::string* head) {
  SessionGuard guard(this);
  int64_t id = command_id.value_or(cmd_.command_id);
  bool current = cmd_.accepted && id == cmd_.command_id;
  auto pre = std::find(preempted_.begin(), preempted_.end(), id);
  if (!current && pre == preempted_.end()) {
    return FailedPreconditionError("no command " + std::to_string(id) + " is running");
  }
  if (!current) preempted_.erase(pre);
  EndLocked(id, event, source, fields, data, head);
  return Status();
}

void Session::RunCommand() {
  CommandRequest req;
  CommandHandler handler;
  bool known;
  bool builtin_info = false;  // SEND_INFO answered by the library itself
  {
    SessionGuard guard(this);
    if (!cmd_.accepted || cmd_.run != RunState::kPending) return;
    cmd_.run = RunState::kRunning;
    req.command_id = cmd_.command_id;
    req.command_name = cmd_.command_name;
    req.args = cmd_.args;
    req.kwargs = cmd_.kwargs;
    req.force = cmd_.force;
    Command c;
    known = Parse(cmd_.command_name, &c);
    if (known) {
      req.command = c;
      if (const CommandHandler* h = handlers_.Find(c)) {
        handler = *h;
      } else if (const CommandHandler* d = default_handlers_.Find(c)) {
        handler = *d;
      } else {
        handler = BuiltinHandler(c);
        builtin_info = c == Command::SEND_INFO;
      }
    }
  }
  EventFields f;
  if (!known) {
    f.reason = "Unknown command";
    EndCommand(req.command_id, Event::REJECTED, Source::WUI, f, Json());
    return;
  }
  if (!handler) {
    f.reason = "Not Implemented";
    EndCommand(req.command_id, Event::REJECTED, Source::WUI, f, Json());
    return;
  }
  std::string error;
  if (builtin_info) {
    // BuiltinHandler(SEND_INFO)'s answer, rendered without building the
    // file tree as Json (a storage of 10,000 files is a 1.2 MB text).
    try {
      std::string head = InfoEventHead();
      EndCommand(req.command_id, Event::INFO, Source::CONNECT, f, Json(), &head);
      return;
    } catch (const std::exception& e) {
      error = e.what();
    }
    f.reason = "Command error";
    EndCommand(req.command_id, Event::FAILED, Source::WUI, f, Json::MakeObject({{"error", error}}));
    return;
  }
  std::optional<StatusOr<CommandResult>> result;
  try {
    result.emplace(handler(req));
  } catch (const std::exception& e) {
    error = e.what();
  } catch (...) {
    error = "unknown exception";
  }
  if (result && !result->ok()) error = result->status().message();
  if (!result || !result->ok()) {
    f.reason = "Command error";
    EndCommand(req.command_id, Event::FAILED, Source::WUI, f, Json::MakeObject({{"error", error}}));
    return;
  }
  const CommandResult& res = **result;
  f.reason = res.reason;
  f.state = res.state;
  f.job_id = res.job_id;
  f.transfer_id = res.transfer_id;
  f.dialog_id = res.dialog_id;
  EndCommand(req.command_id, res.event.value_or(Event::FINISHED), res.source, f, res.data);
}

bool Session::WaitCommandEnded(int64_t command_id, int64_t timeout_ms) {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                      [&] { return !(cmd_.accepted && cmd_.command_id == command_id); });
}

bool Session::WaitForCommand(int64_t timeout_ms) {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                      [this] { return cmd_.accepted && cmd_.run == RunState::kPending; });
}

std::optional<CommandRequest> Session::current_command() const {
  std::lock_guard<std::mutex> lock(mu_);
  if (!cmd_.accepted) return std::nullopt;
  CommandRequest req;
  req.command_id = cmd_.command_id;
  req.command_name = cmd_.command_name;
  Command c;
  if (Parse(cmd_.command_name, &c)) req.command = c;
  req.args = cmd_.args;
  req.kwargs = cmd_.kwargs;
  req.force = cmd_.force;
  return req;
}

CommandHandler Session::BuiltinHandler(Command c) {
  switch (c) {
    case Command::SEND_INFO:
      return [this](const CommandRequest&) -> StatusOr<CommandResult> {
        CommandResult r;
        r.event = Event::INFO;
        r.data = get_info();
        return r;
      };
    case Command::SEND_STATE_INFO:
      return [this](const CommandRequest&) -> StatusOr<CommandResult> {
        CommandResult r;
        r.event = Event::STATE_CHANGED;
        r.state = state();
        return r;
      };
    case Command::SET_PRINTER_READY:
      return [this](const CommandRequest&) -> StatusOr<CommandResult> {
        State s = state();
        if (s == State::PRINTING || s == State::PAUSED) {
          return FailedPreconditionError(std::string("Can't set ready while ") + ToString(s));
        }
        set_state(State::READY, Source::CONNECT, true, {}, Json());
        return CommandResult{};
      };
    case Command::CANCEL_PRINTER_READY:
      return [this](const CommandRequest&) -> StatusOr<CommandResult> {
        if (!ready()) return FailedPreconditionError("Can't cancel, printer isn't ready");
        set_state(State::IDLE, Source::CONNECT, false, {}, Json());
        return CommandResult{};
      };
    case Command::DIALOG_ACTION:
      return [](const CommandRequest& req) -> StatusOr<CommandResult> {
        if (!req.kwargs.truthy()) {
          return InvalidArgumentError("Command.DIALOG_ACTION requires kwargs");
        }
        return CommandResult{};
      };
    default:
      return nullptr;
  }
}

void Session::HandlerTable::Set(Command c, CommandHandler handler) {
  for (auto it = entries_.begin(); it != entries_.end(); ++it) {
    if (it->first != c) continue;
    if (handler) {
      it->second = std::move(handler);
    } else {
      entries_.erase(it);
    }
    return;
  }
  if (handler) entries_.emplace_back(c, std::move(handler));
}

void Session::set_handler(Command command, CommandHandler handler) {
  std::lock_guard<std::mutex> lock(mu_);
  handlers_.Set(command, std::move(handler));
}

void Session::SetDefaultHandler(Command command, CommandHandler handler) {
  std::lock_guard<std::mutex> lock(mu_);
  default_handlers_.Set(command, std::move(handler));
}

void Session::set_stop_cb(std::function<void()> cb) {
  std::lock_guard<std::mutex> lock(mu_);
  stop_cb_ = std::move(cb);
}

// ---------------------------------------------------------------- host side

std::optional<PrinterType> Session::type() const {
  std::lock_guard<std::mutex> lock(mu_);
  return type_;
}
std::string Session::sn() const {
  std::lock_guard<std::mutex> lock(mu_);
  return sn_;
}
std::string Session::fingerprint() const {
  std::lock_guard<std::mutex> lock(mu_);
  return fingerprint_;
}

Status Session::set_type(PrinterType type) {
  std::lock_guard<std::mutex> lock(mu_);
  if (type_) return FailedPreconditionError("Printer type is already set.");
  type_ = type;
  return Status();
}

Status Session::set_sn(const std::string& sn) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!sn_.empty()) return FailedPreconditionError("Serial number is already set.");
  sn_ = sn;
  return Status();
}

Status Session::set_fingerprint(const std::string& fingerprint) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!fingerprint_.empty()) return FailedPreconditionError("Fingerprint is already set.");
  fingerprint_ = fingerprint;
  return Status();
}

bool Session::is_initialised() {
  SessionGuard guard(this);
  return IsInitialisedLocked();
}

// NOLINTBEGIN(bugprone-macro-parentheses): `type` is a type.
#define PC_LOCKED_SETTER(name, field, type) \
  void Session::name(type v) {              \
    std::lock_guard<std::mutex> lock(mu_);  \
    field = v;                              \
  }
PC_LOCKED_SETTER(set_firmware, firmware_, const std::string&)
PC_LOCKED_SETTER(set_software, software_, const std::string&)
PC_LOCKED_SETTER(set_network_info, network_info_, const NetworkInfo&)
PC_LOCKED_SETTER(set_api_key, api_key_, const std::string&)
PC_LOCKED_SETTER(set_active_sheet, active_sheet_, std::optional<int>)
PC_LOCKED_SETTER(set_info_extra, info_extra_, const Json&)
#undef PC_LOCKED_SETTER
// NOLINTEND(bugprone-macro-parentheses)

std::string Session::firmware() const {
  std::lock_guard<std::mutex> lock(mu_);
  return firmware_;
}
std::string Session::software() const {
  std::lock_guard<std::mutex> lock(mu_);
  return software_;
}
NetworkInfo Session::network_info() const {
  std::lock_guard<std::mutex> lock(mu_);
  return network_info_;
}

void Session::set_mbl(const std::vector<double>& v) {
  std::lock_guard<std::mutex> lock(mu_);
  mbl_ = v;
  has_mbl_ = true;
}

void Session::set_sheet_settings(const std::vector<SheetSettings>& v) {
  std::lock_guard<std::mutex> lock(mu_);
  sheets_ = v;
  has_sheets_ = true;
}

void Session::clear_mbl() {
  std::lock_guard<std::mutex> lock(mu_);
  mbl_.clear();
  has_mbl_ = false;
}

void Session::clear_sheet_settings() {
  std::lock_guard<std::mutex> lock(mu_);
  sheets_.clear();
  has_sheets_ = false;
}

Event Session::last_command_state() const {
  std::lock_guard<std::mutex> lock(mu_);
  return cmd_.accepted ? Event::ACCEPTED : cmd_.last_state;
}

void Session::set_mmu(bool enabled, const std::string& fw, std::optional<MMUType> type) {
  std::lock_guard<std::mutex> lock(mu_);
  mmu_enabled_ = enabled;
  mmu_fw_ = fw;
  mmu_type_ = type;
}

void Session::set_files_provider(std::function<Json()> provider) {
  std::lock_guard<std::mutex> lock(mu_);
  files_provider_ = std::move(provider);
  files_writer_ = nullptr;  // a writer of the former provider's tree
}

void Session::set_files_writer(std::function<void(std::string*)> writer) {
  std::lock_guard<std::mutex> lock(mu_);
  files_writer_ = std::move(writer);
}

InfoInput Session::InfoInputLocked() const {
  InfoInput in;
  in.type = type_;
  in.firmware = firmware_;
  in.network_info = network_info_;
  in.api_key = api_key_;
  in.sn = sn_;
  in.fingerprint = fingerprint_;
  in.mbl = mbl_;
  in.has_mbl = has_mbl_;
  in.sheet_settings = sheets_;
  in.has_sheet_settings = has_sheets_;
  in.active_sheet = active_sheet_;
  in.mmu_supported = options_.mmu_supported;
  in.mmu_enabled = mmu_enabled_;
  in.mmu_fw = mmu_fw_;
  in.mmu_type = mmu_type_;
  in.extra = info_extra_;
  in.supported_commands = definitions_json_;
  return in;
}

Json Session::get_info() const {
  InfoInput in;
  std::function<Json()> files;
  {
    std::lock_guard<std::mutex> lock(mu_);
    in = InfoInputLocked();
    files = files_provider_;
  }
  in.files = files ? files() : EmptyLegacyTree();
  return BuildInfo(std::move(in));
}

std::string Session::InfoEventHead() const {
  InfoInput in;
  std::function<Json()> files;
  std::function<void(std::string*)> writer;
  {
    std::lock_guard<std::mutex> lock(mu_);
    in = InfoInputLocked();
    files = files_provider_;
    writer = files_writer_;
  }
  // Without a writer the tree comes as Json; with one, a placeholder object
  // stands in its place and the writer writes the text there (outside the
  // session lock, straight into the body).
  in.files = writer ? Json::MakeObject() : files ? files() : EmptyLegacyTree();
  Json info = BuildInfo(std::move(in));
  std::string head;
  head.reserve(info_size_hint_.load(std::memory_order_relaxed) + 1024);
  if (writer) {
    JsonSplice splice{info.find("files"), writer};
    AppendEventHead(Event::INFO, Source::CONNECT, info, &splice, &head);
  } else {
    AppendEventHead(Event::INFO, Source::CONNECT, info, nullptr, &head);
  }
  info_size_hint_.store(head.size(), std::memory_order_relaxed);
  return head;
}

void Session::set_connection(const std::string& server, const std::string& token) {
  SessionGuard guard(this);
  server_ = server;
  while (!server_.empty() && server_.back() == '/') server_.pop_back();
  token_ = token;
  // Q6 fix: an empty token is not a valid one.
  pending_conds_.push_back({&conditions_.TOKEN, token.empty() ? CondState::kNok : CondState::kOk});
  failures_ = 0;
  not_before_us_ = 0;
  pending_wake_ = true;
}

std::string Session::server() const {
  std::lock_guard<std::mutex> lock(mu_);
  return server_;
}
std::string Session::token() const {
  std::lock_guard<std::mutex> lock(mu_);
  return token_;
}
std::string Session::code() const {
  std::lock_guard<std::mutex> lock(mu_);
  return code_;
}

RegistrationStatus Session::registration_status() const {
  std::lock_guard<std::mutex> lock(mu_);
  if (!token_.empty()) return RegistrationStatus::FINISHED;
  if (registering_) return RegistrationStatus::IN_PROGRESS;
  return RegistrationStatus::NO_REGISTRATION;
}

void Session::set_register_handler(std::function<void(const std::string&)> handler) {
  std::lock_guard<std::mutex> lock(mu_);
  register_handler_ = std::move(handler);
}

State Session::state() const {
  std::lock_guard<std::mutex> lock(mu_);
  return state_;
}
bool Session::ready() const {
  std::lock_guard<std::mutex> lock(mu_);
  return ready_;
}

void Session::set_state(State state, Source source, std::optional<bool> ready,
                        const EventFields& fields, const Json& data) {
  SessionGuard guard(this);
  SetStateLocked(state, source, ready, fields, data);
}

void Session::event_cb(Event event, Source source, const EventFields& fields, const Json& data) {
  SessionGuard guard(this);
  EmitLocked(event, source, fields, data);
}

void Session::telemetry(const Json& fields, std::optional<double> timestamp) {
  SessionGuard guard(this);
  if (token_.empty()) return;
  std::string stamp = timestamp ? FormatSeconds(*timestamp) : NowTimestampLocked();
  bool initialised = IsInitialisedLocked();
  std::optional<int64_t> command_id;
  if (cmd_.accepted) command_id = cmd_.command_id;
  std::optional<TransferStatus> transfer;
  if (transfer_probe_) transfer = transfer_probe_();
  std::string body = RenderTelemetry(fields, state_, command_id, job_id_, initialised,
                                     transfer ? transfer->telemetry : Json());
  ++stats_.telemetry_queued;
  if (telemetry_) {
    ++stats_.telemetry_coalesced;
    telemetry_->body = std::move(body);
    telemetry_->timestamp = std::move(stamp);
  } else {
    telemetry_ = OutTelemetry{next_seq_++, std::move(stamp), std::move(body), clock_->MonoMicros()};
  }
  pending_wake_ = true;
}

std::optional<int64_t> Session::job_id() const {
  std::lock_guard<std::mutex> lock(mu_);
  return job_id_;
}
void Session::set_job_id(std::optional<int64_t> job_id) {
  std::lock_guard<std::mutex> lock(mu_);
  job_id_ = job_id;
}

void Session::SetTransferProbe(std::function<std::optional<TransferStatus>()> probe) {
  std::lock_guard<std::mutex> lock(mu_);
  transfer_probe_ = std::move(probe);
}

HeaderList Session::HeadersForDownload(bool to_connect) {
  std::lock_guard<std::mutex> lock(mu_);
  if (to_connect) return MakeHeadersLocked(NowTimestampLocked(), false);
  return HeaderList{{"User-Agent", kUserAgent}};
}

bool Session::Flush(int64_t timeout_ms) {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                      [this] { return events_.empty(); });
}

PrinterStats Session::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  PrinterStats s = stats_;
  s.events_buffered = events_.size();
  return s;
}

std::string DescribeTransportFailure(const HttpResponse& r) {
  std::string what = TransportErrorName(r.error);
  if (r.error == TransportError::kConnect) {
    switch (r.os_error) {
      case ECONNREFUSED:
        what = "connection refused";
        break;
      case ETIMEDOUT:
        what = "connection timed out";
        break;
      case EHOSTUNREACH:
        what = "host unreachable";
        break;
      case ENETUNREACH:
        what = "network unreachable";
        break;
      default:
        break;
    }
  }
  if (r.error_message.empty()) return what;
  return what + " (" + r.error_message + ")";
}

const char* TransportErrorName(TransportError e) {
  switch (e) {
    case TransportError::kNone:
      return "none";
    case TransportError::kDns:
      return "name resolution failed";
    case TransportError::kConnect:
      return "connection failed";
    case TransportError::kTimeout:
      return "timed out";
    case TransportError::kConnection:
      return "connection broken";
    case TransportError::kTls:
      return "TLS failure";
    case TransportError::kTooLarge:
      return "response too large";
    case TransportError::kOther:
      return "transport error";
  }
  return "transport error";
}

}  // namespace prusaconnect::internal
