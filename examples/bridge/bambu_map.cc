// Copyright 2026 The libprusaconnect Authors.
#include "bambu_map.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>

namespace bridge {

namespace pc = prusaconnect;

namespace {

// Iterating `(p ? *p : kNull).as_array()` walks nothing when p is null.
const pc::Json kNull;

double Round1(double v) { return std::round(v * 10) / 10; }

std::string Text(const pc::Json& print, const char* key) {
  const pc::Json* v = print.find(key);
  return v != nullptr && v->is_string() ? v->as_string() : "";
}

std::string Upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

const char* HmsSeverity(int64_t code) {
  switch ((code >> 16) & 0xFFFF) {
    case 1:
      return "fatal";
    case 2:
      return "serious";
    case 3:
      return "common";
    case 4:
      return "info";
    default:
      return "unknown";
  }
}

const char* HmsModule(int64_t attr) {
  switch ((attr >> 24) & 0xFF) {
    case 0x03:
      return "motion controller";
    case 0x05:
      return "mainboard";
    case 0x07:
      return "AMS";
    case 0x08:
      return "toolhead";
    case 0x0C:
      return "camera (xcam)";
    case 0x12:
      return "AMS lite";
    default:
      return "printer";
  }
}

// The worst HMS entry: its text, and its severity (1 fatal … 4 info; 0 none).
std::pair<std::string, int> WorstHms(const pc::Json& print) {
  const pc::Json* hms = print.find("hms");
  std::string text;
  int worst = 0;
  for (const pc::Json& e : (hms != nullptr ? *hms : kNull).as_array()) {
    const pc::Json* attr = e.find("attr");
    const pc::Json* code = e.find("code");
    if (attr == nullptr || code == nullptr || !attr->is_number() || !code->is_number()) continue;
    int severity = static_cast<int>((code->as_int() >> 16) & 0xFFFF);
    if (severity < 1 || severity > 4) severity = 4;
    if (worst == 0 || severity < worst) {
      worst = severity;
      std::string id = BambuHmsCode(attr->as_int(), code->as_int());
      text = std::string("HMS ") + id + " (" + HmsSeverity(code->as_int()) + ", " +
             HmsModule(attr->as_int()) +
             "): see https://wiki.bambulab.com/en/x1/troubleshooting/hmscode/" + id;
    }
  }
  return {text, worst};
}

std::string ErrorReason(int64_t print_error) {
  return "print error " + BambuErrorCode(print_error) +
         " (shown on the printer's screen; https://wiki.bambulab.com/en/hms/error-code)";
}

// The job's file on the SD card, relative to it ("" when not known).
std::string JobFile(const BambuView& v) {
  std::string subtask = Text(v.print, "subtask_name");
  if (!v.started_file.empty() && (v.started_subtask.empty() || subtask == v.started_subtask)) {
    return v.started_file;
  }
  // gcode_file names the file for a plain G-code job; a 3MF job names the
  // plate inside the archive ("Metadata/plate_1.gcode"), which is no file.
  std::string f = Text(v.print, "gcode_file");
  for (const char* prefix : {"file:///sdcard/", "ftp:///", "/sdcard/", "/mnt/sdcard/"}) {
    std::string p(prefix);
    if (f.rfind(p, 0) == 0) {
      f = f.substr(p.size());
      break;
    }
  }
  if (f.empty() || f[0] == '/' || f.find("Metadata/") != std::string::npos) return "";
  return f;
}

}  // namespace

void MergeReport(pc::Json* print, const pc::Json& delta) {
  if (!delta.is_object()) return;
  if (!print->is_object()) *print = pc::Json::MakeObject();
  for (const pc::Json::Member& m : delta.as_object()) {
    pc::Json* old = print->find(m.key);
    if (old != nullptr && old->is_object() && m.value.is_object()) {
      MergeReport(old, m.value);
    } else {
      print->set(m.key, m.value);
    }
  }
}

pc::Json BambuUsedFields(const pc::Json& report) {
  static const char* const kUsed[] = {"gcode_state",
                                      "mc_percent",
                                      "mc_remaining_time",
                                      "layer_num",
                                      "total_layer_num",
                                      "nozzle_temper",
                                      "nozzle_target_temper",
                                      "bed_temper",
                                      "bed_target_temper",
                                      "chamber_temper",
                                      "cooling_fan_speed",
                                      "heatbreak_fan_speed",
                                      "big_fan1_speed",
                                      "big_fan2_speed",
                                      "spd_lvl",
                                      "spd_mag",
                                      "gcode_file",
                                      "subtask_name",
                                      "gcode_start_time",
                                      "print_error",
                                      "hms"};
  pc::Json out = pc::Json::MakeObject();
  if (!report.is_object()) return out;
  for (const char* key : kUsed) {
    const pc::Json* v = report.find(key);
    if (v == nullptr) continue;
    if (std::string(key) == "hms" && v->is_array() && v->size() > 32) {
      pc::Json first = pc::Json::MakeArray();
      for (size_t i = 0; i < 32; ++i) first.push_back((*v)[i]);
      out.set(key, std::move(first));
    } else if (v->is_string() && v->as_string().size() > 512) {
      out.set(key, v->as_string().substr(0, 512));
    } else {
      out.set(key, *v);
    }
  }
  return out;
}

std::optional<double> BambuNumber(const pc::Json& print, const char* key) {
  const pc::Json* v = print.find(key);
  if (v == nullptr) return std::nullopt;
  double d;
  if (v->is_number()) {
    d = v->as_double();
  } else if (v->is_string() && !v->as_string().empty()) {
    const char* s = v->as_string().c_str();
    char* end = nullptr;
    d = std::strtod(s, &end);
    if (end == s) return std::nullopt;
  } else {
    return std::nullopt;
  }
  // No printer field is near 2^53; beyond, the integer conversions below
  // would overflow.
  if (!std::isfinite(d) || std::fabs(d) > 9e15) return std::nullopt;
  return d;
}

std::string BambuModel(const std::string& serial) {
  static const struct {
    const char* prefix;
    const char* model;
  } kModels[] = {
      {"00M", "Bambu Lab X1 Carbon"}, {"00W", "Bambu Lab X1"},  {"03W", "Bambu Lab X1E"},
      {"01S", "Bambu Lab P1P"},       {"01P", "Bambu Lab P1S"}, {"030", "Bambu Lab A1 mini"},
      {"039", "Bambu Lab A1"},        {"22E", "Bambu Lab P2S"}, {"093", "Bambu Lab H2S"},
      {"094", "Bambu Lab H2D"},
  };
  for (const auto& m : kModels) {
    if (serial.rfind(m.prefix, 0) == 0) return m.model;
  }
  return "";
}

std::optional<int> BambuFanPercent(const pc::Json& value) {
  double step;
  if (value.is_number()) {
    step = value.as_double();
  } else if (value.is_string() && !value.as_string().empty()) {
    char* end = nullptr;
    step = std::strtod(value.as_string().c_str(), &end);
    if (end == value.as_string().c_str()) return std::nullopt;
  } else {
    return std::nullopt;
  }
  if (!std::isfinite(step)) return std::nullopt;
  step = std::min(15.0, std::max(0.0, step));
  return static_cast<int>(std::lround(step * 100 / 15));
}

std::string BambuErrorCode(int64_t print_error) {
  char buf[16];
  auto v = static_cast<uint32_t>(print_error);
  std::snprintf(buf, sizeof buf, "%04X_%04X", v >> 16, v & 0xFFFF);
  return buf;
}

std::string BambuHmsCode(int64_t attr, int64_t code) {
  char buf[32];
  auto a = static_cast<uint32_t>(attr);
  auto c = static_cast<uint32_t>(code);
  std::snprintf(buf, sizeof buf, "%04X_%04X_%04X_%04X", a >> 16, a & 0xFFFF, c >> 16, c & 0xFFFF);
  return buf;
}

const char* BambuSpeedLevelName(int64_t level) {
  switch (level) {
    case 1:
      return "silent";
    case 2:
      return "standard";
    case 3:
      return "sport";
    case 4:
      return "ludicrous";
    default:
      return "";
  }
}

HostSnapshot BambuSnapshot(const BambuView& v) {
  HostSnapshot s;
  if (!v.connected) {
    s.state = HostState::kUnreachable;
    s.reason = v.unreachable_why.empty() ? "the printer is not connected" : v.unreachable_why;
    return s;
  }
  if (!v.reported) {
    s.state = HostState::kStarting;
    return s;
  }
  const pc::Json& p = v.print;
  std::string state = Upper(Text(p, "gcode_state"));
  int64_t error = static_cast<int64_t>(BambuNumber(p, "print_error").value_or(0));
  std::pair<std::string, int> hms = WorstHms(p);
  if (state == "IDLE") {
    s.state = HostState::kIdle;
  } else if (state == "PREPARE" || state == "RUNNING") {
    s.state = HostState::kPrinting;
  } else if (state == "PAUSE") {
    s.state = HostState::kPaused;
    // The printer paused itself (filament runout, a clog, the door): the
    // user has to act.
    if (error != 0 && error != kBambuCancelled) {
      s.state = HostState::kAttention;
      s.reason = "the printer paused: " + ErrorReason(error);
    } else if (hms.second == 1 || hms.second == 2) {
      s.state = HostState::kAttention;
      s.reason = "the printer paused: " + hms.first;
    }
  } else if (state == "FINISH") {
    s.state = HostState::kFinished;
  } else if (state == "FAILED") {
    if (error != 0 && error != kBambuCancelled) {
      s.state = HostState::kError;
      s.reason = "the print failed: " + ErrorReason(error);
    } else {
      s.state = HostState::kStopped;
    }
  } else {
    // INIT, SLICING, or a state this bridge does not know yet.
    s.state = HostState::kBusy;
  }
  // A fatal HMS is an error whatever the job does.
  if (hms.second == 1 && s.state != HostState::kError) {
    s.state = HostState::kError;
    s.reason = hms.first;
  }
  if (s.state == HostState::kPrinting || s.state == HostState::kPaused ||
      s.state == HostState::kAttention || s.state == HostState::kFinished ||
      s.state == HostState::kStopped || s.state == HostState::kError) {
    s.job_file = JobFile(v);
  }

  pc::Telemetry& t = s.telemetry;
  if (auto x = BambuNumber(p, "nozzle_temper")) t.temp_nozzle = Round1(*x);
  if (auto x = BambuNumber(p, "nozzle_target_temper")) t.target_nozzle = Round1(*x);
  if (auto x = BambuNumber(p, "bed_temper")) t.temp_bed = Round1(*x);
  if (auto x = BambuNumber(p, "bed_target_temper")) t.target_bed = Round1(*x);
  if (auto x = BambuNumber(p, "chamber_temper")) t.extra.set("temp_chamber", Round1(*x));
  if (auto x = BambuNumber(p, "spd_mag")) t.speed = static_cast<int>(std::lround(*x));
  if (auto x = BambuNumber(p, "spd_lvl")) {
    const char* name = BambuSpeedLevelName(static_cast<int64_t>(*x));
    if (*name != '\0') t.extra.set("speed_level", name);
  }
  static const struct {
    const char* field;
    const char* key;
  } kFans[] = {{"cooling_fan_speed", "fan_print_percent"},
               {"heatbreak_fan_speed", "fan_hotend_percent"},
               {"big_fan1_speed", "fan_aux_percent"},
               {"big_fan2_speed", "fan_chamber_percent"}};
  for (const auto& f : kFans) {
    const pc::Json* raw = p.find(f.field);
    if (raw == nullptr) continue;
    if (std::optional<int> pct = BambuFanPercent(*raw)) t.extra.set(f.key, *pct);
  }
  if (s.state == HostState::kPrinting || s.state == HostState::kPaused ||
      s.state == HostState::kAttention) {
    if (auto x = BambuNumber(p, "mc_percent")) {
      t.progress = static_cast<int>(std::max(0.0, std::min(100.0, *x)));
    }
    if (auto x = BambuNumber(p, "mc_remaining_time"); x && *x >= 0) {
      t.time_remaining = static_cast<int64_t>(*x) * 60;
    }
    if (auto x = BambuNumber(p, "gcode_start_time"); x && *x > 0 && v.now > *x) {
      t.time_printing = static_cast<int64_t>(v.now - *x);
    }
    auto layer = BambuNumber(p, "layer_num");
    auto total = BambuNumber(p, "total_layer_num");
    if (layer) t.extra.set("layer", static_cast<int64_t>(*layer));
    if (total && *total > 0) t.extra.set("total_layers", static_cast<int64_t>(*total));
  } else if (s.state == HostState::kFinished) {
    t.progress = 100;
  }
  return s;
}

}  // namespace bridge
