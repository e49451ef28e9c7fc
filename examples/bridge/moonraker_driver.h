// Copyright 2026 The libprusaconnect Authors.
//
// MoonrakerDriver: a Klipper printer through Moonraker (docs/moonraker.md).
//
// One JSON-RPC WebSocket (/websocket) on the bridge's shared WsLoop:
// server.connection.identify, server.info, printer.objects.list, then
// printer.objects.subscribe; notify_status_update deltas are merged into a
// cached copy (moonraker_map.h). Klippy's ready / shutdown / disconnected
// notifications re-subscribe or mark the printer; notify_filelist_changed
// refreshes the storage. A dropped socket reconnects with backoff (1 s
// doubling to 30 s); after 5 s without it the printer reports ERROR with the
// reason — a drop shorter than that is no state change.
//
// Commands: START/PAUSE/RESUME/STOP_PRINT (printer.print.*), GCODE
// (printer.gcode.script), RESET_PRINTER (printer.firmware_restart),
// readiness and job info (JobReporter). The `gcodes` root is a provided
// storage (MoonrakerStorage): tree, metadata with the slicer's thumbnail,
// folders, deletes, and downloads from Connect uploaded over REST.
#ifndef PRUSACONNECT_EXAMPLES_BRIDGE_MOONRAKER_DRIVER_H_
#define PRUSACONNECT_EXAMPLES_BRIDGE_MOONRAKER_DRIVER_H_

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "driver.h"
#include "host_http.h"
#include "job_reporter.h"
#include "moonraker_map.h"

namespace bridge {

class MoonrakerDriver : public HostDriver, public hostio::WsHandler {
 public:
  explicit MoonrakerDriver(const PrinterEntry& entry);
  ~MoonrakerDriver() override;

  octoprint_adapter::Identity ProbeIdentity(hostio::WsLoop* ws,
                                            hostio::Scheduler* scheduler) override;
  prusaconnect::Status Start(DriverContext* context) override;
  void Stop() override;
  std::string HostStatus() const override;

  // WsHandler (the loop's thread).
  void OnOpen() override;
  void OnMessage(const std::string& text) override;
  void OnClosed(const std::string& why) override;

  // A JSON-RPC call answered within `timeout_ms`: its result, or the error
  // (MoonrakerError), Unavailable when not connected, DeadlineExceeded.
  prusaconnect::StatusOr<prusaconnect::Json> Call(const std::string& method,
                                                  const prusaconnect::Json& params,
                                                  int64_t timeout_ms = 10000);
  const hostio::HostHttp& http() const { return http_; }

 private:
  class Storage;
  using Callback = std::function<void(const prusaconnect::Status&, const prusaconnect::Json&)>;
  // Sends a call; `done` runs on the loop's thread (or at once when the
  // socket is down).
  void CallAsync(const std::string& method, const prusaconnect::Json& params, Callback done);
  void Connect();
  void Subscribe();
  void PollServerInfo();
  void FetchEstimate(const std::string& file);
  int64_t Step();
  int64_t StepReport();
  prusaconnect::CommandResult StartPrint(const prusaconnect::CommandRequest& c);
  prusaconnect::CommandResult JobCommand(const char* method, const char* what);
  prusaconnect::CommandResult Gcode(const prusaconnect::CommandRequest& c);
  prusaconnect::CommandResult ResetPrinter();
  void OnDownloadFinished(const prusaconnect::TransferInfo& t);
  // Moonraker's webcams as the printer's Connect cameras (worker thread).
  void SyncCameras();
  void NoteLayer(const MoonrakerView& view, HostState state);

  PrinterEntry entry_;
  hostio::HostHttp http_;
  DriverContext context_;
  std::shared_ptr<Storage> storage_;
  std::unique_ptr<JobReporter> reporter_;
  std::unique_ptr<hostio::Periodic> periodic_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::shared_ptr<hostio::WsConnection> ws_;
  MoonrakerView view_;
  bool socket_open_ = false;  // open, maybe not identified yet
  std::chrono::steady_clock::time_point lost_at_{};
  int64_t backoff_ms_ = 1000;
  std::optional<std::chrono::steady_clock::time_point> reconnect_at_;
  std::optional<std::chrono::steady_clock::time_point> info_poll_at_;
  int64_t next_id_ = 1;
  std::map<int64_t, Callback> pending_;
  std::string estimate_file_;  // the file view_.estimated_time is for
  bool files_dirty_ = true;
  bool storage_attached_ = false;
  std::chrono::steady_clock::time_point next_attach_{};
  int64_t attach_backoff_ms_ = 2000;
  std::string last_logged_;
  bool webcams_dirty_ = true;                   // server.webcams.list to be read again
  std::optional<int64_t> last_layer_;           // print_stats.info.current_layer seen last
  std::map<std::string, std::string> cameras_;  // Connect camera id -> snapshot URL
  int gcode_capture_ = 0;                       // GCODE commands running
  std::vector<std::string> gcode_lines_;        // the console meanwhile
};

}  // namespace bridge

#endif  // PRUSACONNECT_EXAMPLES_BRIDGE_MOONRAKER_DRIVER_H_
