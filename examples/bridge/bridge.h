// Copyright 2026 The libprusaconnect Authors.
//
// Bridge: the printers of one config file, each a Connect Printer with its
// host driver (driver.h), on shared threads: the library's network engine
// for Connect, one WebSocket loop and a fixed worker pool for the hosts.
//
// Per printer, in <state_dir>/<name>/ (folder 0700, files 0600, written
// atomically):
//   identity, token, job   as prusaconnect-octoprint keeps them (identity.h);
//   registration           "code=…\nurl=…\n" while a code waits to be
//                          entered in Connect (`prusaconnect-bridge register`);
//   status.json            what `prusaconnect-bridge status` prints,
//                          rewritten every 2 s.
//
// Reload() applies a new config: printers that are gone stop, new ones
// start, changed ones restart, the others are not touched. A printer whose
// token file was removed (`--reset NAME`) restarts and registers anew.
#ifndef PRUSACONNECT_EXAMPLES_BRIDGE_BRIDGE_H_
#define PRUSACONNECT_EXAMPLES_BRIDGE_BRIDGE_H_

#include <prusaconnect/printer.h>

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "bridge_config.h"
#include "driver.h"
#include "identity.h"
#include "mqtt_loop.h"
#include "notifier.h"
#include "scheduler.h"
#include "status_api.h"
#include "status_hub.h"
#include "ws_loop.h"

namespace bridge {

class Bridge;

// One configured printer: its state folder, Printer and driver, and a
// supervising step (registration, status file) on the scheduler.
class PrinterRunner {
 public:
  PrinterRunner(Bridge* bridge, PrinterEntry entry);
  ~PrinterRunner();  // Stop()
  void Start();
  void Stop();
  const PrinterEntry& entry() const { return entry_; }
  // The token file was removed since the printer got its token.
  bool TokenForgotten() const;
  // The printer as the status API shows it (no token, no API key).
  prusaconnect::Json Describe() const;
  // Its Prometheus samples (lines without HELP/TYPE), appended per metric.
  void AppendMetrics(std::map<std::string, std::string>* by_metric) const;
  // Asks every camera of the printer for a picture now (notifications).
  void TriggerPhoto();

 private:
  int64_t Supervise();
  bool Setup();  // identity, Printer, driver; false: try again later
  void WriteStatus();
  void Register();
  // The [[printer.camera]] entries: added once the printer has its token,
  // restarted by the watchdog (supervise thread).
  void SyncCameras();
  bool AddConfiguredCamera(const CameraEntry& c);

  Bridge* bridge_;
  PrinterEntry entry_;
  octoprint_adapter::StateDir state_;
  std::unique_ptr<HostDriver> driver_;
  std::unique_ptr<prusaconnect::Printer> printer_;
  std::unique_ptr<hostio::Periodic> supervise_;
  octoprint_adapter::Identity identity_;
  std::string serial_claimed_;

  mutable std::mutex mu_;
  bool started_ = false;  // the Printer runs
  bool had_token_ = false;
  std::string code_;         // registration code waiting in Connect
  std::string code_url_;     // its add-printer link
  std::string token_saved_;  // from the register handler
  int64_t register_backoff_ms_ = 2000;
  int64_t next_register_ms_ = 0;  // steady ms
  int setup_failures_ = 0;
  std::map<std::string, double> camera_added_;        // camera -> Unix time (supervise)
  std::map<std::string, std::string> camera_failed_;  // camera -> last error logged (supervise)
  std::map<std::string, int64_t> camera_restarts_;    // under mu_ (metrics)
};

class Bridge : public StatusSource {
 public:
  explicit Bridge(BridgeConfig config);
  ~Bridge();  // Stop()
  Bridge(const Bridge&) = delete;
  Bridge& operator=(const Bridge&) = delete;

  prusaconnect::Status Start();
  // Applies `config`'s printers ([bridge] settings need a restart: a change
  // there is logged and ignored).
  void Reload(const BridgeConfig& config);
  void Stop();

  const BridgeConfig& config() const { return config_; }
  hostio::Scheduler* scheduler() { return scheduler_.get(); }
  hostio::WsLoop* ws() { return &ws_; }
  // Blocking host I/O that takes long (a Bambu SD card listed over FTPS):
  // its own 2 threads, so that telemetry steps never wait behind it.
  // Made on first use.
  hostio::Scheduler* io();
  // Started on first use: a bridge without MQTT printers has no MQTT thread.
  hostio::MqttLoop* mqtt() {
    (void)mqtt_.Start();  // a failure shows as Connect's: "not running"
    return &mqtt_;
  }
  std::shared_ptr<prusaconnect::Network> network() { return network_; }
  // Takes `serial` for printer `name`: false when another printer of this
  // bridge has it. Start() and Reload() claim every stored identity before
  // any printer starts, so a probe never takes another printer's serial.
  bool ClaimSerial(const std::string& serial, const std::string& name);
  void ReleaseSerial(const std::string& serial, const std::string& name);
  std::vector<std::string> printer_names() const;

  // StatusSource
  prusaconnect::Json Printers() const override;
  std::optional<prusaconnect::Json> Printer(const std::string& name) const override;
  std::string PrinterMetrics() const override;
  StatusHub* hub() override { return &hub_; }
  // The status API's address once it listens ("" when off).
  std::string api_url() const { return api_ ? api_->url() : std::string(); }

 private:
  BridgeConfig config_;
  std::unique_ptr<hostio::Scheduler> scheduler_;
  hostio::WsLoop ws_;
  hostio::MqttLoop mqtt_;
  std::mutex io_mu_;
  std::unique_ptr<hostio::Scheduler> io_;
  bool io_stopped_ = false;
  std::shared_ptr<prusaconnect::Network> network_;
  StatusHub hub_;
  std::unique_ptr<Notifier> notifier_;
  // [[camera]]: standalone Connect cameras, hosted by a Printer that never
  // registers nor starts (their uploads need only their own tokens).
  std::unique_ptr<prusaconnect::Printer> standalone_;
  void StartStandaloneCameras();
  std::unique_ptr<StatusApi> api_;
  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<PrinterRunner>> printers_;
  std::map<std::string, std::string> serials_;  // serial -> printer name
  void ClaimStoredLocked(const PrinterEntry& e);
};

// <state_dir>/<name>
std::string PrinterStateDir(const BridgeConfig& config, const std::string& name);

}  // namespace bridge

#endif  // PRUSACONNECT_EXAMPLES_BRIDGE_BRIDGE_H_
