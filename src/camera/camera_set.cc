// Copyright 2026 The libprusaconnect Authors.
//
// CameraSet: a printer's cameras — when each takes a snapshot (trigger
// schemes, the upload policy, backoff after failures), its worker thread,
// and drivers that hang (abandoned, not waited for). One snapshot itself
// is TakeSnapshot() (snapshot.cc).
#include "camera/camera_set.h"

#include <algorithm>
#include <chrono>
#include <climits>
#include <cmath>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <utility>

#include "camera/image.h"
#include "protocol/session.h"
#include "prusaconnect/json.h"
#include "util/logging.h"
#include "util/sha256.h"
#include "util/str_cat.h"
#include "util/url.h"

namespace prusaconnect::internal {

namespace {

constexpr char kLog[] = "camera";

}  // namespace

// ---------------------------------------------------------------- stuck drivers

namespace {

// One driver call, run on a thread of its own so that a driver that never
// returns can be left behind (Q34). The call's thread holds only this slot
// and the driver; it never touches the camera set.
struct CaptureSlot {
  std::mutex mu;
  internal::CondVar cv;
  bool done = false;      // the driver returned
  bool abandon = false;   // stuck: the worker stops waiting
  bool stopping = false;  // the camera is being removed
  int64_t stop_wait_ms = 0;
  std::optional<StatusOr<std::string>> result;
};

// Looks like the camera's driver to TakeSnapshot; waits for the call until
// it returns, is abandoned (the set found it stuck), or the camera is
// removed and busy_timeout_ms more have passed.
class GuardedDriver : public CameraDriver {
 public:
  GuardedDriver(std::shared_ptr<CameraDriver> driver, std::shared_ptr<CaptureSlot> slot)
      : driver_(std::move(driver)), slot_(std::move(slot)) {}

  StatusOr<std::string> Capture() override {
    try {
      std::thread([driver = driver_, slot = slot_] {
        StatusOr<std::string> r = InternalError("the driver threw an exception");
        try {
          r = driver->Capture();
        } catch (const std::exception& e) {
          r = InternalError(internal::StrCat("the driver threw: ", e.what()));
        } catch (...) {  // NOLINT(bugprone-empty-catch): r says so
        }
        std::lock_guard<std::mutex> lock(slot->mu);
        slot->result.emplace(std::move(r));
        slot->done = true;
        slot->cv.notify_all();
      }).detach();
    } catch (const std::system_error& e) {
      return ResourceExhaustedError(
          internal::StrCat("cannot start the capture thread: ", e.what()));
    }
    std::unique_lock<std::mutex> lock(slot_->mu);
    slot_->cv.wait(lock, [this] { return slot_->done || slot_->abandon || slot_->stopping; });
    if (!slot_->done && !slot_->abandon) {
      slot_->cv.wait_for(lock, std::chrono::milliseconds(slot_->stop_wait_ms),
                         [this] { return slot_->done; });
    }
    if (!slot_->done) {
      slot_->abandon = true;
      return DeadlineExceededError("the driver did not return; capture abandoned");
    }
    return *std::move(slot_->result);
  }
  std::string Describe() const override { return driver_->Describe(); }

 private:
  std::shared_ptr<CameraDriver> driver_;
  std::shared_ptr<CaptureSlot> slot_;
};

}  // namespace

// ---------------------------------------------------------------- Camera

struct CameraSet::Camera {
  CameraConfig config;  // config.token/fingerprint are the live values
  CameraStatus status;
  std::unique_ptr<HttpClient> http;
  bool pending = false;
  Why why = Why::kTimed;
  bool busy = false;
  bool stop = false;
  int failures = 0;
  int64_t next_due_us = INT64_MAX;  // timed schemes
  int64_t retry_at_us = 0;          // 0: no retry planned
  int64_t busy_since_us = 0;
  std::shared_ptr<CaptureSlot> capture;  // the driver call in progress or stuck
  bool stuck = false;                    // its driver call was abandoned (Q34)
  internal::CondVar cv;                  // pending or stop
  std::thread thread;
};

// No thread until the first camera: constructing printers starts none.
namespace {

// Deps with the default upload client (libcurl) filled in.
CameraSet::Deps WithDefaultHttp(CameraSet::Deps deps) {
  if (!deps.http_factory) deps.http_factory = [] { return MakeCurlHttpClient(); };
  return deps;
}

}  // namespace

CameraSet::CameraSet(Deps deps) : deps_(WithDefaultHttp(std::move(deps))) {}

CameraSet::~CameraSet() {
  std::map<std::string, std::shared_ptr<Camera>> cams;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    cams.swap(cameras_);
  }
  ticker_cv_.notify_all();
  for (auto& [id, cam] : cams) StopCamera(cam);
  if (ticker_.joinable()) ticker_.join();
}

