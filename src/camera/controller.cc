// Copyright 2026 The libprusaconnect Authors.
//
// CameraController: the public face of CameraSet.
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "camera/camera_set.h"
#include "prusaconnect/camera.h"

namespace prusaconnect {

const char* ToString(CameraState state) {
  switch (state) {
    case CameraState::UNREGISTERED:
      return "UNREGISTERED";
    case CameraState::READY:
      return "READY";
    case CameraState::BUSY:
      return "BUSY";
    case CameraState::RETRYING:
      return "RETRYING";
    case CameraState::STOPPED:
      return "STOPPED";
    case CameraState::STUCK:
      return "STUCK";
  }
  return "UNKNOWN";
}

CameraController::CameraController(std::shared_ptr<internal::Session> session) {
  internal::CameraSet::Deps deps;
  deps.session = std::move(session);
  deps.clock = internal::RealClock();
  impl_ = std::make_shared<internal::CameraSet>(std::move(deps));
}

CameraController::~CameraController() = default;

Status CameraController::add_camera(const CameraConfig& config) { return impl_->Add(config); }
Status CameraController::remove_camera(const std::string& id) { return impl_->Remove(id); }
std::vector<std::string> CameraController::camera_ids() const { return impl_->Ids(); }
StatusOr<CameraStatus> CameraController::status(const std::string& id) const {
  return impl_->GetStatus(id);
}
std::vector<CameraStatus> CameraController::statuses() const { return impl_->Statuses(); }
StatusOr<std::string> CameraController::register_camera(const std::string& id) {
  return impl_->Register(id);
}
Status CameraController::set_trigger_scheme(const std::string& id, TriggerScheme scheme) {
  return impl_->SetTriggerScheme(id, scheme);
}
void CameraController::layer_changed() { impl_->LayerChanged(); }
Status CameraController::trigger_manual(const std::string& id) { return impl_->TriggerManual(id); }
void CameraController::set_token_cb(CameraTokenCallback cb) {
  impl_->SetTokenCallback(std::move(cb));
}
Status CameraController::set_options(const CameraOptions& options) {
  return impl_->SetOptions(options);
}
CameraOptions CameraController::options() const { return impl_->options(); }
void CameraController::set_upload_policy(UploadPolicy policy) { impl_->SetUploadPolicy(policy); }

}  // namespace prusaconnect
