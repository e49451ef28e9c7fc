// Emulator lifecycle, request dispatch (faults, logging, statistics) and the
// C++ API.  The endpoint logic lives in printer_api.cc and control_api.cc.

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
constexpr size_t kMaxRecentErrors = 100;
constexpr size_t kMaxQueuedCommands = 10000;

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

absl::Status Emulator::Impl::Start() {
  if (server_ != nullptr) return absl::FailedPreconditionError("emulator already started");
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
  absl::Status status = server_->Start();
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

// ---- Faults ----

std::optional<FaultInfo> Emulator::Impl::MatchFault(const HttpRequest& request) {
  std::lock_guard<std::mutex> lock(mu_);
  if (faults_.empty()) return std::nullopt;
  absl::Time now = absl::Now();
  for (size_t i = 0; i < faults_.size();) {
    FaultEntry& f = faults_[i];
    const FaultRule& r = f.info.rule;
    if (r.kind == FaultKind::kRefuse) {
      ++i;
      continue;
    }
    if (now >= f.end || (r.count.has_value() && f.info.hits >= *r.count)) {
      faults_.erase(faults_.begin() + static_cast<ptrdiff_t>(i));
      Notify();
      continue;
    }
    bool match = now >= f.start;
    match = match && (r.path_prefix.empty() || StartsWith(request.path, r.path_prefix));
    match = match && (r.method.empty() || EqualsIgnoreCase(request.method, r.method));
    match = match && (r.token.empty() || request.headers.Get("Token") == r.token);
    match = match && (r.fingerprint.empty() || request.headers.Get("Fingerprint") == r.fingerprint);
    if (r.kind == FaultKind::kMalformed) {
      match = match && request.path == "/p/telemetry" && request.method == "POST";
    }
    if (!match) {
      ++i;
      continue;
    }
    ++f.info.hits;
    FaultInfo hit = f.info;
    if (r.count.has_value() && f.info.hits >= *r.count) {
      faults_.erase(faults_.begin() + static_cast<ptrdiff_t>(i));
    }
    Notify();
    return hit;
  }
  return std::nullopt;
}

std::vector<int64_t> Emulator::Impl::AddFaults(std::vector<FaultRule> rules) {
  std::vector<int64_t> ids;
  struct Refuse {
    int64_t id;
    absl::Duration start_after;
    absl::Duration duration;
  };
  std::vector<Refuse> refuses;
  {
    std::lock_guard<std::mutex> lock(mu_);
    absl::Time now = absl::Now();
    for (FaultRule& rule : rules) {
      FaultEntry entry;
      entry.info.id = next_fault_id_++;
      entry.start = now + std::max(rule.start_after, absl::ZeroDuration());
      entry.end = rule.duration == absl::InfiniteDuration() ? absl::InfiniteFuture()
                                                            : entry.start + rule.duration;
      if (rule.kind == FaultKind::kRefuse) {
        refuses.push_back({entry.info.id, rule.start_after, rule.duration});
        entry.refusing = rule.start_after <= absl::ZeroDuration();
      }
      entry.info.rule = std::move(rule);
      ids.push_back(entry.info.id);
      faults_.push_back(std::move(entry));
    }
    Notify();
  }
  for (const Refuse& r : refuses) ScheduleRefuse(r.id, r.start_after, r.duration);
  return ids;
}

void Emulator::Impl::ScheduleRefuse(int64_t id, absl::Duration start_after,
                                    absl::Duration duration) {
  if (server_ == nullptr) return;
  if (start_after <= absl::ZeroDuration()) {
    SyncListener();
  } else {
    server_->RunAfter(start_after, [this, id] {
      {
        std::lock_guard<std::mutex> lock(mu_);
        for (FaultEntry& f : faults_) {
          if (f.info.id == id) f.refusing = true;
        }
      }
      SyncListenerInLoop();
    });
  }
  if (duration != absl::InfiniteDuration()) {
    server_->RunAfter(std::max(start_after, absl::ZeroDuration()) + duration,
                      [this, id] { RemoveFault(id); });
  }
}

void Emulator::Impl::SyncListener() {
  if (server_ == nullptr) return;
  server_->RunInLoop([this] { SyncListenerInLoop(); });
}

void Emulator::Impl::SyncListenerInLoop() {
  bool closed;
  {
    std::lock_guard<std::mutex> lock(mu_);
    closed = manual_pause_ || std::any_of(faults_.begin(), faults_.end(), [](const FaultEntry& f) {
               return f.info.rule.kind == FaultKind::kRefuse && f.refusing;
             });
  }
  if (closed && server_->listening()) {
    server_->PauseListening(/*close_idle=*/true);
  } else if (!closed && !server_->listening()) {
    absl::Status status = server_->ResumeListening();
    if (!status.ok()) {
      std::fprintf(stderr, "prusaconnect-emulator: cannot reopen listener: %s\n",
                   status.ToString().c_str());
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  Notify();
}

bool Emulator::Impl::RemoveFault(int64_t id) {
  bool found = false;
  bool refuse = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = std::find_if(faults_.begin(), faults_.end(),
                           [id](const FaultEntry& f) { return f.info.id == id; });
    if (it != faults_.end()) {
      found = true;
      refuse = it->info.rule.kind == FaultKind::kRefuse;
      faults_.erase(it);
      Notify();
    }
  }
  if (refuse) SyncListener();
  return found;
}

void Emulator::Impl::ClearFaults() {
  bool refuse;
  {
    std::lock_guard<std::mutex> lock(mu_);
    refuse = std::any_of(faults_.begin(), faults_.end(), [](const FaultEntry& f) {
      return f.info.rule.kind == FaultKind::kRefuse;
    });
    faults_.clear();
    Notify();
  }
  if (refuse) SyncListener();
}

std::vector<FaultInfo> Emulator::Impl::Faults() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<FaultInfo> out;
  for (const FaultEntry& f : faults_) out.push_back(f.info);
  return out;
}

void Emulator::Impl::PauseListening() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    manual_pause_ = true;
  }
  SyncListener();
}

