// Copyright 2026 The libprusaconnect Authors.
#include "protocol/core.h"

#include <climits>
#include <utility>

#include "protocol/render.h"
#include "util/ascii.h"
#include "util/logging.h"
#include "util/str_cat.h"

namespace prusaconnect::internal {
namespace {

constexpr char kComponent[] = "printer";
constexpr char kNotInitialised[] = "Printer has not been initialized properly";
constexpr int64_t kNever = INT64_MAX;

// Statuses after which a request is worth repeating later.
bool Retryable(int status) {
  return status >= 500 || status == 408 || status == 429 || status == 401 || status == 403 ||
         (status >= 300 && status < 400) || status < 200;
}

bool TransportFailed(const HttpResponse& r) {
  return r.status == 0 ||
         (r.error != TransportError::kNone && r.error != TransportError::kTooLarge);
}

}  // namespace

SessionCore::SessionCore(std::optional<PrinterType> type, std::string sn, std::string fingerprint,
                         CoreOptions options, const Clock* clock, RandomSource random)
    : options_(std::move(options)),
      clock_(clock),
      watcher_(clock),
      registration_(options_.register_poll_interval_ms, options_.register_timeout_ms),
      outbox_(options_.event_buffer_size),
      backoff_(options_.backoff_min_ms, options_.backoff_max_ms,
               random ? std::move(random) : XorShiftRandom(0x9E3779B97F4A7C15ULL)) {
  info_.type = type;
  info_.sn = std::move(sn);
  info_.fingerprint = std::move(fingerprint);
  info_.mmu_supported = options_.mmu_supported;
}

SessionCore::Effects SessionCore::TakeEffects() {
  Effects e = std::move(effects_);
  effects_ = Effects();
  return e;
}

// ---------------------------------------------------------------- helpers

std::string SessionCore::NowTimestamp() const { return FormatTimestamp(clock_->WallMicros()); }

HeaderList SessionCore::Headers(const std::string& timestamp, bool clock_flag) {
  // The clock flag is consumed only by requests that carry it.
  bool adjusted = clock_flag && watcher_.CheckAndReset();
  return info_.Headers(timestamp, token_, adjusted);
}

HttpRequest SessionCore::BaseRequest(const char* method, const std::string& path) const {
  HttpRequest r;
  r.method = method;
  r.url = server_ + path;
  r.timeout_ms = options_.request_timeout_ms;
  r.verify_tls = options_.verify_tls;
  r.ca_file = options_.ca_file;
  return r;
}

void SessionCore::Cond(CondNode node, CondState state, std::string reason) {
  effects_.conds.push_back({node, state, std::move(reason)});
}

bool SessionCore::IsInitialised() {
  bool ok = info_.initialised();
  if (!ok) Cond(CondNode::kApi, CondState::kNok);
  return ok;
}

void SessionCore::LogFailure(const std::string& key, const std::string& what, int64_t now_us) {
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

void SessionCore::LogAnswered() {
  if (failures_since_answer_ == 0) return;
  PC_LOG(kInfo, kComponent) << "Connect answers again, after " << failures_since_answer_
                            << " failed requests";
  failures_since_answer_ = 0;
  failures_not_logged_ = 0;
  last_failure_logged_.clear();
}

void SessionCore::DeduceFromStatus(int status) {
  if (status >= 200 && status < 300) {
    Cond(CondNode::kApi, CondState::kOk);
  } else if (status == 401 || status == 403) {
    Cond(CondNode::kToken, CondState::kNok,
         StrCat("Connect refused the printer's token (HTTP ", status, ")"));
  } else if (status >= 500) {
    Cond(CondNode::kHttp, CondState::kNok, StrCat("Connect answered HTTP ", status));
  } else if (status > 400) {
    Cond(CondNode::kApi, CondState::kNok, StrCat("Connect answered HTTP ", status));
  }
}

// ---------------------------------------------------------------- events

void SessionCore::Emit(Event event, Source source, EventFields fields, const Json& data,
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
  if (!IsInitialised()) {
    PC_LOG(kWarning, kComponent) << kNotInitialised;
  }
  std::string timestamp = fields.timestamp ? FormatSeconds(*fields.timestamp) : NowTimestamp();
  std::string body;
  if (head != nullptr) {
    body = std::move(*head);
    AppendEventTail(fields, &body);
  } else {
    body = RenderEvent(event, source, fields, data);
  }
  std::optional<Outbox::Entry> dropped =
      outbox_.PushEvent(std::move(timestamp), std::move(body), clock_->MonoMicros());
  if (dropped) {
    PC_LOG(kWarning, kComponent) << "event buffer full (" << outbox_.events()
                                 << "): dropping the oldest unsent event: " << dropped->body;
    ++stats_.events_dropped_overflow;
  }
  ++stats_.events_queued;
  effects_.wake = true;
}

void SessionCore::SetState(State state, Source source, std::optional<bool> ready,
                           const EventFields& fields, const Json& data) {
  if (state == State::PRINTING) {
    ready_ = false;
  } else if (ready) {
    ready_ = *ready;
  }
  state_ = state;
  EventFields f = fields;
  f.state = state;
  Emit(Event::STATE_CHANGED, source, f, data);
}

void SessionCore::Telemetry(const Json& fields, std::optional<double> timestamp) {
  if (token_.empty()) return;
  std::string stamp = timestamp ? FormatSeconds(*timestamp) : NowTimestamp();
  bool initialised = IsInitialised();
  std::optional<TransferStatus> transfer;
  if (transfer_probe_) transfer = transfer_probe_();
  std::string body = RenderTelemetry(fields, state_, commands_.accepted_id(), job_id_, initialised,
                                     transfer ? transfer->telemetry : Json());
  ++stats_.telemetry_queued;
  if (outbox_.PushTelemetry(std::move(stamp), std::move(body), clock_->MonoMicros())) {
    ++stats_.telemetry_coalesced;
  }
  effects_.wake = true;
}

Status SessionCore::EndCommand(std::optional<int64_t> command_id, Event event, Source source,
                               const EventFields& fields, const Json& data, std::string* head) {
  Status s = commands_.End(command_id, event, source, fields, data, *this, head);
  if (s.ok()) effects_.changed = true;
  return s;
}

// ---------------------------------------------------------------- driver side

std::optional<Outgoing> SessionCore::Next(int64_t now_us, int64_t* wake_at_us) {
  *wake_at_us = kNever;
  if (in_flight_ || server_.empty()) return std::nullopt;

  bool polling = registration_.active() && token_.empty();
  if (polling && registration_.ExpireIfDue(now_us)) {
    PC_LOG(kWarning, kComponent) << "registration code " << registration_.code()
                                 << " expired before it was confirmed in Connect";
    // As the SDK, code() keeps the code ("code expired: ..."); the ended
    // registration shows in registration_status().
    polling = false;
  }
  bool has_traffic = outbox_.has_traffic();
  if (!polling && !has_traffic) return std::nullopt;
  if (now_us < backoff_.not_before_us()) {
    *wake_at_us = backoff_.not_before_us();
    return std::nullopt;
  }

  if (polling) {
    if (registration_.PollDue(now_us, wake_at_us)) {
      Outgoing out;
      out.kind = RequestKind::kRegistrationPoll;
      out.request = BaseRequest("GET", "/p/register");
      out.request.headers = Headers(NowTimestamp());
      out.request.headers.emplace_back("Code", registration_.code());
      in_flight_ = true;
      return out;
    }
    if (!has_traffic) return std::nullopt;
  }
  if (token_.empty()) {
    // Items queued before the token was withdrawn wait for a new one.
    Cond(CondNode::kToken, CondState::kNok);
    return std::nullopt;
  }

  std::optional<Outbox::Item> item = outbox_.Take();
  Outgoing out;
  out.kind = item->kind;
  out.seq = item->entry->seq;
  out.request =
      BaseRequest("POST", item->kind == RequestKind::kEvent ? "/p/events" : "/p/telemetry");
  out.request.headers = Headers(item->entry->timestamp);
  out.request.body = item->entry->body;
  out.request.content_type = "application/json";
  out.queued_us = item->entry->queued_us;
  in_flight_ = true;
  return out;
}

void SessionCore::Complete(const Outgoing& out, const HttpResponse& r, int64_t now_us) {
  in_flight_ = false;
  effects_.changed = true;
  if (TransportFailed(r)) {
    ++stats_.requests_failed;
    Cond(r.error == TransportError::kDns ? CondNode::kInternet : CondNode::kHttp, CondState::kNok,
         DescribeTransportFailure(r));
    LogFailure(StrCat("transport ", TransportErrorName(r.error), " ", r.os_error),
               StrCat("request to ", out.request.method, " ", out.request.url,
                      " failed: ", DescribeTransportFailure(r)),
               now_us);
    backoff_.Failed(now_us);
    if (out.kind == RequestKind::kEvent) ++stats_.events_retried;
    outbox_.Retry(out.kind);
    return;
  }

  const int status = r.status;
  const bool success = status >= 200 && status < 300;
  switch (out.kind) {
    case RequestKind::kEvent: {
      if (success || !Retryable(status)) {
        std::optional<std::string> body = outbox_.Done(out.kind, out.seq);
        if (body) {
          if (success) {
            ++stats_.events_sent;
          } else {
            ++stats_.events_dropped_rejected;
            PC_LOG(kWarning, kComponent) << "Connect refused an event with HTTP " << status << " ("
                                         << r.body.substr(0, 200) << "); dropped: " << *body;
          }
        }
      } else {
        ++stats_.events_retried;
        outbox_.Retry(out.kind);
      }
      break;
    }
    case RequestKind::kTelemetry: {
      if (success) {
        ++stats_.telemetry_sent;
        outbox_.Done(out.kind, out.seq);
        if (status == 200) HandleCommandResponse(r);
      } else if (Retryable(status)) {
        outbox_.Retry(out.kind);
      } else {
        outbox_.Done(out.kind, out.seq);
        PC_LOG(kWarning, kComponent) << "Connect refused telemetry with HTTP " << status << " ("
                                     << r.body.substr(0, 200) << ")";
      }
      break;
    }
    case RequestKind::kRegistrationPoll: {
      const std::string* header = r.header("token");
      std::string token = header != nullptr ? *header : std::string();
      bool has_token = !token.empty();
      switch (registration_.Answered(status, has_token, Retryable(status), now_us)) {
        case Registration::Outcome::kToken:
          token_ = std::move(token);
          Cond(CondNode::kToken, CondState::kOk);
          PC_LOG(kInfo, kComponent) << "registered; token " << RedactToken(token_);
          effects_.registered = token_;
          break;
        case Registration::Outcome::kNoToken:
          PC_LOG(kError, kComponent) << "Connect confirmed the registration without a Token "
                                        "header; polling again";
          break;
        case Registration::Outcome::kPending:
        case Registration::Outcome::kRetry:
          break;
        case Registration::Outcome::kEnded:
          PC_LOG(kWarning, kComponent)
              << "registration ended: Connect answered HTTP " << status << " for code "
              << registration_.code();  // kept when polling ends
          break;
      }
      break;
    }
  }
  DeduceFromStatus(status);
  if (success || status == 202 || !Retryable(status)) {
    backoff_.Reset();
    LogAnswered();
  } else {
    ++stats_.requests_failed;
    LogFailure(StrCat("HTTP ", status),
               StrCat(out.request.method, " ", out.request.url, " answered HTTP ", status,
                      "; retrying later"),
               now_us);
    backoff_.Failed(now_us);
  }
}

void SessionCore::Cancelled() {
  in_flight_ = false;
  outbox_.Retry(RequestKind::kEvent);
  outbox_.Retry(RequestKind::kTelemetry);
}

StatusOr<HttpRequest> SessionCore::MakePrinterRequest(const char* method, const std::string& path) {
  if (server_.empty()) return FailedPreconditionError("Server is not set");
  HttpRequest r = BaseRequest(method, path);
  r.headers = Headers(NowTimestamp());
  return r;
}

HeaderList SessionCore::HeadersForDownload(bool to_connect) {
  if (to_connect) return Headers(NowTimestamp(), false);
  return HeaderList{{"User-Agent", kUserAgent}};
}

// ---------------------------------------------------------------- registration

StatusOr<HttpRequest> SessionCore::MakeRegisterRequest() {
  if (server_.empty()) return FailedPreconditionError("Server is not set");
  HttpRequest r = BaseRequest("POST", "/p/register");
  r.headers = Headers(NowTimestamp());
  r.body = info_.RegisterBody();
  r.content_type = "application/json";
  return r;
}

StatusOr<std::string> SessionCore::CompleteRegister(const HttpResponse& r) {
  if (TransportFailed(r)) {
    std::string why = DescribeTransportFailure(r);
    Cond(r.error == TransportError::kDns ? CondNode::kInternet : CondNode::kHttp, CondState::kNok,
         why);
    return UnavailableError("cannot reach Connect at " + server_ + ": " + why);
  }
  if (r.status != 200) {
    std::string answered = StrCat("Connect answered HTTP ", r.status);
    Cond(CondNode::kApi, CondState::kNok, answered);
    Cond(CondNode::kHttp, r.status >= 500 ? CondState::kNok : CondState::kOk,
         r.status >= 500 ? answered : std::string());
    // The message is Connect's answer itself, as the SDK's
    // RuntimeError(<response text>) (hosts show it); the log has the status.
    PC_LOG(kWarning, kComponent) << "Connect refused the registration (HTTP " << r.status << ")"
                                 << (r.body.empty() ? "" : ": " + r.body.substr(0, 500));
    std::string text = !r.body.empty()
                           ? r.body.substr(0, 4096)
                           : StrCat("Connect refused the registration (HTTP ", r.status, ")");
    if (r.status >= 500) return UnavailableError(text);
    return FailedPreconditionError(text);
  }
  const std::string* code = r.header("code");
  if (code == nullptr || code->empty()) {
    return InternalError("Connect accepted the registration but sent no Code header");
  }
  registration_.Begin(*code, clock_->MonoMicros());
  Cond(CondNode::kApi, CondState::kOk);
  effects_.wake = true;
  return registration_.code();
}

RegistrationStatus SessionCore::registration_status() const {
  if (!token_.empty()) return RegistrationStatus::FINISHED;
  if (registration_.active()) return RegistrationStatus::IN_PROGRESS;
  return RegistrationStatus::NO_REGISTRATION;
}

void SessionCore::SetConnection(const std::string& server, const std::string& token) {
  server_ = server;
  while (!server_.empty() && server_.back() == '/') server_.pop_back();
  token_ = token;
  // Q6 fix: an empty token is not a valid one.
  Cond(CondNode::kToken, token.empty() ? CondState::kNok : CondState::kOk);
  backoff_.Reset();
  effects_.wake = true;
}

// ---------------------------------------------------------------- commands

void SessionCore::HandleCommandResponse(const HttpResponse& r) {
  ++stats_.commands_received;
  const std::string* id_header = r.header("command-id");
  std::optional<int64_t> id = id_header ? ParseCommandId(*id_header) : std::nullopt;
  if (!id) {
    EventFields f;
    f.reason = "Invalid Command-Id header";
    Emit(Event::REJECTED, Source::CONNECT, f, Json());
    return;
  }
  EventFields f;
  f.command_id = *id;
  if (!IsInitialised()) {
    f.reason = kNotInitialised;
    Emit(Event::REJECTED, Source::WUI, f, Json());
    return;
  }
  if (r.error == TransportError::kTooLarge) {
    f.reason = StrCat("Command is too large (over ", r.body.size(), " bytes)");
    Emit(Event::REJECTED, Source::CONNECT, f, Json());
    return;
  }
  static const std::string kEmpty;
  const std::string* ct = r.header("content-type");
  const std::string& content_type = ct ? *ct : kEmpty;
  bool preempted = false;
  if (StartsWith(content_type, "application/json")) {
    StatusOr<Json> parsed = Json::Parse(r.body);
    if (!parsed.ok()) {
      f.reason = "Invalid command: " + parsed.status().message();
      Emit(Event::REJECTED, Source::CONNECT, f, Json());
      return;
    }
    if (!parsed->is_object()) {
      f.reason = "Invalid command: the body is not a JSON object";
      Emit(Event::REJECTED, Source::CONNECT, f, Json());
      return;
    }
    const Json* name_json = parsed->find("command");
    std::string name;
    if (name_json != nullptr && !name_json->is_null()) {
      name = name_json->is_string() ? name_json->as_string() : name_json->Dump();
    }
    if (commands_.CheckState(*id, name, *this, &preempted)) {
      const Json* args = parsed->find("args");
      const Json* kwargs = parsed->find("kwargs");
      Json kw = kwargs ? *kwargs : Json();
      if (commands_.CheckDefinition(*id, name, &kw, state_, *this)) {
        commands_.Accept(*id, name, args ? *args : Json(), std::move(kw), false, *this);
        effects_.accepted = true;
      }
    }
  } else if (content_type == "text/x.gcode") {
    Json kw = Json::MakeObject({{"gcode", r.body}});
    if (commands_.CheckState(*id, "GCODE", *this, &preempted) &&
        commands_.CheckDefinition(*id, "GCODE", &kw, state_, *this)) {
      const std::string* force = r.header("force");
      commands_.Accept(*id, "GCODE", Json::MakeArray({Json(r.body)}), std::move(kw),
                       force != nullptr && *force == "1", *this);
      effects_.accepted = true;
    }
  } else {
    f.reason = "Invalid command content type";
    Emit(Event::REJECTED, Source::CONNECT, f, Json());
  }
  if (preempted) effects_.preempted = true;
}

PrinterStats SessionCore::stats() const {
  PrinterStats s = stats_;
  s.events_buffered = outbox_.events();
  return s;
}

}  // namespace prusaconnect::internal
