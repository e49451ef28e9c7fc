// Copyright 2026 The libprusaconnect Authors.
//
// VirtualDriver: a simulated printer (host kind "virtual") for the README's
// demo and for tests of the bridge without any host. It has a small
// in-memory storage (two sample files; downloads from Connect are added),
// prints a file in PrinterEntry::job_seconds with progress, temperatures,
// Z and times, and obeys START/PAUSE/RESUME/STOP, GCODE (M104/M140 set the
// targets; everything else is accepted and logged), readiness and the file
// commands.
#ifndef PRUSACONNECT_EXAMPLES_BRIDGE_VIRTUAL_DRIVER_H_
#define PRUSACONNECT_EXAMPLES_BRIDGE_VIRTUAL_DRIVER_H_

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "driver.h"
#include "job_reporter.h"

namespace bridge {

class VirtualDriver : public HostDriver {
 public:
  explicit VirtualDriver(const PrinterEntry& entry);
  ~VirtualDriver() override;
  prusaconnect::Status Start(DriverContext* context) override;
  void Stop() override;
  std::string HostStatus() const override;

 private:
  class Storage;
  int64_t Step();
  prusaconnect::CommandResult StartPrint(const prusaconnect::CommandRequest& c);
  prusaconnect::CommandResult JobCommand(const char* what);
  prusaconnect::CommandResult Gcode(const prusaconnect::CommandRequest& c);

  PrinterEntry entry_;
  DriverContext context_;
  std::shared_ptr<Storage> storage_;
  std::unique_ptr<JobReporter> reporter_;
  std::unique_ptr<hostio::Periodic> periodic_;

  mutable std::mutex mu_;
  HostState state_ = HostState::kIdle;
  std::string job_file_;
  int64_t job_size_ = 0;
  double done_s_ = 0;  // simulated seconds printed
  double nozzle_ = 25, bed_ = 25, target_nozzle_ = 0, target_bed_ = 0;
  std::chrono::steady_clock::time_point last_step_{};
};

}  // namespace bridge

#endif  // PRUSACONNECT_EXAMPLES_BRIDGE_VIRTUAL_DRIVER_H_
