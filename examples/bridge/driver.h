// Copyright 2026 The libprusaconnect Authors.
//
// HostDriver: one printer host (OctoPrint, Moonraker, the virtual printer)
// behind one Connect printer, after the Buddy firmware's abstract printer
// (DESIGN.md, "The bridge"). The bridge owns the Printer, its identity,
// token, state folder, storages and cameras; the driver observes its host
// and answers commands.
//
// Threads: the driver gets the bridge's shared scheduler (a fixed worker
// pool) and WebSocket loop; it never starts a thread of its own. Command
// handlers run on the library's handler threads.
#ifndef PRUSACONNECT_EXAMPLES_BRIDGE_DRIVER_H_
#define PRUSACONNECT_EXAMPLES_BRIDGE_DRIVER_H_

#include <prusaconnect/printer.h>

#include <functional>
#include <memory>
#include <string>

#include "bridge_config.h"
#include "identity.h"
#include "mqtt_loop.h"
#include "reported.h"
#include "scheduler.h"
#include "ws_loop.h"

namespace bridge {

struct DriverContext {
  PrinterEntry entry;
  prusaconnect::Printer* printer = nullptr;
  const octoprint_adapter::StateDir* state = nullptr;
  hostio::Scheduler* scheduler = nullptr;
  hostio::WsLoop* ws = nullptr;
  hostio::MqttLoop* mqtt = nullptr;
  // Where long blocking host I/O runs (file listings over FTPS), apart from
  // `scheduler`'s telemetry steps.
  hostio::Scheduler* io = nullptr;
  // Called after every report to Connect (the status API, notifications).
  hostio::ReportHook on_report;
  // Wraps a camera's driver so that its images reach the status API.
  std::function<std::shared_ptr<prusaconnect::CameraDriver>(
      const std::string& camera_id, std::shared_ptr<prusaconnect::CameraDriver> inner)>
      keep_images;
};

class HostDriver {
 public:
  virtual ~HostDriver() = default;
  // First start (and while a fallback identity is not registered yet): the
  // host's idea of the printer's serial number (a board serial, M115's
  // UUID), or an empty serial. Runs on one of `scheduler`'s workers; may take
  // a few seconds, never long.
  virtual octoprint_adapter::Identity ProbeIdentity(hostio::WsLoop* ws,
                                                    hostio::Scheduler* scheduler) {
    (void)ws;
    (void)scheduler;
    return {};
  }
  // Installs the command handlers and starts observing the host. Called
  // once, before the printer starts.
  virtual prusaconnect::Status Start(DriverContext* context) = 0;
  // Stops observing; no callback into the printer after it returns.
  virtual void Stop() = 0;
  // One line for `prusaconnect-bridge status` ("printing 42 %", "Moonraker
  // unreachable: …").
  virtual std::string HostStatus() const = 0;
  // The printer's model when the host tells it ("Bambu Lab P1S"); "" when
  // it does not.
  virtual std::string Model() const { return ""; }
};

// The driver for entry.host; null for an unknown kind (the config rejects
// those first).
std::unique_ptr<HostDriver> MakeDriver(const PrinterEntry& entry);

}  // namespace bridge

#endif  // PRUSACONNECT_EXAMPLES_BRIDGE_DRIVER_H_
