// Copyright 2026 The libprusaconnect Authors.
//
// StatusHub: what the bridge's printers last reported to Connect, for the
// local status API, the dashboard and notifications. Drivers feed it after
// every report (hostio::Reported); it keeps the newest report per printer,
// the newest camera image, and turns changes (state, job, whole percent of
// progress) into numbered events: a ring of the last kRing for the
// Server-Sent Events stream, and listeners called at once.
//
// Threads: Report() comes from the scheduler's workers, SetImage() from
// camera threads, the readers from the API's threads; one mutex guards all.
#ifndef PRUSACONNECT_EXAMPLES_BRIDGE_STATUS_HUB_H_
#define PRUSACONNECT_EXAMPLES_BRIDGE_STATUS_HUB_H_

#include <prusaconnect/camera.h>
#include <prusaconnect/json.h>

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "reported.h"

namespace bridge {

struct HubEvent {
  uint64_t id = 0;
  std::string type;         // "state", "job", "progress", "host"
  prusaconnect::Json data;  // always has "printer"
};

struct Image {
  std::string bytes;  // JPEG (or PNG, as the camera gave it)
  int64_t time = 0;   // Unix seconds
  std::string camera_id;
};

struct PrinterReport {
  hostio::Reported reported;
  int64_t time = 0;  // Unix seconds of the report
  std::string last_error;
  int64_t last_error_time = 0;
};

class StatusHub {
 public:
  static constexpr size_t kRing = 1024;

  // The newest report of printer `name`; emits the events it implies.
  void Report(const std::string& name, const hostio::Reported& r);
  // The printer stopped (removed from the config): forget it.
  void Forget(const std::string& name);
  void SetImage(const std::string& name, const std::string& camera_id, std::string bytes);

  std::optional<PrinterReport> Last(const std::string& name) const;
  std::shared_ptr<const Image> LastImage(const std::string& name) const;

  // Events with an id above `after`, waiting up to `wait_ms` for one.
  // `*lost` is set when events after `after` already left the ring.
  std::vector<HubEvent> EventsAfter(uint64_t after, int64_t wait_ms, bool* lost) const;
  uint64_t last_event_id() const;
  // Called on the reporting thread for every event; must be quick.
  void AddListener(std::function<void(const HubEvent&)> listener);
  // Wakes every EventsAfter() for good (the bridge stops).
  void Close();
  bool closed() const;

  // A camera driver that hands each image it captures to the hub.
  std::shared_ptr<prusaconnect::CameraDriver> Keeping(
      const std::string& printer, const std::string& camera_id,
      std::shared_ptr<prusaconnect::CameraDriver> inner);

 private:
  void EmitLocked(const std::string& type, prusaconnect::Json data, std::vector<HubEvent>* out);

  // Images live apart from the hub: a camera driver keeps a weak reference,
  // so a capture the library left behind (a hung driver) that returns after
  // the bridge stopped finds nothing instead of a destroyed hub.
  struct ImageStore {
    std::mutex mu;
    std::map<std::string, std::shared_ptr<const Image>> images;
  };
  std::shared_ptr<ImageStore> images_ = std::make_shared<ImageStore>();

  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  std::map<std::string, PrinterReport> reports_;
  std::deque<HubEvent> ring_;
  uint64_t next_id_ = 1;
  bool closed_ = false;
  std::vector<std::function<void(const HubEvent&)>> listeners_;
};

// Everything the status API shows of one report (state, temperatures, job).
void ReportToJson(const PrinterReport& r, prusaconnect::Json* out);

}  // namespace bridge

#endif  // PRUSACONNECT_EXAMPLES_BRIDGE_STATUS_HUB_H_
