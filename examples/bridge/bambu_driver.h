// Copyright 2026 The libprusaconnect Authors.
//
// BambuDriver: a Bambu Lab printer in LAN mode (docs/bambu.md).
//
// MQTT over TLS to the printer (port 8883, user bblp, the access code) on
// the bridge's shared MqttLoop: device/{serial}/report is merged into a
// cached `print` object (bambu_map.h); `pushing.pushall` after every
// (re)connection asks for the whole state. Commands go to
// device/{serial}/request with an increasing sequence_id and wait for the
// answer that echoes it (result "success", else FAILED with the reason; no
// answer in time: FAILED "no answer").
//
// The printer's certificate is self-signed: with ca_file it must verify
// against that CA; else its SHA-256 is pinned at the first connection
// (STATE/pinned-certificates, or `fingerprint` in the config) and a changed
// one is refused until the pin is removed.
//
// The SD card is a provided storage over implicit FTPS (bambu_ftps.h):
// tree, folders, deletes, and downloads from Connect uploaded to it; a
// downloaded file is then started when Connect asked to print it.
#ifndef PRUSACONNECT_EXAMPLES_BRIDGE_BAMBU_DRIVER_H_
#define PRUSACONNECT_EXAMPLES_BRIDGE_BAMBU_DRIVER_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "bambu_ftps.h"
#include "bambu_map.h"
#include "driver.h"
#include "job_reporter.h"
#include "mqtt_loop.h"

namespace bridge {

class BambuDriver : public HostDriver, public hostio::MqttHandler {
 public:
  explicit BambuDriver(const PrinterEntry& entry);
  ~BambuDriver() override;

  octoprint_adapter::Identity ProbeIdentity(hostio::WsLoop* ws,
                                            hostio::Scheduler* scheduler) override;
  prusaconnect::Status Start(DriverContext* context) override;
  void Stop() override;
  std::string HostStatus() const override;
  std::string Model() const override;

  // MqttHandler (the loop's thread).
  void OnConnected() override;
  void OnMessage(const std::string& topic, const std::string& payload) override;
  void OnDisconnected(const std::string& why, hostio::MqttDrop kind, int64_t retry_ms) override;

  // Messages that were not JSON objects or not what a Bambu printer sends:
  // ignored, counted here.
  int64_t ignored_messages() const { return ignored_.load(); }

 private:
  class Storage;
  struct Pending {
    std::string command;
    std::optional<prusaconnect::Json> answer;
  };

  // Sends {type: fields + command + sequence_id} and waits for the answer.
  prusaconnect::StatusOr<prusaconnect::Json> Request(const std::string& type,
                                                     const std::string& command,
                                                     prusaconnect::Json fields);
  void HandleAnswer(const prusaconnect::Json& body);
  bool CheckCertificate(const char* service, const std::string& sha256);
  int64_t Step();
  // Attaches and refreshes the SD card (on the I/O pool).
  int64_t FilesStep();
  void NoteLayer(const BambuView& view, HostState state);
  prusaconnect::CommandResult StartPrint(const prusaconnect::CommandRequest& c);
  prusaconnect::CommandResult JobCommand(const char* command, const char* what);
  prusaconnect::CommandResult Gcode(const prusaconnect::CommandRequest& c);
  void OnDownloadFinished(const prusaconnect::TransferInfo& t);

  PrinterEntry entry_;
  std::string model_;
  DriverContext context_;
  std::shared_ptr<Storage> storage_;
  std::unique_ptr<JobReporter> reporter_;
  std::unique_ptr<hostio::Periodic> periodic_;
  std::unique_ptr<hostio::Periodic> files_;  // FilesStep on context_.io
  std::shared_ptr<hostio::MqttClient> mqtt_;
  std::unique_ptr<FtpsClient> ftps_;
  std::atomic<int64_t> ignored_{0};

  mutable std::mutex mu_;
  std::condition_variable answered_;
  bool stopping_ = false;
  BambuView view_;
  std::chrono::steady_clock::time_point lost_at_{};
  std::string last_logged_;
  int64_t next_sequence_ = 1;
  std::map<std::string, std::shared_ptr<Pending>> pending_;  // by sequence_id
  // FilesStep's own (one step at a time).
  bool storage_attached_ = false;
  int64_t attach_backoff_ms_ = 2000;
  std::optional<int64_t> last_layer_;
  // Reports, connections and drops counted; the count Step() last told.
  int64_t news_ = 0;
  int64_t news_sent_ = -1;
  std::chrono::steady_clock::time_point last_sent_{};
  int64_t last_interval_ms_ = 1000;
  std::string firmware_;

  std::mutex pin_mu_;
  std::map<std::string, std::string> pins_;  // service -> SHA-256
  bool pins_loaded_ = false;
};

}  // namespace bridge

#endif  // PRUSACONNECT_EXAMPLES_BRIDGE_BAMBU_DRIVER_H_
