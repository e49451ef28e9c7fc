// Copyright 2026 The libprusaconnect Authors.
//
// Adapter: one OctoPrint-managed printer as one Connect Printer. It
//   * keeps a Snapshot of OctoPrint (REST polling, or the push socket's
//     `current` messages while the socket is up) and reports it: the state
//     (state_map.h), a job id stable for the whole print, telemetry at
//     Config::printing_interval_ms while a job runs and idle_interval_ms
//     otherwise;
//   * answers Connect's commands (print control, G-code, readiness, job
//     info) by calling OctoPrint; the file commands go through the
//     OctoPrintStorage provider;
//   * refreshes the storage when OctoPrint reports file changes.
//
// Threads: Run() is the poll loop (the caller's thread); command handlers run
// on the library's handler threads; push-socket callbacks on the socket's
// thread. Shared state is guarded by one mutex, never held while calling
// OctoPrint or the Printer.
#ifndef PRUSACONNECT_EXAMPLES_OCTOPRINT_ADAPTER_ADAPTER_H_
#define PRUSACONNECT_EXAMPLES_OCTOPRINT_ADAPTER_ADAPTER_H_

#include <prusaconnect/printer.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "config.h"
#include "identity.h"
#include "octoprint_client.h"
#include "octoprint_storage.h"
#include "push_client.h"
#include "reported.h"
#include "state_map.h"

namespace octoprint_adapter {

class Adapter : public PushSink {
 public:
  Adapter(const Config& config, std::shared_ptr<OctoPrintClient> client,
          prusaconnect::Printer* printer, const StateDir* state_dir);
  Adapter(const Adapter&) = delete;
  Adapter& operator=(const Adapter&) = delete;

  // Installs the command handlers and callbacks on the printer.
  void InstallHandlers();
  // Polls and reports until `stop` becomes true (checked at least every
  // 200 ms).
  void Run(const std::atomic<bool>& stop);
  // Wakes Run() for an immediate poll (and calls the wake hook).
  void Wake();
  // Called by Wake(): the bridge steps the adapter on its scheduler instead
  // of Run().
  void SetWakeHook(std::function<void()> hook);
  // Called after every report to Connect (the bridge's status API).
  void SetReportHook(hostio::ReportHook hook);
  // The delay to the next Step(): the printing or the idle interval.
  int64_t NextStepMs();
  // One line for `prusaconnect-bridge status`.
  std::string Describe();

  // Push socket feed (push_client.h): a `current`/`history` payload, an
  // event, and whether the socket is up.
  void OnCurrent(const prusaconnect::Json& current) override;
  void OnEvent(const std::string& type, const prusaconnect::Json& payload) override;
  void OnSocketUp(bool up) override;

  // One poll + report step (Run() calls it; tests may too).
  void Step();

 private:
  using Clock = std::chrono::steady_clock;
  prusaconnect::StatusOr<prusaconnect::CommandResult> StartPrint(
      const prusaconnect::CommandRequest& c);
  prusaconnect::StatusOr<prusaconnect::CommandResult> JobCommand(
      const prusaconnect::CommandRequest& c, const char* what);
  prusaconnect::StatusOr<prusaconnect::CommandResult> Gcode(const prusaconnect::CommandRequest& c);
  prusaconnect::StatusOr<prusaconnect::CommandResult> SetReady(bool ready);
  prusaconnect::StatusOr<prusaconnect::CommandResult> JobInfo();
  void OnDownloadFinished(const prusaconnect::TransferInfo& t);
  // The next state change is Connect's doing (source CONNECT). Set before
  // OctoPrint is asked — the push socket may report the change before the
  // request returns — and taken back when OctoPrint refused.
  void ConnectCauses(bool on, bool clear_hold = false);
  // Reports the snapshot: state changes, job id, telemetry.
  void Report(const Snapshot& s);
  void EnsureStorage();
  // After the serial connection dropped with an error ("Offline after
  // error"), asks OctoPrint to connect again, with backoff (5 s doubling to
  // 5 min). A printer the user disconnected ("Offline") is left alone.
  void MaybeReconnectPrinter(const Snapshot& s);
  OctoState CurrentOcto();
  // Run() steps now; returns the wake hook to call once mu_ is released.
  std::function<void()> WakeLocked();
  // An event's effect on the snapshot; false for events that change nothing.
  bool ApplyEventLocked(const std::string& type, const prusaconnect::Json& payload);
  std::string PrintedFile();

  Config config_;
  std::shared_ptr<OctoPrintClient> client_;
  prusaconnect::Printer* printer_;
  const StateDir* state_dir_;
  std::shared_ptr<OctoPrintStorage> storage_;

  std::mutex mu_;
  std::condition_variable cv_;
  bool wake_ = false;
  std::function<void()> wake_hook_;
  hostio::ReportHook report_hook_;
  Snapshot snap_;                    // the newest view of OctoPrint
  Clock::time_point socket_seen_{};  // last `current` from the socket
  bool socket_up_ = false;
  int rest_failures_ = 0;
  OctoState octo_ = OctoState::kUnreachable;
  std::optional<prusaconnect::State> reported_;
  std::string reported_reason_;              // of the reported ERROR
  bool ever_reached_ = false;                // OctoPrint answered a poll since the start
  bool software_set_ = false;                // SEND_INFO's software names OctoPrint's version
  std::optional<prusaconnect::State> hold_;  // FINISHED / STOPPED after a job
  bool had_job_ = false;
  std::string job_path_;
  std::optional<double> last_completion_;
  bool stop_requested_ = false;                       // STOP_PRINT sent: the job ends STOPPED
  std::optional<prusaconnect::State> job_end_event_;  // from PrintDone / PrintFailed
  prusaconnect::Source next_source_ = prusaconnect::Source::MARLIN;
  bool files_dirty_ = true;
  bool storage_attached_ = false;
  Clock::time_point files_polled_{};
  Clock::time_point next_reconnect_{};
  int64_t reconnect_backoff_ms_ = 5000;
  Clock::time_point last_telemetry_{};
  std::string last_error_logged_;
};

}  // namespace octoprint_adapter

#endif  // PRUSACONNECT_EXAMPLES_OCTOPRINT_ADAPTER_ADAPTER_H_
