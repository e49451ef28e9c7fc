// Copyright 2026 The libprusaconnect Authors.
//
// Connect's user API, for the printers registered with the emulator: what
// a farm script or prusaconnect-cli talks to (docs/commands.md). The shapes
// follow the public description of Connect's API (the inferred OpenAPI of
// python-prusa-connect-sdk-client): bearer token, {"printers": [...]},
// {"commands": [CommandDefinition...]}, {"command", "kwargs"} to send, and
// errors as {"code", "message", "reason"}.
//
//   GET  /app/printers                                ?limit=N&offset=M
//   GET  /app/printers/{uuid}
//   GET  /app/printers/{uuid}/supported-commands      (also .../commands)
//   POST /app/printers/{uuid}/commands/sync           {"command", "kwargs"?}
//   POST /app/printers/{uuid}/commands                (the same)
//
// A printer's supported commands are the definitions it declared in its
// INFO event ("supported_commands"), else the standard definitions. A sent
// command is checked against them as Connect would (400 with the reason)
// and queued for the printer's next telemetry answer.
#include <cstdlib>
#include <string>

#include "absl/strings/str_cat.h"
#include "emulator/emulator_impl.h"
#include "emulator/str_util.h"
#include "prusaconnect/commands.h"
#include "prusaconnect/json.h"