void CameraSet::StopCamera(const std::shared_ptr<Camera>& cam) {
  std::shared_ptr<CaptureSlot> slot;
  int64_t wait_ms = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    cam->stop = true;
    slot = cam->capture;
    wait_ms = options_.busy_timeout_ms;
  }
  cam->cv.notify_all();
  if (slot) {
    // A capture in progress gets busy_timeout_ms more; then it is left behind.
    std::lock_guard<std::mutex> lock(slot->mu);
    slot->stopping = true;
    slot->stop_wait_ms = std::max<int64_t>(wait_ms, 0);
    slot->cv.notify_all();
  }
  if (!cam->thread.joinable()) return;
  if (cam->thread.get_id() == std::this_thread::get_id()) {
    cam->thread.detach();  // removed from its own callback: let it end alone
  } else {
    cam->thread.join();
  }
}

Status CameraSet::Add(const CameraConfig& config) {
  Status s = ValidateCameraConfig(config);
  if (!s.ok()) return s;
  auto cam = std::make_shared<Camera>();
  cam->config = config;
  if (cam->config.name.empty()) cam->config.name = config.id;
  if (cam->config.fingerprint.empty()) {
    cam->config.fingerprint = DefaultCameraFingerprint(deps_.session->fingerprint(), config.id);
  }
  cam->http = deps_.http_factory();
  CameraStatus& st = cam->status;
  st.id = cam->config.id;
  st.name = cam->config.name;
  st.fingerprint = cam->config.fingerprint;
  st.trigger_scheme = config.trigger_scheme;
  st.registered = !config.token.empty();
  st.state = st.registered ? CameraState::READY : CameraState::UNREGISTERED;
  // Read after the lock only through this copy: the camera's thread may
  // already change its status (a token Connect rejects at once).
  const bool registered = st.registered;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return FailedPreconditionError("the camera controller is shutting down");
    if (cameras_.count(config.id) != 0) {
      return AlreadyExistsError(internal::StrCat("camera ", config.id, " already exists"));
    }
    int64_t now = deps_.clock->MonoMicros();
    int seconds = TriggerSchemeSeconds(config.trigger_scheme);
    if (seconds > 0) cam->next_due_us = now + int64_t{seconds} * 1000000;
    cameras_.emplace(config.id, cam);
    if (deps_.run_ticker && !ticker_.joinable()) ticker_ = std::thread([this] { TickerMain(); });
    if (registered) TriggerLocked(*cam, Why::kInitial);
    cam->thread = std::thread([this, cam] { Work(cam); });
  }
  ticker_cv_.notify_all();
  PC_LOG(kInfo, kLog) << "camera " << config.id << " (" << config.driver->Describe() << ", "
                      << ToString(config.trigger_scheme) << ") added"
                      << (registered ? "" : "; not registered yet");
  return Status();
}

Status CameraSet::Remove(const std::string& id) {
  std::shared_ptr<Camera> cam;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = cameras_.find(id);
    if (it == cameras_.end()) return NotFoundError(internal::StrCat("no camera ", id));
    cam = it->second;
    cameras_.erase(it);
  }
  StopCamera(cam);
  idle_cv_.notify_all();
  return Status();
}

std::vector<std::string> CameraSet::Ids() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> ids;
  for (const auto& [id, cam] : cameras_) ids.push_back(id);
  return ids;
}

