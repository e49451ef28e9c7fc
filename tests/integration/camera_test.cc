// Copyright 2026 The libprusaconnect Authors.
//
// Cameras end to end: a Printer against the local Connect emulator, with
// cameras whose images come from a local HTTP server serving JPEG and PNG
// frames (as mjpg-streamer's ?action=snapshot would). Registration, upload,
// a rejected token, a camera that times out, an oversize image, a slow
// camera while telemetry flows, two cameras on one printer. Waits are
// bounded condition waits.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/time/time.h"
#include "camera/image.h"
#include "emulator/emulator.h"
#include "emulator/http_server.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "prusaconnect/prusaconnect.h"

namespace prusaconnect {
namespace {

using emulator::Emulator;
using emulator::FaultRule;
using ::testing::HasSubstr;

constexpr absl::Duration kWait = absl::Seconds(30);
constexpr auto kWaitChrono = std::chrono::seconds(30);

std::string Jpeg(int w, int h, char shade) {
  std::string rgb(static_cast<size_t>(w) * h * 3, shade);
  return *internal::EncodeRgbJpeg(rgb, w, h, 80);
}

// A tiny valid 1x1 PNG (red).
std::string Png() {
  std::string png;
  absl::Base64Unescape(
      "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJg"
      "gg==",
      &png);
  return png;
}

// Serves /frame.jpg, /frame.png, /private.jpg (basic auth user:secret),
// /hang.jpg (never answers until Release()).
class CameraServer {
 public:
  CameraServer()
      : server_(emulator::HttpServerOptions{},
                [this](const emulator::HttpRequest& r, emulator::HttpResponder responder) {
                  Handle(r, std::move(responder));
                }) {
    EXPECT_TRUE(server_.Start().ok());
  }
  ~CameraServer() {
    Release();
    server_.Stop();
  }

  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(server_.port()) + path;
  }
  void Release() {
    std::vector<emulator::HttpResponder> held;
    {
      std::lock_guard<std::mutex> l(mu_);
      held.swap(held_);
    }
    for (auto& r : held) r.Respond(Ok(jpeg_));
  }
  bool WaitHeld() {
    std::unique_lock<std::mutex> l(mu_);
    return cv_.wait_for(l, kWaitChrono, [this] { return !held_.empty(); });
  }

  const std::string jpeg_ = Jpeg(64, 48, '\x40');

 private:
  static emulator::HttpResponse Ok(const std::string& body) {
    emulator::HttpResponse resp;
    resp.status = 200;
    resp.body = body;
    return resp;
  }

  void Handle(const emulator::HttpRequest& r, emulator::HttpResponder responder) {
    if (r.path == "/frame.jpg") return responder.Respond(Ok(jpeg_));
    if (r.path == "/frame.png") return responder.Respond(Ok(Png()));
    if (r.path == "/private.jpg") {
      // "user:secret"
      if (r.headers.Get("Authorization") != "Basic dXNlcjpzZWNyZXQ=") {
        return responder.Respond(emulator::HttpResponse::Text(401, "auth"));
      }
      return responder.Respond(Ok(jpeg_));
    }
    if (r.path == "/hang.jpg") {
      std::lock_guard<std::mutex> l(mu_);
      held_.push_back(std::move(responder));
      cv_.notify_all();
      return;
    }
    responder.Respond(emulator::HttpResponse::Text(404, "no"));
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<emulator::HttpResponder> held_;
  emulator::HttpServer server_;
};

// Tokens the host was told about, by camera id.
struct TokenLog {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::pair<std::string, std::string>> calls;
  void Add(const std::string& id, const std::string& token) {
    std::lock_guard<std::mutex> l(mu);
    calls.emplace_back(id, token);
    cv.notify_all();
  }
  bool WaitFor(const std::string& id, const std::string& token) {
    std::unique_lock<std::mutex> l(mu);
    return cv.wait_for(l, kWaitChrono, [&] {
      for (const auto& c : calls) {
        if (c.first == id && c.second == token) return true;
      }
      return false;
    });
  }
};

class CameraIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    emulator_ = std::make_unique<Emulator>();
    ASSERT_TRUE(emulator_->Start().ok());
    network_ = std::make_shared<Network>();
    PrinterOptions o;
    o.network = network_;
    fp_ = FingerprintFromSerial("SN-CAM-1");
    auto token = emulator_->PreregisterPrinter(fp_, "SN-CAM-1", "1.3.1");
    ASSERT_TRUE(token.ok());
    printer_ = std::make_unique<Printer>(PrinterType::I3MK3S, "SN-CAM-1", fp_, o);
    printer_->set_software("test");
    printer_->set_connection(emulator_->url(), *token);
    printer_->cameras().set_token_cb([this](const std::string& id, const std::string&,
                                            const std::string& t) { tokens_.Add(id, t); });
  }

