// Copyright 2026 The libprusaconnect Authors.
#include "octoprint_driver.h"

#include "adapter_log.h"
#include "moonraker_driver.h"
#include "virtual_driver.h"

namespace bridge {

namespace pc = prusaconnect;

std::unique_ptr<HostDriver> MakeDriver(const PrinterEntry& entry) {
  if (entry.host == "octoprint") return std::make_unique<OctoPrintDriver>(entry);
  if (entry.host == "moonraker") return std::make_unique<MoonrakerDriver>(entry);
  if (entry.host == "virtual") return std::make_unique<VirtualDriver>(entry);
  return nullptr;
}

OctoPrintDriver::OctoPrintDriver(const PrinterEntry& entry) : entry_(entry) {}

OctoPrintDriver::~OctoPrintDriver() { Stop(); }

pc::Status OctoPrintDriver::Start(DriverContext* context) {
  octoprint_adapter::Config config;
  config.octoprint_url = entry_.url;
  config.octoprint_api_key = entry_.api_key;
  config.printer_type = entry_.printer_type;
  config.state_dir = context->state->dir();
  config.storage_name = entry_.storage_name;
  config.printing_interval_ms = entry_.printing_interval_ms;
  config.idle_interval_ms = entry_.idle_interval_ms;
  config.push_socket = false;
  config.reconnect_printer = entry_.reconnect_printer;
  config.verify_tls = entry_.verify_tls;
  client_ = std::make_shared<octoprint_adapter::OctoPrintClient>(entry_.url, entry_.api_key);
  adapter_ = std::make_unique<octoprint_adapter::Adapter>(config, client_, context->printer,
                                                          context->state);
  adapter_->InstallHandlers();
  context->printer->set_software("prusaconnect-bridge (OctoPrint)");
  periodic_ = std::make_unique<hostio::Periodic>(context->scheduler, [this] {
    octoprint_adapter::LogScope scope(entry_.name);
    adapter_->Step();
    return adapter_->NextStepMs();
  });
  hostio::Periodic* periodic = periodic_.get();
  adapter_->SetWakeHook([periodic] { periodic->Wake(); });
  periodic_->Start();
  return pc::Status::OK();
}

void OctoPrintDriver::Stop() {
  if (periodic_) periodic_->Stop();
  if (adapter_) adapter_->SetWakeHook(nullptr);
}

std::string OctoPrintDriver::HostStatus() const {
  return adapter_ ? adapter_->Describe() : "OctoPrint (not started)";
}

}  // namespace bridge
