// Copyright 2026 The libprusaconnect Authors.
#include "state_map.h"

#include <cmath>

#include "saturate.h"

namespace octoprint_adapter {

namespace pc = prusaconnect;

namespace {

std::optional<double> Number(const pc::Json* j) {
  if (j == nullptr || !j->is_number()) return std::nullopt;
  return j->as_double();
}

std::optional<int64_t> Int(const pc::Json* j) {
  if (j == nullptr || !j->is_number()) return std::nullopt;
  return static_cast<int64_t>(std::llround(j->as_double()));
}

std::string Str(const pc::Json* j) { return j != nullptr && j->is_string() ? j->as_string() : ""; }

bool Flag(const Snapshot& s, const char* name) {
  const pc::Json* f = s.flags.find(name);
  return f != nullptr && f->is_bool() && f->as_bool();
}

void ApplyTemps(const pc::Json& temps, Snapshot* s) {
  if (!temps.is_object()) return;
  if (const pc::Json* t = temps.find("tool0"); t != nullptr && t->is_object()) {
    if (auto v = Number(t->find("actual"))) s->temp_nozzle = v;
    s->target_nozzle = Number(t->find("target"));
  }
  if (const pc::Json* b = temps.find("bed"); b != nullptr && b->is_object()) {
    if (auto v = Number(b->find("actual"))) s->temp_bed = v;
    s->target_bed = Number(b->find("target"));
  }
}

void ApplyState(const pc::Json& state, Snapshot* s) {
  if (!state.is_object()) return;
  s->state_text = Str(state.find("text"));
  if (const pc::Json* f = state.find("flags"); f != nullptr && f->is_object()) {
    s->flags = *f;
  } else {
    s->flags = pc::Json::MakeObject();
  }
  s->error = Str(state.find("error"));
}

void ApplyJob(const pc::Json* job, const pc::Json* progress, Snapshot* s) {
  if (job != nullptr && job->is_object()) {
    const pc::Json* file = job->find("file");
    if (file != nullptr && file->is_object()) {
      s->file_name = Str(file->find("name"));
      s->file_path = Str(file->find("path"));
      s->file_origin = Str(file->find("origin"));
      s->file_size = Int(file->find("size"));
      s->file_date = Int(file->find("date"));
    }
    s->estimated_print_time = Number(job->find("estimatedPrintTime"));
    s->filament_mm.reset();
    if (const pc::Json* fil = job->find("filament"); fil != nullptr && fil->is_object()) {
      if (const pc::Json* t0 = fil->find("tool0"); t0 != nullptr && t0->is_object()) {
        s->filament_mm = Number(t0->find("length"));
      }
    }
  }
  if (progress != nullptr && progress->is_object()) {
    s->completion = Number(progress->find("completion"));
    s->print_time = Int(progress->find("printTime"));
    s->print_time_left = Int(progress->find("printTimeLeft"));
  }
}

}  // namespace

void ApplyRest(const pc::Json& printer, const pc::Json& job, Snapshot* s) {
  s->reachable = true;
  if (printer.is_object()) {
    if (const pc::Json* st = printer.find("state")) ApplyState(*st, s);
    if (const pc::Json* t = printer.find("temperature")) ApplyTemps(*t, s);
  } else {
    // 409: not operational; /api/job still tells the state text.
    s->flags = pc::Json::MakeObject();
    s->state_text = job.is_object() ? Str(job.find("state")) : "";
    s->error.clear();
    s->temp_nozzle.reset();
    s->target_nozzle.reset();
    s->temp_bed.reset();
    s->target_bed.reset();
  }
  if (job.is_object()) {
    ApplyJob(job.find("job"), job.find("progress"), s);
    if (!printer.is_object()) s->error = Str(job.find("error"));
  }
}

void ApplyCurrent(const pc::Json& current, Snapshot* s) {
  if (!current.is_object()) return;
  s->reachable = true;
  if (const pc::Json* st = current.find("state")) ApplyState(*st, s);
  ApplyJob(current.find("job"), current.find("progress"), s);
  if (const pc::Json* temps = current.find("temps");
      temps != nullptr && temps->is_array() && temps->size() > 0) {
    ApplyTemps((*temps)[temps->size() - 1], s);
  }
  if (const pc::Json* z = current.find("currentZ")) {
    if (z->is_number()) {
      s->current_z = z->as_double();
    } else {
      s->current_z.reset();  // null: OctoPrint does not know (new file, new job)
    }
  }
}

void ForgetLiveValues(Snapshot* s) {
  s->temp_nozzle.reset();
  s->target_nozzle.reset();
  s->temp_bed.reset();
  s->target_bed.reset();
  s->current_z.reset();
  s->position_z.reset();
}

OctoState ClassifyOcto(const Snapshot& s) {
  if (!s.reachable) return OctoState::kUnreachable;
  if (s.flags.is_object() && s.flags.size() > 0) {
    if (Flag(s, "error")) return OctoState::kError;
    if (Flag(s, "cancelling")) return OctoState::kCancelling;
    if (Flag(s, "pausing")) return OctoState::kPausing;
    if (Flag(s, "paused")) return OctoState::kPaused;
    if (Flag(s, "printing") || Flag(s, "finishing") || Flag(s, "resuming")) {
      return OctoState::kPrinting;
    }
    if (Flag(s, "operational")) {
      return Flag(s, "ready") ? OctoState::kOperational : OctoState::kBusy;
    }
    if (Flag(s, "closedOrError")) {
      return s.state_text.find("rror") != std::string::npos ? OctoState::kError
                                                            : OctoState::kOffline;
    }
  }
  const std::string& t = s.state_text;
  if (t.find("rror") != std::string::npos) return OctoState::kError;
  if (t == "Cancelling") return OctoState::kCancelling;
  if (t == "Pausing") return OctoState::kPausing;
  if (t == "Paused") return OctoState::kPaused;
  if (t.rfind("Printing", 0) == 0 || t.rfind("Starting", 0) == 0 || t == "Resuming" ||
      t == "Finishing") {
    return OctoState::kPrinting;
  }
  if (t == "Operational") return OctoState::kOperational;
  if (t.rfind("Opening", 0) == 0 || t.rfind("Detecting", 0) == 0 || t == "Connecting") {
    return OctoState::kConnecting;
  }
  if (t.find("SD") != std::string::npos) return OctoState::kBusy;
  return OctoState::kOffline;  // "Offline", "Closed", "" and anything unknown
}

const char* OctoStateName(OctoState s) {
  switch (s) {
    case OctoState::kUnreachable:
      return "unreachable";
    case OctoState::kOffline:
      return "offline";
    case OctoState::kError:
      return "error";
    case OctoState::kConnecting:
      return "connecting";
    case OctoState::kOperational:
      return "operational";
    case OctoState::kBusy:
      return "busy";
    case OctoState::kPrinting:
      return "printing";
    case OctoState::kPausing:
      return "pausing";
    case OctoState::kPaused:
      return "paused";
    case OctoState::kCancelling:
      return "cancelling";
  }
  return "?";
}

pc::State MapState(OctoState s) {
  switch (s) {
    case OctoState::kUnreachable:
    case OctoState::kOffline:
    case OctoState::kError:
      return pc::State::ERROR;
    case OctoState::kConnecting:
    case OctoState::kBusy:
    case OctoState::kCancelling:
      return pc::State::BUSY;
    case OctoState::kPrinting:
      return pc::State::PRINTING;
    case OctoState::kPausing:
    case OctoState::kPaused:
      return pc::State::PAUSED;
    case OctoState::kOperational:
      return pc::State::IDLE;
  }
  return pc::State::ERROR;
}

bool HasJob(OctoState s) {
  return s == OctoState::kPrinting || s == OctoState::kPausing || s == OctoState::kPaused ||
         s == OctoState::kCancelling;
}

pc::Telemetry BuildTelemetry(const Snapshot& s, bool job_running) {
  pc::Telemetry t;
  t.temp_nozzle = s.temp_nozzle;
  t.target_nozzle = s.target_nozzle;
  t.temp_bed = s.temp_bed;
  t.target_bed = s.target_bed;
  t.axis_z = s.current_z ? s.current_z : s.position_z;
  if (job_running) {
    if (s.completion) t.progress = SaturatingCast<int>(std::floor(*s.completion));
    t.time_printing = s.print_time;
    t.time_remaining = s.print_time_left;
  }
  return t;
}

std::string FormatDuration(int64_t seconds) {
  if (seconds < 0) seconds = 0;
  int64_t d = seconds / 86400, h = seconds / 3600 % 24, m = seconds / 60 % 60, sec = seconds % 60;
  std::string out;
  if (d > 0) out += std::to_string(d) + "d ";
  if (d > 0 || h > 0) out += std::to_string(h) + "h ";
  if (d > 0 || h > 0 || m > 0) out += std::to_string(m) + "m ";
  out += std::to_string(sec) + "s";
  return out;
}

}  // namespace octoprint_adapter
