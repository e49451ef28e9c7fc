// Copyright 2026 The libprusaconnect Authors.
//
// Emulator lifecycle, request dispatch (faults, logging, statistics) and the
// public Emulator over its Impl. The endpoint logic lives in printer_api.cc,
// control_api.cc and user_api.cc; fault injection in emulator_faults.cc; the
// registry of printers, codes and commands in emulator_registry.cc.
#include "emulator/emulator.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "emulator/emulator_impl.h"
#include "emulator/str_util.h"
#include "emulator/text_util.h"

namespace prusaconnect::emulator {
namespace {

constexpr size_t kLogBodyBytes = 4096;
constexpr size_t kLogResponseBodyBytes = 1024;
constexpr size_t kMaxStatsPaths = 256;

constexpr std::string_view kLoggedRequestHeaders[] = {
    "Token",        "Fingerprint",        "Timestamp",          "Code",
    "User-Agent",   "User-Agent-Printer", "User-Agent-Version", "Clock-Adjusted",
    "Content-Type", "Content-Length",     "Transfer-Encoding",  "Range",
};
constexpr std::string_view kLoggedResponseHeaders[] = {
    "Code", "Token", "Command-Id", "Content-Type", "Force", "Content-Range", "Location",
};

// Collapses ids in paths so statistics have bounded cardinality.
std::string NormalizePath(std::string_view path) {
  if (StartsWith(path, "/p/teams/")) return "/p/teams/{team}/files/{hash}/raw";
  if (StartsWith(path, "/approve/")) return "/approve/{code}";
  if (StartsWith(path, "/api/codes/")) return "/api/codes/{code}/approve";
  if (StartsWith(path, "/api/faults/")) return "/api/faults/{id}";
  if (StartsWith(path, "/app/printers/")) {
    std::string_view rest = path.substr(14);
    size_t slash = rest.find('/');
    if (slash == std::string_view::npos) return "/app/printers/{uuid}";
    return absl::StrCat("/app/printers/{uuid}", AV(TruncateUtf8(rest.substr(slash), 64)));
  }
  if (StartsWith(path, "/api/printers/")) {
    std::string_view rest = path.substr(14);
    size_t slash = rest.find('/');
    if (slash == std::string_view::npos) return "/api/printers/{fingerprint}";
    return absl::StrCat("/api/printers/{fingerprint}", AV(TruncateUtf8(rest.substr(slash), 64)));
  }
  return std::string(TruncateUtf8(path, 128));
}

}  // namespace

// ---- Public value helpers ----

Command Command::Json(std::string command, std::string args_json, std::string kwargs_json,
                      std::optional<int64_t> id) {
  Command c;
  c.kind = Kind::kJson;
  c.command = std::move(command);
  c.args_json = std::move(args_json);
  c.kwargs_json = std::move(kwargs_json);
  c.command_id = id;
  return c;
}

Command Command::Gcode(std::string gcode, bool force, std::optional<int64_t> id) {
  Command c;
  c.kind = Kind::kGcode;
  c.gcode = std::move(gcode);
  c.force = force;
  c.command_id = id;
  return c;
}

Command Command::Raw(RawResponse raw) {
  Command c;
  c.kind = Kind::kRaw;
  c.raw = std::move(raw);
  return c;
}

std::string_view FaultKindName(FaultKind kind) {
  switch (kind) {
    case FaultKind::kStatus:
      return "status";
    case FaultKind::kDrop:
      return "drop";
    case FaultKind::kReset:
      return "reset";
    case FaultKind::kSlow:
      return "slow";
    case FaultKind::kHang:
      return "hang";
    case FaultKind::kRefuse:
      return "refuse";
    case FaultKind::kMalformed:
      return "malformed";
  }
  return "unknown";
}

bool ParseFaultKind(std::string_view name, FaultKind* kind) {
  static constexpr FaultKind kAll[] = {FaultKind::kStatus,   FaultKind::kDrop, FaultKind::kReset,
                                       FaultKind::kSlow,     FaultKind::kHang, FaultKind::kRefuse,
                                       FaultKind::kMalformed};
  for (FaultKind k : kAll) {
    if (FaultKindName(k) == name) {
      *kind = k;
      return true;
    }
  }
  return false;
}

// ---- Lifecycle ----

Emulator::Impl::Impl(EmulatorOptions options) : options_(std::move(options)) {
  std::random_device rd;
  std::seed_seq seq{rd(), rd(), rd(), rd()};
  std::lock_guard<std::mutex> lock(mu_);
  rng_.seed(seq);
}

Emulator::Impl::~Impl() { Stop(); }

Status Emulator::Impl::Start() {
  if (server_ != nullptr) return FailedPreconditionError("emulator already started");
  {
    std::lock_guard<std::mutex> lock(mu_);
    user_token_ = options_.user_token.empty() ? NewToken(32) : options_.user_token;
  }
  HttpServerOptions so;
  so.host = options_.host;
  so.port = options_.port;
  so.max_body_bytes = options_.max_body_bytes;
  so.server_name = "prusaconnect-emulator";
  // server_ is set before the server's thread starts: handlers on that
  // thread read it (fault scheduling), and pthread_create orders the write
  // before them (TSan saw the old order, set after Start(), race).
  server_ =
      std::make_unique<HttpServer>(so, [this](const HttpRequest& request, HttpResponder responder) {
        Handle(request, std::move(responder));
      });
  Status status = server_->Start();
  if (!status.ok()) server_.reset();
  return status;
}

void Emulator::Impl::Stop() {
  if (server_ != nullptr) server_->Stop();
}

std::string Emulator::Impl::user_token() const {
  std::lock_guard<std::mutex> lock(mu_);
  return user_token_;
}

uint16_t Emulator::Impl::port() const { return server_ != nullptr ? server_->port() : 0; }

std::string Emulator::Impl::url() const {
  std::string host = options_.host;
  if (host.find(':') != std::string::npos) host = absl::StrCat("[", host, "]");
  return absl::StrCat("http://", host, ":", port());
}

absl::Time Emulator::Impl::Now() const { return options_.clock ? options_.clock() : absl::Now(); }

void Emulator::Impl::Notify() {
  ++generation_;
  cv_.notify_all();
}

// ---- Dispatch ----

void Emulator::Impl::Handle(const HttpRequest& request, HttpResponder responder) {
  if (IsControlPath(request.path)) {
    LogContext ctx = BeginLog(request, /*control=*/true);
    HttpResponse response = HandleControl(request);
    Finish(std::move(ctx), responder, std::move(response), "");
    return;
  }
  LogContext ctx = BeginLog(request, /*control=*/false);
  std::optional<FaultInfo> fault = MatchFault(request);
  if (!fault.has_value()) {
    Finish(std::move(ctx), responder, HandlePrinterApi(request), "");
    return;
  }
  const FaultRule& rule = fault->rule;
  switch (rule.kind) {
    case FaultKind::kStatus: {
      if (rule.process_first) HandlePrinterApi(request);
      HttpResponse response;
      response.status = rule.status;
      for (const auto& [name, value] : rule.headers) response.headers.Add(name, value);
      response.body = rule.body;
      Finish(std::move(ctx), responder, std::move(response), FaultKindName(rule.kind));
      return;
    }
    case FaultKind::kDrop:
    case FaultKind::kReset:
    case FaultKind::kHang:
      if (rule.process_first) HandlePrinterApi(request);
      FinishWithoutResponse(std::move(ctx), responder, rule.kind);
      return;
    case FaultKind::kSlow:
      server_->RunAfter(rule.delay, [this, request, responder, ctx = std::move(ctx)]() mutable {
        Finish(std::move(ctx), responder, HandlePrinterApi(request), "slow");
      });
      return;
    case FaultKind::kMalformed:
      Finish(std::move(ctx), responder, HandlePrinterApi(request, /*malformed_command=*/true),
             "malformed");
      return;
    case FaultKind::kRefuse:
      break;  // Never matched per request.
  }
  Finish(std::move(ctx), responder, HandlePrinterApi(request), "");
}

Emulator::Impl::LogContext Emulator::Impl::BeginLog(const HttpRequest& request,
                                                    bool control) const {
  LogContext ctx;
  ctx.control = control;
  ctx.started_real = absl::Now();
  ctx.path = NormalizePath(request.path);
  RequestLogEntry& e = ctx.entry;
  e.time = Now();
  e.connection_id = request.connection_id;
  e.request_index = request.request_index;
  e.method = request.method;
  e.target = request.target;
  for (std::string_view name : kLoggedRequestHeaders) {
    if (const std::string* v = request.headers.Find(name); v != nullptr) {
      e.headers.emplace_back(std::string(name), *v);
    }
  }
  e.body = std::string(TruncateUtf8(request.body, kLogBodyBytes));
  e.body_size = request.body.size();
  return ctx;
}

void Emulator::Impl::Record(LogContext& ctx, int status, const HttpResponse* response,
                            std::string_view fault) {
  RequestLogEntry& e = ctx.entry;
  e.status = status;
  e.fault = std::string(fault);
  e.latency = absl::Now() - ctx.started_real;
  if (response != nullptr) {
    for (std::string_view name : kLoggedResponseHeaders) {
      if (const std::string* v = response->headers.Find(name); v != nullptr) {
        e.response_headers.emplace_back(std::string(name), *v);
      }
    }
    if (!response->source) {
      e.response_body = std::string(TruncateUtf8(response->body, kLogResponseBodyBytes));
    }
  }
  std::string line;
  if (options_.verbose) {
    line = absl::StrFormat("%s \"%s %s\" %d%s%s %.1fms",
                           absl::FormatTime("%Y-%m-%d %H:%M:%E3S", e.time, absl::LocalTimeZone()),
                           e.method, e.target, status, fault.empty() ? "" : " fault=", AV(fault),
                           absl::ToDoubleMilliseconds(e.latency));
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++requests_total_;
    std::string key = ctx.path;
    if (stats_.size() >= kMaxStatsPaths && stats_.count(key) == 0) key = "(other)";
    ++stats_[key][status];
    if (!ctx.control || options_.log_control_requests) {
      e.seq = next_log_seq_++;
      log_.push_back(std::move(e));
      while (log_.size() > options_.request_log_capacity) {
        log_.pop_front();
        ++log_dropped_;
      }
    }
    Notify();
  }
  if (options_.verbose) {
    if (options_.log_sink) {
      options_.log_sink(line);
    } else {
      std::fprintf(stderr, "%s\n", line.c_str());
      std::fflush(stderr);
    }
  }
}

void Emulator::Impl::Finish(LogContext ctx, const HttpResponder& responder, HttpResponse response,
                            std::string_view fault) {
  Record(ctx, response.status, &response, fault);
  responder.Respond(std::move(response));
}

void Emulator::Impl::FinishWithoutResponse(LogContext ctx, const HttpResponder& responder,
                                           FaultKind kind) {
  Record(ctx, 0, nullptr, FaultKindName(kind));
  switch (kind) {
    case FaultKind::kReset:
      responder.Close(/*reset=*/true);
      break;
    case FaultKind::kHang:
      responder.Hang();
      break;
    default:
      responder.Close();
      break;
  }
}

// ---- Emulator ----

Emulator::Emulator(EmulatorOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}
Emulator::~Emulator() { impl_->Stop(); }
Status Emulator::Start() { return impl_->Start(); }
void Emulator::Stop() { impl_->Stop(); }
uint16_t Emulator::port() const { return impl_->port(); }
std::string Emulator::url() const { return impl_->url(); }
std::string Emulator::user_token() const { return impl_->user_token(); }

std::vector<RegistrationCodeInfo> Emulator::Codes() const { return impl_->Codes(); }
StatusOr<std::string> Emulator::ApproveCode(std::string_view code) {
  return impl_->ApproveCode(code);
}
StatusOr<std::string> Emulator::PreregisterPrinter(std::string_view fingerprint,
                                                   std::string_view sn,
                                                   std::string_view printer_type,
                                                   std::string_view token) {
  return impl_->PreregisterPrinter(fingerprint, sn, printer_type, token);
}
StatusOr<int64_t> Emulator::QueueCommand(std::string_view fingerprint, Command command) {
  return impl_->QueueCommand(fingerprint, std::move(command));
}
Status Emulator::AddFile(FileSpec spec) { return impl_->AddFile(std::move(spec)); }
std::vector<FileInfo> Emulator::Files() const { return impl_->Files(); }
int64_t Emulator::AddFault(FaultRule rule) {
  std::vector<FaultRule> rules;
  rules.push_back(std::move(rule));
  return impl_->AddFaults(std::move(rules)).front();
}
std::vector<int64_t> Emulator::AddFaults(std::vector<FaultRule> rules) {
  return impl_->AddFaults(std::move(rules));
}
bool Emulator::RemoveFault(int64_t id) { return impl_->RemoveFault(id); }
void Emulator::ClearFaults() { impl_->ClearFaults(); }
std::vector<FaultInfo> Emulator::Faults() const { return impl_->Faults(); }
void Emulator::PauseListening() { impl_->PauseListening(); }
Status Emulator::ResumeListening() { return impl_->ResumeListening(); }
bool Emulator::listening() const { return impl_->listening(); }
std::vector<PrinterInfo> Emulator::Printers() const { return impl_->Printers(); }
std::optional<PrinterInfo> Emulator::GetPrinter(std::string_view fingerprint) const {
  return impl_->GetPrinter(fingerprint);
}
std::vector<RecordedEvent> Emulator::GetEvents(std::string_view fingerprint,
                                               uint64_t since_seq) const {
  return impl_->GetEvents(fingerprint, since_seq, SIZE_MAX);
}
std::vector<TelemetryRecord> Emulator::GetTelemetry(std::string_view fingerprint) const {
  return impl_->GetTelemetry(fingerprint);
}
std::vector<ProtocolError> Emulator::ProtocolErrors(std::string_view fingerprint) const {
  return impl_->ProtocolErrors(fingerprint, 0);
}
std::vector<CameraInfo> Emulator::Cameras() const { return impl_->Cameras(); }
std::vector<RequestLogEntry> Emulator::RequestLog(uint64_t since_seq, size_t limit) const {
  return impl_->RequestLog(since_seq, limit);
}
EmulatorStats Emulator::Stats() const { return impl_->Stats(); }

bool Emulator::WaitFor(const std::function<bool()>& pred, absl::Duration timeout) {
  return impl_->WaitFor(pred, timeout);
}

bool Emulator::WaitForTelemetry(std::string_view fingerprint, int64_t count,
                                absl::Duration timeout) {
  return impl_->WaitFor(
      [&] {
        std::optional<PrinterInfo> p = impl_->GetPrinter(fingerprint);
        return p.has_value() && p->telemetry_count >= count;
      },
      timeout);
}

bool Emulator::WaitForEvents(std::string_view fingerprint, int64_t count, absl::Duration timeout) {
  return impl_->WaitFor(
      [&] {
        std::optional<PrinterInfo> p = impl_->GetPrinter(fingerprint);
        return p.has_value() && p->event_count >= count;
      },
      timeout);
}

std::optional<RecordedEvent> Emulator::WaitForEvent(std::string_view fingerprint,
                                                    std::string_view event, absl::Duration timeout,
                                                    uint64_t since_seq) {
  std::optional<RecordedEvent> found;
  impl_->WaitFor(
      [&] {
        for (RecordedEvent& e : impl_->GetEvents(fingerprint, since_seq, SIZE_MAX)) {
          if (e.event == event) {
            found = std::move(e);
            return true;
          }
        }
        return false;
      },
      timeout);
  return found;
}

std::optional<std::string> Emulator::WaitForCode(absl::Duration timeout) {
  std::optional<std::string> found;
  impl_->WaitFor(
      [&] {
        for (const RegistrationCodeInfo& c : impl_->Codes()) {
          if (!c.approved && !c.expired) {
            found = c.code;
            return true;
          }
        }
        return false;
      },
      timeout);
  return found;
}

bool Emulator::WaitForPrinter(std::string_view fingerprint, absl::Duration timeout) {
  return impl_->WaitFor([&] { return impl_->GetPrinter(fingerprint).has_value(); }, timeout);
}

void Emulator::Reset() { impl_->Reset(); }

}  // namespace prusaconnect::emulator
