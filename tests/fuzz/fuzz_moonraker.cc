// Copyright 2026 The libprusaconnect Authors.
//
// libFuzzer target: the bridge's Moonraker input handling
// (examples/bridge/moonraker_map.h), fed whatever Moonraker's socket or REST
// answers could carry. The input is a sequence of JSON documents separated
// by newlines; each is merged as a notify_status_update delta (MergeStatus)
// and the snapshot is taken after each (MoonrakerSnapshot); each is also
// read as a JSON-RPC error (MoonrakerError) and as machine.system_info
// (IdentityFromSystemInfo); ParseWsUrl gets the raw lines.
// Invariants: progress is 0..100 when in [0, 1] on the wire; a printing
// snapshot names no reason; an identity is empty or starts "KLIPPER-";
// an accepted URL has a port in 1..65535.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "moonraker_map.h"
#include "prusaconnect/json.h"
#include "ws_loop.h"

namespace {

namespace pc = prusaconnect;

void Check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string input(reinterpret_cast<const char*>(data), size);
  bridge::MoonrakerView view;
  view.connected = true;
  view.klippy_state = "ready";
  size_t start = 0;
  int n = 0;
  while (start <= input.size() && n++ < 64) {
    size_t end = input.find('\n', start);
    if (end == std::string::npos) end = input.size();
    std::string line = input.substr(start, end - start);
    start = end + 1;
    std::string host, path;
    int port = 0;
    bool tls = false;
    if (hostio::ParseWsUrl(line, &host, &port, &path, &tls)) {
      Check(port >= 1 && port <= 65535 && !host.empty() && !path.empty() && path[0] == '/');
    }
    pc::StatusOr<pc::Json> j = pc::Json::Parse(line);
    if (!j.ok()) continue;
    bridge::MergeStatus(&view.status, *j);
    if (const pc::Json* k = j->find("klippy"); k != nullptr && k->is_string()) {
      view.klippy_state = k->as_string();
    }
    if (const pc::Json* e = j->find("estimate"); e != nullptr && e->is_number()) {
      view.estimated_time = e->as_double();
    }
    bridge::HostSnapshot s = bridge::MoonrakerSnapshot(view);
    if (s.state == bridge::HostState::kPrinting) Check(s.reason.empty());
    const pc::Json* ds = view.status.find("display_status");
    const pc::Json* p = ds != nullptr ? ds->find("progress") : nullptr;
    if (s.telemetry.progress && p != nullptr && p->is_number() && p->as_double() >= 0 &&
        p->as_double() <= 1) {
      Check(*s.telemetry.progress >= 0 && *s.telemetry.progress <= 100);
    }
    (void)bridge::MoonrakerError(*j);
    octoprint_adapter::Identity id = bridge::IdentityFromSystemInfo(*j);
    Check(id.serial.empty() || id.serial.rfind("KLIPPER-", 0) == 0);
  }
  return 0;
}
