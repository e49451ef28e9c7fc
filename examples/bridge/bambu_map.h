// Copyright 2026 The libprusaconnect Authors.
//
// Pure pieces of the Bambu Lab driver (docs/bambu.md has the tables;
// tests/bridge/tables/bambu_states.json checks them):
//   * MergeReport: a push_status report (full or partial) into the cached
//     `print` object;
//   * BambuSnapshot: the cached object → the host snapshot (state with
//     reason, job file, telemetry);
//   * the model from the serial's prefix, fan steps → percent, print_error
//     and HMS codes → text.
#ifndef PRUSACONNECT_EXAMPLES_BRIDGE_BAMBU_MAP_H_
#define PRUSACONNECT_EXAMPLES_BRIDGE_BAMBU_MAP_H_

#include <prusaconnect/json.h>

#include <cstdint>
#include <optional>
#include <string>

#include "job_reporter.h"

namespace bridge {

struct BambuView {
  bool connected = false;       // the broker accepted us
  std::string unreachable_why;  // when not connected
  bool reported = false;        // a report arrived since connecting
  // The printer's merged `print` object.
  prusaconnect::Json print = prusaconnect::Json::MakeObject();
  // The SD card file this bridge started ("prints/a.3mf") and the job name
  // the printer gives it (subtask_name), to name the job's file.
  std::string started_file;
  std::string started_subtask;
  // Seconds since the epoch, for time_printing.
  double now = 0;
};

// Merges `delta` into `print`: objects merge field by field (recursively),
// anything else replaces. A non-object delta changes nothing.
void MergeReport(prusaconnect::Json* print, const prusaconnect::Json& delta);

// The fields of a report the bridge uses (the rest — AMS, camera, upgrade
// state… — is not kept: a printer's cached state stays small and bounded),
// with at most 32 HMS entries.
prusaconnect::Json BambuUsedFields(const prusaconnect::Json& report);

// The snapshot of the view (states table in docs/bambu.md).
HostSnapshot BambuSnapshot(const BambuView& view);

// "Bambu Lab P1S" for a serial starting 01P; "" for an unknown prefix.
std::string BambuModel(const std::string& serial);

// A fan's 0–15 step (a string or a number) → percent, rounded; nullopt when
// it is neither.
std::optional<int> BambuFanPercent(const prusaconnect::Json& value);

// print_error as Bambu shows it: 0x0300400C → "0300_400C".
std::string BambuErrorCode(int64_t print_error);
// An HMS entry as Bambu shows it: "0300_0100_0001_0007".
std::string BambuHmsCode(int64_t attr, int64_t code);

// The print_error Bambu uses for a job the user cancelled.
constexpr int64_t kBambuCancelled = 0x0300400C;

// "silent", "standard", "sport", "ludicrous"; "" otherwise.
const char* BambuSpeedLevelName(int64_t level);

// A field as a number: numbers, and strings of a number ("15", "-45"), as
// Bambu sends some numbers as strings.
std::optional<double> BambuNumber(const prusaconnect::Json& print, const char* key);

}  // namespace bridge

#endif  // PRUSACONNECT_EXAMPLES_BRIDGE_BAMBU_MAP_H_