namespace prusaconnect::emulator {
namespace {

using prusaconnect::Json;

// A printer not heard from for this long is OFFLINE.
constexpr absl::Duration kOfflineAfter = absl::Seconds(30);
constexpr int64_t kDefaultLimit = 100;

HttpResponse UserError(int status, const char* code, std::string_view message,
                       std::string_view reason = {}) {
  Json body = Json::MakeObject({{"code", code}, {"message", std::string(message)}});
  if (!reason.empty()) body.set("reason", std::string(reason));
  return HttpResponse::Json(status, body.Dump());
}

// As Connect's other errors: JSON, with the methods allowed.
HttpResponse MethodNotAllowed(std::string_view allow) {
  HttpResponse r = UserError(405, "METHOD_NOT_ALLOWED", "Method not allowed.");
  r.headers.Add("Allow", std::string(allow));
  return r;
}

HttpResponse NotFoundPrinter(std::string_view uuid) {
  return UserError(404, "NOT_FOUND_PRINTER", "Printer not found.",
                   absl::StrCat("no printer ", AV(uuid)));
}

// A number from the last telemetry, under the same key, if it has one.
void CopyNumber(const Json& from, const char* key, Json* to) {
  const Json* v = from.find(key);
  if (v != nullptr && v->is_number()) to->set(key, *v);
}

int64_t QueryInt(const HttpRequest& request, const char* name, int64_t fallback) {
  std::optional<std::string> v = request.QueryParam(name);
  if (!v || v->empty()) return fallback;
  char* end = nullptr;
  long long n = std::strtoll(v->c_str(), &end, 10);
  return (*end == '\0' && n >= 0) ? n : -1;
}

}  // namespace

Emulator::Impl::PrinterRecord* Emulator::Impl::FindPrinterByUuid(std::string_view uuid) {
  for (auto& [fp, p] : printers_) {
    if (p->uuid == uuid) return p.get();
  }
  return nullptr;
}

void Emulator::Impl::NoteEventForUserApi(PrinterRecord& p, std::string_view event,
                                         std::string_view body) {
  if (event != "INFO") return;
  StatusOr<Json> doc = Json::Parse(body);
  if (!doc.ok()) return;
  const Json* data = doc->find("data");
  const Json* commands = data != nullptr ? data->find("supported_commands") : nullptr;
  // A later INFO without the key means the printer declares none any more.
  p.supported_commands = commands != nullptr && commands->is_array() ? commands->Dump() : "";
}

HttpResponse Emulator::Impl::HandleUserApi(const HttpRequest& request) {
  std::string_view auth = request.headers.Get("Authorization");
  if (auth != absl::StrCat("Bearer ", user_token_) || user_token_.empty()) {
    return UserError(401, "UNAUTHORIZED", "Missing or invalid security token");
  }
  const absl::Time now = Now();
  auto printer_json = [&](const PrinterRecord& p) {
    bool online = p.telemetry_count > 0 && now - p.last_seen < kOfflineAfter;
    std::string state = online && !p.state.empty() ? p.state : "OFFLINE";
    Json j = Json::MakeObject({{"uuid", p.uuid},
                               {"name", p.sn.empty() ? p.fingerprint : p.sn},
                               {"sn", p.sn},
                               {"fingerprint", p.fingerprint},
                               {"printer_type", p.printer_type},
                               {"firmware", p.firmware},
                               {"printer_state", state},
                               {"state", state},
                               {"connect_state", online ? "ONLINE" : "OFFLINE"}});
    if (p.telemetry_count > 0) {
      j.set("last_online", static_cast<int64_t>(absl::ToUnixSeconds(p.last_seen)));
    }
    StatusOr<Json> telemetry = Json::Parse(p.last_telemetry);
    if (telemetry.ok() && telemetry->is_object()) {
      Json temp = Json::MakeObject();
      CopyNumber(*telemetry, "temp_nozzle", &temp);
      CopyNumber(*telemetry, "temp_bed", &temp);
      CopyNumber(*telemetry, "target_nozzle", &temp);
      CopyNumber(*telemetry, "target_bed", &temp);
      if (temp.size() > 0) j.set("temp", std::move(temp));
      CopyNumber(*telemetry, "axis_z", &j);
      CopyNumber(*telemetry, "speed", &j);
      if (const Json* job = telemetry->find("job_id"); job != nullptr && job->is_int()) {
        Json info = Json::MakeObject({{"id", *job}});
        CopyNumber(*telemetry, "progress", &info);
        CopyNumber(*telemetry, "time_printing", &info);
        CopyNumber(*telemetry, "time_remaining", &info);
        j.set("job_info", std::move(info));
      }
    }
    return j;
  };
  auto definitions_of = [](const PrinterRecord& p) -> std::vector<CommandDefinition> {
    if (!p.supported_commands.empty()) {
      StatusOr<Json> list = Json::Parse(p.supported_commands);
      if (list.ok()) {
        StatusOr<std::vector<CommandDefinition>> d = ParseCommandDefinitions(*list);
        if (d.ok()) return *d;
      }
    }
    return StandardCommandDefinitions();
  };

  const std::string& path = request.path;
  const std::string& method = request.method;
  if (path == "/app/printers" || path == "/app/printers/") {
    if (method != "GET") return MethodNotAllowed("GET");
    int64_t limit = QueryInt(request, "limit", kDefaultLimit);
    int64_t offset = QueryInt(request, "offset", 0);
    if (limit < 0 || offset < 0) {
      return UserError(400, "BAD_REQUEST", "limit and offset are non-negative integers");
    }
    Json list = Json::MakeArray();
    int64_t index = 0;
    int64_t total = 0;
    for (const auto& [fp, p] : printers_) {
      if (p->token.empty()) continue;
      ++total;
      if (index++ < offset || static_cast<int64_t>(list.size()) >= limit) continue;
      list.push_back(printer_json(*p));
    }
    Json pager = Json::MakeObject({{"limit", limit}, {"offset", offset}, {"total", total}});
    return HttpResponse::Json(
        200, Json::MakeObject({{"printers", std::move(list)}, {"pager", std::move(pager)}}).Dump());
  }
  if (!StartsWith(path, "/app/printers/")) {
    return UserError(404, "NOT_FOUND", "Not found.", path);
  }
  std::string_view rest = std::string_view(path).substr(14);
  size_t slash = rest.find('/');
  std::string_view uuid = rest.substr(0, slash);
  std::string_view tail = slash == std::string_view::npos ? "" : rest.substr(slash);
  PrinterRecord* p = FindPrinterByUuid(uuid);
  if (p == nullptr || p->token.empty()) return NotFoundPrinter(uuid);
  if (tail.empty() || tail == "/") {
    if (method != "GET") return MethodNotAllowed("GET");
    return HttpResponse::Json(200, printer_json(*p).Dump());
  }
  if (tail == "/supported-commands" || (tail == "/commands" && method == "GET")) {
    if (method != "GET") return MethodNotAllowed("GET");
    return HttpResponse::Json(200,
                              Json::MakeObject({{"commands", ToJson(definitions_of(*p))}}).Dump());
  }
  if (tail == "/commands/sync" || tail == "/commands") {
    if (method != "POST") return MethodNotAllowed(tail == "/commands" ? "GET, POST" : "POST");
    StatusOr<Json> body = Json::Parse(request.body);
    if (!body.ok() || !body->is_object()) {
      return UserError(400, "BAD_REQUEST", "The body is not a JSON object.",
                       body.ok() ? "" : body.status().message());
    }
    const Json* command = body->find("command");
    if (command == nullptr || !command->is_string() || command->as_string().empty()) {
      return UserError(400, "BAD_REQUEST", "\"command\" (a string) is required.");
    }
    const std::string& name = command->as_string();
    std::vector<CommandDefinition> definitions = definitions_of(*p);
    const CommandDefinition* d = FindCommand(definitions, name);
    if (d == nullptr) {
      return UserError(
          400, "BAD_REQUEST",
          absl::StrCat("Command '", name, "' is not supported by printer ", p->uuid, "."));
    }
    const Json* kw = body->find("kwargs");
    Json kwargs = kw != nullptr ? *kw : Json();
    State state = State::BUSY;
    bool known_state = !p->state.empty() && Parse(p->state, &state);
    ValidationOptions options;
    options.refuse_unknown_arguments = true;
    options.check_state = known_state;
    if (!known_state && !d->executable_from_state.empty()) {
      return UserError(400, "BAD_REQUEST",
                       absl::StrCat(name, " cannot run while the printer is OFFLINE"));
    }
    if (Status s = ValidateCommand(*d, &kwargs, state, options); !s.ok()) {
      return UserError(400, "BAD_REQUEST", s.message());
    }
    std::string kwargs_text = kwargs.size() > 0 ? kwargs.Dump() : "";
    StatusOr<int64_t> id = QueueLocked(*p, Command::Json(name, "", kwargs_text));
    if (!id.ok()) return UserError(500, "INTERNAL", std::string(id.status().message()));
    Notify();
    Json created = Json::MakeObject({{"id", *id},
                                     {"state", "CREATED"},
                                     {"command", name},
                                     {"source", "CONNECT_USER"},
                                     {"received", static_cast<int64_t>(absl::ToUnixSeconds(now))},
                                     {"kwargs", kwargs}});
    return HttpResponse::Json(200, Json::MakeObject({{"command", std::move(created)}}).Dump());
  }
  return UserError(404, "NOT_FOUND", "Not found.", path);
}

}  // namespace prusaconnect::emulator