absl::Status Emulator::Impl::ResumeListening() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    manual_pause_ = false;
  }
  SyncListener();
  if (server_ != nullptr && !server_->listening()) {
    return absl::UnavailableError("listener still closed (refuse fault active or bind failed)");
  }
  return absl::OkStatus();
}

bool Emulator::Impl::listening() const { return server_ != nullptr && server_->listening(); }

// ---- Registry helpers ----

std::string Emulator::Impl::NewToken(size_t length) {
  static constexpr char kAlnum[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  std::uniform_int_distribution<size_t> pick(0, sizeof(kAlnum) - 2);
  for (;;) {
    std::string token(length, '0');
    for (char& c : token) c = kAlnum[pick(rng_)];
    if (by_token_.count(token) == 0 && camera_by_token_.count(token) == 0) return token;
  }
}

std::string Emulator::Impl::NewCode() {
  static constexpr char kHex[] = "0123456789abcdef";
  std::uniform_int_distribution<size_t> pick(0, 15);
  for (;;) {
    std::string code(10, '0');
    for (char& c : code) c = kHex[pick(rng_)];
    if (codes_.count(code) == 0) return code;
  }
}

std::string Emulator::Impl::NewUuid() {
  static constexpr char kHex[] = "0123456789abcdef";
  std::uniform_int_distribution<size_t> pick(0, 15);
  std::string uuid = "xxxxxxxx-xxxx-4xxx-axxx-xxxxxxxxxxxx";
  for (char& c : uuid) {
    if (c == 'x') c = kHex[pick(rng_)];
  }
  return uuid;
}

Emulator::Impl::PrinterRecord* Emulator::Impl::FindPrinter(std::string_view fingerprint) {
  auto it = printers_.find(fingerprint);
  return it == printers_.end() ? nullptr : it->second.get();
}

const Emulator::Impl::PrinterRecord* Emulator::Impl::FindPrinter(
    std::string_view fingerprint) const {
  auto it = printers_.find(fingerprint);
  return it == printers_.end() ? nullptr : it->second.get();
}

Emulator::Impl::PrinterRecord& Emulator::Impl::UpsertPrinter(std::string_view fingerprint,
                                                             std::string_view sn,
                                                             std::string_view printer_type,
                                                             std::string_view firmware,
                                                             std::string token) {
  PrinterRecord* p = FindPrinter(fingerprint);
  if (p == nullptr) {
    auto record = std::make_unique<PrinterRecord>();
    record->fingerprint = std::string(fingerprint);
    record->uuid = NewUuid();
    p = record.get();
    printers_.emplace(std::string(fingerprint), std::move(record));
  } else if (!p->token.empty()) {
    by_token_.erase(p->token);  // A new registration revokes the old token.
  }
  p->sn = std::string(sn);
  p->printer_type = std::string(printer_type);
  p->firmware = std::string(firmware);
  p->token = std::move(token);
  p->registered = Now();
  by_token_[p->token] = p;
  Notify();
  return *p;
}

absl::StatusOr<std::string> Emulator::Impl::ApproveLocked(std::string_view code) {
  auto it = codes_.find(code);
  if (it == codes_.end()) return absl::NotFoundError(absl::StrCat("unknown code ", AV(code)));
  RegistrationCodeInfo& info = it->second.info;
  if (info.approved) return info.token;
  if (Now() - info.created >= options_.code_lifetime) {
    info.expired = true;
    return absl::FailedPreconditionError(absl::StrCat("code ", AV(code), " has expired"));
  }
  std::string token = NewToken(20);
  UpsertPrinter(info.fingerprint, info.sn, info.printer_type, info.firmware, token);
  info.approved = true;
  info.token = token;
  Notify();
  return token;
}

void Emulator::Impl::CollectCodes() {
  absl::Time now = Now();
  for (auto it = codes_.begin(); it != codes_.end();) {
    const CodeRecord& c = it->second;
    bool stale =
        now - c.info.created > 2 * options_.code_lifetime ||
        (c.first_fetched.has_value() && now - *c.first_fetched > options_.approved_code_grace);
    it = stale ? codes_.erase(it) : std::next(it);
  }
}

absl::StatusOr<int64_t> Emulator::Impl::QueueLocked(PrinterRecord& printer, Command command) {
  if (printer.queue.size() >= kMaxQueuedCommands) {
    return absl::ResourceExhaustedError("too many queued commands");
  }
  int64_t id = 0;
  switch (command.kind) {
    case Command::Kind::kJson: {
      if (command.command.empty()) return absl::InvalidArgumentError("empty command name");
      rapidjson::Document doc;
      if (!command.args_json.empty() && (!ParseJson(command.args_json, &doc) || !doc.IsArray())) {
        return absl::InvalidArgumentError("args must be a JSON array");
      }
      if (!command.kwargs_json.empty() &&
          (!ParseJson(command.kwargs_json, &doc) || !doc.IsObject())) {
        return absl::InvalidArgumentError("kwargs must be a JSON object");
      }
      id = command.command_id.has_value() ? *command.command_id : next_command_id_++;
      command.command_id = id;
      break;
    }
    case Command::Kind::kGcode:
      id = command.command_id.has_value() ? *command.command_id : next_command_id_++;
      command.command_id = id;
      break;
    case Command::Kind::kRaw:
      for (const auto& [name, value] : command.raw.headers) {
        int64_t v;
        if (EqualsIgnoreCase(name, "Command-Id") && ParseInt(value, &v)) id = v;
      }
      break;
  }
  printer.queue.push_back(QueuedCommand{id, std::move(command)});
  Notify();
  return id;
}

void Emulator::Impl::AddProtocolError(PrinterRecord* printer, std::string_view fingerprint,
                                      const HttpRequest& request, std::string message) {
  ProtocolError e;
  e.seq = next_error_seq_++;
  e.time = Now();
  e.fingerprint = printer != nullptr ? printer->fingerprint : std::string(fingerprint);
  e.method = request.method;
  e.path = request.path;
  e.message = std::move(message);
  if (options_.verbose) {
    std::string line = absl::StrCat("protocol error [", e.fingerprint, "] ", e.method, " ", e.path,
                                    ": ", e.message);
    if (options_.log_sink) {
      options_.log_sink(line);
    } else {
      std::fprintf(stderr, "%s\n", line.c_str());
    }
  }
  if (printer != nullptr) {
    ++printer->protocol_error_count;
    printer->recent_errors.push_back(e.message);
    while (printer->recent_errors.size() > kMaxRecentErrors) printer->recent_errors.pop_front();
  }
  protocol_errors_.push_back(std::move(e));
  while (protocol_errors_.size() > options_.max_protocol_errors) {
    protocol_errors_.pop_front();
    ++protocol_errors_dropped_;
  }
  Notify();
}

namespace {
QueuedCommandInfo Describe(int64_t id, const Command& c) {
  QueuedCommandInfo info;
  info.command_id = id;
  switch (c.kind) {
    case Command::Kind::kJson:
      info.kind = "json";
      info.summary = c.command;
      break;
    case Command::Kind::kGcode:
      info.kind = "gcode";
      info.summary = c.gcode;
      break;
    case Command::Kind::kRaw:
      info.kind = "raw";
      info.summary = absl::StrCat("status ", c.raw.status);
      break;
  }
  return info;
}
}  // namespace

PrinterInfo Emulator::Impl::ToInfo(const PrinterRecord& p) const {
  PrinterInfo info;
  info.fingerprint = p.fingerprint;
  info.sn = p.sn;
  info.printer_type = p.printer_type;
  info.firmware = p.firmware;
  info.token = p.token;
  info.registered = p.registered;
  info.telemetry_count = p.telemetry_count;
  info.telemetry_with_command_id = p.telemetry_with_command_id;
  info.last_telemetry_command_id = p.last_telemetry_command_id;
  info.last_telemetry = p.last_telemetry;
  info.last_telemetry_timestamp = p.last_telemetry_timestamp;
  info.event_count = p.event_count;
  info.events_dropped = p.events_dropped;
  for (const QueuedCommand& q : p.queue) info.queued_commands.push_back(Describe(q.id, q.command));
  info.delivered_commands.assign(p.delivered.begin(), p.delivered.end());
  info.protocol_error_count = p.protocol_error_count;
  info.protocol_errors.assign(p.recent_errors.begin(), p.recent_errors.end());
  info.clock_adjusted_count = p.clock_adjusted_count;
  info.request_count = p.request_count;
  info.last_seen = p.last_seen;
  return info;
}

// Renders a queued command as the telemetry answer (sdk-spec.md §1.7) and
// records its delivery.
HttpResponse Emulator::Impl::CommandResponse(PrinterRecord& printer, QueuedCommand queued) {
  DeliveredCommand delivered;
  delivered.command = Describe(queued.id, queued.command);
  delivered.delivered = Now();
  printer.delivered.push_back(std::move(delivered));
  while (printer.delivered.size() > options_.delivered_history_per_printer) {
    printer.delivered.pop_front();
  }

  Command& c = queued.command;
  HttpResponse r;
  switch (c.kind) {
    case Command::Kind::kJson: {
      JsonWriter w;
      w.StartObject().Key("command").String(c.command);
      if (!c.args_json.empty()) {
        rapidjson::Document doc;
        ParseJson(c.args_json, &doc);
        w.Key("args").Value(doc);
      }
      if (!c.kwargs_json.empty()) {
        rapidjson::Document doc;
        ParseJson(c.kwargs_json, &doc);
        w.Key("kwargs").Value(doc);
      }
      w.EndObject();
      r.status = 200;
      r.headers.Add("Command-Id", std::to_string(queued.id));
      r.headers.Add("Content-Type", "application/json");
      r.body = w.str();
      break;
    }
    case Command::Kind::kGcode:
      r.status = 200;
      r.headers.Add("Command-Id", std::to_string(queued.id));
      r.headers.Add("Content-Type", "text/x.gcode");
      if (c.force) r.headers.Add("Force", "1");
      r.body = std::move(c.gcode);
      break;
    case Command::Kind::kRaw:
      r.status = c.raw.status;
      for (auto& [name, value] : c.raw.headers) r.headers.Add(name, value);
      r.body = std::move(c.raw.body);
      break;
  }
  return r;
}

// ---- C++ API ----

std::vector<RegistrationCodeInfo> Emulator::Impl::Codes() const {
  std::lock_guard<std::mutex> lock(mu_);
  absl::Time now = Now();
  std::vector<RegistrationCodeInfo> out;
  for (const auto& [code, record] : codes_) {
    RegistrationCodeInfo info = record.info;
    info.expired = !info.approved && now - info.created >= options_.code_lifetime;
    out.push_back(std::move(info));
  }
  std::sort(out.begin(), out.end(),
            [](const RegistrationCodeInfo& a, const RegistrationCodeInfo& b) {
              return a.created < b.created;
            });
  return out;
}

absl::StatusOr<std::string> Emulator::Impl::ApproveCode(std::string_view code) {
  std::lock_guard<std::mutex> lock(mu_);
  return ApproveLocked(code);
}

absl::StatusOr<std::string> Emulator::Impl::PreregisterPrinter(std::string_view fingerprint,
                                                               std::string_view sn,
                                                               std::string_view printer_type,
                                                               std::string_view token) {
  if (fingerprint.empty()) return absl::InvalidArgumentError("empty fingerprint");
  std::lock_guard<std::mutex> lock(mu_);
  std::string t(token);
  if (t.empty()) {
    t = NewToken(20);
  } else {
    auto it = by_token_.find(t);
    if (it != by_token_.end() && it->second->fingerprint != fingerprint) {
      return absl::AlreadyExistsError("token already belongs to another printer");
    }
    if (camera_by_token_.count(t) != 0) {
      return absl::AlreadyExistsError("token already belongs to a camera");
    }
  }
  UpsertPrinter(fingerprint, sn, printer_type, "", t);
  return t;
}

absl::StatusOr<int64_t> Emulator::Impl::QueueCommand(std::string_view fingerprint,
                                                     Command command) {
  std::lock_guard<std::mutex> lock(mu_);
  PrinterRecord* p = FindPrinter(fingerprint);
  if (p == nullptr) return absl::NotFoundError(absl::StrCat("unknown printer ", AV(fingerprint)));
  return QueueLocked(*p, std::move(command));
}

absl::Status Emulator::Impl::AddFile(FileSpec spec) {
  if (spec.hash.empty() || spec.hash.find('/') != std::string::npos) {
    return absl::InvalidArgumentError("hash must be non-empty and contain no '/'");
  }
  if (!spec.path.empty() && spec.path.front() != '/') {
    if (options_.file_store_dir.empty()) {
      return absl::InvalidArgumentError("relative path without a file store directory");
    }
    spec.path = absl::StrCat(options_.file_store_dir, "/", spec.path);
  }
  if (!spec.path.empty()) {
    absl::StatusOr<std::shared_ptr<BodySource>> probe = OpenFileBody(spec.path);
    if (!probe.ok()) return probe.status();
  }
  std::lock_guard<std::mutex> lock(mu_);
  FileInfo& info = files_[{spec.team_id, spec.hash}];
  info.spec = std::move(spec);
  info.requests = 0;
  Notify();
  return absl::OkStatus();
}

std::vector<FileInfo> Emulator::Impl::Files() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<FileInfo> out;
  for (const auto& [key, info] : files_) out.push_back(info);
  return out;
}

