// Copyright 2026 The libprusaconnect Authors.
//
// Cameras: snapshots from any camera into Prusa Connect.
//
// A printer owns one CameraController (Printer::cameras()). The host adds
// cameras to it, each with a CameraDriver that captures one still image on
// demand — an HTTP snapshot URL (OctoPrint / mjpg-streamer, go2rtc,
// ESPHome), an external command writing a JPEG to stdout, a file on disk, a
// V4L2 USB camera, or the host's own driver. The controller:
//   * registers a camera with Connect (POST /p/camera with the printer's
//     token) and hands the camera token to the host to persist;
//   * takes snapshots on each camera's trigger scheme (every 10/30/60 s,
//     each layer, every fifth layer, manual) and uploads them (PUT
//     /c/snapshot with the camera's token and fingerprint);
//   * converts PNG to JPEG, refuses images over Connect's ~8 MB limit,
//     retries failed captures and uploads with backoff, and stops a camera
//     whose token Connect rejects (401/403) until it is registered again.
//
// Each camera has its own thread and its own HTTP connection (spec Q48), so
// a slow or unplugged camera delays neither the other cameras nor the
// printer's telemetry (which runs on the network thread, never touched
// here). The server is the printer's current one, read for every request
// (Q28: set_connection moves the cameras too).
//
// Thread safety: every method may be called from any thread. Callbacks run
// on library threads (a camera's thread or the caller of register_camera),
// without internal locks held; they must not remove the camera that calls
// them.
#ifndef PRUSACONNECT_CAMERA_H_
#define PRUSACONNECT_CAMERA_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "prusaconnect/const.h"
#include "prusaconnect/export.h"
#include "prusaconnect/status.h"

