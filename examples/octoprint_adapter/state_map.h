// Copyright 2026 The libprusaconnect Authors.
//
// What OctoPrint says, as Prusa Connect wants to hear it: the printer state
// mapping and the telemetry sample. Pure functions over OctoPrint's JSON, so
// both sources (REST polling and the push socket's `current` messages) feed
// one Snapshot and every rule is unit tested.
//
// State mapping (docs/octoprint.md has the same table):
//
//   OctoPrint (flags first, then state text)      Connect
//   -------------------------------------------   ---------------------------
//   unreachable / Offline / Closed / Error /      ERROR (reason says which)
//     Offline after error (closedOrError)
//   Opening serial / Detecting / Connecting       BUSY
//   cancelling                                    BUSY (then STOPPED)
//   pausing, paused                               PAUSED
//   printing / starting / resuming / finishing    PRINTING
//   operational, not ready (e.g. SD transfer)     BUSY
//   operational and ready                         IDLE, or READY after
//                                                 SET_PRINTER_READY; right
//                                                 after a job FINISHED (done)
//                                                 or STOPPED (cancelled /
//                                                 failed) until the next print
//                                                 or readiness command
#ifndef PRUSACONNECT_EXAMPLES_OCTOPRINT_ADAPTER_STATE_MAP_H_
#define PRUSACONNECT_EXAMPLES_OCTOPRINT_ADAPTER_STATE_MAP_H_

#include <prusaconnect/const.h>
#include <prusaconnect/json.h>
#include <prusaconnect/models.h>

#include <cstdint>
#include <optional>
#include <string>

namespace octoprint_adapter {

// OctoPrint's view of the printer at one moment.
struct Snapshot {
  bool reachable = false;  // OctoPrint answered
  std::string state_text;  // "Printing", "Offline", ...
  prusaconnect::Json flags = prusaconnect::Json::MakeObject();
  std::string error;  // state.error
  std::optional<double> temp_nozzle, target_nozzle, temp_bed, target_bed;
  // The selected job.
  std::string file_name;  // "benchy.gcode"
  std::string file_path;  // "prints/benchy.gcode" (OctoPrint path, no storage)
  std::string file_origin;
  std::optional<int64_t> file_size;
  std::optional<int64_t> file_date;
  std::optional<double> estimated_print_time;
  std::optional<double> filament_mm;
  std::optional<double> completion;  // 0..100
  std::optional<int64_t> print_time;
  std::optional<int64_t> print_time_left;
  // Z: OctoPrint's `currentZ` (it follows the Z of sent G0/G1 moves and is
  // null after a file is selected, a print starts or is cancelled), else the
  // Z of the last M114 answer (PositionUpdate). Both are forgotten whenever
  // they may be stale: OctoPrint unreachable, the push socket down (REST
  // reports no Z), a new job.
  std::optional<double> current_z;
  std::optional<double> position_z;
};

// Forgets what OctoPrint no longer vouches for: temperatures and Z.
void ForgetLiveValues(Snapshot* s);

// Fills `s` from GET /api/printer (null when it answered 409 "not
// operational") and GET /api/job.
void ApplyRest(const prusaconnect::Json& printer, const prusaconnect::Json& job, Snapshot* s);
// Fills `s` from a push socket `current` (or `history`) payload; absent or
// empty parts (e.g. an empty `temps`) keep their previous values.
void ApplyCurrent(const prusaconnect::Json& current, Snapshot* s);

enum class OctoState {
  kUnreachable,
  kOffline,
  kError,
  kConnecting,
  kOperational,
  kBusy,
  kPrinting,
  kPausing,
  kPaused,
  kCancelling
};
// Flags first (they are exact), the state text when flags are missing.
OctoState ClassifyOcto(const Snapshot& s);
const char* OctoStateName(OctoState s);
// The Connect state of the table above, before the adapter's own overlay
// (READY / FINISHED / STOPPED on an idle printer).
prusaconnect::State MapState(OctoState s);
// True while a job exists in OctoPrint (printing, paused, pausing,
// cancelling).
bool HasJob(OctoState s);

// The telemetry sample: temperatures and targets always (when known);
// progress, time printing / remaining while a job runs; Z when known.
prusaconnect::Telemetry BuildTelemetry(const Snapshot& s, bool job_running);

// "1h 2m 3s" (gcode-metadata's format of estimated times).
std::string FormatDuration(int64_t seconds);

}  // namespace octoprint_adapter

#endif  // PRUSACONNECT_EXAMPLES_OCTOPRINT_ADAPTER_STATE_MAP_H_
