// Copyright 2026 The libprusaconnect Authors.
//
// OctoPrintDriver: an OctoPrint printer in the bridge. The logic is the one
// prusaconnect-octoprint runs (octoprint_adapter::Adapter: state mapping,
// job ids, commands, OctoPrint's files as a storage); the bridge steps it on
// its shared scheduler instead of a thread of its own, and its push socket
// (PushClient) lives on the bridge's WebSocket loop. While the socket is up
// OctoPrint's REST API is only asked for what the socket does not say.
//
// Identity: the printer's M115 UUID (or Prusa serial), asked through the
// push socket when OctoPrint is connected to the printer; else a random
// UUID — every printer of a bridge shares the machine's MAC address — tried
// again at the next start while the printer is not registered.
#ifndef PRUSACONNECT_EXAMPLES_BRIDGE_OCTOPRINT_DRIVER_H_
#define PRUSACONNECT_EXAMPLES_BRIDGE_OCTOPRINT_DRIVER_H_

#include <memory>
#include <string>

#include "adapter.h"
#include "driver.h"
#include "push_client.h"

namespace bridge {

class OctoPrintDriver : public HostDriver {
 public:
  explicit OctoPrintDriver(const PrinterEntry& entry);
  ~OctoPrintDriver() override;
  octoprint_adapter::Identity ProbeIdentity(hostio::WsLoop* ws,
                                            hostio::Scheduler* scheduler) override;
  prusaconnect::Status Start(DriverContext* context) override;
  void Stop() override;
  std::string HostStatus() const override;

 private:
  PrinterEntry entry_;
  std::shared_ptr<octoprint_adapter::OctoPrintClient> client_;
  std::unique_ptr<octoprint_adapter::Adapter> adapter_;
  std::unique_ptr<octoprint_adapter::PushClient> push_;
  std::unique_ptr<hostio::Periodic> periodic_;
};

}  // namespace bridge

#endif  // PRUSACONNECT_EXAMPLES_BRIDGE_OCTOPRINT_DRIVER_H_
