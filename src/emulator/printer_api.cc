// The printer-facing Connect endpoints (sdk-spec.md §1, §4.2, §8.5, §8.6,
// §14): registration, telemetry with command delivery, events, camera
// registration, snapshots and file downloads.

#include <cmath>

#include "absl/strings/str_cat.h"
#include "emulator/emulator_impl.h"
#include "emulator/str_util.h"
#include "emulator/text_util.h"

namespace prusaconnect::emulator {
namespace {

constexpr std::string_view kUserAgentPrefix = "Prusa-Connect-SDK-Printer/";

constexpr std::string_view kEvents[] = {
    "ACCEPTED",      "REJECTED",         "FAILED",           "FINISHED",
    "INFO",          "STATE_CHANGED",    "MEDIUM_EJECTED",   "MEDIUM_INSERTED",
    "FILE_CHANGED",  "FILE_INFO",        "JOB_INFO",         "TRANSFER_INFO",
    "MESH_BED_DATA", "TRANSFER_ABORTED", "TRANSFER_STOPPED", "TRANSFER_FINISHED",
    "SLOT_EVENT",
};
constexpr std::string_view kSources[] = {
    "CONNECT", "GUI", "WUI", "SERIAL", "GCODE", "MARLIN", "FIRMWARE", "HW", "USER", "SLOT",
};
constexpr std::string_view kStates[] = {
    "IDLE", "BUSY", "PRINTING", "PAUSED", "FINISHED", "STOPPED", "ERROR", "ATTENTION", "READY",
};
constexpr std::string_view kEventKeys[] = {
    "event",       "source", "data",  "command_id", "job_id",
    "transfer_id", "reason", "state", "dialog_id",
};

template <size_t N>
bool OneOf(std::string_view value, const std::string_view (&set)[N]) {
  for (std::string_view s : set) {
    if (s == value) return true;
  }
  return false;
}

std::string_view StringOf(const rapidjson::Value& v) {
  return std::string_view(v.GetString(), v.GetStringLength());
}

// "^\d+\.\d+\.\d+$"
bool IsVersionTriple(std::string_view s) {
  std::vector<std::string_view> parts = Split(s, '.');
  return parts.size() == 3 && IsAllDigits(parts[0]) && IsAllDigits(parts[1]) &&
         IsAllDigits(parts[2]);
}

// The Timestamp header: str() of a Python float on the 0.1 s grid, e.g.
// "1700000000.1000001", "1720000001.0" or a caller-supplied "24".
enum class TimestampCheck { kOk, kNotAFloat, kOffGrid };
TimestampCheck CheckTimestamp(std::string_view text) {
  if (text.empty() || text.size() > 64) return TimestampCheck::kNotAFloat;
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E')) {
      return TimestampCheck::kNotAFloat;
    }
  }
  double value = 0;
  if (!ParseDouble(text, &value) || !std::isfinite(value)) return TimestampCheck::kNotAFloat;
  double tenths = value * 10.0;
  double tolerance = std::max(1e-4, std::fabs(tenths) * 1e-12);
  if (std::fabs(tenths - std::round(tenths)) > tolerance) return TimestampCheck::kOffGrid;
  return TimestampCheck::kOk;
}

bool IsInteger(const rapidjson::Value& v) { return v.IsInt64() || v.IsUint64(); }

bool IsJsonContentType(std::string_view content_type) {
  return StartsWithIgnoreCase(TrimAscii(content_type), "application/json");
}