namespace prusaconnect {

namespace internal {
class CameraSet;
class Session;
}  // namespace internal

// Connect refuses bigger snapshots ("about 8 MB"); larger images are not sent.
constexpr size_t kMaxSnapshotBytes = 8000000;

struct PRUSACONNECT_API Resolution {
  int width = 0;
  int height = 0;
};

// Captures still images for one camera. Capture() is called from the
// camera's own thread, never concurrently for one driver object.
class PRUSACONNECT_API CameraDriver {
 public:
  virtual ~CameraDriver() = default;
  // One image, JPEG or PNG bytes (PNG is converted). Errors: Unavailable
  // (unreachable, unplugged), DeadlineExceeded (timed out), others as
  // appropriate; every error is retried with backoff.
  virtual StatusOr<std::string> Capture() = 0;
  // A short description for logs, e.g. "http://octopi/webcam/?action=snapshot".
  // Must not contain secrets.
  virtual std::string Describe() const = 0;
};

// ---- built-in drivers ----

struct PRUSACONNECT_API HttpSnapshotOptions {
  // e.g. "http://octopi.local/webcam/?action=snapshot" (mjpg-streamer),
  // "http://host:1984/api/frame.jpeg?src=cam" (go2rtc),
  // "http://esp-cam/snapshot" (ESPHome).
  std::string url;
  // HTTP basic authentication when username is not empty.
  std::string username;
  std::string password;
  // Whole request, connection included.
  int64_t timeout_ms = 5000;
  bool verify_tls = true;
  // Bigger answers are an error (a stream URL instead of a snapshot URL).
  size_t max_bytes = static_cast<size_t>(32) * 1024 * 1024;
};
// GETs the URL; any status but 200 is an error.
PRUSACONNECT_API std::shared_ptr<CameraDriver> MakeHttpSnapshotDriver(
    const HttpSnapshotOptions& options);

struct PRUSACONNECT_API CommandOptions {
  // The program and its arguments, run without a shell, e.g.
  // {"libcamera-still", "-n", "-t", "1", "-o", "-"}.
  std::vector<std::string> argv;
  // The command is killed (SIGKILL) when it runs longer.
  int64_t timeout_ms = 10000;
  size_t max_bytes = static_cast<size_t>(32) * 1024 * 1024;
};
// Runs the command; its stdout is the image. A non-zero exit is an error.
PRUSACONNECT_API std::shared_ptr<CameraDriver> MakeCommandDriver(const CommandOptions& options);

// Reads the file at every capture (e.g. one a webcam daemon keeps fresh).
PRUSACONNECT_API std::shared_ptr<CameraDriver> MakeFileDriver(const std::string& path);

struct PRUSACONNECT_API V4L2Options {
  std::string device = "/dev/video0";
  // Requested size; the driver may pick the nearest it supports.
  int width = 1280;
  int height = 720;
  int64_t timeout_ms = 5000;
  // Frames thrown away before the one kept (auto exposure settles).
  int skip_frames = 2;
};
// A USB (UVC) camera through the kernel's V4L2 API: MJPEG capture with
// memory-mapped buffers, YUYV (encoded to JPEG) when the camera has no
// MJPEG. The device is opened for each capture, so an unplugged camera is
// simply Unavailable until it is back.
PRUSACONNECT_API std::shared_ptr<CameraDriver> MakeV4L2Driver(const V4L2Options& options);

// ---- configuration ----

struct PRUSACONNECT_API CameraConfig {
  // The camera id (the SDK's camera_id); unique within the printer.
  std::string id;
  // Shown in Connect; defaults to the id.
  std::string name;
  // 16–64 ASCII letters and digits; must never change once the camera has
  // uploaded (Connect ties the camera to it). Empty: derived from the
  // printer's fingerprint and the camera id (40 hex digits, stable as long
  // as those are) — the token callback reports it so the host can persist it.
  std::string fingerprint;
  // The camera token from an earlier registration; empty: not registered.
  std::string token;
  TriggerScheme trigger_scheme = TriggerScheme::THIRTY_SEC;
  // Must contain TRIGGER_SCHEME (as the SDK requires).
  std::vector<CapabilityType> capabilities = {CapabilityType::TRIGGER_SCHEME,
                                              CapabilityType::IMAGING};
  // Sizes the camera offers; reported when RESOLUTION is a capability.
  std::vector<Resolution> resolutions;
  // The current size; default the largest of `resolutions`.
  std::optional<Resolution> resolution;
  int rotation = 0;     // 0, 90, 180 or 270
  double exposure = 0;  // [-2, 2]
  double focus = 0;     // [0, 1]
  // When not empty, every snapshot is sent to /c/snapshot?printer_uuid=<this>
  // (percent-encoded), as the SDK does for a snapshot the application gave a
  // printer_uuid (spec §8.6). Empty (default): no query, as the SDK's own
  // snapshots.
  std::string printer_uuid;
  // REQUIRES: not null.
  std::shared_ptr<CameraDriver> driver;
};

// When timed and layer triggers upload. Manual triggers and the first
// snapshot after a camera is added or registered always upload.
enum class UploadPolicy {
  // Only while the printer is PRINTING or PAUSED (default: a camera idling
  // next to an idle printer costs no bandwidth).
  WHILE_PRINTING,
  // Always (the reference SDK's behaviour).
  ALWAYS,
};

struct PRUSACONNECT_API CameraOptions {
  UploadPolicy policy = UploadPolicy::WHILE_PRINTING;
  // Images larger than this are not sent (logged, counted).
  size_t max_image_bytes = kMaxSnapshotBytes;
  // Snapshot upload and registration timeout (the SDK's 10 s).
  int64_t upload_timeout_ms = 10000;
  // Retry delays after a failed capture or upload: doubling from min to max.
  int64_t backoff_min_ms = 1000;
  int64_t backoff_max_ms = 60000;
  // Quality of JPEGs made from PNG (1-100).
  int jpeg_quality = 85;
  // A driver whose Capture() has not returned after this long (monotonic
  // clock) is abandoned: the camera becomes STUCK (spec Q34,
  // CAMERA_BUSY_TIMEOUT).
  int64_t busy_timeout_ms = static_cast<int64_t>(CAMERA_BUSY_TIMEOUT) * 1000;
};

enum class CameraState {
  UNREGISTERED,  // no token: register_camera() first
  READY,         // waiting for its next trigger
  BUSY,          // capturing or uploading
  RETRYING,      // the last capture or upload failed; retrying with backoff
  STOPPED,       // Connect rejected its token: register it again
  // Its driver's Capture() did not return within busy_timeout_ms: the
  // capture is abandoned and no new one starts until that call returns
  // (then the camera is READY again by itself). Other cameras go on.
  STUCK,
};
PRUSACONNECT_API const char* ToString(CameraState state);

struct PRUSACONNECT_API CameraStatus {
  std::string id;
  std::string name;
  std::string fingerprint;
  TriggerScheme trigger_scheme = TriggerScheme::THIRTY_SEC;
  bool registered = false;
  CameraState state = CameraState::UNREGISTERED;
  std::string last_error;  // "" after a success
  int64_t snapshots_uploaded = 0;
  int64_t capture_failures = 0;
  int64_t upload_failures = 0;
  int64_t oversize_skipped = 0;  // images over max_image_bytes
  int64_t triggers_skipped = 0;  // camera busy, backing off or not registered
  size_t last_image_bytes = 0;
  double last_upload_time = 0;  // Unix time of the last upload, 0: none
};

// Called with a camera's id, fingerprint and new token after registration,
// and with an empty token when Connect rejected the token (401/403): persist
// it, or forget it.
using CameraTokenCallback = std::function<void(
    const std::string& camera_id, const std::string& fingerprint, const std::string& token)>;

class PRUSACONNECT_API CameraController {
 public:
  // Made by Printer; `session` is the printer's.
  explicit CameraController(std::shared_ptr<internal::Session> session);
  // Stops every camera (waits for captures in progress, at most
  // busy_timeout_ms each; a stuck driver call is left behind).
  ~CameraController();
  CameraController(const CameraController&) = delete;
  CameraController& operator=(const CameraController&) = delete;