std::vector<PrinterInfo> Emulator::Impl::Printers() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<PrinterInfo> out;
  out.reserve(printers_.size());
  for (const auto& [fp, p] : printers_) out.push_back(ToInfo(*p));
  return out;
}

std::optional<PrinterInfo> Emulator::Impl::GetPrinter(std::string_view fingerprint) const {
  std::lock_guard<std::mutex> lock(mu_);
  const PrinterRecord* p = FindPrinter(fingerprint);
  if (p == nullptr) return std::nullopt;
  return ToInfo(*p);
}

std::vector<RecordedEvent> Emulator::Impl::GetEvents(std::string_view fingerprint,
                                                     uint64_t since_seq, size_t limit) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<RecordedEvent> out;
  const PrinterRecord* p = FindPrinter(fingerprint);
  if (p == nullptr) return out;
  auto it = std::upper_bound(p->events.begin(), p->events.end(), since_seq,
                             [](uint64_t s, const RecordedEvent& e) { return s < e.seq; });
  for (; it != p->events.end() && out.size() < limit; ++it) out.push_back(*it);
  return out;
}

std::vector<RecordedEvent> Emulator::Impl::GetLastEvents(std::string_view fingerprint,
                                                         size_t n) const {
  std::lock_guard<std::mutex> lock(mu_);
  const PrinterRecord* p = FindPrinter(fingerprint);
  if (p == nullptr) return {};
  size_t start = p->events.size() > n ? p->events.size() - n : 0;
  return std::vector<RecordedEvent>(p->events.begin() + static_cast<ptrdiff_t>(start),
                                    p->events.end());
}