// Only plain names are looked up in the file store directory.
bool IsSafeFileName(std::string_view name) {
  if (name.empty() || name.size() > 255 || name.front() == '.') return false;
  for (char c : name) {
    bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              c == '-' || c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

HttpResponse Forbidden(std::string_view message) {
  return HttpResponse::Text(403, std::string(message));
}

HttpResponse MethodNotAllowed(std::string_view allow) {
  HttpResponse r = HttpResponse::Text(405, "Method Not Allowed");
  r.headers.Add("Allow", std::string(allow));
  return r;
}

}  // namespace

HttpResponse Emulator::Impl::HandlePrinterApi(const HttpRequest& request, bool malformed_command) {
  std::lock_guard<std::mutex> lock(mu_);
  const std::string& path = request.path;
  const std::string& method = request.method;
  if (path == "/p/register") {
    if (method == "POST") return PostRegister(request);
    if (method == "GET") return GetRegister(request);
    return MethodNotAllowed("GET, POST");
  }
  if (path == "/p/telemetry") {
    if (method == "POST") return PostTelemetry(request, malformed_command);
    return MethodNotAllowed("POST");
  }
  if (path == "/p/events") {
    if (method == "POST") return PostEvent(request);
    return MethodNotAllowed("POST");
  }
  if (path == "/p/camera") {
    if (method == "POST") return PostCamera(request);
    return MethodNotAllowed("POST");
  }
  if (path == "/c/snapshot") {
    if (method == "PUT") return PutSnapshot(request);
    return MethodNotAllowed("PUT");
  }
  if (StartsWith(path, "/p/teams/")) {
    if (method == "GET" || method == "HEAD") return GetFile(request);
    return MethodNotAllowed("GET, HEAD");
  }
  if (StartsWith(path, "/app/")) return HandleUserApi(request);
  return HttpResponse::Text(404, "Not Found");
}

void Emulator::Impl::CheckPrinterHeaders(const HttpRequest& request, PrinterRecord* printer) {
  std::string_view fingerprint = request.headers.Get("Fingerprint");
  auto error = [&](std::string message) {
    AddProtocolError(printer, fingerprint, request, std::move(message));
  };
  const std::string* ua = request.headers.Find("User-Agent");
  if (ua == nullptr) {
    error("missing User-Agent header");
  } else if (!StartsWith(*ua, kUserAgentPrefix)) {
    error(absl::StrCat("User-Agent does not start with ", AV(kUserAgentPrefix), ": ", *ua));
  }
  const std::string* uap = request.headers.Find("User-Agent-Printer");
  if (uap == nullptr) {
    error("missing User-Agent-Printer header");
  } else if (!IsVersionTriple(*uap)) {
    error(absl::StrCat("User-Agent-Printer is not <type>.<version>.<subversion>: ", *uap));
  }
  if (!request.headers.Has("User-Agent-Version")) error("missing User-Agent-Version header");
  const std::string* ts = request.headers.Find("Timestamp");
  if (ts == nullptr) {
    error("missing Timestamp header");
  } else {
    switch (CheckTimestamp(*ts)) {
      case TimestampCheck::kOk:
        break;
      case TimestampCheck::kNotAFloat:
        error(absl::StrCat("Timestamp is not a float: ", *ts));
        break;
      case TimestampCheck::kOffGrid:
        error(absl::StrCat("Timestamp is not on the 0.1 s grid: ", *ts));
        break;
    }
  }
  if (const std::string* adjusted = request.headers.Find("Clock-Adjusted"); adjusted != nullptr) {
    if (printer != nullptr) ++printer->clock_adjusted_count;
    if (*adjusted != "1") error(absl::StrCat("Clock-Adjusted is not \"1\": ", *adjusted));
  }
  if (printer != nullptr) {
    ++printer->request_count;
    printer->last_seen = Now();
  }
}

Emulator::Impl::PrinterRecord* Emulator::Impl::Authenticate(const HttpRequest& request,
                                                            HttpResponse* error) {
  const std::string* token = request.headers.Find("Token");
  std::string_view fingerprint = request.headers.Get("Fingerprint");
  if (token == nullptr) {
    AddProtocolError(nullptr, fingerprint, request, "missing Token header");
    *error = Forbidden("Invalid token");
    return nullptr;
  }
  auto it = by_token_.find(*token);
  if (it == by_token_.end()) {
    AddProtocolError(nullptr, fingerprint, request, "unknown Token");
    *error = Forbidden("Invalid token");
    return nullptr;
  }
  PrinterRecord* p = it->second;
  const std::string* fp = request.headers.Find("Fingerprint");
  if (fp == nullptr) {
    AddProtocolError(p, p->fingerprint, request, "missing Fingerprint header");
    *error = Forbidden("Missing fingerprint");
    return nullptr;
  }
  if (*fp != p->fingerprint) {
    AddProtocolError(p, p->fingerprint, request,
                     absl::StrCat("Fingerprint does not match the token's printer: ", *fp));
    *error = Forbidden("Invalid fingerprint");
    return nullptr;
  }
  CheckPrinterHeaders(request, p);
  return p;
}

// ---- Registration ----

HttpResponse Emulator::Impl::PostRegister(const HttpRequest& request) {
  const std::string* header_fp = request.headers.Find("Fingerprint");
  PrinterRecord* known = header_fp != nullptr ? FindPrinter(*header_fp) : nullptr;
  CheckPrinterHeaders(request, known);
  auto reject = [&](std::string message) {
    AddProtocolError(known, header_fp != nullptr ? *header_fp : "", request,
                     absl::StrCat("register: ", message));
    return HttpResponse::Text(400, std::move(message));
  };
  if (header_fp == nullptr || header_fp->empty()) return reject("Missing Fingerprint header");
  rapidjson::Document doc;
  if (!ParseJson(request.body, &doc) || !doc.IsObject()) return reject("Invalid JSON body");
  for (const char* key : {"sn", "fingerprint", "printer_type", "firmware"}) {
    if (!doc.HasMember(key)) return reject(absl::StrCat("Missing key: ", key));
  }
  const rapidjson::Value& sn = doc["sn"];
  const rapidjson::Value& fp = doc["fingerprint"];
  const rapidjson::Value& type = doc["printer_type"];
  const rapidjson::Value& firmware = doc["firmware"];
  if (!sn.IsString() && !sn.IsNull()) return reject("sn must be a string");
  if (!fp.IsString() || fp.GetStringLength() == 0) {
    return reject("fingerprint must be a non-empty string");
  }
  if (!type.IsString() || !IsVersionTriple(StringOf(type))) {
    return reject(absl::StrCat("Invalid printer_type: ",
                               type.IsString() ? AV(StringOf(type)) : absl::string_view("?")));
  }
  if (!firmware.IsString() && !firmware.IsNull()) return reject("firmware must be a string");
  if (StringOf(fp) != *header_fp) {
    AddProtocolError(known, *header_fp, request,
                     "register: body fingerprint differs from the Fingerprint header");
  }
  if (!IsJsonContentType(request.headers.Get("Content-Type"))) {
    AddProtocolError(known, *header_fp, request, "register: Content-Type is not application/json");
  }

  CodeRecord record;
  record.info.code = NewCode();
  record.info.sn = sn.IsString() ? std::string(StringOf(sn)) : std::string();
  record.info.fingerprint = std::string(StringOf(fp));
  record.info.printer_type = std::string(StringOf(type));
  record.info.firmware = firmware.IsString() ? std::string(StringOf(firmware)) : std::string();
  record.info.created = Now();
  std::string code = record.info.code;
  codes_.emplace(code, std::move(record));
  if (options_.auto_approve) (void)ApproveLocked(code);  // a fresh code: cannot fail
  if (++registrations_since_gc_ >= 1024) {
    registrations_since_gc_ = 0;
    CollectCodes();
  }
  Notify();
  HttpResponse r = HttpResponse::Empty(200);
  r.headers.Add("Code", code);
  return r;
}

HttpResponse Emulator::Impl::GetRegister(const HttpRequest& request) {
  const std::string* header_fp = request.headers.Find("Fingerprint");
  CheckPrinterHeaders(request, header_fp != nullptr ? FindPrinter(*header_fp) : nullptr);
  const std::string* code = request.headers.Find("Code");
  if (code == nullptr) {
    AddProtocolError(nullptr, header_fp != nullptr ? *header_fp : "", request,
                     "register poll without Code header");
    return HttpResponse::Text(400, "Missing Code header");
  }
  auto it = codes_.find(*code);
  if (it == codes_.end()) return HttpResponse::Text(404, "Unknown code");
  CodeRecord& c = it->second;
  absl::Time now = Now();
  if (c.first_fetched.has_value()) {
    if (now - *c.first_fetched > options_.approved_code_grace) {
      codes_.erase(it);
      Notify();
      return HttpResponse::Text(404, "Unknown code");
    }
  } else if (now - c.info.created >= options_.code_lifetime) {
    c.info.expired = true;
    return HttpResponse::Text(410, "Code expired");
  }
  if (!c.info.approved) return HttpResponse::Empty(202);
  if (!c.first_fetched.has_value()) {
    c.first_fetched = now;
    Notify();
  }
  HttpResponse r = HttpResponse::Empty(200);
  r.headers.Add("Token", c.info.token);
  return r;
}

// ---- Telemetry and events ----

HttpResponse Emulator::Impl::PostTelemetry(const HttpRequest& request, bool malformed_command) {
  HttpResponse error;
  PrinterRecord* p = Authenticate(request, &error);
  if (p == nullptr) return error;
  rapidjson::Document doc;
  if (!ParseJson(request.body, &doc) || !doc.IsObject()) {
    AddProtocolError(p, p->fingerprint, request, "telemetry body is not a JSON object");
    Notify();
    return HttpResponse::Text(400, "Invalid telemetry");
  }
  if (!IsJsonContentType(request.headers.Get("Content-Type"))) {
    AddProtocolError(p, p->fingerprint, request, "telemetry Content-Type is not application/json");
  }
  auto state = doc.FindMember("state");
  if (state == doc.MemberEnd()) {
    AddProtocolError(p, p->fingerprint, request, "telemetry without state");
  } else if (!state->value.IsString() || !OneOf(StringOf(state->value), kStates)) {
    AddProtocolError(p, p->fingerprint, request, "telemetry with an invalid state");
  }
  if (auto id = doc.FindMember("command_id"); id != doc.MemberEnd()) {
    if (id->value.IsInt64()) {
      ++p->telemetry_with_command_id;
      p->last_telemetry_command_id = id->value.GetInt64();
    } else {
      AddProtocolError(p, p->fingerprint, request, "telemetry command_id is not an integer");
    }
  } else {
    p->last_telemetry_command_id.reset();
  }
  if (state != doc.MemberEnd() && state->value.IsString()) p->state = StringOf(state->value);
  ++p->telemetry_count;
  ++telemetry_total_;
  p->last_telemetry = request.body;
  p->last_telemetry_timestamp = std::string(request.headers.Get("Timestamp"));
  TelemetryRecord record;
  record.seq = next_telemetry_seq_++;
  record.timestamp = p->last_telemetry_timestamp;
  record.received = Now();
  record.json = request.body;
  p->telemetry_history.push_back(std::move(record));
  while (p->telemetry_history.size() > options_.telemetry_history_per_printer) {
    p->telemetry_history.pop_front();
  }
  Notify();

  if (malformed_command) {
    HttpResponse r;
    r.status = 200;
    r.headers.Add("Command-Id", std::to_string(next_command_id_++));
    r.headers.Add("Content-Type", "application/json");
    r.body = R"({"command": "SEND_INFO", "args": [)";
    return r;
  }
  if (!p->queue.empty()) {
    QueuedCommand next = std::move(p->queue.front());
    p->queue.pop_front();
    return CommandResponse(*p, std::move(next));
  }
  return HttpResponse::Empty(204);
}

HttpResponse Emulator::Impl::PostEvent(const HttpRequest& request) {
  HttpResponse error;
  PrinterRecord* p = Authenticate(request, &error);
  if (p == nullptr) return error;
  rapidjson::Document doc;
  std::string problem;
  if (!ParseJson(request.body, &doc) || !doc.IsObject()) {
    problem = "body is not a JSON object";
  } else {
    auto check_enum = [&](const char* key, auto& set) {
      auto m = doc.FindMember(key);
      if (m == doc.MemberEnd()) return absl::StrCat("missing ", key);
      if (!m->value.IsString() || !OneOf(StringOf(m->value), set)) {
        return absl::StrCat("invalid ", key);
      }
      return std::string();
    };
    problem = check_enum("event", kEvents);
    if (problem.empty()) problem = check_enum("source", kSources);
    if (problem.empty()) {
      auto data = doc.FindMember("data");
      if (data == doc.MemberEnd()) {
        problem = "missing data";
      } else if (!data->value.IsObject()) {
        problem = "data is not an object";
      }
    }
    for (const char* key : {"command_id", "job_id", "transfer_id"}) {
      auto m = doc.FindMember(key);
      if (problem.empty() && m != doc.MemberEnd() && !IsInteger(m->value)) {
        problem = absl::StrCat(key, " is not an integer");
      }
    }
    if (auto m = doc.FindMember("reason");
        problem.empty() && m != doc.MemberEnd() && !m->value.IsString()) {
      problem = "reason is not a string";
    }
    if (auto m = doc.FindMember("dialog_id");
        problem.empty() && m != doc.MemberEnd() && !IsInteger(m->value) && !m->value.IsString()) {
      problem = "dialog_id is not an integer or string";
    }
    if (auto m = doc.FindMember("state");
        problem.empty() && m != doc.MemberEnd() &&
        (!m->value.IsString() || !OneOf(StringOf(m->value), kStates))) {
      problem = "invalid state";
    }
  }
  if (!problem.empty()) {
    AddProtocolError(p, p->fingerprint, request, absl::StrCat("invalid event: ", problem));
    Notify();
    return HttpResponse::Text(400, absl::StrCat("Invalid event: ", problem));
  }
  for (auto m = doc.MemberBegin(); m != doc.MemberEnd(); ++m) {
    std::string_view key = StringOf(m->name);
    if (!OneOf(key, kEventKeys)) {
      AddProtocolError(p, p->fingerprint, request,
                       absl::StrCat("event has an unexpected top-level key: ", AV(key)));
    }
  }
  if (!IsJsonContentType(request.headers.Get("Content-Type"))) {
    AddProtocolError(p, p->fingerprint, request, "event Content-Type is not application/json");
  }

  RecordedEvent e;
  e.seq = next_event_seq_++;
  e.timestamp = std::string(request.headers.Get("Timestamp"));
  e.received = Now();
  e.event = std::string(StringOf(doc["event"]));
  e.source = std::string(StringOf(doc["source"]));
  auto optional_int = [&](const char* key) -> std::optional<int64_t> {
    auto m = doc.FindMember(key);
    if (m != doc.MemberEnd() && m->value.IsInt64()) return m->value.GetInt64();
    return std::nullopt;
  };
  e.command_id = optional_int("command_id");
  e.job_id = optional_int("job_id");
  e.transfer_id = optional_int("transfer_id");
  if (auto m = doc.FindMember("state"); m != doc.MemberEnd()) e.state = StringOf(m->value);
  if (auto m = doc.FindMember("reason"); m != doc.MemberEnd()) e.reason = StringOf(m->value);
  e.json = request.body;
  if (!e.state.empty()) p->state = e.state;
  NoteEventForUserApi(*p, e.event, request.body);
  p->events.push_back(std::move(e));
  ++p->event_count;
  ++events_total_;
  while (p->events.size() > options_.max_events_per_printer) {
    p->events.pop_front();
    ++p->events_dropped;
  }
  Notify();
  return HttpResponse::Empty(204);
}

// ---- Cameras ----

HttpResponse Emulator::Impl::PostCamera(const HttpRequest& request) {
  HttpResponse error;
  PrinterRecord* p = Authenticate(request, &error);
  if (p == nullptr) return error;
  rapidjson::Document doc;
  if (!ParseJson(request.body, &doc) || !doc.IsObject()) {
    AddProtocolError(p, p->fingerprint, request, "camera registration is not a JSON object");
    Notify();
    return HttpResponse::Text(400, "Invalid JSON body");
  }
  auto fp = doc.FindMember("fingerprint");
  if (fp == doc.MemberEnd() || !fp->value.IsString() || fp->value.GetStringLength() == 0) {
    AddProtocolError(p, p->fingerprint, request, "camera registration without fingerprint");
    Notify();
    return HttpResponse::Text(400, "Missing camera fingerprint");
  }
  auto config = doc.FindMember("config");
  if (config == doc.MemberEnd() || !config->value.IsObject()) {
    AddProtocolError(p, p->fingerprint, request, "camera registration without a config object");
  }
  std::string camera_fp(StringOf(fp->value));
  auto [it, inserted] = cameras_.try_emplace(camera_fp);
  CameraInfo& cam = it->second.info;
  if (inserted) {
    cam.fingerprint = camera_fp;
    cam.token = NewToken(20);
    camera_by_token_[cam.token] = &it->second;
  }
  cam.printer_fingerprint = p->fingerprint;
  cam.registration_json = request.body;
  ++cam.registrations;
  Notify();
  HttpResponse r = HttpResponse::Empty(200);
  r.headers.Add("Token", cam.token);
  return r;
}

HttpResponse Emulator::Impl::PutSnapshot(const HttpRequest& request) {
  const std::string* token = request.headers.Find("Token");
  auto it = token != nullptr ? camera_by_token_.find(*token) : camera_by_token_.end();
  if (it == camera_by_token_.end()) {
    AddProtocolError(nullptr, request.headers.Get("Fingerprint"), request,
                     "snapshot with a missing or unknown camera token");
    return HttpResponse::Text(401, "Invalid token");
  }
  CameraInfo& cam = it->second->info;
  PrinterRecord* p = FindPrinter(cam.printer_fingerprint);
  const std::string* fp = request.headers.Find("Fingerprint");
  if (fp == nullptr) {
    AddProtocolError(p, cam.printer_fingerprint, request, "snapshot without Fingerprint header");
    return HttpResponse::Text(400, "Missing Fingerprint header");
  }
  if (cam.fingerprint.empty() && cam.printer_fingerprint.empty()) {
    // A standalone camera's first snapshot binds its fingerprint.
    if (fp->size() < 16 || fp->size() > 64) {
      AddProtocolError(p, "", request, "standalone camera fingerprint is not 16-64 characters");
      return HttpResponse::Text(400, "Invalid fingerprint");
    }
    cam.fingerprint = *fp;
  }
  if (*fp != cam.fingerprint) {
    AddProtocolError(p, cam.printer_fingerprint, request,
                     "snapshot Fingerprint does not match the camera");
    return Forbidden("Invalid fingerprint");
  }
  const std::string* ts = request.headers.Find("Timestamp");
  if (ts == nullptr) {
    AddProtocolError(p, cam.printer_fingerprint, request, "snapshot without Timestamp");
  } else if (CheckTimestamp(*ts) != TimestampCheck::kOk) {
    AddProtocolError(p, cam.printer_fingerprint, request,
                     absl::StrCat("snapshot Timestamp is not a float on the 0.1 s grid: ", *ts));
  }
  std::string_view content_type = request.headers.Get("Content-Type");
  if (content_type != "image/jpg") {
    AddProtocolError(p, cam.printer_fingerprint, request,
                     absl::StrCat("snapshot Content-Type is not image/jpg: ", AV(content_type)));
  }
  if (request.body.empty()) AddProtocolError(p, cam.printer_fingerprint, request, "empty snapshot");
  ++cam.snapshot_count;
  cam.last_snapshot_size = request.body.size();
  cam.last_content_type = std::string(content_type);
  cam.last_timestamp = ts != nullptr ? *ts : std::string();
  cam.last_printer_uuid = request.QueryParam("printer_uuid").value_or("");
  cam.last_snapshot = request.body;
  Notify();
  return HttpResponse::Empty(204);
}

// ---- Files ----

HttpResponse Emulator::Impl::GetFile(const HttpRequest& request) {
  // /p/teams/{team_id}/files/{hash}/raw
  std::vector<std::string_view> parts = Split(std::string_view(request.path).substr(1), '/');
  int64_t team = 0;
  if (parts.size() != 6 || parts[3] != "files" || parts[5] != "raw" || !IsAllDigits(parts[2]) ||
      !ParseInt(parts[2], &team) || parts[4].empty()) {
    return HttpResponse::Text(404, "Not Found");
  }
  std::string hash = UrlDecode(parts[4], false);
  FileSpec spec;
  FileInfo* info = nullptr;
  if (auto it = files_.find({team, hash}); it != files_.end()) {
    info = &it->second;
    spec = info->spec;
  } else if (!options_.file_store_dir.empty() && IsSafeFileName(hash)) {
    spec.path = absl::StrCat(options_.file_store_dir, "/", hash);
  }
  if (info == nullptr || !spec.public_file) {
    HttpResponse error;
    if (Authenticate(request, &error) == nullptr) return error;
  }
  if (info == nullptr && spec.path.empty()) return HttpResponse::Text(404, "File not found");
  std::shared_ptr<BodySource> source;
  if (spec.path.empty()) {
    source = GeneratedBody(spec.size, [](uint64_t offset, char* buf, size_t len) {
      for (size_t i = 0; i < len; ++i) buf[i] = static_cast<char>(GeneratedFileByte(offset + i));
    });
  } else {
    StatusOr<std::shared_ptr<BodySource>> file = OpenFileBody(spec.path);
    if (!file.ok()) return HttpResponse::Text(404, "File not found");
    source = *std::move(file);
  }
  int64_t nth = 0;
  if (info != nullptr) nth = ++info->requests;
  Notify();
  if (!spec.redirect_to.empty()) {
    HttpResponse redirect = HttpResponse::Empty(302);
    redirect.headers.Add("Location", spec.redirect_to);
    return redirect;
  }
  HttpRequest plain;
  const HttpRequest* req = &request;
  if (spec.no_ranges) {
    plain = request;
    plain.headers.Remove("Range");
    req = &plain;
  }
  HttpResponse r = MakeBodyResponse(*req, std::move(source), spec.content_type);
  if (spec.no_ranges) r.headers.Remove("Accept-Ranges");
  if (spec.drop_after_bytes && nth <= spec.drop_requests) {
    r.drop_after_body_bytes = spec.drop_after_bytes;
  }
  if (spec.omit_content_length) r.framing = BodyFraming::kCloseDelimited;
  r.throttle_bytes_per_sec = spec.throttle_bytes_per_sec;
  r.stall_after_body_bytes = spec.stall_after_bytes;
  return r;
}

}  // namespace prusaconnect::emulator