  // Adds a camera and starts its thread. A registered camera takes its first
  // snapshot at once. InvalidArgument for a bad config (empty id, bad
  // fingerprint, rotation/exposure/focus/resolution out of range, no
  // TRIGGER_SCHEME, no driver), AlreadyExists for a known id.
  Status add_camera(const CameraConfig& config);
  // Stops and removes it (waits for its capture in progress, at most
  // busy_timeout_ms). NotFound.
  Status remove_camera(const std::string& id);
  std::vector<std::string> camera_ids() const;
  StatusOr<CameraStatus> status(const std::string& id) const;
  std::vector<CameraStatus> statuses() const;

  // POST /p/camera with the printer's token: blocks the caller for one
  // request. On success the token is stored, the token callback is called,
  // the camera (re)starts and takes a first snapshot. Errors: NotFound,
  // FailedPrecondition (the printer has no server or token), Unavailable
  // (Connect unreachable), PermissionDenied (Connect refused the printer's
  // token), Internal (any other answer).
  StatusOr<std::string> register_camera(const std::string& id);

  // Changes when the camera takes pictures (a local setting). NotFound.
  Status set_trigger_scheme(const std::string& id, TriggerScheme scheme);

  // The host's layer change: EACH_LAYER cameras take a snapshot, FIFTH_LAYER
  // cameras every fifth call.
  void layer_changed();
  // A snapshot now from one camera (or every camera when `id` is empty),
  // whatever its scheme and the upload policy. Queued behind a snapshot in
  // progress. NotFound for an unknown id.
  Status trigger_manual(const std::string& id = "");

  void set_token_cb(CameraTokenCallback cb);
  // InvalidArgument (and the options unchanged) when a timeout or
  // backoff_min_ms is not positive, backoff_max_ms < backoff_min_ms, or
  // jpeg_quality is outside 1-100.
  Status set_options(const CameraOptions& options);
  CameraOptions options() const;
  void set_upload_policy(UploadPolicy policy);

  internal::CameraSet* impl() const { return impl_.get(); }

 private:
  std::shared_ptr<internal::CameraSet> impl_;
};

}  // namespace prusaconnect

#endif  // PRUSACONNECT_CAMERA_H_