std::vector<TelemetryRecord> Emulator::Impl::GetTelemetry(std::string_view fingerprint) const {
  std::lock_guard<std::mutex> lock(mu_);
  const PrinterRecord* p = FindPrinter(fingerprint);
  if (p == nullptr) return {};
  return std::vector<TelemetryRecord>(p->telemetry_history.begin(), p->telemetry_history.end());
}

std::vector<ProtocolError> Emulator::Impl::ProtocolErrors(std::string_view fingerprint,
                                                          uint64_t since_seq) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<ProtocolError> out;
  for (const ProtocolError& e : protocol_errors_) {
    if (e.seq > since_seq && (fingerprint.empty() || e.fingerprint == fingerprint)) {
      out.push_back(e);
    }
  }
  return out;
}

std::vector<CameraInfo> Emulator::Impl::Cameras() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<CameraInfo> out;
  for (const auto& [fp, c] : cameras_) out.push_back(c.info);
  return out;
}

std::vector<RequestLogEntry> Emulator::Impl::RequestLog(uint64_t since_seq, size_t limit) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<RequestLogEntry> out;
  auto it = std::upper_bound(log_.begin(), log_.end(), since_seq,
                             [](uint64_t s, const RequestLogEntry& e) { return s < e.seq; });
  for (; it != log_.end() && out.size() < limit; ++it) out.push_back(*it);
  return out;
}

