// Copyright 2026 The libprusaconnect Authors.
//
// Pure pieces of the Moonraker driver (docs/moonraker.md has the tables;
// tests/bridge/tables/moonraker_states.json checks them):
//   * MergeStatus: Moonraker's notify_status_update deltas into the cached
//     printer objects;
//   * MoonrakerSnapshot: the cached objects and Klippy's state → the host
//     snapshot (state with reason, job file, telemetry);
//   * MoonrakerError: a JSON-RPC error → a Status a person can act on;
//   * IdentityFromSystemInfo: machine.system_info → the printer's serial.
#ifndef PRUSACONNECT_EXAMPLES_BRIDGE_MOONRAKER_MAP_H_
#define PRUSACONNECT_EXAMPLES_BRIDGE_MOONRAKER_MAP_H_

#include <prusaconnect/json.h>
#include <prusaconnect/status.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "identity.h"
#include "job_reporter.h"

namespace bridge {

struct MoonrakerView {
  bool connected = false;       // the WebSocket is up and identified
  std::string unreachable_why;  // when not connected
  std::string klippy_state;     // server.info / notifications: ready, startup, …
  std::string klippy_message;   // printer.info's state_message
  prusaconnect::Json status = prusaconnect::Json::MakeObject();  // objects
  std::optional<double> estimated_time;  // the job file's slicer estimate, s
  // When RESET_PRINTER asked for a firmware restart: for a minute after,
  // Klippy away or starting is BUSY, not an error.
  std::optional<std::chrono::steady_clock::time_point> restart_requested;
};

// Merges {object: {field: value}} into `status` (fields replace, objects
// are created).
void MergeStatus(prusaconnect::Json* status, const prusaconnect::Json& delta);
HostSnapshot MoonrakerSnapshot(const MoonrakerView& view);
// A JSON-RPC `error` object ({code, message}): -32601/404 NotFound, 401 /
// -32602 PermissionDenied, 403 FailedPrecondition (file in use), 400
// InvalidArgument (Klipper refused: its text), 503 Unavailable (Klippy not
// connected), else Internal. The message is Moonraker's.
prusaconnect::Status MoonrakerError(const prusaconnect::Json& error);
// The board's serial (cpu_info.serial_number) as "KLIPPER-<serial>", else
// the first MAC address of the host's network interfaces as
// "KLIPPER-<mac hex>"; empty when neither is there.
octoprint_adapter::Identity IdentityFromSystemInfo(const prusaconnect::Json& system_info);

// A webcam of server.webcams.list that can be a Connect camera.
struct Webcam {
  std::string id;            // "moonraker-" + its uid (or name): the camera id
  std::string name;          // shown in Connect
  std::string snapshot_url;  // absolute
};
// The enabled webcams with a snapshot URL; a relative URL is resolved
// against http://<Moonraker's host>/ (the front end's web server, as
// Mainsail and Fluidd do), not against Moonraker's port.
std::vector<Webcam> WebcamsFromList(const prusaconnect::Json& result,
                                    const std::string& moonraker_url);

}  // namespace bridge

#endif  // PRUSACONNECT_EXAMPLES_BRIDGE_MOONRAKER_MAP_H_