StatusOr<CameraStatus> CameraSet::GetStatus(const std::string& id) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = cameras_.find(id);
  if (it == cameras_.end()) return NotFoundError(internal::StrCat("no camera ", id));
  return it->second->status;
}

std::vector<CameraStatus> CameraSet::Statuses() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<CameraStatus> out;
  for (const auto& [id, cam] : cameras_) out.push_back(cam->status);
  return out;
}

StatusOr<std::string> CameraSet::Register(const std::string& id) {
  CameraConfig config;
  CameraOptions options;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = cameras_.find(id);
    if (it == cameras_.end()) return NotFoundError(internal::StrCat("no camera ", id));
    config = it->second->config;
    options = options_;
  }
  if (deps_.session->token().empty()) {
    return FailedPreconditionError("the printer has no token: register the printer first");
  }
  StatusOr<HttpRequest> req = deps_.session->MakePrinterRequest("POST", "/p/camera");
  if (!req.ok()) return req.status();
  req->content_type = "application/json";
  req->body = RenderCameraRegistration(config, config.fingerprint, config.token);
  req->timeout_ms = options.upload_timeout_ms;
  std::unique_ptr<HttpClient> http = deps_.http_factory();
  HttpResponse resp = http->Send(*req);
  if (resp.error != TransportError::kNone) {
    return UnavailableError(internal::StrCat("camera registration: ", resp.error_message));
  }
  if (resp.status == 401 || resp.status == 403) {
    return PermissionDeniedError(internal::StrCat("Connect refused the printer's token (HTTP ",
                                                  resp.status, ") while registering camera ", id));
  }
  const std::string* token = resp.header("token");
  if (resp.status != 200 || token == nullptr || token->empty()) {
    return InternalError(internal::StrCat("camera registration answered HTTP ", resp.status,
                                          token == nullptr ? " without a token" : "", ": ",
                                          resp.body.substr(0, 200)));
  }
  std::string fingerprint;
  CameraTokenCallback cb;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = cameras_.find(id);
    if (it == cameras_.end()) return NotFoundError(internal::StrCat("camera ", id, " was removed"));
    Camera& cam = *it->second;
    cam.config.token = *token;
    cam.status.registered = true;
    cam.failures = 0;
    cam.retry_at_us = 0;
    if (!cam.busy && !cam.stuck) cam.status.state = CameraState::READY;
    cam.status.last_error.clear();
    fingerprint = cam.config.fingerprint;
    cb = token_cb_;
    TriggerLocked(cam, Why::kInitial);
  }
  PC_LOG(kInfo, kLog) << "camera " << id << " registered";
  if (cb) cb(id, fingerprint, *token);
  return *token;
}

Status CameraSet::SetTriggerScheme(const std::string& id, TriggerScheme scheme) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = cameras_.find(id);
    if (it == cameras_.end()) return NotFoundError(internal::StrCat("no camera ", id));
    Camera& cam = *it->second;
    cam.config.trigger_scheme = scheme;
    cam.status.trigger_scheme = scheme;
    int seconds = TriggerSchemeSeconds(scheme);
    cam.next_due_us =
        seconds > 0 ? deps_.clock->MonoMicros() + int64_t{seconds} * 1000000 : INT64_MAX;
  }
  ticker_cv_.notify_all();
  return Status();
}

void CameraSet::LayerChanged() {
  std::lock_guard<std::mutex> lock(mu_);
  ++layers_;
  if (!PolicyAllowsLocked()) return;
  for (auto& [id, cam] : cameras_) {
    TriggerScheme s = cam->config.trigger_scheme;
    if (s == TriggerScheme::EACH_LAYER || (s == TriggerScheme::FIFTH_LAYER && layers_ % 5 == 0)) {
      TriggerLocked(*cam, Why::kLayer);
    }
  }
}

Status CameraSet::TriggerManual(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  if (id.empty()) {
    for (auto& [cid, cam] : cameras_) TriggerLocked(*cam, Why::kManual);
    return Status();
  }
  auto it = cameras_.find(id);
  if (it == cameras_.end()) return NotFoundError(internal::StrCat("no camera ", id));
  TriggerLocked(*it->second, Why::kManual);
  return Status();
}

