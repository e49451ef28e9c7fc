// Copyright 2026 The libprusaconnect Authors.
//
// Cameras of the bridge (docs/cameras.md, "In the bridge"): a printer's
// cameras from its config ([[printer.camera]]: an HTTP snapshot URL, a
// command such as ffmpeg for RTSP, a V4L2 device, a file), Moonraker's
// webcams, and standalone Connect cameras ([[camera]] with the token
// Connect gives for "add another camera"). They use the library's drivers
// and camera controller; this file only builds drivers from the config and
// keeps each camera's token in the state folder (camera-<id>:
// "<fingerprint>\n<token>\n", 0600), so a restart never registers again.
#ifndef PRUSACONNECT_EXAMPLES_BRIDGE_CAMERAS_H_
#define PRUSACONNECT_EXAMPLES_BRIDGE_CAMERAS_H_

#include <prusaconnect/camera.h>
#include <prusaconnect/printer.h>

#include <memory>
#include <string>

#include "bridge_config.h"

namespace bridge {

// The driver a [[printer.camera]] / [[camera]] entry describes.
std::shared_ptr<prusaconnect::CameraDriver> MakeSourceDriver(const CameraEntry& e);

// Stores camera tokens of `printer` in `state_dir` as they come (and
// forgets a token Connect refused).
void StoreCameraTokens(prusaconnect::Printer* printer, const std::string& state_dir,
                       const std::string& log_name);

// Adds the camera with the fingerprint and token stored for it, and
// registers it with Connect when it has none (needs the printer's token).
// On an error the camera is not left half added.
prusaconnect::Status AddStoredCamera(prusaconnect::Printer* printer, const std::string& state_dir,
                                     prusaconnect::CameraConfig config);

}  // namespace bridge

#endif  // PRUSACONNECT_EXAMPLES_BRIDGE_CAMERAS_H_
