// Copyright 2026 The libprusaconnect Authors.
#include "moonraker_map.h"

#include <algorithm>
#include <cctype>
#include <cmath>

#include "saturate.h"

namespace bridge {

namespace pc = prusaconnect;

void MergeStatus(pc::Json* status, const pc::Json& delta) {
  if (!status->is_object()) *status = pc::Json::MakeObject();
  if (!delta.is_object()) return;
  for (const pc::Json::Member& object : delta.as_object()) {
    pc::Json& target = (*status)[object.key];
    if (!target.is_object() || !object.value.is_object()) {
      target = object.value;
      continue;
    }
    for (const pc::Json::Member& field : object.value.as_object()) {
      target.set(field.key, field.value);
    }
  }
}

namespace {

const pc::Json* Field(const pc::Json& status, const char* object, const char* field) {
  const pc::Json* o = status.find(object);
  if (o == nullptr || !o->is_object()) return nullptr;
  const pc::Json* f = o->find(field);
  return f != nullptr && !f->is_null() ? f : nullptr;
}

std::optional<double> Number(const pc::Json& status, const char* object, const char* field) {
  const pc::Json* f = Field(status, object, field);
  if (f == nullptr || !f->is_number()) return std::nullopt;
  return f->as_double();
}

std::string Text(const pc::Json& status, const char* object, const char* field) {
  const pc::Json* f = Field(status, object, field);
  return f != nullptr && f->is_string() ? f->as_string() : std::string();
}

double Round1(double v) { return std::round(v * 10) / 10; }

}  // namespace

HostSnapshot MoonrakerSnapshot(const MoonrakerView& v) {
  HostSnapshot s;
  if (!v.connected) {
    s.state = HostState::kUnreachable;
    s.reason = v.unreachable_why.empty() ? "Moonraker cannot be reached" : v.unreachable_why;
    return s;
  }
  const pc::Json& st = v.status;
  // Klippy first: webhooks.state is the freshest when subscribed.
  std::string klippy = Text(st, "webhooks", "state");
  std::string message = Text(st, "webhooks", "state_message");
  if (v.klippy_state != "ready" || klippy.empty()) klippy = v.klippy_state;
  if (message.empty()) message = v.klippy_message;
  // The first line: Klipper adds its generic advice ("Once the underlying
  // issue is corrected, use the FIRMWARE_RESTART command ...") below.
  message = message.substr(0, message.find('\n'));
  while (!message.empty() && (message.back() == '\r' || message.back() == ' ')) {
    message.pop_back();
  }
  bool restarting = v.restart_requested && std::chrono::steady_clock::now() - *v.restart_requested <
                                               std::chrono::minutes(1);
  if (klippy == "startup" || (restarting && klippy != "ready" && klippy != "error")) {
    s.state = HostState::kStarting;
  } else if (klippy == "shutdown") {
    s.state = HostState::kAttention;
    s.reason =
        "Klipper shut down: " + (message.empty() ? std::string("no reason given") : message) +
        " (FIRMWARE_RESTART, or RESET_PRINTER in Connect, brings it back)";
  } else if (klippy == "error") {
    s.state = HostState::kError;
    s.reason = "Klipper error: " + (message.empty() ? std::string("no reason given") : message);
  } else if (klippy != "ready") {
    s.state = HostState::kError;
    s.reason = "Klipper is not connected to Moonraker (klippy " +
               (klippy.empty() ? std::string("state unknown") : klippy) + ")";
  }
  if (klippy != "ready") {
    // Nothing below is current without Klippy.
    return s;
  }
  std::string ps = Text(st, "print_stats", "state");
  if (ps == "printing") {
    s.state = HostState::kPrinting;
  } else if (ps == "paused") {
    s.state = HostState::kPaused;
  } else if (ps == "complete") {
    s.state = HostState::kFinished;
  } else if (ps == "cancelled") {
    s.state = HostState::kStopped;
  } else if (ps == "error") {
    s.state = HostState::kError;
    std::string why = Text(st, "print_stats", "message");
    s.reason = "the print failed: " + (why.empty() ? std::string("no reason given") : why);
  } else {
    s.state = HostState::kIdle;
  }
  bool job = s.state == HostState::kPrinting || s.state == HostState::kPaused;
  s.job_file = Text(st, "print_stats", "filename");
  if (auto size = Number(st, "virtual_sdcard", "file_size"); size && job) {
    s.job_size = octoprint_adapter::SaturatingCast<int64_t>(*size);
  }
  pc::Telemetry& t = s.telemetry;
  if (auto x = Number(st, "extruder", "temperature")) t.temp_nozzle = Round1(*x);
  if (auto x = Number(st, "extruder", "target")) t.target_nozzle = *x;
  if (auto x = Number(st, "heater_bed", "temperature")) t.temp_bed = Round1(*x);
  if (auto x = Number(st, "heater_bed", "target")) t.target_bed = *x;
  const pc::Json* pos = Field(st, "toolhead", "position");
  if (pos != nullptr && pos->is_array() && pos->size() >= 3) {
    if ((*pos)[0].is_number()) t.axis_x = Round1((*pos)[0].as_double());
    if ((*pos)[1].is_number()) t.axis_y = Round1((*pos)[1].as_double());
    if ((*pos)[2].is_number()) t.axis_z = std::round((*pos)[2].as_double() * 100) / 100;
  }
  if (auto rpm = Number(st, "fan", "rpm"))
    t.fan_print = octoprint_adapter::SaturatingCast<int>(*rpm);
  if (auto f = Number(st, "gcode_move", "speed_factor")) {
    t.speed = octoprint_adapter::SaturatingCast<int>(std::round(*f * 100));
  }
  if (auto f = Number(st, "gcode_move", "extrude_factor")) {
    t.flow = octoprint_adapter::SaturatingCast<int>(std::round(*f * 100));
  }
  if (job) {
    std::optional<double> progress = Number(st, "display_status", "progress");
    if (!progress) progress = Number(st, "virtual_sdcard", "progress");
    std::optional<double> duration = Number(st, "print_stats", "print_duration");
    if (progress) {
      t.progress = octoprint_adapter::SaturatingCast<int>(std::floor(*progress * 100 + 1e-9));
    }
    if (duration) t.time_printing = octoprint_adapter::SaturatingCast<int64_t>(*duration);
    if (duration && v.estimated_time && *v.estimated_time > 0) {
      t.time_remaining =
          octoprint_adapter::SaturatingCast<int64_t>(std::max(0.0, *v.estimated_time - *duration));
    } else if (duration && progress && *progress > 0.001) {
      t.time_remaining =
          octoprint_adapter::SaturatingCast<int64_t>(*duration / *progress - *duration);
    }
    if (auto used = Number(st, "print_stats", "filament_used")) t.filament = Round1(*used);
  }
  return s;
}

pc::Status MoonrakerError(const pc::Json& error) {
  const pc::Json* c = error.is_object() ? error.find("code") : nullptr;
  const pc::Json* m = error.is_object() ? error.find("message") : nullptr;
  int64_t code = c != nullptr && c->is_number() ? c->as_int() : 0;
  std::string message = m != nullptr && m->is_string() ? m->as_string() : error.Dump();
  switch (code) {
    case 404:
    case -32601:
      return pc::NotFoundError(message);
    case 401:
    case -32602:
      return pc::PermissionDeniedError(
          message +
          " (Moonraker refused the bridge: set api_key, or add this machine to "
          "[authorization] trusted_clients)");
    case 403:
      return pc::FailedPreconditionError(message);
    case 400:
      return pc::InvalidArgumentError(message);
    case 503:
      return pc::UnavailableError(message);
    default:
      return pc::InternalError("Moonraker error " + std::to_string(code) + ": " + message);
  }
}

octoprint_adapter::Identity IdentityFromSystemInfo(const pc::Json& info) {
  const pc::Json* si = info.find("system_info");
  const pc::Json& root = si != nullptr ? *si : info;
  const pc::Json* cpu = root.find("cpu_info");
  const pc::Json* serial = cpu != nullptr ? cpu->find("serial_number") : nullptr;
  if (serial != nullptr && serial->is_string()) {
    std::string s;
    for (char ch : serial->as_string()) {
      if (std::isalnum(static_cast<unsigned char>(ch)) != 0) s += ch;
    }
    // An all-zero serial is no serial (many boards).
    if (!s.empty() && s.find_first_not_of('0') != std::string::npos) {
      return {"KLIPPER-" + s, "board-serial"};
    }
  }
  const pc::Json* net = root.find("network");
  if (net != nullptr && net->is_object()) {
    for (const pc::Json::Member& iface : net->as_object()) {
      if (iface.key == "lo") continue;
      const pc::Json* mac = iface.value.find("mac_address");
      if (mac == nullptr || !mac->is_string()) continue;
      std::string hex;
      for (char ch : mac->as_string()) {
        if (std::isxdigit(static_cast<unsigned char>(ch)) != 0) hex += ch;
      }
      if (hex.size() == 12 && hex.find_first_not_of('0') != std::string::npos) {
        return {"KLIPPER-" + hex, "host-mac"};
      }
    }
  }
  return {};
}

std::vector<Webcam> WebcamsFromList(const pc::Json& result, const std::string& moonraker_url) {
  std::vector<Webcam> out;
  const pc::Json* list = result.find("webcams");
  if (list == nullptr || !list->is_array()) return out;
  // scheme://host (no port): where a relative snapshot URL lives.
  std::string origin;
  size_t scheme = moonraker_url.find("://");
  if (scheme != std::string::npos) {
    size_t end = moonraker_url.find('/', scheme + 3);
    std::string hostport = moonraker_url.substr(scheme + 3, end - (scheme + 3));
    size_t colon = hostport.rfind(':');
    if (colon != std::string::npos && hostport.find(']', colon) == std::string::npos) {
      hostport.resize(colon);
    }
    origin = moonraker_url.substr(0, scheme) + "://" + hostport;
  }
  for (const pc::Json& cam : list->as_array()) {
    const pc::Json* enabled = cam.find("enabled");
    if (enabled != nullptr && enabled->is_bool() && !enabled->as_bool()) continue;
    const pc::Json* url = cam.find("snapshot_url");
    if (url == nullptr || !url->is_string() || url->as_string().empty()) continue;
    Webcam w;
    const pc::Json* name = cam.find("name");
    const pc::Json* uid = cam.find("uid");
    w.name = name != nullptr && name->is_string() ? name->as_string() : "webcam";
    std::string key =
        uid != nullptr && uid->is_string() && !uid->as_string().empty() ? uid->as_string() : w.name;
    w.id = "moonraker-";
    for (char ch : key) {
      w.id += std::isalnum(static_cast<unsigned char>(ch)) != 0 || ch == '-' ? ch : '_';
    }
    const std::string& u = url->as_string();
    if (u.rfind("http://", 0) == 0 || u.rfind("https://", 0) == 0) {
      w.snapshot_url = u;
    } else if (!origin.empty()) {
      w.snapshot_url = origin + (u[0] == '/' ? "" : "/") + u;
    } else {
      continue;
    }
    out.push_back(std::move(w));
  }
  return out;
}

}  // namespace bridge