void CameraSet::SetTokenCallback(CameraTokenCallback cb) {
  std::lock_guard<std::mutex> lock(mu_);
  token_cb_ = std::move(cb);
}

Status CameraSet::SetOptions(const CameraOptions& options) {
  if (options.upload_timeout_ms <= 0 || options.backoff_min_ms <= 0 ||
      options.backoff_max_ms < options.backoff_min_ms || options.busy_timeout_ms <= 0) {
    return InvalidArgumentError(
        "camera timeouts must be positive and backoff_min_ms <= backoff_max_ms");
  }
  if (options.jpeg_quality < 1 || options.jpeg_quality > 100) {
    return InvalidArgumentError("camera jpeg_quality must be in 1..100");
  }
  std::lock_guard<std::mutex> lock(mu_);
  options_ = options;
  return Status();
}

void CameraSet::SetUploadPolicy(UploadPolicy policy) {
  std::lock_guard<std::mutex> lock(mu_);
  options_.policy = policy;
}

CameraOptions CameraSet::options() const {
  std::lock_guard<std::mutex> lock(mu_);
  return options_;
}

bool CameraSet::PolicyAllowsLocked() const {
  if (options_.policy == UploadPolicy::ALWAYS) return true;
  State s = deps_.session->state();
  return s == State::PRINTING || s == State::PAUSED;
}

void CameraSet::TriggerLocked(Camera& cam, Why why) {
  const bool forced = why == Why::kManual || why == Why::kInitial || why == Why::kRetry;
  if (cam.config.token.empty() || cam.status.state == CameraState::STOPPED ||
      StillStuckLocked(cam)) {
    ++cam.status.triggers_skipped;
    return;
  }
  if (cam.busy) {
    // A snapshot is in progress: timed and layer triggers are dropped (a
    // slow camera does not pile up stale work); a manual one, and the first
    // one after a (re-)registration, wait for it.
    if (why == Why::kManual || why == Why::kInitial) {
      cam.pending = true;
      cam.why = why;
    } else {
      ++cam.status.triggers_skipped;
    }
    return;
  }
  if (cam.status.state == CameraState::RETRYING && !forced) {
    ++cam.status.triggers_skipped;  // backing off
    return;
  }
  cam.pending = true;
  cam.why = why;
  cam.cv.notify_all();
}

int64_t CameraSet::Tick() {
  std::lock_guard<std::mutex> lock(mu_);
  return TickLocked(deps_.clock->MonoMicros());
}

int64_t CameraSet::TickLocked(int64_t now) {
  int64_t next = INT64_MAX;
  bool allowed = PolicyAllowsLocked();
  const int64_t busy_timeout_us = std::max<int64_t>(options_.busy_timeout_ms, 0) * 1000;
  for (auto& [id, cam] : cameras_) {
    Camera& c = *cam;
    if (c.busy && !c.stuck && c.capture && now - c.busy_since_us > busy_timeout_us) {
      AbandonLocked(c, now);
    }
    StillStuckLocked(c);
    if (c.retry_at_us != 0 && c.retry_at_us <= now && !c.busy) {
      c.retry_at_us = 0;
      TriggerLocked(c, Why::kRetry);
    }
    int seconds = TriggerSchemeSeconds(c.config.trigger_scheme);
    if (seconds > 0 && c.next_due_us <= now) {
      int64_t interval = int64_t{seconds} * 1000000;
      // Keep the cadence; after a long gap (suspend) start again from now.
      c.next_due_us += interval;
      if (c.next_due_us <= now) c.next_due_us = now + interval;
      if (allowed) {
        TriggerLocked(c, Why::kTimed);
      } else {
        ++c.status.triggers_skipped;
      }
    }
    if (seconds > 0) next = std::min(next, c.next_due_us);
    if (c.retry_at_us != 0) next = std::min(next, c.retry_at_us);
    // When a capture in progress becomes stuck (past it: the capture is done
    // and the upload has its own timeout).
    const int64_t stuck_at = c.busy_since_us + busy_timeout_us + 1;
    if (c.busy && !c.stuck && c.capture && stuck_at > now) next = std::min(next, stuck_at);
  }
  return next;
}

