// Copyright 2026 The libprusaconnect Authors.
//
// CameraSet: the machinery behind CameraController (camera.h).
//
// Every camera has a worker thread that waits for a trigger, captures with
// its driver, converts to JPEG, and uploads with its own HTTP client. The
// driver call itself runs on a short-lived thread of its own, so that a
// driver that never returns can be abandoned (STUCK, spec Q34). A
// ticker thread fires the timed triggers and the retries after failures
// (Tick()). Time comes from a Clock, and the HTTP clients from a factory, so
// unit tests run it with a FakeClock, canned answers and no ticker thread,
// calling Tick() themselves (tests/unit/camera_test.cc).
//
// Thread safety: all public methods are safe from any thread.
#ifndef PRUSACONNECT_CAMERA_CAMERA_SET_H_
#define PRUSACONNECT_CAMERA_CAMERA_SET_H_

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "prusaconnect/camera.h"
#include "transport/http_client.h"
#include "util/clock.h"
#include "util/cond_var.h"

namespace prusaconnect::internal {

class Session;

// The fingerprint used when the host gives none: 40 hex digits of
// sha256(printer fingerprint + "/" + camera id) (or of the id alone when the
// printer has no fingerprint yet).
std::string DefaultCameraFingerprint(std::string_view printer_fingerprint,
                                     std::string_view camera_id);
// 16 to 64 ASCII letters and digits.
bool ValidCameraFingerprint(std::string_view fingerprint);
// InvalidArgument naming the first bad setting.
Status ValidateCameraConfig(const CameraConfig& config);
// The JSON body of POST /p/camera (spec §8.5): config (the settings of the
// declared capabilities, name, camera_id, and the old token if any),
// options.available_resolutions, capabilities, fingerprint.
std::string RenderCameraRegistration(const CameraConfig& config, const std::string& fingerprint,
                                     const std::string& token);

// Where and as what a snapshot is uploaded.
struct SnapshotTarget {
  std::string server;  // "" : nowhere (kNoServer)
  std::string token;
  std::string fingerprint;
  std::string printer_uuid;  // "" : no ?printer_uuid= query
  // The Timestamp header is this clock's wall time when the image arrived
  // (RealClock() when null).
  const Clock* clock = nullptr;
  bool verify_tls = true;
  std::string ca_file;
};

struct SnapshotOutcome {
  enum Kind { kCaptureFailed, kOversize, kNoServer, kSent } kind = kCaptureFailed;
  std::string error;      // kCaptureFailed
  size_t bytes = 0;       // the JPEG's size (kOversize, kSent)
  HttpResponse response;  // kSent: the answer to PUT /c/snapshot
};

// One snapshot, start to end, in the calling thread: capture with the
// driver, convert to JPEG, check the size, PUT /c/snapshot (spec §8.6).
// The camera worker's step, and what bench/camera_bench.cc measures.
SnapshotOutcome TakeSnapshot(CameraDriver& driver, HttpClient* http, const SnapshotTarget& target,
                             const CameraOptions& options);

class CameraSet {
 public:
  struct Deps {
    std::shared_ptr<Session> session;
    const Clock* clock = nullptr;
    // Makes each camera's upload client; default libcurl.
    HttpClientFactory http_factory;
    // Runs the ticker thread (tests drive Tick() instead).
    bool run_ticker = true;
  };

  explicit CameraSet(Deps deps);
  ~CameraSet();
  CameraSet(const CameraSet&) = delete;
  CameraSet& operator=(const CameraSet&) = delete;

  Status Add(const CameraConfig& config);
  Status Remove(const std::string& id);
  std::vector<std::string> Ids() const;
  StatusOr<CameraStatus> GetStatus(const std::string& id) const;
  std::vector<CameraStatus> Statuses() const;
  StatusOr<std::string> Register(const std::string& id);
  Status SetTriggerScheme(const std::string& id, TriggerScheme scheme);
  void LayerChanged();
  Status TriggerManual(const std::string& id);
  void SetTokenCallback(CameraTokenCallback cb);
  Status SetOptions(const CameraOptions& options);  // see CameraController::set_options
  void SetUploadPolicy(UploadPolicy policy);
  CameraOptions options() const;

  // Fires the timed triggers and retries due now; returns the monotonic time
  // (µs) when the next one is due, INT64_MAX when none.
  int64_t Tick();
  // Waits until the camera has no trigger pending and is not busy.
  bool WaitIdle(const std::string& id, int64_t timeout_ms);

 private:
  enum class Why { kTimed, kLayer, kManual, kInitial, kRetry };
  struct Camera;

  void Work(const std::shared_ptr<Camera>& cam);
  // REQUIRE mu_ held.
  void TriggerLocked(Camera& cam, Why why);
  bool PolicyAllowsLocked() const;
  int64_t TickLocked(int64_t now_us);
  void FailLocked(Camera& cam, const std::string& what, bool retry);
  // Q34: gives up waiting for the driver call in progress (STUCK).
  void AbandonLocked(Camera& cam, int64_t now_us);
  // True while an abandoned driver call has not returned; resumes the
  // camera once it has.
  bool StillStuckLocked(Camera& cam);
  void TickerMain();
  void StopCamera(const std::shared_ptr<Camera>& cam);

  const Deps deps_;
  mutable std::mutex mu_;
  internal::CondVar idle_cv_;    // a camera went idle
  internal::CondVar ticker_cv_;  // the ticker should look again
  std::map<std::string, std::shared_ptr<Camera>> cameras_;
  CameraOptions options_;
  CameraTokenCallback token_cb_;
  int64_t layers_ = 0;
  bool stopping_ = false;
  std::thread ticker_;  // started with the first camera
};

}  // namespace prusaconnect::internal

#endif  // PRUSACONNECT_CAMERA_CAMERA_SET_H_