EmulatorStats Emulator::Impl::Stats() const {
  EmulatorStats s;
  {
    std::lock_guard<std::mutex> lock(mu_);
    s.requests = requests_total_;
    s.by_path = stats_;
    s.telemetry = telemetry_total_;
    s.events = events_total_;
  }
  if (server_ != nullptr) s.server = server_->stats();
  return s;
}

bool Emulator::Impl::WaitFor(const std::function<bool()>& pred, absl::Duration timeout) {
  auto deadline = std::chrono::steady_clock::now() +
                  absl::ToChronoNanoseconds(std::min(timeout, absl::Hours(24 * 365)));
  for (;;) {
    uint64_t generation;
    {
      std::lock_guard<std::mutex> lock(mu_);
      generation = generation_;
    }
    // Evaluated without the lock so it may call any public method.
    if (pred()) return true;
    bool changed;
    {
      std::unique_lock<std::mutex> lock(mu_);
      changed = cv_.wait_until(lock, deadline, [&] { return generation_ != generation; });
    }
    if (!changed) return pred();
  }
}

void Emulator::Impl::Reset() {
  bool refuse;
  {
    std::lock_guard<std::mutex> lock(mu_);
    refuse = manual_pause_ || std::any_of(faults_.begin(), faults_.end(), [](const FaultEntry& f) {
               return f.info.rule.kind == FaultKind::kRefuse;
             });
    manual_pause_ = false;
    printers_.clear();
    by_token_.clear();
    codes_.clear();
    cameras_.clear();
    camera_by_token_.clear();
    files_.clear();
    faults_.clear();
    log_.clear();
    log_dropped_ = 0;
    protocol_errors_.clear();
    protocol_errors_dropped_ = 0;
    requests_total_ = 0;
    telemetry_total_ = 0;
    events_total_ = 0;
    stats_.clear();
    Notify();
  }
  if (refuse) SyncListener();
}