void CameraSet::TickerMain() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    int64_t now = deps_.clock->MonoMicros();
    int64_t next = TickLocked(now);
    // Re-check at least once a second: the policy follows the printer state.
    int64_t wait_us = std::min<int64_t>(next - now, 1000000);
    ticker_cv_.wait_for(lock, std::chrono::microseconds(std::max<int64_t>(wait_us, 1000)));
  }
}

void CameraSet::AbandonLocked(Camera& cam, int64_t now_us) {
  {
    std::lock_guard<std::mutex> lock(cam.capture->mu);
    if (cam.capture->done) return;  // returned just now: not stuck
    cam.capture->abandon = true;
    cam.capture->cv.notify_all();
  }
  cam.stuck = true;
  ++cam.status.capture_failures;
  cam.status.state = CameraState::STUCK;
  cam.status.last_error =
      internal::StrCat("the driver (", cam.config.driver->Describe(), ") did not return within ",
                       (now_us - cam.busy_since_us) / 1000,
                       " ms; capture abandoned, no new capture until it returns");
  cam.retry_at_us = 0;
  cam.failures = 0;
  PC_LOG(kError, kLog) << "camera " << cam.config.id << " is stuck: " << cam.status.last_error;
}

bool CameraSet::StillStuckLocked(Camera& cam) {
  if (!cam.stuck) return false;
  {
    std::lock_guard<std::mutex> lock(cam.capture->mu);
    if (!cam.capture->done) return true;
  }
  cam.stuck = false;
  cam.capture.reset();
  if (!cam.busy) {
    cam.status.state = cam.config.token.empty() ? CameraState::UNREGISTERED : CameraState::READY;
  }
  PC_LOG(kWarning, kLog) << "camera " << cam.config.id
                         << ": the stuck driver call returned at last; camera resumed";
  return false;
}

void CameraSet::FailLocked(Camera& cam, const std::string& what, bool retry) {
  cam.status.last_error = what;
  if (!retry) {
    cam.status.state = CameraState::READY;
    PC_LOG(kWarning, kLog) << "camera " << cam.config.id << ": " << what;
    return;
  }
  ++cam.failures;
  int64_t delay_ms = std::max<int64_t>(options_.backoff_min_ms, 1);
  for (int i = 1; i < cam.failures && delay_ms < options_.backoff_max_ms; ++i) delay_ms *= 2;
  delay_ms = std::min(delay_ms, std::max<int64_t>(options_.backoff_max_ms, 1));
  cam.retry_at_us = deps_.clock->MonoMicros() + delay_ms * 1000;
  cam.status.state = CameraState::RETRYING;
  PC_LOG(kWarning, kLog) << "camera " << cam.config.id << ": " << what << "; retrying in "
                         << delay_ms << " ms (failure " << cam.failures << ")";
  ticker_cv_.notify_all();
}

