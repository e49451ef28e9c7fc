// Copyright 2026 The libprusaconnect Authors.
//
// Reported: what a host front end (the OctoPrint adapter, the bridge's job
// reporter) has just told Connect about its printer, in one value. The
// bridge's status API, dashboard and notifications read the printer from
// these, so they show exactly what Connect was told.
#ifndef PRUSACONNECT_EXAMPLES_HOSTIO_REPORTED_H_
#define PRUSACONNECT_EXAMPLES_HOSTIO_REPORTED_H_

#include <prusaconnect/const.h>
#include <prusaconnect/models.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace hostio {

struct Reported {
  prusaconnect::State state = prusaconnect::State::BUSY;
  // Why the printer is in ERROR or ATTENTION (or unreachable); "" otherwise.
  std::string reason;
  // The job's file relative to its storage ("prints/a.gcode"); "" when none.
  std::string job_file;
  std::optional<int64_t> job_id;
  // False while the host (OctoPrint, Moonraker) cannot be reached; `reason`
  // says why.
  bool host_reachable = true;
  // The telemetry sent with this report.
  prusaconnect::Telemetry telemetry;
};

// Called after every report, on the reporting thread; must be quick.
using ReportHook = std::function<void(const Reported&)>;

}  // namespace hostio

#endif  // PRUSACONNECT_EXAMPLES_HOSTIO_REPORTED_H_