bool Emulator::Impl::DeletePrinter(std::string_view fingerprint) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = printers_.find(fingerprint);
  if (it == printers_.end()) return false;
  by_token_.erase(it->second->token);
  printers_.erase(it);
  Notify();
  return true;
}

// ---- Emulator ----

Emulator::Emulator(EmulatorOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}
Emulator::~Emulator() { impl_->Stop(); }
absl::Status Emulator::Start() { return impl_->Start(); }
void Emulator::Stop() { impl_->Stop(); }
uint16_t Emulator::port() const { return impl_->port(); }
std::string Emulator::url() const { return impl_->url(); }
std::string Emulator::user_token() const { return impl_->user_token(); }

std::vector<RegistrationCodeInfo> Emulator::Codes() const { return impl_->Codes(); }
absl::StatusOr<std::string> Emulator::ApproveCode(std::string_view code) {
  return impl_->ApproveCode(code);
}
absl::StatusOr<std::string> Emulator::PreregisterPrinter(std::string_view fingerprint,
                                                         std::string_view sn,
                                                         std::string_view printer_type,
                                                         std::string_view token) {
  return impl_->PreregisterPrinter(fingerprint, sn, printer_type, token);
}
absl::StatusOr<int64_t> Emulator::QueueCommand(std::string_view fingerprint, Command command) {
  return impl_->QueueCommand(fingerprint, std::move(command));
}
absl::Status Emulator::AddFile(FileSpec spec) { return impl_->AddFile(std::move(spec)); }
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
absl::Status Emulator::ResumeListening() { return impl_->ResumeListening(); }
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
