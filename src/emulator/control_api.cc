// The emulator's control surface: the JSON API under /api/ (used by tests
// written in other languages, the soak tool and curl users), the page at /
// (connect.html: a small local Connect in the browser, on this API and the
// user API) and the server-rendered status page at /status with its approve
// form (/approve/{code}), which works without JavaScript.
//
// JSON API (all bodies are JSON; errors are {"error": "..."} with 4xx):
//   GET    /api/printers                       list of printers
//   POST   /api/printers                       {fingerprint, sn, printer_type, token?}
//                                              → {"token"}
//   GET    /api/printers/{fp}                  printer + events
//                                              (?events_since=SEQ&events_limit=N)
//   DELETE /api/printers/{fp}
//   GET    /api/printers/{fp}/events           ?since=SEQ&limit=N
//   GET    /api/printers/{fp}/telemetry        recent telemetry bodies
//   POST   /api/printers/{fp}/commands         {"command", "args"?, "kwargs"?, "command_id"?}
//                                              | {"gcode", "force"?, "command_id"?}
//                                              | {"raw": {"status", "headers"?, "body"?,
//                                                         "body_size"?}}
//                                              → {"command_id"}
//   GET    /api/codes
//   POST   /api/codes/{code}/approve           → {"token"}
//   GET    /api/files
//   POST   /api/files                          {team_id, hash, size | path, content_type?,
//                                               omit_content_length?, throttle_bytes_per_sec?,
//                                               stall_after_bytes?}
//   GET    /api/cameras
//   POST   /api/cameras                        → {"token"} of a standalone camera
//   GET    /api/faults
//   POST   /api/faults                         rule | [rule, ...] | {"rules": [...]}
//                                              → {"ids": [...]} (and "id" for one rule)
//   DELETE /api/faults                         remove all
//   DELETE /api/faults/{id}
//   GET    /api/log                            ?since=SEQ&limit=N
//   GET    /api/user-token                     → {"token"} of the user API (/app/...)
//   GET    /api/stats
//   GET    /api/protocol_errors                ?since=SEQ&fingerprint=FP
//   POST   /api/listener/pause | /api/listener/resume
//   POST   /api/reset
// A fault rule: {"kind": "status|drop|reset|slow|hang|refuse|malformed",
//   "path", "method", "token", "fingerprint", "count", "start_after_ms",
//   "duration_ms", "status", "body", "headers": {..}, "delay_ms",
//   "process_first"}.

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "connect_html.h"
#include "emulator/control_json.h"
#include "emulator/emulator_impl.h"
#include "emulator/str_util.h"
#include "emulator/text_util.h"