void CameraSet::Work(const std::shared_ptr<Camera>& cam) {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    cam->cv.wait(lock, [&] { return cam->pending || cam->stop; });
    if (cam->stop) break;
    cam->pending = false;
    if (cam->config.token.empty() || cam->status.state == CameraState::STOPPED) {
      idle_cv_.notify_all();  // e.g. a manual trigger queued before a 401
      continue;
    }
    if (StillStuckLocked(*cam)) {
      idle_cv_.notify_all();
      continue;
    }
    cam->busy = true;
    cam->busy_since_us = deps_.clock->MonoMicros();
    cam->status.state = CameraState::BUSY;
    auto slot = std::make_shared<CaptureSlot>();
    cam->capture = slot;
    auto driver = std::make_shared<GuardedDriver>(cam->config.driver, slot);
    std::string token = cam->config.token;
    std::string fingerprint = cam->config.fingerprint;
    std::string printer_uuid = cam->config.printer_uuid;
    CameraOptions options = options_;
    lock.unlock();

    // Capture, convert and upload, without the lock.
    SnapshotTarget target;
    target.server = deps_.session->server();
    target.token = token;
    target.fingerprint = fingerprint;
    target.printer_uuid = printer_uuid;
    target.clock = deps_.clock;
    target.verify_tls = deps_.session->options().verify_tls;
    target.ca_file = deps_.session->options().ca_file;
    SnapshotOutcome out = TakeSnapshot(*driver, cam->http.get(), target, options);
    const bool capture_failed = out.kind == SnapshotOutcome::kCaptureFailed;
    const bool oversize = out.kind == SnapshotOutcome::kOversize;
    const bool sent = out.kind == SnapshotOutcome::kSent;
    const std::string& error = out.error;
    const HttpResponse& resp = out.response;

    lock.lock();
    CameraTokenCallback rejected_cb;
    CameraStatus& st = cam->status;
    if (!cam->stuck) {
      std::lock_guard<std::mutex> slot_lock(slot->mu);
      if (slot->abandon && !slot->done) {
        // Left behind on removal: not stuck, the camera is going away.
        cam->stuck = true;
      } else {
        cam->capture.reset();
      }
    }
    if (cam->stuck) {
      // Abandoned (Q34): the state says STUCK until the driver returns.
    } else if (capture_failed) {
      ++st.capture_failures;
      FailLocked(*cam, error, true);
    } else if (oversize) {
      ++st.oversize_skipped;
      st.last_image_bytes = out.bytes;
      FailLocked(*cam,
                 internal::StrCat("image of ", out.bytes, " bytes is over Connect's limit of ",
                                  options.max_image_bytes, " bytes; not sent"),
                 false);
    } else if (!sent) {
      ++st.upload_failures;
      FailLocked(*cam, "the printer has no server; snapshot not sent", true);
    } else if (resp.error != TransportError::kNone) {
      ++st.upload_failures;
      FailLocked(*cam,
                 internal::StrCat("upload failed: ", TransportErrorName(resp.error), ": ",
                                  resp.error_message),
                 true);
    } else if (resp.status == 401 || resp.status == 403) {
      ++st.upload_failures;
      // Q30 fixed: the token is forgotten by the host too (callback), so a
      // restart does not bring the rejected token back.
      if (cam->config.token == token) {
        cam->config.token.clear();
        st.registered = false;
        st.state = CameraState::STOPPED;
        st.last_error = internal::StrCat("Connect rejected the camera token (HTTP ", resp.status,
                                         "); register the camera again to resume");
        cam->failures = 0;
        cam->retry_at_us = 0;
        rejected_cb = token_cb_;
        PC_LOG(kError, kLog) << "camera " << cam->config.id << " stopped: Connect rejected its "
                             << "token (HTTP " << resp.status
                             << "); register the camera again (register_camera) to resume";
      } else {
        st.state = CameraState::READY;  // re-registered meanwhile
      }
    } else if (resp.status >= 200 && resp.status < 300) {
      ++st.snapshots_uploaded;
      st.last_image_bytes = out.bytes;
      st.last_upload_time = static_cast<double>(deps_.clock->WallMicros()) / 1e6;
      st.last_error.clear();
      st.state = CameraState::READY;
      cam->failures = 0;
      cam->retry_at_us = 0;
    } else if (resp.status >= 500 || resp.status == 429 || resp.status == 408) {
      ++st.upload_failures;
      FailLocked(*cam, internal::StrCat("upload answered HTTP ", resp.status), true);
    } else {
      ++st.upload_failures;
      FailLocked(*cam,
                 internal::StrCat("upload refused with HTTP ", resp.status, ": ",
                                  resp.body.substr(0, 200)),
                 false);
    }
    cam->busy = false;
    bool idle = !cam->pending;
    if (rejected_cb) {
      std::string id = cam->config.id;
      lock.unlock();
      rejected_cb(id, fingerprint, "");
      lock.lock();
    }
    if (idle) idle_cv_.notify_all();
  }
}

bool CameraSet::WaitIdle(const std::string& id, int64_t timeout_ms) {
  std::unique_lock<std::mutex> lock(mu_);
  return idle_cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] {
    auto it = cameras_.find(id);
    return it == cameras_.end() || (!it->second->busy && !it->second->pending);
  });
}

}  // namespace prusaconnect::internal