  void TearDown() override {
    printer_.reset();
    emulator_->Stop();
  }

  CameraConfig HttpCamera(const std::string& id, const std::string& url,
                          TriggerScheme scheme = TriggerScheme::MANUAL) {
    CameraConfig c;
    c.id = id;
    c.name = "Camera " + id;
    c.trigger_scheme = scheme;
    HttpSnapshotOptions h;
    h.url = url;
    h.timeout_ms = 2000;
    c.driver = MakeHttpSnapshotDriver(h);
    return c;
  }

  std::optional<emulator::CameraInfo> EmulatorCamera(const std::string& fingerprint) {
    for (const auto& c : emulator_->Cameras()) {
      if (c.fingerprint == fingerprint) return c;
    }
    return std::nullopt;
  }

  bool WaitSnapshots(const std::string& fingerprint, int64_t count) {
    return emulator_->WaitFor(
        [&] {
          auto c = EmulatorCamera(fingerprint);
          return c && c->snapshot_count >= count;
        },
        kWait);
  }

  // Polls a camera-side condition (the emulator cannot signal those).
  static bool Eventually(const std::function<bool()>& pred) {
    auto deadline = std::chrono::steady_clock::now() + kWaitChrono;
    while (std::chrono::steady_clock::now() < deadline) {
      if (pred()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return pred();
  }

  bool WaitState(const std::string& id, CameraState state) {
    return Eventually([&] {
      auto s = printer_->cameras().status(id);
      return s.ok() && s->state == state;
    });
  }

  std::unique_ptr<Emulator> emulator_;
  std::shared_ptr<Network> network_;
  std::unique_ptr<Printer> printer_;
  std::string fp_;
  CameraServer cams_;
  TokenLog tokens_;
};

TEST_F(CameraIntegrationTest, RegisterThenUploadTheServedFrame) {
  CameraController& cameras = printer_->cameras();
  ASSERT_TRUE(cameras.add_camera(HttpCamera("cam", cams_.url("/frame.jpg"))).ok());
  EXPECT_EQ(cameras.status("cam")->state, CameraState::UNREGISTERED);
  StatusOr<std::string> token = cameras.register_camera("cam");
  ASSERT_TRUE(token.ok()) << token.status().ToString();
  ASSERT_TRUE(tokens_.WaitFor("cam", *token));
  std::string fingerprint = cameras.status("cam")->fingerprint;
  ASSERT_TRUE(WaitSnapshots(fingerprint, 1));  // the first snapshot after registration
  auto info = EmulatorCamera(fingerprint);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->token, *token);
  EXPECT_EQ(info->printer_fingerprint, fp_);
  EXPECT_EQ(info->last_content_type, "image/jpg");
  EXPECT_EQ(info->last_snapshot, cams_.jpeg_);
  EXPECT_THAT(info->registration_json, HasSubstr("\"camera_id\":\"cam\""));
  ASSERT_TRUE(cameras.trigger_manual("cam").ok());
  ASSERT_TRUE(WaitSnapshots(fingerprint, 2));
  EXPECT_TRUE(emulator_->ProtocolErrors().empty()) << emulator_->ProtocolErrors()[0].message;
}

TEST_F(CameraIntegrationTest, PngFramesArriveAsJpegAndBasicAuthWorks) {
  CameraController& cameras = printer_->cameras();
  ASSERT_TRUE(cameras.add_camera(HttpCamera("png", cams_.url("/frame.png"))).ok());
  CameraConfig priv = HttpCamera("private", cams_.url("/private.jpg"));
  HttpSnapshotOptions h;
  h.url = cams_.url("/private.jpg");
  h.username = "user";
  h.password = "secret";
  priv.driver = MakeHttpSnapshotDriver(h);
  ASSERT_TRUE(cameras.add_camera(priv).ok());
  ASSERT_TRUE(cameras.register_camera("png").ok());
  ASSERT_TRUE(cameras.register_camera("private").ok());
  ASSERT_TRUE(WaitSnapshots(cameras.status("png")->fingerprint, 1));
  ASSERT_TRUE(WaitSnapshots(cameras.status("private")->fingerprint, 1));
  auto png = EmulatorCamera(cameras.status("png")->fingerprint);
  EXPECT_EQ(internal::DetectImageFormat(png->last_snapshot), internal::ImageFormat::kJpeg);

  // Wrong password: a capture failure that names the cause, retried.
  h.password = "wrong";
  CameraConfig bad = HttpCamera("badauth", h.url);
  bad.token = "whatever";
  bad.driver = MakeHttpSnapshotDriver(h);
  ASSERT_TRUE(cameras.add_camera(bad).ok());
  ASSERT_TRUE(WaitState("badauth", CameraState::RETRYING));
  EXPECT_THAT(cameras.status("badauth")->last_error, HasSubstr("HTTP 401"));
}

TEST_F(CameraIntegrationTest, RejectedTokenStopsOneCameraOthersContinue) {
  CameraController& cameras = printer_->cameras();
  ASSERT_TRUE(cameras.add_camera(HttpCamera("a", cams_.url("/frame.jpg"))).ok());
  ASSERT_TRUE(cameras.add_camera(HttpCamera("b", cams_.url("/frame.jpg"))).ok());
  auto ta = cameras.register_camera("a");
  auto tb = cameras.register_camera("b");
  ASSERT_TRUE(ta.ok() && tb.ok());
  std::string fa = cameras.status("a")->fingerprint;
  std::string fb = cameras.status("b")->fingerprint;
  EXPECT_NE(fa, fb);
  EXPECT_NE(*ta, *tb);
  ASSERT_TRUE(WaitSnapshots(fa, 1));
  ASSERT_TRUE(WaitSnapshots(fb, 1));
  // Connect revokes camera a's token.
  FaultRule rule;
  rule.path_prefix = "/c/snapshot";
  rule.token = *ta;
  rule.status = 401;
  emulator_->AddFault(rule);
  ASSERT_TRUE(cameras.trigger_manual().ok());
  ASSERT_TRUE(WaitState("a", CameraState::STOPPED));
  ASSERT_TRUE(tokens_.WaitFor("a", ""));  // the host forgets it
  EXPECT_THAT(cameras.status("a")->last_error, HasSubstr("register the camera again"));
  ASSERT_TRUE(WaitSnapshots(fb, 2));
  ASSERT_TRUE(cameras.trigger_manual("b").ok());
  ASSERT_TRUE(WaitSnapshots(fb, 3));
  EXPECT_EQ(EmulatorCamera(fa)->snapshot_count, 1);
  EXPECT_EQ(cameras.status("b")->state == CameraState::STOPPED, false);
}

TEST_F(CameraIntegrationTest, CameraThatTimesOutIsRetried) {
  CameraController& cameras = printer_->cameras();
  CameraConfig c = HttpCamera("slow", cams_.url("/hang.jpg"));
  HttpSnapshotOptions h;
  h.url = cams_.url("/hang.jpg");
  h.timeout_ms = 200;
  c.driver = MakeHttpSnapshotDriver(h);
  ASSERT_TRUE(cameras.add_camera(c).ok());
  ASSERT_TRUE(cameras.register_camera("slow").ok());
  ASSERT_TRUE(WaitState("slow", CameraState::RETRYING));
  auto st = cameras.status("slow");
  EXPECT_THAT(st->last_error, HasSubstr("no image within 200 ms"));
  EXPECT_GE(st->capture_failures, 1);
  // The backoff retry (1 s) tries again.
  ASSERT_TRUE(Eventually([&] { return cameras.status("slow")->capture_failures >= 2; }));
}

TEST_F(CameraIntegrationTest, OversizeImageIsNotSent) {
  CameraController& cameras = printer_->cameras();
  std::string path = ::testing::TempDir() + "/oversize.jpg";
  {
    std::string big = Jpeg(8, 8, '\x10');
    big.resize(kMaxSnapshotBytes + 1000, '\0');  // trailing bytes: still "a JPEG"
    std::ofstream(path, std::ios::binary) << big;
  }
  CameraConfig c;
  c.id = "big";
  c.trigger_scheme = TriggerScheme::MANUAL;
  c.driver = MakeFileDriver(path);
  ASSERT_TRUE(cameras.add_camera(c).ok());
  ASSERT_TRUE(cameras.register_camera("big").ok());
  ASSERT_TRUE(Eventually([&] { return cameras.status("big")->oversize_skipped >= 1; }));
  EXPECT_THAT(cameras.status("big")->last_error, HasSubstr("over Connect's limit"));
  EXPECT_EQ(EmulatorCamera(cameras.status("big")->fingerprint)->snapshot_count, 0);
  std::remove(path.c_str());
}

TEST_F(CameraIntegrationTest, SlowCameraDoesNotDelayTelemetry) {
  CameraController& cameras = printer_->cameras();
  CameraConfig c = HttpCamera("slow", cams_.url("/hang.jpg"));
  HttpSnapshotOptions h;
  h.url = cams_.url("/hang.jpg");
  h.timeout_ms = 60000;
  c.driver = MakeHttpSnapshotDriver(h);
  ASSERT_TRUE(cameras.add_camera(c).ok());
  printer_->start();
  ASSERT_TRUE(cameras.register_camera("slow").ok());
  ASSERT_TRUE(cams_.WaitHeld());  // the camera is stuck in its capture
  EXPECT_EQ(cameras.status("slow")->state, CameraState::BUSY);
  // Telemetry keeps flowing meanwhile.
  std::atomic<bool> done{false};
  std::thread host([&] {
    while (!done) {
      printer_->telemetry(Telemetry{});
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
  bool flowed = emulator_->WaitForTelemetry(fp_, 10, kWait);
  EXPECT_EQ(cameras.status("slow")->state, CameraState::BUSY);
  done = true;
  host.join();
  EXPECT_TRUE(flowed);
  cams_.Release();
  ASSERT_TRUE(WaitSnapshots(cameras.status("slow")->fingerprint, 1));
}

// Q34: a driver that does not return within busy_timeout_ms makes its camera
// STUCK; the other camera goes on; the camera resumes when the call returns.
TEST_F(CameraIntegrationTest, HungDriverMakesItsCameraStuckUntilItReturns) {
  CameraController& cameras = printer_->cameras();
  CameraOptions o = cameras.options();
  o.policy = UploadPolicy::ALWAYS;
  o.busy_timeout_ms = 200;
  ASSERT_TRUE(cameras.set_options(o).ok());
  CameraConfig c = HttpCamera("slow", cams_.url("/hang.jpg"));
  HttpSnapshotOptions h;
  h.url = cams_.url("/hang.jpg");
  h.timeout_ms = 60000;  // the driver's own timeout is far away
  c.driver = MakeHttpSnapshotDriver(h);
  ASSERT_TRUE(cameras.add_camera(c).ok());
  ASSERT_TRUE(cameras.add_camera(HttpCamera("fast", cams_.url("/frame.jpg"))).ok());
  ASSERT_TRUE(cameras.register_camera("slow").ok());
  ASSERT_TRUE(cams_.WaitHeld());
  ASSERT_TRUE(WaitState("slow", CameraState::STUCK));
  EXPECT_THAT(cameras.status("slow")->last_error, HasSubstr("did not return within"));
  ASSERT_TRUE(cameras.register_camera("fast").ok());
  ASSERT_TRUE(WaitSnapshots(cameras.status("fast")->fingerprint, 1));
  ASSERT_TRUE(cameras.trigger_manual("fast").ok());
  ASSERT_TRUE(WaitSnapshots(cameras.status("fast")->fingerprint, 2));
  EXPECT_EQ(cameras.status("slow")->state, CameraState::STUCK);
  cams_.Release();
  ASSERT_TRUE(WaitState("slow", CameraState::READY));
  EXPECT_EQ(cameras.status("slow")->snapshots_uploaded, 0);  // the stale image is dropped
}

TEST_F(CameraIntegrationTest, TwoCamerasOnOnePrinterUploadSeparately) {
  CameraController& cameras = printer_->cameras();
  cameras.set_upload_policy(UploadPolicy::ALWAYS);
  ASSERT_TRUE(
      cameras.add_camera(HttpCamera("one", cams_.url("/frame.jpg"), TriggerScheme::TEN_SEC)).ok());
  ASSERT_TRUE(cameras.add_camera(HttpCamera("two", cams_.url("/frame.png"))).ok());
  ASSERT_TRUE(cameras.register_camera("one").ok());
  ASSERT_TRUE(cameras.register_camera("two").ok());
  ASSERT_TRUE(WaitSnapshots(cameras.status("one")->fingerprint, 1));
  ASSERT_TRUE(WaitSnapshots(cameras.status("two")->fingerprint, 1));
  std::vector<emulator::CameraInfo> all = emulator_->Cameras();
  ASSERT_EQ(all.size(), 2u);
  for (const auto& info : all) EXPECT_EQ(info.printer_fingerprint, fp_);
  EXPECT_EQ(cameras.camera_ids(), (std::vector<std::string>{"one", "two"}));
  ASSERT_TRUE(cameras.remove_camera("two").ok());
  EXPECT_EQ(cameras.camera_ids(), std::vector<std::string>{"one"});
}

TEST_F(CameraIntegrationTest, ChangingTheServerKeepsCamerasPointedRight) {  // Q28
  Emulator other;
  ASSERT_TRUE(other.Start().ok());
  CameraController& cameras = printer_->cameras();
  ASSERT_TRUE(cameras.add_camera(HttpCamera("cam", cams_.url("/frame.jpg"))).ok());
  ASSERT_TRUE(cameras.register_camera("cam").ok());
  std::string fingerprint = cameras.status("cam")->fingerprint;
  ASSERT_TRUE(WaitSnapshots(fingerprint, 1));
  auto token = other.PreregisterPrinter(fp_, "SN-CAM-1", "1.3.1");
  ASSERT_TRUE(token.ok());
  printer_->set_connection(other.url(), *token);
  ASSERT_TRUE(cameras.register_camera("cam").ok());
  ASSERT_TRUE(other.WaitFor(
      [&] {
        for (const auto& c : other.Cameras()) {
          if (c.fingerprint == fingerprint && c.snapshot_count >= 1) return true;
        }
        return false;
      },
      kWait))
      << "state " << static_cast<int>(cameras.status("cam")->state) << " error "
      << cameras.status("cam")->last_error << " uploaded "
      << cameras.status("cam")->snapshots_uploaded << " upload failures "
      << cameras.status("cam")->upload_failures;
  other.Stop();
}

}  // namespace
}  // namespace prusaconnect
