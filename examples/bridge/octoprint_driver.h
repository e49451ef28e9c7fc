// Copyright 2026 The libprusaconnect Authors.
//
// OctoPrintDriver: an OctoPrint printer in the bridge. The logic is the one
// prusaconnect-octoprint runs (octoprint_adapter::Adapter: state mapping,
// job ids, commands, OctoPrint's files as a storage); the bridge steps it on
// its shared scheduler instead of a thread of its own, polling OctoPrint's
// REST API at the printer's intervals.
//
// Identity: the bridge cannot read the printer's M115 UUID without the push
// socket, and every printer of a bridge shares the machine's MAC address,
// so a new OctoPrint printer gets a random UUID, stored once.
#ifndef PRUSACONNECT_EXAMPLES_BRIDGE_OCTOPRINT_DRIVER_H_
#define PRUSACONNECT_EXAMPLES_BRIDGE_OCTOPRINT_DRIVER_H_

#include <memory>
#include <string>

#include "adapter.h"
#include "driver.h"

namespace bridge {

class OctoPrintDriver : public HostDriver {
 public:
  explicit OctoPrintDriver(const PrinterEntry& entry);
  ~OctoPrintDriver() override;
  prusaconnect::Status Start(DriverContext* context) override;
  void Stop() override;
  std::string HostStatus() const override;

 private:
  PrinterEntry entry_;
  std::shared_ptr<octoprint_adapter::OctoPrintClient> client_;
  std::unique_ptr<octoprint_adapter::Adapter> adapter_;
  std::unique_ptr<hostio::Periodic> periodic_;
};

}  // namespace bridge

#endif  // PRUSACONNECT_EXAMPLES_BRIDGE_OCTOPRINT_DRIVER_H_