namespace prusaconnect::emulator {
namespace {

constexpr size_t kStatusPagePrinters = 50;
constexpr size_t kStatusPageEvents = 20;
constexpr size_t kDefaultLogLimit = 100;

HttpResponse JsonOk(const JsonWriter& w) { return HttpResponse::Json(200, w.str()); }

HttpResponse JsonError(int status, std::string_view message) {
  JsonWriter w;
  w.StartObject().Key("error").String(message).EndObject();
  return HttpResponse::Json(status, w.str());
}

HttpResponse StatusToResponse(const Status& status) {
  int code = 500;
  switch (status.code()) {
    case StatusCode::kNotFound:
      code = 404;
      break;
    case StatusCode::kInvalidArgument:
      code = 400;
      break;
    case StatusCode::kAlreadyExists:
      code = 409;
      break;
    case StatusCode::kFailedPrecondition:
      code = 410;
      break;
    case StatusCode::kResourceExhausted:
      code = 429;
      break;
    default:
      break;
  }
  return JsonError(code, SV(status.message()));
}

std::string FormatAge(absl::Duration d) {
  int64_t s = absl::ToInt64Seconds(d);
  if (s < 0) s = 0;
  if (s < 120) return absl::StrCat(s, " s");
  if (s < 7200) return absl::StrCat(s / 60, " min");
  return absl::StrCat(s / 3600, " h");
}

}  // namespace

bool Emulator::Impl::IsControlPath(std::string_view path) {
  return path == "/" || path == "/status" || path == "/favicon.ico" || StartsWith(path, "/api/") ||
         StartsWith(path, "/approve/");
}

HttpResponse Emulator::Impl::HandleControl(const HttpRequest& request) {
  const std::string& method = request.method;
  std::string_view path = request.path;

  if (path == "/") {
    if (method != "GET" && method != "HEAD") return JsonError(405, "use GET");
    return HttpResponse::Html(200, kConnectHtml);
  }
  if (path == "/status") {
    if (method == "GET" || method == "HEAD") return StatusPage();
    return JsonError(405, "use GET");
  }
  if (StartsWith(path, "/approve/")) {
    if (method != "POST") return JsonError(405, "use POST");
    std::string code = UrlDecode(path.substr(9), false);
    StatusOr<std::string> token = ApproveCode(code);
    if (!token.ok()) {
      return HttpResponse::Html(
          token.status().code() == StatusCode::kNotFound ? 404 : 410,
          absl::StrCat("<!DOCTYPE html><html><body><p>", HtmlEscape(SV(token.status().message())),
                       "</p><p><a href=\"/\">Back</a></p></body></html>"));
    }
    HttpResponse r = HttpResponse::Html(303, "<a href=\"/\">See Other</a>");
    r.headers.Add("Location", "/");
    return r;
  }
  if (!StartsWith(path, "/api/")) return JsonError(404, "not found");

  std::vector<std::string_view> parts = Split(path.substr(5), '/', /*skip_empty=*/true);
  auto body_json = [&](rapidjson::Document* doc) {
    return ParseJson(request.body.empty() ? std::string_view("{}") : std::string_view(request.body),
                     doc);
  };

  if (parts.size() == 1 && parts[0] == "printers") {
    if (method == "GET") {
      std::vector<PrinterInfo> printers = Printers();
      JsonWriter w;
      w.StartArray();
      for (const PrinterInfo& p : printers) {
        w.StartObject();
        WritePrinter(w, p);
        w.EndObject();
      }
      w.EndArray();
      return JsonOk(w);
    }
    if (method == "POST") {
      rapidjson::Document doc;
      if (!body_json(&doc) || !doc.IsObject()) return JsonError(400, "body must be a JSON object");
      Fields f(doc);
      std::string fingerprint, sn, type = "1.3.1", token;
      f.String("fingerprint", &fingerprint);
      f.String("sn", &sn);
      f.String("printer_type", &type);
      f.String("token", &token);
      if (!f.ok()) return JsonError(400, f.error());
      StatusOr<std::string> t = PreregisterPrinter(fingerprint, sn, type, token);
      if (!t.ok()) return StatusToResponse(t.status());
      JsonWriter w;
      w.StartObject().Key("token").String(*t).EndObject();
      return JsonOk(w);
    }
    return JsonError(405, "use GET or POST");
  }

  if (parts.size() >= 2 && parts[0] == "printers") {
    std::string fingerprint = UrlDecode(parts[1], false);
    if (parts.size() == 2) {
      if (method == "DELETE") {
        if (!DeletePrinter(fingerprint)) return JsonError(404, "unknown printer");
        return HttpResponse::Json(200, "{}");
      }
      if (method != "GET") return JsonError(405, "use GET or DELETE");
      std::optional<PrinterInfo> p = GetPrinter(fingerprint);
      if (!p.has_value()) return JsonError(404, "unknown printer");
      std::vector<RecordedEvent> events =
          GetEvents(fingerprint, QueryUint(request, "events_since", 0),
                    QueryUint(request, "events_limit", SIZE_MAX));
      JsonWriter w;
      w.StartObject();
      WritePrinter(w, *p);
      w.Key("events").StartArray();
      for (const RecordedEvent& e : events) WriteEvent(w, e);
      w.EndArray();
      w.EndObject();
      return JsonOk(w);
    }
    if (parts.size() == 3 && parts[2] == "events") {
      if (method != "GET") return JsonError(405, "use GET");
      if (!GetPrinter(fingerprint).has_value()) return JsonError(404, "unknown printer");
      std::vector<RecordedEvent> events = GetEvents(fingerprint, QueryUint(request, "since", 0),
                                                    QueryUint(request, "limit", SIZE_MAX));
      JsonWriter w;
      w.StartArray();
      for (const RecordedEvent& e : events) WriteEvent(w, e);
      w.EndArray();
      return JsonOk(w);
    }
    if (parts.size() == 3 && parts[2] == "telemetry") {
      if (method != "GET") return JsonError(405, "use GET");
      if (!GetPrinter(fingerprint).has_value()) return JsonError(404, "unknown printer");
      JsonWriter w;
      w.StartArray();
      for (const TelemetryRecord& t : GetTelemetry(fingerprint)) {
        w.StartObject();
        w.Key("seq").Uint(t.seq);
        w.Key("timestamp").String(t.timestamp);
        w.Key("received").Time(t.received);
        w.Key("telemetry").RawJson(t.json);
        w.EndObject();
      }
      w.EndArray();
      return JsonOk(w);
    }
    if (parts.size() == 3 && parts[2] == "commands") {
      if (method != "POST") return JsonError(405, "use POST");
      rapidjson::Document doc;
      if (!body_json(&doc)) return JsonError(400, "body must be JSON");
      StatusOr<Command> command = ParseCommand(doc);
      if (!command.ok()) return StatusToResponse(command.status());
      bool raw = command->kind == Command::Kind::kRaw;
      StatusOr<int64_t> id = QueueCommand(fingerprint, *std::move(command));
      if (!id.ok()) return StatusToResponse(id.status());
      JsonWriter w;
      w.StartObject().Key("command_id");
      if (raw && *id == 0) {
        w.Null();
      } else {
        w.Int(*id);
      }
      w.EndObject();
      return JsonOk(w);
    }
    return JsonError(404, "not found");
  }

  if (parts.size() == 1 && parts[0] == "codes") {
    if (method != "GET") return JsonError(405, "use GET");
    JsonWriter w;
    w.StartArray();
    for (const RegistrationCodeInfo& c : Codes()) WriteCode(w, c);
    w.EndArray();
    return JsonOk(w);
  }
  if (parts.size() == 3 && parts[0] == "codes" && parts[2] == "approve") {
    if (method != "POST") return JsonError(405, "use POST");
    StatusOr<std::string> token = ApproveCode(UrlDecode(parts[1], false));
    if (!token.ok()) return StatusToResponse(token.status());
    JsonWriter w;
    w.StartObject().Key("token").String(*token).EndObject();
    return JsonOk(w);
  }

  if (parts.size() == 1 && parts[0] == "files") {
    if (method == "GET") {
      JsonWriter w;
      w.StartArray();
      for (const FileInfo& f : Files()) WriteFile(w, f);
      w.EndArray();
      return JsonOk(w);
    }
    if (method != "POST") return JsonError(405, "use GET or POST");
    rapidjson::Document doc;
    if (!body_json(&doc) || !doc.IsObject()) return JsonError(400, "body must be a JSON object");
    Fields f(doc);
    FileSpec spec;
    int64_t num = 0;
    if (!f.Int("team_id", &spec.team_id) && f.ok()) return JsonError(400, "team_id is required");
    if (!f.String("hash", &spec.hash) && f.ok()) return JsonError(400, "hash is required");
    f.String("path", &spec.path);
    if (f.Int("size", &num)) {
      if (num < 0) return JsonError(400, "size must not be negative");
      spec.size = static_cast<uint64_t>(num);
    }
    f.String("content_type", &spec.content_type);
    f.Bool("omit_content_length", &spec.omit_content_length);
    if (f.Int("throttle_bytes_per_sec", &num) && num > 0) {
      spec.throttle_bytes_per_sec = static_cast<uint64_t>(num);
    }
    if (f.Int("stall_after_bytes", &num) && num >= 0) {
      spec.stall_after_bytes = static_cast<uint64_t>(num);
    }
    if (!f.ok()) return JsonError(400, f.error());
    Status status = AddFile(std::move(spec));
    if (!status.ok()) return StatusToResponse(status);
    return HttpResponse::Json(200, "{}");
  }

  if (parts.size() == 1 && parts[0] == "cameras" && method == "POST") {
    // A standalone camera, as Connect's "add another camera" makes one: a
    // token and no printer; the first snapshot binds its fingerprint.
    std::string token = NewToken(20);
    auto [it, inserted] = cameras_.try_emplace("standalone:" + token);
    (void)inserted;
    it->second.info.token = token;
    camera_by_token_[token] = &it->second;
    Notify();
    JsonWriter w;
    w.StartObject().Key("token").String(token).EndObject();
    return JsonOk(w);
  }
  if (parts.size() == 3 && parts[0] == "cameras" && parts[2] == "snapshot") {
    if (method != "GET") return JsonError(405, "use GET");
    std::string fingerprint = UrlDecode(parts[1], false);
    for (const CameraInfo& c : Cameras()) {
      if (c.fingerprint != fingerprint || c.last_snapshot.empty()) continue;
      HttpResponse r;
      r.status = 200;
      r.headers.Add("Content-Type", "image/jpeg");
      r.headers.Add("Cache-Control", "no-cache");
      r.body = c.last_snapshot;
      return r;
    }
    return JsonError(404, "no snapshot of that camera");
  }
  if (parts.size() == 1 && parts[0] == "cameras") {
    if (method != "GET") return JsonError(405, "use GET or POST");
    JsonWriter w;
    w.StartArray();
    for (const CameraInfo& c : Cameras()) WriteCamera(w, c);
    w.EndArray();
    return JsonOk(w);
  }

  if (parts.size() == 1 && parts[0] == "faults") {
    if (method == "GET") {
      JsonWriter w;
      w.StartArray();
      for (const FaultInfo& f : Faults()) WriteFault(w, f);
      w.EndArray();
      return JsonOk(w);
    }
    if (method == "DELETE") {
      ClearFaults();
      return HttpResponse::Json(200, "{}");
    }
    if (method != "POST") return JsonError(405, "use GET, POST or DELETE");
    rapidjson::Document doc;
    if (!body_json(&doc)) return JsonError(400, "body must be JSON");
    const rapidjson::Value* list = &doc;
    if (doc.IsObject() && doc.HasMember("rules")) list = &doc["rules"];
    std::vector<FaultRule> rules;
    if (list->IsArray()) {
      for (const rapidjson::Value& v : list->GetArray()) {
        StatusOr<FaultRule> rule = ParseFaultRule(v);
        if (!rule.ok()) return StatusToResponse(rule.status());
        rules.push_back(*std::move(rule));
      }
    } else {
      StatusOr<FaultRule> rule = ParseFaultRule(*list);
      if (!rule.ok()) return StatusToResponse(rule.status());
      rules.push_back(*std::move(rule));
    }
    std::vector<int64_t> ids = AddFaults(std::move(rules));
    JsonWriter w;
    w.StartObject();
    if (ids.size() == 1) w.Key("id").Int(ids[0]);
    w.Key("ids").StartArray();
    for (int64_t id : ids) w.Int(id);
    w.EndArray();
    w.EndObject();
    return JsonOk(w);
  }
  if (parts.size() == 2 && parts[0] == "faults") {
    if (method != "DELETE") return JsonError(405, "use DELETE");
    int64_t id = 0;
    if (!ParseInt(parts[1], &id) || !RemoveFault(id)) return JsonError(404, "unknown fault");
    return HttpResponse::Json(200, "{}");
  }

  if (parts.size() == 1 && parts[0] == "log") {
    if (method != "GET") return JsonError(405, "use GET");
    uint64_t since = QueryUint(request, "since", 0);
    size_t limit = static_cast<size_t>(
        std::min<uint64_t>(QueryUint(request, "limit", kDefaultLogLimit), 10000));
    std::vector<RequestLogEntry> entries = RequestLog(since, limit);
    uint64_t dropped;
    uint64_t last_seq;
    {
      std::lock_guard<std::mutex> lock(mu_);
      dropped = log_dropped_;
      last_seq = next_log_seq_ - 1;
    }
    JsonWriter w;
    w.StartObject();
    w.Key("entries").StartArray();
    for (const RequestLogEntry& e : entries) WriteLogEntry(w, e);
    w.EndArray();
    w.Key("next_since").Uint(entries.empty() ? since : entries.back().seq);
    w.Key("last_seq").Uint(last_seq);
    w.Key("dropped").Uint(dropped);
    w.EndObject();
    return JsonOk(w);
  }

  if (parts.size() == 1 && parts[0] == "user-token") {
    if (method != "GET") return JsonError(405, "use GET");
    JsonWriter w;
    w.StartObject().Key("token").String(user_token()).EndObject();
    return JsonOk(w);
  }

  if (parts.size() == 1 && parts[0] == "stats") {
    if (method != "GET") return JsonError(405, "use GET");
    EmulatorStats s = Stats();
    size_t printers;
    size_t codes;
    {
      std::lock_guard<std::mutex> lock(mu_);
      printers = printers_.size();
      codes = codes_.size();
    }
    JsonWriter w;
    w.StartObject();
    w.Key("requests").Uint(s.requests);
    w.Key("telemetry").Uint(s.telemetry);
    w.Key("events").Uint(s.events);
    w.Key("printers").Uint(printers);
    w.Key("codes").Uint(codes);
    w.Key("by_path").StartObject();
    for (const auto& [p, statuses] : s.by_path) {
      w.Key(p).StartObject();
      for (const auto& [status, count] : statuses) w.Key(std::to_string(status)).Uint(count);
      w.EndObject();
    }
    w.EndObject();
    w.Key("server").StartObject();
    w.Key("connections_accepted").Uint(s.server.connections_accepted);
    w.Key("connections_open").Uint(s.server.connections_open);
    w.Key("requests").Uint(s.server.requests);
    w.Key("responses").Uint(s.server.responses);
    w.Key("bytes_received").Uint(s.server.bytes_received);
    w.Key("bytes_sent").Uint(s.server.bytes_sent);
    w.EndObject();
    w.EndObject();
    return JsonOk(w);
  }

  if (parts.size() == 1 && parts[0] == "protocol_errors") {
    if (method != "GET") return JsonError(405, "use GET");
    JsonWriter w;
    w.StartArray();
    for (const ProtocolError& e : ProtocolErrors(request.QueryParam("fingerprint").value_or(""),
                                                 QueryUint(request, "since", 0))) {
      WriteProtocolError(w, e);
    }
    w.EndArray();
    return JsonOk(w);
  }

  if (parts.size() == 2 && parts[0] == "listener") {
    if (method != "POST") return JsonError(405, "use POST");
    if (parts[1] == "pause") {
      PauseListening();
      return HttpResponse::Json(200, "{}");
    }
    if (parts[1] == "resume") {
      Status status = ResumeListening();
      if (!status.ok()) return JsonError(409, SV(status.message()));
      return HttpResponse::Json(200, "{}");
    }
    return JsonError(404, "not found");
  }

  if (parts.size() == 1 && parts[0] == "reset") {
    if (method != "POST") return JsonError(405, "use POST");
    Reset();
    return HttpResponse::Json(200, "{}");
  }

  return JsonError(404, "not found");
}

HttpResponse Emulator::Impl::StatusPage() {
  std::vector<RegistrationCodeInfo> codes = Codes();
  std::vector<PrinterInfo> printers = Printers();
  EmulatorStats stats = Stats();
  absl::Time now = Now();

  std::string h;
  h.reserve(16 * 1024);
  absl::StrAppend(&h,
                  "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
                  "<meta http-equiv=\"refresh\" content=\"5\">"
                  "<title>Prusa Connect emulator</title><style>"
                  "body{font-family:sans-serif;margin:1em 2em}"
                  "table{border-collapse:collapse;margin-bottom:1em}"
                  "td,th{border:1px solid #ccc;padding:2px 6px;text-align:left;vertical-align:top}"
                  "pre{margin:0;white-space:pre-wrap;word-break:break-all;max-width:60em}"
                  "</style></head><body>\n<h1>Prusa Connect emulator</h1>\n<p>",
                  HtmlEscape(url()), " &middot; ", printers.size(), " printer(s) &middot; ",
                  stats.requests,
                  " request(s) &middot; <a href=\"/api/printers\">JSON</a> &middot; "
                  "<a href=\"/api/log\">request log</a></p>\n");

  h.append("<h2>Pending registrations</h2>\n");
  bool any_pending = false;
  for (const RegistrationCodeInfo& c : codes) {
    if (c.approved || c.expired) continue;
    if (!any_pending) {
      h.append(
          "<table><tr><th>Code</th><th>Fingerprint</th><th>SN</th><th>Type</th>"
          "<th>Firmware</th><th>Age</th><th></th></tr>\n");
      any_pending = true;
    }
    absl::StrAppend(&h, "<tr><td><code>", HtmlEscape(c.code), "</code></td><td>",
                    HtmlEscape(c.fingerprint), "</td><td>", HtmlEscape(c.sn), "</td><td>",
                    HtmlEscape(c.printer_type), "</td><td>", HtmlEscape(c.firmware), "</td><td>",
                    FormatAge(now - c.created), "</td><td><form method=\"post\" action=\"/approve/",
                    HtmlEscape(c.code),
                    "\"><button type=\"submit\">Approve</button></form></td></tr>\n");
  }
  h.append(any_pending ? "</table>\n" : "<p>None.</p>\n");

  h.append("<h2>Printers</h2>\n");
  if (printers.empty()) h.append("<p>None.</p>\n");
  size_t shown = 0;
  for (const PrinterInfo& p : printers) {
    if (shown++ == kStatusPagePrinters) {
      absl::StrAppend(&h, "<p>&hellip; and ", printers.size() - kStatusPagePrinters,
                      " more (see <a href=\"/api/printers\">/api/printers</a>).</p>\n");
      break;
    }
    absl::StrAppend(&h, "<h3>", HtmlEscape(p.fingerprint), "</h3>\n<table>", "<tr><th>SN</th><td>",
                    HtmlEscape(p.sn), "</td></tr><tr><th>Type</th><td>", HtmlEscape(p.printer_type),
                    "</td></tr><tr><th>Firmware</th><td>", HtmlEscape(p.firmware),
                    "</td></tr><tr><th>Token</th><td><code>", HtmlEscape(p.token),
                    "</code></td></tr><tr><th>Telemetry</th><td>", p.telemetry_count,
                    " received; last (Timestamp ", HtmlEscape(p.last_telemetry_timestamp),
                    "):<pre>", HtmlEscape(p.last_telemetry),
                    "</pre></td></tr><tr><th>Events</th><td>", p.event_count,
                    "</td></tr><tr><th>Queued commands</th><td>");
    for (const QueuedCommandInfo& c : p.queued_commands) {
      absl::StrAppend(&h, "#", c.command_id, " ", HtmlEscape(c.kind), " ", HtmlEscape(c.summary),
                      "<br>");
    }
    absl::StrAppend(&h, "</td></tr><tr><th>Protocol errors</th><td>", p.protocol_error_count);
    size_t first = p.protocol_errors.size() > 5 ? p.protocol_errors.size() - 5 : 0;
    for (size_t i = first; i < p.protocol_errors.size(); ++i) {
      absl::StrAppend(&h, "<br>", HtmlEscape(p.protocol_errors[i]));
    }
    h.append("</td></tr></table>\n");

    std::vector<RecordedEvent> events = GetLastEvents(p.fingerprint, kStatusPageEvents);
    if (!events.empty()) {
      h.append(
          "<table><tr><th>#</th><th>Timestamp</th><th>Event</th><th>Source</th>"
          "<th>Command</th><th>State</th><th>JSON</th></tr>\n");
      for (size_t i = events.size(); i-- > 0;) {
        const RecordedEvent& e = events[i];
        absl::StrAppend(&h, "<tr><td>", e.seq, "</td><td>", HtmlEscape(e.timestamp), "</td><td>",
                        HtmlEscape(e.event), "</td><td>", HtmlEscape(e.source), "</td><td>",
                        e.command_id.has_value() ? std::to_string(*e.command_id) : std::string(),
                        "</td><td>", HtmlEscape(e.state), "</td><td><pre>", HtmlEscape(e.json),
                        "</pre></td></tr>\n");
      }
      h.append("</table>\n");
    }
  }
  h.append("</body></html>\n");
  return HttpResponse::Html(200, std::move(h));
}

}  // namespace prusaconnect::emulator
