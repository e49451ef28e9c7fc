// Copyright 2026 The libprusaconnect Authors.
//
// JobReporter: the part of a driver that is the same for every host — a
// snapshot of the host in, Connect's view out:
//   * the state, with the reason of an ERROR / ATTENTION, sent when it
//     changes (source CONNECT when Connect caused it, else the firmware's);
//   * a job id stable for the whole print, kept across bridge restarts in the
//     printer's state folder (StateDir), never reused;
//   * FINISHED / STOPPED held after a job until the user sets the printer
//     ready (or cancels that) or a new job starts;
//   * the telemetry, every time (the driver calls at its cadence);
//   * SET_PRINTER_READY, CANCEL_PRINTER_READY and SEND_JOB_INFO.
// The Moonraker and virtual drivers use it; the OctoPrint driver still has
// this logic inside octoprint_adapter::Adapter (issue #23 merges them).
//
// Thread safety: every method may be called from any thread.
#ifndef PRUSACONNECT_EXAMPLES_BRIDGE_JOB_REPORTER_H_
#define PRUSACONNECT_EXAMPLES_BRIDGE_JOB_REPORTER_H_

#include <prusaconnect/printer.h>

#include <functional>
#include <mutex>
#include <optional>
#include <string>

#include "identity.h"
#include "reported.h"

namespace bridge {

enum class HostState {
  kUnreachable,  // the host does not answer: ERROR with the reason
  kStarting,     // the firmware is starting (Klipper "startup"): BUSY
  kIdle,
  kBusy,
  kPrinting,
  kPaused,
  kFinished,   // the last job completed
  kStopped,    // the last job was cancelled
  kError,      // ERROR with the reason
  kAttention,  // the user must act (Klipper shutdown): ATTENTION
};

const char* HostStateName(HostState s);

struct HostSnapshot {
  HostState state = HostState::kUnreachable;
  std::string reason;  // of kUnreachable, kError, kAttention
  // The job's file relative to the storage ("prints/a.gcode"); "" if none.
  std::string job_file;
  std::optional<int64_t> job_size;
  prusaconnect::Telemetry telemetry;
};

class JobReporter {
 public:
  JobReporter(prusaconnect::Printer* printer, const octoprint_adapter::StateDir* state,
              std::string storage_name, std::string host_name);

  // Installs SET_PRINTER_READY, CANCEL_PRINTER_READY, SEND_JOB_INFO and the
  // printed-file callback.
  void InstallHandlers();
  // Called after every report (the status API); set before the first.
  void SetReportHook(hostio::ReportHook hook) { report_hook_ = std::move(hook); }
  // Reports `s`: state (when changed), job id, telemetry.
  void Report(const HostSnapshot& s);
  // The next state change is Connect's doing (call before asking the host;
  // take back with false when the host refused).
  void ConnectCauses(bool on);
  // The newest snapshot reported.
  HostSnapshot last() const;
  // "/<storage>/<job file>" of the running job, "" when none.
  std::string PrintedFile() const;
  const std::string& storage_name() const { return storage_name_; }

 private:
  prusaconnect::CommandResult SetReady(bool ready);
  prusaconnect::CommandResult JobInfo();

  prusaconnect::Printer* printer_;
  const octoprint_adapter::StateDir* state_;
  std::string storage_name_;
  std::string host_name_;
  hostio::ReportHook report_hook_;

  mutable std::mutex mu_;
  HostSnapshot last_;
  std::optional<prusaconnect::State> reported_;
  std::string reported_reason_;
  bool in_job_ = false;
  std::string job_file_;
  bool hold_cleared_ = false;  // FINISHED / STOPPED acknowledged
  prusaconnect::Source next_source_ = prusaconnect::Source::FIRMWARE;
};

// A host's job commands. `job` gets "stop", "pause" or "resume".
struct JobCommands {
  std::function<prusaconnect::CommandResult(const prusaconnect::CommandRequest&)> start;
  std::function<prusaconnect::CommandResult(const char* what)> job;
  std::function<prusaconnect::CommandResult(const prusaconnect::CommandRequest&)> gcode;
};

// Installs START_PRINT, STOP_PRINT, PAUSE_PRINT, RESUME_PRINT and GCODE on
// `printer`, each run with the printer's `name` in the log lines.
void InstallJobCommands(prusaconnect::Printer* printer, const std::string& name,
                        JobCommands commands);

}  // namespace bridge

#endif  // PRUSACONNECT_EXAMPLES_BRIDGE_JOB_REPORTER_H_
