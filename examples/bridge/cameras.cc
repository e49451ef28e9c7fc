// Copyright 2026 The libprusaconnect Authors.
#include "cameras.h"

#include <cstdio>
#include <fstream>
#include <sstream>

#include "adapter_log.h"
#include "identity.h"

namespace bridge {

namespace pc = prusaconnect;

std::shared_ptr<pc::CameraDriver> MakeSourceDriver(const CameraEntry& e) {
  if (e.source == "http") {
    pc::HttpSnapshotOptions o;
    o.url = e.url;
    o.username = e.username;
    o.password = e.password;
    o.timeout_ms = e.timeout_s * 1000;
    o.verify_tls = e.verify_tls;
    return pc::MakeHttpSnapshotDriver(o);
  }
  if (e.source == "command") {
    pc::CommandOptions o;
    o.argv = e.command;
    o.timeout_ms = e.timeout_s * 1000;
    return pc::MakeCommandDriver(o);
  }
  if (e.source == "v4l2") {
    pc::V4L2Options o;
    o.device = e.device;
    o.width = static_cast<int>(e.width);
    o.height = static_cast<int>(e.height);
    o.timeout_ms = e.timeout_s * 1000;
    return pc::MakeV4L2Driver(o);
  }
  return pc::MakeFileDriver(e.path);
}

void StoreCameraTokens(pc::Printer* printer, const std::string& state_dir,
                       const std::string& log_name) {
  printer->cameras().set_token_cb([state_dir, log_name](const std::string& id,
                                                        const std::string& fingerprint,
                                                        const std::string& token) {
    octoprint_adapter::LogScope scope(log_name);
    std::string path = state_dir + "/camera-" + id;
    if (token.empty()) {
      std::remove(path.c_str());  // Connect refused it: register anew next time
      return;
    }
    pc::Status s =
        octoprint_adapter::WriteFileAtomic(path, fingerprint + "\n" + token + "\n", 0600);
    if (!s.ok())
      octoprint_adapter::LogWarning("cannot store camera " + id + "'s token: " + s.message());
  });
}

pc::Status AddStoredCamera(pc::Printer* printer, const std::string& state_dir,
                           pc::CameraConfig config) {
  if (config.token.empty()) {
    std::ifstream in(state_dir + "/camera-" + config.id);
    std::stringstream ss;
    ss << in.rdbuf();
    std::string stored = ss.str();
    size_t nl = stored.find('\n');
    if (nl != std::string::npos) {
      config.fingerprint = stored.substr(0, nl);
      config.token = stored.substr(nl + 1);
      while (!config.token.empty() && config.token.back() == '\n') config.token.pop_back();
    }
  }
  pc::CameraController& cams = printer->cameras();
  std::string id = config.id;
  bool registered = !config.token.empty();
  if (pc::Status added = cams.add_camera(config); !added.ok()) return added;
  if (!registered) {
    pc::StatusOr<std::string> token = cams.register_camera(id);
    if (!token.ok()) {
      (void)cams.remove_camera(id);
      return token.status();
    }
  }
  return pc::Status::OK();
}

}  // namespace bridge
