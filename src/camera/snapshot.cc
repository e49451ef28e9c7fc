// Copyright 2026 The libprusaconnect Authors.
//
// One camera, without the set's scheduling (camera_set.cc): its config and
// fingerprint checks, the body of its registration (POST /p/camera), and
// one snapshot from capture to PUT /c/snapshot (TakeSnapshot).
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

bool Has(const CameraConfig& c, CapabilityType t) {
  return std::find(c.capabilities.begin(), c.capabilities.end(), t) != c.capabilities.end();
}

Json ResolutionJson(const Resolution& r) {
  return Json::MakeObject({{"width", r.width}, {"height", r.height}});
}

int64_t Pixels(const Resolution& r) { return int64_t{r.width} * r.height; }

}  // namespace

std::string DefaultCameraFingerprint(std::string_view printer_fingerprint,
                                     std::string_view camera_id) {
  std::string seed(printer_fingerprint);
  if (!seed.empty()) seed += '/';
  seed.append(camera_id.data(), camera_id.size());
  return Sha256Hex(seed).substr(0, 40);
}

bool ValidCameraFingerprint(std::string_view fp) {
  if (fp.size() < 16 || fp.size() > 64) return false;
  return std::all_of(fp.begin(), fp.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
  });
}

Status ValidateCameraConfig(const CameraConfig& c) {
  if (c.id.empty()) return InvalidArgumentError("camera id is empty");
  if (!c.fingerprint.empty() && !ValidCameraFingerprint(c.fingerprint)) {
    return InvalidArgumentError("camera fingerprint must be 16 to 64 ASCII letters and digits");
  }
  if (!Has(c, CapabilityType::TRIGGER_SCHEME)) {
    return InvalidArgumentError("camera capabilities must include TRIGGER_SCHEME");
  }
  if (!c.driver) return InvalidArgumentError("camera has no driver");
  if (c.rotation != 0 && c.rotation != 90 && c.rotation != 180 && c.rotation != 270) {
    return InvalidArgumentError(
        internal::StrCat("rotation must be 0, 90, 180 or 270, not ", c.rotation));
  }
  if (!(c.exposure >= -2 && c.exposure <= 2)) {
    return InvalidArgumentError("exposure must be within [-2, 2]");
  }
  if (!(c.focus >= 0 && c.focus <= 1)) return InvalidArgumentError("focus must be within [0, 1]");
  for (const Resolution& r : c.resolutions) {
    if (r.width <= 0 || r.height <= 0) return InvalidArgumentError("resolution must be positive");
  }
  if (c.resolution) {
    bool known = std::any_of(c.resolutions.begin(), c.resolutions.end(), [&](const Resolution& r) {
      return r.width == c.resolution->width && r.height == c.resolution->height;
    });
    if (!known) return InvalidArgumentError("resolution is not one of the available resolutions");
  }
  if (Has(c, CapabilityType::RESOLUTION) && c.resolutions.empty()) {
    return InvalidArgumentError("the RESOLUTION capability needs available resolutions");
  }
  return Status();
}

std::string RenderCameraRegistration(const CameraConfig& c, const std::string& fingerprint,
                                     const std::string& token) {
  Json config = Json::MakeObject();
  config.set("trigger_scheme", ToString(c.trigger_scheme));
  if (Has(c, CapabilityType::RESOLUTION) && !c.resolutions.empty()) {
    Resolution r = c.resolution ? *c.resolution
                                : *std::max_element(c.resolutions.begin(), c.resolutions.end(),
                                                    [](const Resolution& a, const Resolution& b) {
                                                      return Pixels(a) < Pixels(b);
                                                    });
    config.set("resolution", ResolutionJson(r));
  }
  if (Has(c, CapabilityType::FOCUS)) config.set("focus", c.focus);
  if (Has(c, CapabilityType::ROTATION)) config.set("rotation", c.rotation);
  if (Has(c, CapabilityType::EXPOSURE)) config.set("exposure", c.exposure);
  config.set("name", c.name.empty() ? c.id : c.name);
  config.set("camera_id", c.id);
  if (!token.empty()) config.set("token", token);  // Q29: the old token
  Json options = Json::MakeObject();
  if (Has(c, CapabilityType::RESOLUTION)) {
    Json list = Json::MakeArray();
    std::vector<Resolution> sorted = c.resolutions;
    std::stable_sort(sorted.begin(), sorted.end(), [](const Resolution& a, const Resolution& b) {
      return Pixels(a) < Pixels(b);
    });
    for (const Resolution& r : sorted) list.push_back(ResolutionJson(r));
    options.set("available_resolutions", std::move(list));
  }
  Json caps = Json::MakeArray();
  for (CapabilityType t : c.capabilities) caps.push_back(ToString(t));
  Json body = Json::MakeObject();
  body.set("config", std::move(config));
  body.set("options", std::move(options));
  body.set("capabilities", std::move(caps));
  body.set("fingerprint", fingerprint);
  return body.Dump();
}

SnapshotOutcome TakeSnapshot(CameraDriver& driver, HttpClient* http, const SnapshotTarget& target,
                             const CameraOptions& options) {
  SnapshotOutcome out;
  StatusOr<std::string> image = driver.Capture();
  const int64_t taken_us = (target.clock != nullptr ? target.clock : RealClock())->WallMicros();
  if (!image.ok()) {
    out.kind = SnapshotOutcome::kCaptureFailed;
    out.error = internal::StrCat("capture failed: ", image.status().ToString());
    return out;
  }
  StatusOr<std::string> jpeg = ToJpeg(std::move(*image), options.jpeg_quality);
  if (!jpeg.ok()) {
    out.kind = SnapshotOutcome::kCaptureFailed;
    out.error = internal::StrCat("capture failed: ", jpeg.status().message());
    return out;
  }
  out.bytes = jpeg->size();
  if (jpeg->size() > options.max_image_bytes) {
    out.kind = SnapshotOutcome::kOversize;
    return out;
  }
  if (target.server.empty() || http == nullptr) {
    out.kind = SnapshotOutcome::kNoServer;
    return out;
  }
  HttpRequest r;
  r.method = "PUT";
  r.url = target.server + "/c/snapshot";
  if (!target.printer_uuid.empty()) r.url += "?printer_uuid=" + PercentEncode(target.printer_uuid);
  r.headers.reserve(3);
  r.headers.emplace_back("Timestamp", FormatTimestamp(taken_us));
  r.headers.emplace_back("Fingerprint", target.fingerprint);
  r.headers.emplace_back("Token", target.token);
  r.content_type = "image/jpg";  // sic: Connect's (and the SDK's) type, Q30
  r.body = *std::move(jpeg);
  r.timeout_ms = options.upload_timeout_ms;
  r.verify_tls = target.verify_tls;
  r.ca_file = target.ca_file;
  r.max_response_body = size_t{64} * 1024;
  out.response = http->Send(r);
  out.kind = SnapshotOutcome::kSent;
  return out;
}

}  // namespace prusaconnect::internal
