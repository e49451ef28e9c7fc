// Copyright 2026 The libprusaconnect Authors.
#include "octoprint_driver.h"

#include "adapter_log.h"
#include "bambu_driver.h"
#include "identity.h"
#include "moonraker_driver.h"
#include "virtual_driver.h"

namespace bridge {

namespace pc = prusaconnect;

std::unique_ptr<HostDriver> MakeDriver(const PrinterEntry& entry) {
  if (entry.host == "octoprint") return std::make_unique<OctoPrintDriver>(entry);
  if (entry.host == "moonraker") return std::make_unique<MoonrakerDriver>(entry);
  if (entry.host == "bambu") return std::make_unique<BambuDriver>(entry);
  if (entry.host == "virtual") return std::make_unique<VirtualDriver>(entry);
  return nullptr;
}

OctoPrintDriver::OctoPrintDriver(const PrinterEntry& entry) : entry_(entry) {}

OctoPrintDriver::~OctoPrintDriver() { Stop(); }

octoprint_adapter::Identity OctoPrintDriver::ProbeIdentity(hostio::WsLoop* ws,
                                                           hostio::Scheduler* scheduler) {
  if (!entry_.push_socket) return {};
  octoprint_adapter::OctoPrintClient client(entry_.url, entry_.api_key);
  // 409: OctoPrint is not connected to the printer; nobody answers M115.
  if (!client.Get("/api/printer?exclude=temperature,sd").ok()) {
    octoprint_adapter::LogWarning(
        "OctoPrint is not connected to the printer: its M115 UUID cannot become the identity "
        "now (a random one is used until the printer is registered; connect the printer in "
        "OctoPrint and reload to try again)");
    return {};
  }
  octoprint_adapter::PushClient push(entry_.url, entry_.api_key, ws, scheduler);
  push.set_log_name(entry_.name);
  // The first attempt on this worker: every worker may be probing at once.
  push.StartNow();
  pc::Json m115 = push.ProbeFirmware(client, 10000);
  push.Stop();
  return octoprint_adapter::SerialFromFirmware(m115);
}

pc::Status OctoPrintDriver::Start(DriverContext* context) {
  octoprint_adapter::Config config;
  config.octoprint_url = entry_.url;
  config.octoprint_api_key = entry_.api_key;
  config.printer_type = entry_.printer_type;
  config.state_dir = context->state->dir();
  config.storage_name = entry_.storage_name;
  config.printing_interval_ms = entry_.printing_interval_ms;
  config.idle_interval_ms = entry_.idle_interval_ms;
  config.push_socket = entry_.push_socket;
  config.log_name = entry_.name;
  config.reconnect_printer = entry_.reconnect_printer;
  config.verify_tls = entry_.verify_tls;
  client_ = std::make_shared<octoprint_adapter::OctoPrintClient>(entry_.url, entry_.api_key);
  adapter_ = std::make_unique<octoprint_adapter::Adapter>(config, client_, context->printer,
                                                          context->state);
  adapter_->InstallHandlers();
  adapter_->SetReportHook(context->on_report);
  context->printer->set_software("prusaconnect-bridge (OctoPrint)");
  periodic_ = std::make_unique<hostio::Periodic>(context->scheduler, [this] {
    octoprint_adapter::LogScope scope(entry_.name);
    adapter_->Step();
    return adapter_->NextStepMs();
  });
  hostio::Periodic* periodic = periodic_.get();
  adapter_->SetWakeHook([periodic] { periodic->Wake(); });
  if (entry_.push_socket) {
    push_ = std::make_unique<octoprint_adapter::PushClient>(entry_.url, entry_.api_key, context->ws,
                                                            context->scheduler);
    push_->set_log_name(entry_.name);
    push_->SetSink(adapter_.get());
    push_->Start();
  }
  periodic_->Start();
  return pc::Status::OK();
}

void OctoPrintDriver::Stop() {
  if (push_) {
    push_->SetSink(nullptr);
    push_->Stop();
  }
  if (periodic_) periodic_->Stop();
  if (adapter_) adapter_->SetWakeHook(nullptr);
}

std::string OctoPrintDriver::HostStatus() const {
  return adapter_ ? adapter_->Describe() : "OctoPrint (not started)";
}

}  // namespace bridge
