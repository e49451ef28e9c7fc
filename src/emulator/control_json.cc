// Copyright 2026 The libprusaconnect Authors.
#include "emulator/control_json.h"

#include "emulator/str_util.h"

namespace prusaconnect::emulator {

std::string_view Str(const rapidjson::Value& v) {
  return std::string_view(v.GetString(), v.GetStringLength());
}

uint64_t QueryUint(const HttpRequest& request, std::string_view name, uint64_t fallback) {
  std::optional<std::string> v = request.QueryParam(name);
  uint64_t out = 0;
  if (v.has_value() && ParseInt(*v, &out)) return out;
  return fallback;
}

absl::Duration Millis(double ms) { return absl::Microseconds(static_cast<int64_t>(ms * 1000)); }

StatusOr<FaultRule> ParseFaultRule(const rapidjson::Value& v) {
  if (!v.IsObject()) return InvalidArgumentError("a fault rule must be an object");
  Fields f(v);
  FaultRule rule;
  std::string kind = "status";
  f.String("kind", &kind);
  if (!ParseFaultKind(kind, &rule.kind)) {
    return InvalidArgumentError(absl::StrCat("unknown fault kind: ", kind));
  }
  if (!f.String("path", &rule.path_prefix)) f.String("path_prefix", &rule.path_prefix);
  f.String("method", &rule.method);
  f.String("token", &rule.token);
  f.String("fingerprint", &rule.fingerprint);
  int64_t count = 0;
  if (f.Int("count", &count)) rule.count = count;
  double ms = 0;
  if (f.Number("start_after_ms", &ms)) rule.start_after = Millis(ms);
  if (f.Number("duration_ms", &ms)) rule.duration = Millis(ms);
  if (f.Number("delay_ms", &ms)) rule.delay = Millis(ms);
  int64_t status = 0;
  if (f.Int("status", &status)) rule.status = static_cast<int>(status);
  f.String("body", &rule.body);
  f.Headers("headers", &rule.headers);
  f.Bool("process_first", &rule.process_first);
  if (!f.ok()) return InvalidArgumentError(f.error());
  if (rule.status < 100 || rule.status > 999) return InvalidArgumentError("bad status");
  return rule;
}

void WriteHeaders(JsonWriter& w, const std::vector<std::pair<std::string, std::string>>& headers) {
  w.StartObject();
  for (const auto& [name, value] : headers) w.Key(name).String(value);
  w.EndObject();
}

void WriteOptionalInt(JsonWriter& w, const std::optional<int64_t>& v) {
  if (v.has_value()) {
    w.Int(*v);
  } else {
    w.Null();
  }
}

void WriteEvent(JsonWriter& w, const RecordedEvent& e) {
  w.StartObject();
  w.Key("seq").Uint(e.seq);
  w.Key("timestamp").String(e.timestamp);
  w.Key("received").Time(e.received);
  w.Key("event").String(e.event);
  w.Key("source").String(e.source);
  w.Key("command_id");
  WriteOptionalInt(w, e.command_id);
  w.Key("state").String(e.state);
  w.Key("body").RawJson(e.json);
  w.EndObject();
}

void WriteCommandInfo(JsonWriter& w, const QueuedCommandInfo& c) {
  w.StartObject();
  w.Key("command_id").Int(c.command_id);
  w.Key("kind").String(c.kind);
  w.Key("summary").String(c.summary);
  w.EndObject();
}

void WritePrinter(JsonWriter& w, const PrinterInfo& p) {
  w.Key("fingerprint").String(p.fingerprint);
  w.Key("sn").String(p.sn);
  w.Key("type").String(p.printer_type);
  w.Key("firmware").String(p.firmware);
  w.Key("token").String(p.token);
  w.Key("registered").Time(p.registered);
  w.Key("telemetry_count").Int(p.telemetry_count);
  w.Key("telemetry_with_command_id").Int(p.telemetry_with_command_id);
  w.Key("last_telemetry_command_id");
  WriteOptionalInt(w, p.last_telemetry_command_id);
  w.Key("last_telemetry").RawJson(p.last_telemetry);
  w.Key("last_telemetry_timestamp").String(p.last_telemetry_timestamp);
  w.Key("event_count").Int(p.event_count);
  w.Key("events_dropped").Int(p.events_dropped);
  w.Key("queued_commands").StartArray();
  for (const QueuedCommandInfo& c : p.queued_commands) WriteCommandInfo(w, c);
  w.EndArray();
  w.Key("delivered_commands").StartArray();
  for (const DeliveredCommand& c : p.delivered_commands) {
    w.StartObject();
    w.Key("command_id").Int(c.command.command_id);
    w.Key("kind").String(c.command.kind);
    w.Key("summary").String(c.command.summary);
    w.Key("delivered").Time(c.delivered);
    w.EndObject();
  }
  w.EndArray();
  w.Key("protocol_error_count").Int(p.protocol_error_count);
  w.Key("protocol_errors").StartArray();
  for (const std::string& e : p.protocol_errors) w.String(e);
  w.EndArray();
  w.Key("clock_adjusted_count").Int(p.clock_adjusted_count);
  w.Key("request_count").Int(p.request_count);
  w.Key("last_seen").Time(p.last_seen);
}

void WriteCode(JsonWriter& w, const RegistrationCodeInfo& c) {
  w.StartObject();
  w.Key("code").String(c.code);
  w.Key("sn").String(c.sn);
  w.Key("fingerprint").String(c.fingerprint);
  w.Key("printer_type").String(c.printer_type);
  w.Key("firmware").String(c.firmware);
  w.Key("created").Time(c.created);
  w.Key("state").String(c.approved ? "approved" : c.expired ? "expired" : "pending");
  if (c.approved) {
    w.Key("token").String(c.token);
  } else {
    w.Key("token").Null();
  }
  w.EndObject();
}

void WriteFault(JsonWriter& w, const FaultInfo& f) {
  const FaultRule& r = f.rule;
  w.StartObject();
  w.Key("id").Int(f.id);
  w.Key("kind").String(FaultKindName(r.kind));
  w.Key("path").String(r.path_prefix);
  w.Key("method").String(r.method);
  w.Key("token").String(r.token);
  w.Key("fingerprint").String(r.fingerprint);
  w.Key("count");
  WriteOptionalInt(w, r.count);
  w.Key("hits").Int(f.hits);
  w.Key("start_after_ms").Double(absl::ToDoubleMilliseconds(r.start_after));
  if (r.duration == absl::InfiniteDuration()) {
    w.Key("duration_ms").Null();
  } else {
    w.Key("duration_ms").Double(absl::ToDoubleMilliseconds(r.duration));
  }
  w.Key("status").Int(r.status);
  w.Key("body").String(r.body);
  w.Key("headers");
  WriteHeaders(w, r.headers);
  w.Key("delay_ms").Double(absl::ToDoubleMilliseconds(r.delay));
  w.Key("process_first").Bool(r.process_first);
  w.EndObject();
}

void WriteLogEntry(JsonWriter& w, const RequestLogEntry& e) {
  w.StartObject();
  w.Key("seq").Uint(e.seq);
  w.Key("time").Time(e.time);
  w.Key("latency_ms").Double(absl::ToDoubleMilliseconds(e.latency));
  w.Key("connection_id").Uint(e.connection_id);
  w.Key("request_index").Uint(e.request_index);
  w.Key("method").String(e.method);
  w.Key("path").String(e.target);
  w.Key("headers");
  WriteHeaders(w, e.headers);
  w.Key("body").String(e.body);
  w.Key("body_size").Uint(e.body_size);
  w.Key("status").Int(e.status);
  w.Key("response_headers");
  WriteHeaders(w, e.response_headers);
  w.Key("response_body").String(e.response_body);
  w.Key("fault").String(e.fault);
  w.EndObject();
}

void WriteFile(JsonWriter& w, const FileInfo& f) {
  w.StartObject();
  w.Key("team_id").Int(f.spec.team_id);
  w.Key("hash").String(f.spec.hash);
  w.Key("path").String(f.spec.path);
  w.Key("size").Uint(f.spec.size);
  w.Key("content_type").String(f.spec.content_type);
  w.Key("omit_content_length").Bool(f.spec.omit_content_length);
  w.Key("throttle_bytes_per_sec").Uint(f.spec.throttle_bytes_per_sec);
  w.Key("stall_after_bytes");
  if (f.spec.stall_after_bytes.has_value()) {
    w.Uint(*f.spec.stall_after_bytes);
  } else {
    w.Null();
  }
  w.Key("requests").Int(f.requests);
  w.EndObject();
}

void WriteCamera(JsonWriter& w, const CameraInfo& c) {
  w.StartObject();
  w.Key("fingerprint").String(c.fingerprint);
  w.Key("token").String(c.token);
  w.Key("printer_fingerprint").String(c.printer_fingerprint);
  // A standalone camera (POST /api/cameras) was never registered.
  if (c.registration_json.empty()) {
    w.Key("registration").Null();
  } else {
    w.Key("registration").RawJson(c.registration_json);
  }
  w.Key("registrations").Int(c.registrations);
  w.Key("snapshot_count").Int(c.snapshot_count);
  w.Key("last_snapshot_size").Uint(c.last_snapshot_size);
  w.Key("last_content_type").String(c.last_content_type);
  w.Key("last_timestamp").String(c.last_timestamp);
  w.Key("last_printer_uuid").String(c.last_printer_uuid);
  w.EndObject();
}

void WriteProtocolError(JsonWriter& w, const ProtocolError& e) {
  w.StartObject();
  w.Key("seq").Uint(e.seq);
  w.Key("time").Time(e.time);
  w.Key("fingerprint").String(e.fingerprint);
  w.Key("method").String(e.method);
  w.Key("path").String(e.path);
  w.Key("message").String(e.message);
  w.EndObject();
}

StatusOr<Command> ParseCommand(const rapidjson::Value& v) {
  if (!v.IsObject()) return InvalidArgumentError("body must be a JSON object");
  Fields f(v);
  Command c;
  int64_t id = 0;
  bool has_id = f.Int("command_id", &id);
  if (auto raw = v.FindMember("raw"); raw != v.MemberEnd()) {
    if (!raw->value.IsObject()) return InvalidArgumentError("raw must be an object");
    Fields rf(raw->value);
    c.kind = Command::Kind::kRaw;
    int64_t status = 200;
    rf.Int("status", &status);
    c.raw.status = static_cast<int>(status);
    rf.Headers("headers", &c.raw.headers);
    rf.String("body", &c.raw.body);
    int64_t body_size = 0;
    if (rf.Int("body_size", &body_size)) {
      if (body_size < 0 || body_size > (256 << 20)) {
        return InvalidArgumentError("body_size out of range");
      }
      c.raw.body.assign(static_cast<size_t>(body_size), 'x');
    }
    if (!rf.ok()) return InvalidArgumentError(absl::StrCat("raw.", rf.error()));
    if (c.raw.status < 100 || c.raw.status > 999) return InvalidArgumentError("bad status");
  } else if (f.String("gcode", &c.gcode)) {
    c.kind = Command::Kind::kGcode;
    f.Bool("force", &c.force);
  } else if (f.String("command", &c.command)) {
    c.kind = Command::Kind::kJson;
    if (auto args = v.FindMember("args"); args != v.MemberEnd() && !args->value.IsNull()) {
      if (!args->value.IsArray()) return InvalidArgumentError("args must be an array");
      c.args_json = ToJson(args->value);
    }
    if (auto kwargs = v.FindMember("kwargs"); kwargs != v.MemberEnd() && !kwargs->value.IsNull()) {
      if (!kwargs->value.IsObject()) return InvalidArgumentError("kwargs must be an object");
      c.kwargs_json = ToJson(kwargs->value);
    }
  } else {
    return InvalidArgumentError(f.ok() ? std::string("expected one of command, gcode or raw")
                                       : f.error());
  }
  if (!f.ok()) return InvalidArgumentError(f.error());
  if (has_id) c.command_id = id;
  return c;
}

}  // namespace prusaconnect::emulator
