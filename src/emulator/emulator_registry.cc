// Copyright 2026 The libprusaconnect Authors.
//
// The emulator's registry — printers, registration codes, tokens, queued
// commands, recent errors — and the C++ API tests use to read and drive it.
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

constexpr size_t kMaxRecentErrors = 100;
constexpr size_t kMaxQueuedCommands = 10000;

}  // namespace

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

StatusOr<std::string> Emulator::Impl::ApproveLocked(std::string_view code) {
  auto it = codes_.find(code);
  if (it == codes_.end()) return NotFoundError(absl::StrCat("unknown code ", AV(code)));
  RegistrationCodeInfo& info = it->second.info;
  if (info.approved) return info.token;
  if (Now() - info.created >= options_.code_lifetime) {
    info.expired = true;
    return FailedPreconditionError(absl::StrCat("code ", AV(code), " has expired"));
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

StatusOr<int64_t> Emulator::Impl::QueueLocked(PrinterRecord& printer, Command command) {
  if (printer.queue.size() >= kMaxQueuedCommands) {
    return ResourceExhaustedError("too many queued commands");
  }
  int64_t id = 0;
  switch (command.kind) {
    case Command::Kind::kJson: {
      if (command.command.empty()) return InvalidArgumentError("empty command name");
      rapidjson::Document doc;
      if (!command.args_json.empty() && (!ParseJson(command.args_json, &doc) || !doc.IsArray())) {
        return InvalidArgumentError("args must be a JSON array");
      }
      if (!command.kwargs_json.empty() &&
          (!ParseJson(command.kwargs_json, &doc) || !doc.IsObject())) {
        return InvalidArgumentError("kwargs must be a JSON object");
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

StatusOr<std::string> Emulator::Impl::ApproveCode(std::string_view code) {
  std::lock_guard<std::mutex> lock(mu_);
  return ApproveLocked(code);
}

StatusOr<std::string> Emulator::Impl::PreregisterPrinter(std::string_view fingerprint,
                                                         std::string_view sn,
                                                         std::string_view printer_type,
                                                         std::string_view token) {
  if (fingerprint.empty()) return InvalidArgumentError("empty fingerprint");
  std::lock_guard<std::mutex> lock(mu_);
  std::string t(token);
  if (t.empty()) {
    t = NewToken(20);
  } else {
    auto it = by_token_.find(t);
    if (it != by_token_.end() && it->second->fingerprint != fingerprint) {
      return AlreadyExistsError("token already belongs to another printer");
    }
    if (camera_by_token_.count(t) != 0) {
      return AlreadyExistsError("token already belongs to a camera");
    }
  }
  UpsertPrinter(fingerprint, sn, printer_type, "", t);
  return t;
}

StatusOr<int64_t> Emulator::Impl::QueueCommand(std::string_view fingerprint, Command command) {
  std::lock_guard<std::mutex> lock(mu_);
  PrinterRecord* p = FindPrinter(fingerprint);
  if (p == nullptr) return NotFoundError(absl::StrCat("unknown printer ", AV(fingerprint)));
  return QueueLocked(*p, std::move(command));
}

Status Emulator::Impl::AddFile(FileSpec spec) {
  if (spec.hash.empty() || spec.hash.find('/') != std::string::npos) {
    return InvalidArgumentError("hash must be non-empty and contain no '/'");
  }
  if (!spec.path.empty() && spec.path.front() != '/') {
    if (options_.file_store_dir.empty()) {
      return InvalidArgumentError("relative path without a file store directory");
    }
    spec.path = absl::StrCat(options_.file_store_dir, "/", spec.path);
  }
  if (!spec.path.empty()) {
    StatusOr<std::shared_ptr<BodySource>> probe = OpenFileBody(spec.path);
    if (!probe.ok()) return probe.status();
  }
  std::lock_guard<std::mutex> lock(mu_);
  FileInfo& info = files_[{spec.team_id, spec.hash}];
  info.spec = std::move(spec);
  info.requests = 0;
  Notify();
  return Status();
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

}  // namespace prusaconnect::emulator
