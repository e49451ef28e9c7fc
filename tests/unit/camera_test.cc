// Copyright 2026 The libprusaconnect Authors.
//
// Cameras without a network: the camera set driven by a FakeClock (Tick()
// called by the test, no ticker thread), fake drivers and canned HTTP
// answers; the wire format of registration and snapshot upload; image
// conversion; the command, file and V4L2 drivers on what this machine has.
#include <png.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csetjmp>
#include <cstdio>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

// jpeglib.h needs size_t and FILE declared first.
#include <jpeglib.h>

#include "camera/camera_set.h"
#include "camera/image.h"
#include "facade/printer_session.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "protocol/session.h"
#include "prusaconnect/camera.h"
#include "util/clock.h"

namespace prusaconnect::internal {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr int64_t kSecond = 1000000;
constexpr int kWaitMs = 30000;

// A small real JPEG: `w` x `h` grey pixels.
std::string MakeJpeg(int w = 16, int h = 8) {
  std::string rgb(static_cast<size_t>(w) * h * 3, '\x80');
  return *EncodeRgbJpeg(rgb, w, h, 80);
}

// A PNG of `w` x `h` RGBA pixels (libpng's simplified writer).
std::string MakePng(int w, int h) {
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  image.width = static_cast<png_uint_32>(w);
  image.height = static_cast<png_uint_32>(h);
  image.format = PNG_FORMAT_RGBA;
  std::string pixels(static_cast<size_t>(w) * h * 4, '\0');
  for (size_t i = 0; i < pixels.size(); i += 4) {
    pixels[i] = '\xff';      // red
    pixels[i + 3] = '\x80';  // half transparent
  }
  png_alloc_size_t size = 0;
  EXPECT_NE(png_image_write_to_memory(&image, nullptr, &size, 0, pixels.data(), 0, nullptr), 0);
  std::string out(size, '\0');
  EXPECT_NE(png_image_write_to_memory(&image, out.data(), &size, 0, pixels.data(), 0, nullptr), 0);
  out.resize(size);
  return out;
}

struct TestJpegError {
  jpeg_error_mgr mgr;
  std::jmp_buf jump;
};

void OnTestJpegError(j_common_ptr cinfo) {
  std::longjmp(reinterpret_cast<TestJpegError*>(cinfo->err)->jump, 1);
}

// Decodes a JPEG to packed RGB; false when libjpeg refuses it.
bool DecodeRgb(const std::string& data, int* w, int* h, std::string* rgb) {
  jpeg_decompress_struct cinfo{};
  TestJpegError err{};
  cinfo.err = jpeg_std_error(&err.mgr);
  err.mgr.error_exit = &OnTestJpegError;
  if (setjmp(err.jump) != 0) {
    jpeg_destroy_decompress(&cinfo);
    return false;
  }
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, reinterpret_cast<const unsigned char*>(data.data()), data.size());
  jpeg_read_header(&cinfo, TRUE);
  cinfo.out_color_space = JCS_RGB;
  jpeg_start_decompress(&cinfo);
  *w = static_cast<int>(cinfo.output_width);
  *h = static_cast<int>(cinfo.output_height);
  rgb->assign(static_cast<size_t>(cinfo.output_width) * cinfo.output_height * 3, '\0');
  while (cinfo.output_scanline < cinfo.output_height) {
    JSAMPROW row = reinterpret_cast<JSAMPROW>(rgb->data()) +
                   static_cast<size_t>(cinfo.output_scanline) * cinfo.output_width * 3;
    jpeg_read_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  return true;
}

// Decodes a JPEG's size and first pixel (RGB); false when libjpeg refuses it.
bool DecodeJpeg(const std::string& data, int* w, int* h, unsigned char first[3]) {
  std::string rgb;
  if (!DecodeRgb(data, w, h, &rgb) || rgb.size() < 3) return false;
  std::copy(rgb.begin(), rgb.begin() + 3, first);
  return true;
}

// The JPEG without its DHT segments (as many UVC cameras send MJPEG).
std::string StripHuffmanTables(const std::string& jpeg) {
  std::string out = jpeg.substr(0, 2);
  size_t i = 2;
  while (i + 3 < jpeg.size()) {
    auto marker = static_cast<unsigned char>(jpeg[i + 1]);
    if (marker == 0xDA) break;
    size_t len = (static_cast<size_t>(static_cast<unsigned char>(jpeg[i + 2])) << 8) |
                 static_cast<unsigned char>(jpeg[i + 3]);
    if (marker != 0xC4) out += jpeg.substr(i, 2 + len);
    i += 2 + len;
  }
  return out + jpeg.substr(i);
}

// A driver whose images and failures the test controls; it can be held
// inside Capture() to play a slow camera.
class FakeDriver : public CameraDriver {
 public:
  StatusOr<std::string> Capture() override {
    std::unique_lock<std::mutex> l(mu_);
    ++captures_;
    in_capture_ = true;
    cv_.notify_all();
    cv_.wait(l, [this] { return !hold_; });
    in_capture_ = false;
    if (!next_error_.ok()) {
      Status e = next_error_;
      if (--errors_left_ <= 0) next_error_ = Status();
      return e;
    }
    return image_;
  }
  std::string Describe() const override { return "fake"; }

  void set_image(std::string image) {
    std::lock_guard<std::mutex> l(mu_);
    image_ = std::move(image);
  }
  void FailNext(Status s, int times = 1) {
    std::lock_guard<std::mutex> l(mu_);
    next_error_ = std::move(s);
    errors_left_ = times;
  }
  void Hold(bool hold) {
    std::lock_guard<std::mutex> l(mu_);
    hold_ = hold;
    cv_.notify_all();
  }
  bool WaitInCapture() {
    std::unique_lock<std::mutex> l(mu_);
    return cv_.wait_for(l, std::chrono::milliseconds(kWaitMs), [this] { return in_capture_; });
  }
  int captures() {
    std::lock_guard<std::mutex> l(mu_);
    return captures_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::string image_ = MakeJpeg();
  Status next_error_;
  int errors_left_ = 0;
  bool hold_ = false;
  bool in_capture_ = false;
  int captures_ = 0;
};

// Records every request of every client it makes and answers them.
struct FakeHttpHub {
  std::mutex mu;
  std::vector<HttpRequest> requests;
  int clients = 0;
  std::function<HttpResponse(const HttpRequest&)> answer = [](const HttpRequest& r) {
    HttpResponse resp;
    if (r.url.find("/p/camera") != std::string::npos) {
      resp.status = 200;
      resp.headers.emplace_back("token", "camtoken" + std::to_string(r.body.size() % 7));
    } else {
      resp.status = 204;
    }
    return resp;
  };

  std::vector<HttpRequest> Snapshots() {
    std::lock_guard<std::mutex> l(mu);
    std::vector<HttpRequest> out;
    for (const HttpRequest& r : requests) {
      if (r.url.find("/c/snapshot") != std::string::npos) out.push_back(r);
    }
    return out;
  }
  void SetAnswer(std::function<HttpResponse(const HttpRequest&)> a) {
    std::lock_guard<std::mutex> l(mu);
    answer = std::move(a);
  }
};

class FakeHttp : public HttpClient {
 public:
  explicit FakeHttp(FakeHttpHub* hub) : hub_(hub) {}
  HttpResponse Send(const HttpRequest& r) override {
    std::lock_guard<std::mutex> l(hub_->mu);
    hub_->requests.push_back(r);
    return hub_->answer(r);
  }
  FetchResult Stream(const FetchRequest& r, FetchCallbacks&) override {
    ADD_FAILURE() << "cameras do not stream: " << r.url;
    FetchResult result;
    result.error = TransportError::kOther;
    return result;
  }

 private:
  FakeHttpHub* hub_;
};

const std::string* Header(const HttpRequest& r, const std::string& name) {
  for (const auto& [n, v] : r.headers) {
    if (n == name) return &v;
  }
  return nullptr;
}

class CameraSetTest : public ::testing::Test {
 protected:
  CameraSetTest() {
    session_ = std::make_shared<PrinterSession>(PrinterType::I3MK3S, "SN0001", "printerfp",
                                                PrinterOptions{}, &clock_);
    session_->set_connection("http://connect.test", "printertoken");
    session_->set_software("0.8.1");
    CameraSet::Deps deps;
    deps.session = session_;
    deps.clock = &clock_;
    deps.http_factory = [this] {
      std::lock_guard<std::mutex> l(hub_.mu);
      ++hub_.clients;
      return std::make_unique<FakeHttp>(&hub_);
    };
    deps.run_ticker = false;
    set_ = std::make_unique<CameraSet>(std::move(deps));
    CameraOptions o;
    o.policy = UploadPolicy::ALWAYS;
    EXPECT_TRUE(set_->SetOptions(o).ok());  // a constructor: no ASSERT
  }

  CameraConfig Config(const std::string& id, TriggerScheme scheme = TriggerScheme::THIRTY_SEC,
                      const std::string& token = "camtoken") {
    CameraConfig c;
    c.id = id;
    c.name = "Camera " + id;
    c.token = token;
    c.trigger_scheme = scheme;
    auto d = std::make_shared<FakeDriver>();
    drivers_.push_back(d);
    c.driver = d;
    return c;
  }

  // Advances the clock, fires what is due, waits for the camera to settle.
  void AdvanceAndTick(int64_t micros, const std::string& id = "cam") {
    clock_.Advance(micros);
    set_->Tick();
    ASSERT_TRUE(set_->WaitIdle(id, kWaitMs));
  }

  CameraStatus StatusOf(const std::string& id) {
    auto s = set_->GetStatus(id);
    EXPECT_TRUE(s.ok());
    return s.ok() ? *s : CameraStatus{};
  }

  FakeClock clock_;
  FakeHttpHub hub_;
  std::shared_ptr<PrinterSession> session_;
  std::vector<std::shared_ptr<FakeDriver>> drivers_;
  std::unique_ptr<CameraSet> set_;
};

// ---------------------------------------------------------------- wire

TEST(CameraWire, RegistrationBodyCarriesSettingsCapabilitiesAndFingerprint) {
  CameraConfig c;
  c.id = "hWl_opkt6cRv";
  c.name = "The most muscular camera you've ever seen";
  c.capabilities = {CapabilityType::TRIGGER_SCHEME, CapabilityType::IMAGING,
                    CapabilityType::RESOLUTION,     CapabilityType::FOCUS,
                    CapabilityType::ROTATION,       CapabilityType::EXPOSURE};
  c.resolutions = {{12288, 6480}, {640, 480}};
  EXPECT_EQ(
      RenderCameraRegistration(c, "a3f09fb6632dcdfa", ""),
      R"({"config":{"trigger_scheme":"THIRTY_SEC","resolution":{"width":12288,"height":6480},)"
      R"("focus":0.0,"rotation":0,"exposure":0.0,"name":"The most muscular camera you've ever )"
      R"(seen","camera_id":"hWl_opkt6cRv"},"options":{"available_resolutions":[{"width":640,)"
      R"("height":480},{"width":12288,"height":6480}]},"capabilities":["trigger_scheme",)"
      R"("imaging","resolution","focus","rotation","exposure"],"fingerprint":"a3f09fb6632dcdfa"})");
}

TEST(CameraWire, RegistrationOfARegisteredCameraSendsItsOldTokenAndOnlyDeclaredSettings) {
  CameraConfig c;
  c.id = "cam";
  EXPECT_EQ(RenderCameraRegistration(c, "0123456789abcdef", "oldtoken"),
            R"({"config":{"trigger_scheme":"THIRTY_SEC","name":"cam","camera_id":"cam",)"
            R"("token":"oldtoken"},"options":{},"capabilities":["trigger_scheme","imaging"],)"
            R"("fingerprint":"0123456789abcdef"})");
}

// Q32: the SDK compared a string with resolutions and always chose the
// largest; here the configured one is used, else the one with most pixels.
TEST(CameraWire, InitialResolutionIsTheConfiguredOneElseTheLargest) {
  CameraConfig c;
  c.id = "cam";
  c.capabilities = {CapabilityType::TRIGGER_SCHEME, CapabilityType::RESOLUTION};
  c.resolutions = {{640, 480}, {1920, 1080}, {1280, 720}};
  EXPECT_THAT(RenderCameraRegistration(c, "0123456789abcdef", ""),
              HasSubstr(R"("resolution":{"width":1920,"height":1080})"));
  c.resolution = Resolution{1280, 720};
  EXPECT_THAT(RenderCameraRegistration(c, "0123456789abcdef", ""),
              HasSubstr(R"("resolution":{"width":1280,"height":720})"));
  // Pixel count, not width first: 1000x1000 beats 1200x600.
  c.resolution.reset();
  c.resolutions = {{1200, 600}, {1000, 1000}};
  EXPECT_THAT(RenderCameraRegistration(c, "0123456789abcdef", ""),
              HasSubstr(R"("resolution":{"width":1000,"height":1000})"));
}

TEST(CameraWire, DefaultFingerprintIsFortyHexDigitsStableAndPerPrinter) {
  std::string a = DefaultCameraFingerprint("printerA", "usb0");
  EXPECT_EQ(a.size(), 40u);
  EXPECT_TRUE(ValidCameraFingerprint(a));
  EXPECT_EQ(a, DefaultCameraFingerprint("printerA", "usb0"));
  EXPECT_NE(a, DefaultCameraFingerprint("printerB", "usb0"));
  EXPECT_NE(a, DefaultCameraFingerprint("printerA", "usb1"));
}

TEST(CameraWire, FingerprintMustBe16To64Alphanumerics) {
  EXPECT_FALSE(ValidCameraFingerprint("short"));
  EXPECT_FALSE(ValidCameraFingerprint(std::string(15, 'a')));
  EXPECT_TRUE(ValidCameraFingerprint(std::string(16, 'a')));
  EXPECT_TRUE(ValidCameraFingerprint(std::string(64, 'Z')));
  EXPECT_FALSE(ValidCameraFingerprint(std::string(65, 'a')));
  EXPECT_FALSE(ValidCameraFingerprint("abcdefghijklmnop-"));
  EXPECT_FALSE(ValidCameraFingerprint("abcdefgh ijklmnop"));
}

TEST(CameraWire, BadSettingsAreRefusedWithoutTouchingTheCamera) {  // Q31 fixed
  CameraConfig c;
  c.id = "cam";
  c.driver = std::make_shared<FakeDriver>();
  EXPECT_TRUE(ValidateCameraConfig(c).ok());
  CameraConfig bad = c;
  bad.rotation = 45;
  EXPECT_THAT(ValidateCameraConfig(bad).message(), HasSubstr("rotation"));
  bad = c;
  bad.exposure = 2.5;
  EXPECT_EQ(ValidateCameraConfig(bad).code(), StatusCode::kInvalidArgument);
  bad = c;
  bad.focus = -0.1;
  EXPECT_EQ(ValidateCameraConfig(bad).code(), StatusCode::kInvalidArgument);
  bad = c;
  bad.capabilities = {CapabilityType::IMAGING};
  EXPECT_THAT(ValidateCameraConfig(bad).message(), HasSubstr("TRIGGER_SCHEME"));
  bad = c;
  bad.driver = nullptr;
  EXPECT_EQ(ValidateCameraConfig(bad).code(), StatusCode::kInvalidArgument);
  bad = c;
  bad.id.clear();
  EXPECT_EQ(ValidateCameraConfig(bad).code(), StatusCode::kInvalidArgument);
  bad = c;
  bad.resolutions = {{640, 480}};
  bad.resolution = Resolution{800, 600};
  EXPECT_THAT(ValidateCameraConfig(bad).message(), HasSubstr("available"));
  bad = c;
  bad.capabilities.push_back(CapabilityType::RESOLUTION);
  EXPECT_EQ(ValidateCameraConfig(bad).code(), StatusCode::kInvalidArgument);
  bad = c;
  bad.fingerprint = "bad fingerprint!";
  EXPECT_EQ(ValidateCameraConfig(bad).code(), StatusCode::kInvalidArgument);
}

// ---------------------------------------------------------------- images

TEST(CameraImage, DetectsJpegAndPngByMagic) {
  EXPECT_EQ(DetectImageFormat(MakeJpeg()), ImageFormat::kJpeg);
  EXPECT_EQ(DetectImageFormat(MakePng(2, 2)), ImageFormat::kPng);
  EXPECT_EQ(DetectImageFormat("GIF89a"), ImageFormat::kUnknown);
  EXPECT_EQ(DetectImageFormat(""), ImageFormat::kUnknown);
}

TEST(CameraImage, JpegPassesThroughUnchanged) {
  std::string jpeg = MakeJpeg();
  auto out = ToJpeg(jpeg, 85);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(*out, jpeg);
}

TEST(CameraImage, PngBecomesJpegWithAlphaOnWhite) {
  auto out = ToJpeg(MakePng(33, 17), 90);
  ASSERT_TRUE(out.ok()) << out.status();
  int w = 0;
  int h = 0;
  unsigned char px[3];
  ASSERT_TRUE(DecodeJpeg(*out, &w, &h, px));
  EXPECT_EQ(w, 33);
  EXPECT_EQ(h, 17);
  // Half-transparent red on white: pink. libpng composites in linear light,
  // so green and blue land near 187 rather than 128; neither black (alpha
  // dropped) nor white (colour lost).
  EXPECT_GT(px[0], 230);
  EXPECT_NEAR(px[1], 187, 25);
  EXPECT_NEAR(px[2], 187, 25);
}

TEST(CameraImage, GarbageAndCorruptPngAreRefused) {
  EXPECT_EQ(ToJpeg("not an image", 85).status().code(), prusaconnect::StatusCode::kInvalidArgument);
  std::string png = MakePng(8, 8);
  png.resize(png.size() / 2);  // truncated
  EXPECT_EQ(ToJpeg(png, 85).status().code(), prusaconnect::StatusCode::kInvalidArgument);
  std::string header_only = MakePng(8, 8).substr(0, 8);
  EXPECT_FALSE(ToJpeg(header_only, 85).ok());
}

TEST(CameraImage, AMissingCodecLibraryIsAClearUnavailableError) {
  // The codecs are dlopen()ed on first use; a missing one names itself.
  StatusOr<void*> lib = OpenCodecLibrary("libprusaconnect-no-such-codec.so.0");
  ASSERT_FALSE(lib.ok());
  EXPECT_EQ(lib.status().code(), prusaconnect::StatusCode::kUnavailable);
  EXPECT_THAT(lib.status().message(), HasSubstr("libprusaconnect-no-such-codec.so.0"));
  // The real ones load, and loading twice is harmless.
  EXPECT_TRUE(OpenCodecLibrary(PRUSACONNECT_TEST_LIBJPEG_SONAME).ok());
  EXPECT_TRUE(OpenCodecLibrary(PRUSACONNECT_TEST_LIBJPEG_SONAME).ok());
}

TEST(CameraImage, ConversionsAreSafeFromManyThreads) {
  std::vector<std::thread> threads;
  std::atomic<int> good{0};
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&good] {
      auto out = ToJpeg(MakePng(9, 7), 80);
      if (out.ok() && DetectImageFormat(*out) == ImageFormat::kJpeg) ++good;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(good.load(), 8);
}

TEST(CameraImage, YuyvFramesAreEncoded) {
  // 4x2 pixels, YUYV: mid grey.
  std::string yuyv(4 * 2 * 2, '\x80');
  auto out = EncodeYuyvJpeg(yuyv, 4, 2, 0, 85);
  ASSERT_TRUE(out.ok());
  int w = 0;
  int h = 0;
  unsigned char px[3];
  ASSERT_TRUE(DecodeJpeg(*out, &w, &h, px));
  EXPECT_EQ(w, 4);
  EXPECT_EQ(h, 2);
  EXPECT_NEAR(px[0], 128, 10);
  EXPECT_FALSE(EncodeYuyvJpeg(yuyv, 8, 8, 0, 85).ok());  // too short
  EXPECT_FALSE(EncodeYuyvJpeg(yuyv, 0, 2, 0, 85).ok());
  EXPECT_FALSE(EncodeRgbJpeg("", 1, 1, 85).ok());
}

TEST(CameraImage, MjpegFramesWithoutHuffmanTablesGetTheStandardOnes) {
  // A varied image, so that many codes of the tables are used.
  const int w = 64;
  const int h = 48;
  std::string rgb(static_cast<size_t>(w) * h * 3, '\0');
  for (size_t i = 0; i < rgb.size(); ++i) rgb[i] = static_cast<char>((i * 7919) % 251);
  std::string jpeg = *EncodeRgbJpeg(rgb, w, h, 90);  // libjpeg: the standard tables
  std::string bare = StripHuffmanTables(jpeg);
  ASSERT_EQ(bare.find("\xff\xc4"), std::string::npos);
  ASSERT_LT(bare.size(), jpeg.size());
  std::string fixed = AddDefaultHuffmanTables(bare);
  EXPECT_EQ(fixed.size(), bare.size() + 420);
  EXPECT_NE(fixed.find("\xff\xc4\x01\xa2"), std::string::npos);
  int w1 = 0, h1 = 0, w2 = 0, h2 = 0;
  std::string want, got;
  ASSERT_TRUE(DecodeRgb(jpeg, &w1, &h1, &want));
  ASSERT_TRUE(DecodeRgb(fixed, &w2, &h2, &got));
  EXPECT_EQ(w2, w);
  EXPECT_EQ(h2, h);
  EXPECT_TRUE(got == want) << "pixels differ: wrong tables";
  // Frames that have tables, and non-JPEG input, are left alone.
  EXPECT_EQ(AddDefaultHuffmanTables(jpeg), jpeg);
  EXPECT_EQ(AddDefaultHuffmanTables("not a jpeg"), "not a jpeg");
  std::string cut = bare.substr(0, 30);
  EXPECT_EQ(AddDefaultHuffmanTables(cut), cut);
}

// ---------------------------------------------------------------- camera set

TEST_F(CameraSetTest, AddRejectsDuplicatesAndBadConfigs) {
  ASSERT_TRUE(set_->Add(Config("cam")).ok());
  EXPECT_EQ(set_->Add(Config("cam")).code(), StatusCode::kAlreadyExists);
  CameraConfig bad = Config("other");
  bad.rotation = 45;
  EXPECT_EQ(set_->Add(bad).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(set_->Ids(), std::vector<std::string>{"cam"});
  EXPECT_EQ(set_->Remove("nope").code(), StatusCode::kNotFound);
  EXPECT_EQ(set_->TriggerManual("nope").code(), StatusCode::kNotFound);
  EXPECT_TRUE(set_->Remove("cam").ok());
  EXPECT_TRUE(set_->Ids().empty());
}

TEST_F(CameraSetTest, BadOptionsAreRejectedAndTheOldOnesKept) {
  CameraOptions good = set_->options();
  good.backoff_min_ms = 250;
  ASSERT_TRUE(set_->SetOptions(good).ok());
  auto bad = [&](auto change) {
    CameraOptions o = good;
    change(o);
    return set_->SetOptions(o).code();
  };
  EXPECT_EQ(bad([](CameraOptions& o) { o.backoff_min_ms = 0; }), StatusCode::kInvalidArgument);
  EXPECT_EQ(bad([](CameraOptions& o) { o.backoff_max_ms = 100; }), StatusCode::kInvalidArgument);
  EXPECT_EQ(bad([](CameraOptions& o) { o.upload_timeout_ms = 0; }), StatusCode::kInvalidArgument);
  EXPECT_EQ(bad([](CameraOptions& o) { o.busy_timeout_ms = -1; }), StatusCode::kInvalidArgument);
  EXPECT_EQ(bad([](CameraOptions& o) { o.jpeg_quality = 0; }), StatusCode::kInvalidArgument);
  EXPECT_EQ(bad([](CameraOptions& o) { o.jpeg_quality = 101; }), StatusCode::kInvalidArgument);
  EXPECT_EQ(set_->options().backoff_min_ms, 250);
  EXPECT_EQ(set_->options().jpeg_quality, good.jpeg_quality);
  set_->SetUploadPolicy(UploadPolicy::WHILE_PRINTING);
  EXPECT_EQ(set_->options().policy, UploadPolicy::WHILE_PRINTING);
  EXPECT_EQ(set_->options().backoff_min_ms, 250);
}

TEST_F(CameraSetTest, RegistrationUsesThePrinterTokenAndHandsTheCameraTokenToTheHost) {
  std::mutex mu;
  std::vector<std::string> seen;
  set_->SetTokenCallback([&](const std::string& id, const std::string& fp, const std::string& t) {
    std::lock_guard<std::mutex> l(mu);
    seen.push_back(id + "|" + fp + "|" + t);
  });
  ASSERT_TRUE(set_->Add(Config("cam", TriggerScheme::THIRTY_SEC, "")).ok());
  EXPECT_EQ(StatusOf("cam").state, CameraState::UNREGISTERED);
  hub_.SetAnswer([](const HttpRequest& r) {
    HttpResponse resp;
    resp.status = r.url.find("/p/camera") != std::string::npos ? 200 : 204;
    resp.headers.emplace_back("token", "newcamtoken");
    return resp;
  });
  auto token = set_->Register("cam");
  ASSERT_TRUE(token.ok()) << token.status().ToString();
  EXPECT_EQ(*token, "newcamtoken");
  ASSERT_TRUE(set_->WaitIdle("cam", kWaitMs));
  std::string fp = DefaultCameraFingerprint("printerfp", "cam");
  {
    std::lock_guard<std::mutex> l(mu);
    EXPECT_EQ(seen, std::vector<std::string>{"cam|" + fp + "|newcamtoken"});
  }
  std::lock_guard<std::mutex> l(hub_.mu);
  ASSERT_EQ(hub_.requests.size(), 2u);  // registration, then the first snapshot
  const HttpRequest& reg = hub_.requests[0];
  EXPECT_EQ(reg.method, "POST");
  EXPECT_EQ(reg.url, "http://connect.test/p/camera");
  EXPECT_EQ(reg.content_type, "application/json");
  ASSERT_NE(Header(reg, "Token"), nullptr);
  EXPECT_EQ(*Header(reg, "Token"), "printertoken");
  EXPECT_EQ(*Header(reg, "Fingerprint"), "printerfp");
  EXPECT_THAT(reg.body, HasSubstr("\"fingerprint\":\"" + fp + "\""));
  const HttpRequest& snap = hub_.requests[1];
  EXPECT_EQ(snap.method, "PUT");
  EXPECT_EQ(snap.url, "http://connect.test/c/snapshot");
  EXPECT_EQ(*Header(snap, "Token"), "newcamtoken");
  EXPECT_EQ(*Header(snap, "Fingerprint"), fp);
  EXPECT_EQ(*Header(snap, "Timestamp"), "1700000000.0");
  EXPECT_EQ(snap.content_type, "image/jpg");
  EXPECT_EQ(Header(snap, "User-Agent-Printer"), nullptr);  // no printer headers (§8.6)
  EXPECT_EQ(DetectImageFormat(snap.body), ImageFormat::kJpeg);
}

TEST_F(CameraSetTest, RegistrationErrorsSayWhatWentWrong) {
  ASSERT_TRUE(set_->Add(Config("cam", TriggerScheme::MANUAL, "")).ok());
  EXPECT_EQ(set_->Register("nope").status().code(), StatusCode::kNotFound);
  hub_.SetAnswer([](const HttpRequest&) {
    HttpResponse r;
    r.status = 403;
    return r;
  });
  const CondState token_before = session_->conditions().TOKEN.state();
  const CondState api_before = session_->conditions().API.state();
  EXPECT_EQ(set_->Register("cam").status().code(), StatusCode::kPermissionDenied);
  // Q29: a camera answer is the camera's; the printer's conditions stay.
  EXPECT_EQ(session_->conditions().TOKEN.state(), token_before);
  EXPECT_EQ(session_->conditions().API.state(), api_before);
  hub_.SetAnswer([](const HttpRequest&) {
    HttpResponse r;
    r.error = TransportError::kConnect;
    r.error_message = "refused";
    return r;
  });
  EXPECT_EQ(set_->Register("cam").status().code(), StatusCode::kUnavailable);
  hub_.SetAnswer([](const HttpRequest&) {
    HttpResponse r;
    r.status = 200;  // but no Token header
    return r;
  });
  EXPECT_EQ(set_->Register("cam").status().code(), StatusCode::kInternal);
  session_->set_connection("http://connect.test", "");
  EXPECT_EQ(set_->Register("cam").status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(StatusOf("cam").state, CameraState::UNREGISTERED);
}

TEST_F(CameraSetTest, TimedCameraUploadsAtItsCadence) {
  ASSERT_TRUE(set_->Add(Config("cam", TriggerScheme::THIRTY_SEC)).ok());
  ASSERT_TRUE(set_->WaitIdle("cam", kWaitMs));
  EXPECT_EQ(hub_.Snapshots().size(), 1u);  // the first snapshot, at once
  AdvanceAndTick(29 * kSecond);
  EXPECT_EQ(hub_.Snapshots().size(), 1u);
  AdvanceAndTick(1 * kSecond);
  EXPECT_EQ(hub_.Snapshots().size(), 2u);
  AdvanceAndTick(15 * kSecond);
  EXPECT_EQ(hub_.Snapshots().size(), 2u);
  AdvanceAndTick(15 * kSecond);
  EXPECT_EQ(hub_.Snapshots().size(), 3u);
  EXPECT_EQ(StatusOf("cam").snapshots_uploaded, 3);
  EXPECT_EQ(set_->Tick(), clock_.MonoMicros() + 30 * kSecond);
}

TEST_F(CameraSetTest, EachSchemeHasItsInterval) {
  ASSERT_TRUE(set_->Add(Config("cam", TriggerScheme::TEN_SEC)).ok());
  ASSERT_TRUE(set_->Add(Config("sixty", TriggerScheme::SIXTY_SEC)).ok());
  ASSERT_TRUE(set_->WaitIdle("cam", kWaitMs));
  ASSERT_TRUE(set_->WaitIdle("sixty", kWaitMs));
  for (int i = 0; i < 6; ++i) {
    AdvanceAndTick(10 * kSecond);
    ASSERT_TRUE(set_->WaitIdle("sixty", kWaitMs));
  }
  EXPECT_EQ(StatusOf("cam").snapshots_uploaded, 7);
  EXPECT_EQ(StatusOf("sixty").snapshots_uploaded, 2);
}

TEST_F(CameraSetTest, WhilePrintingPolicyUploadsOnlyWhenPrintingOrPaused) {
  CameraOptions o;
  o.policy = UploadPolicy::WHILE_PRINTING;
  ASSERT_TRUE(set_->SetOptions(o).ok());
  session_->set_state(State::IDLE, Source::WUI, std::nullopt, {}, Json());
  ASSERT_TRUE(set_->Add(Config("cam", TriggerScheme::TEN_SEC)).ok());
  ASSERT_TRUE(set_->WaitIdle("cam", kWaitMs));
  EXPECT_EQ(hub_.Snapshots().size(), 1u);  // the first snapshot ignores the policy
  AdvanceAndTick(10 * kSecond);
  EXPECT_EQ(hub_.Snapshots().size(), 1u);
  EXPECT_EQ(StatusOf("cam").triggers_skipped, 1);
  ASSERT_TRUE(set_->TriggerManual("cam").ok());  // manual always uploads
  ASSERT_TRUE(set_->WaitIdle("cam", kWaitMs));
  EXPECT_EQ(hub_.Snapshots().size(), 2u);
  session_->set_state(State::PRINTING, Source::WUI, std::nullopt, {}, Json());
  AdvanceAndTick(10 * kSecond);
  EXPECT_EQ(hub_.Snapshots().size(), 3u);
  session_->set_state(State::PAUSED, Source::WUI, std::nullopt, {}, Json());
  AdvanceAndTick(10 * kSecond);
  EXPECT_EQ(hub_.Snapshots().size(), 4u);
  session_->set_state(State::FINISHED, Source::WUI, std::nullopt, {}, Json());
  AdvanceAndTick(10 * kSecond);
  EXPECT_EQ(hub_.Snapshots().size(), 4u);
}

TEST_F(CameraSetTest, LayerSchemesFollowLayerChanges) {
  ASSERT_TRUE(set_->Add(Config("cam", TriggerScheme::EACH_LAYER)).ok());
  ASSERT_TRUE(set_->Add(Config("fifth", TriggerScheme::FIFTH_LAYER)).ok());
  ASSERT_TRUE(set_->Add(Config("manual", TriggerScheme::MANUAL)).ok());
  for (const char* id : {"cam", "fifth", "manual"}) ASSERT_TRUE(set_->WaitIdle(id, kWaitMs));
  for (int layer = 1; layer <= 10; ++layer) {
    set_->LayerChanged();
    for (const char* id : {"cam", "fifth", "manual"}) ASSERT_TRUE(set_->WaitIdle(id, kWaitMs));
  }
  AdvanceAndTick(3600 * kSecond, "manual");
  EXPECT_EQ(StatusOf("cam").snapshots_uploaded, 1 + 10);
  EXPECT_EQ(StatusOf("fifth").snapshots_uploaded, 1 + 2);
  EXPECT_EQ(StatusOf("manual").snapshots_uploaded, 1);
}

TEST_F(CameraSetTest, RejectedTokenStopsTheCameraAndTheHostForgetsIt) {  // Q30 fixed
  std::mutex mu;
  std::vector<std::string> tokens;
  set_->SetTokenCallback([&](const std::string&, const std::string&, const std::string& t) {
    std::lock_guard<std::mutex> l(mu);
    tokens.push_back(t);
  });
  hub_.SetAnswer([](const HttpRequest& r) {
    HttpResponse resp;
    resp.status = r.url.find("/c/snapshot") != std::string::npos ? 401 : 200;
    resp.headers.emplace_back("token", "fresh");
    return resp;
  });
  ASSERT_TRUE(set_->Add(Config("cam", TriggerScheme::TEN_SEC)).ok());
  ASSERT_TRUE(set_->Add(Config("other", TriggerScheme::MANUAL, "")).ok());
  ASSERT_TRUE(set_->WaitIdle("cam", kWaitMs));
  CameraStatus st = StatusOf("cam");
  EXPECT_EQ(st.state, CameraState::STOPPED);
  EXPECT_FALSE(st.registered);
  EXPECT_THAT(st.last_error, HasSubstr("register the camera again"));
  {
    std::lock_guard<std::mutex> l(mu);
    EXPECT_EQ(tokens, std::vector<std::string>{""});
  }
  AdvanceAndTick(60 * kSecond);
  EXPECT_EQ(hub_.Snapshots().size(), 1u);  // stopped: nothing more
  EXPECT_EQ(drivers_[0]->captures(), 1);
  // Registering again resumes it.
  hub_.SetAnswer([](const HttpRequest& r) {
    HttpResponse resp;
    resp.status = r.url.find("/c/snapshot") != std::string::npos ? 204 : 200;
    resp.headers.emplace_back("token", "fresh");
    return resp;
  });
  ASSERT_TRUE(set_->Register("cam").ok());
  ASSERT_TRUE(set_->WaitIdle("cam", kWaitMs));
  EXPECT_EQ(StatusOf("cam").state, CameraState::READY);
  EXPECT_EQ(StatusOf("cam").snapshots_uploaded, 1);
  EXPECT_EQ(*Header(hub_.Snapshots().back(), "Token"), "fresh");
}

TEST_F(CameraSetTest, FailedCapturesRetryWithDoublingBackoff) {
  ASSERT_TRUE(set_->Add(Config("cam", TriggerScheme::SIXTY_SEC)).ok());
  ASSERT_TRUE(set_->WaitIdle("cam", kWaitMs));
  drivers_[0]->FailNext(DeadlineExceededError("camera timed out"), 3);
  ASSERT_TRUE(set_->TriggerManual("cam").ok());
  ASSERT_TRUE(set_->WaitIdle("cam", kWaitMs));
  CameraStatus st = StatusOf("cam");
  EXPECT_EQ(st.state, CameraState::RETRYING);
  EXPECT_THAT(st.last_error, HasSubstr("timed out"));
  EXPECT_EQ(drivers_[0]->captures(), 2);
  AdvanceAndTick(999000);  // backoff 1 s
  EXPECT_EQ(drivers_[0]->captures(), 2);
  AdvanceAndTick(1000);
  EXPECT_EQ(drivers_[0]->captures(), 3);
  AdvanceAndTick(1999000);  // then 2 s
  EXPECT_EQ(drivers_[0]->captures(), 3);
  AdvanceAndTick(1000);
  EXPECT_EQ(drivers_[0]->captures(), 4);  // the third failure
  AdvanceAndTick(4 * kSecond);            // then 4 s: succeeds
  EXPECT_EQ(drivers_[0]->captures(), 5);
  st = StatusOf("cam");
  EXPECT_EQ(st.state, CameraState::READY);
  EXPECT_EQ(st.capture_failures, 3);
  EXPECT_EQ(st.snapshots_uploaded, 2);
  EXPECT_EQ(st.last_error, "");
}

TEST_F(CameraSetTest, UploadOutagesRetryButRefusalsDoNot) {
  hub_.SetAnswer([](const HttpRequest&) {
    HttpResponse r;
    r.error = TransportError::kTimeout;
    r.error_message = "timed out";
    return r;
  });
  ASSERT_TRUE(set_->Add(Config("cam", TriggerScheme::MANUAL)).ok());
  ASSERT_TRUE(set_->WaitIdle("cam", kWaitMs));
  EXPECT_EQ(StatusOf("cam").state, CameraState::RETRYING);
  hub_.SetAnswer([](const HttpRequest&) {
    HttpResponse r;
    r.status = 400;
    return r;
  });
  AdvanceAndTick(kSecond);
  CameraStatus st = StatusOf("cam");
  EXPECT_EQ(st.state, CameraState::READY);  // 400 is not retried
  EXPECT_EQ(st.upload_failures, 2);
  EXPECT_THAT(st.last_error, HasSubstr("HTTP 400"));
  AdvanceAndTick(3600 * kSecond);
  EXPECT_EQ(hub_.Snapshots().size(), 2u);
}

TEST_F(CameraSetTest, OversizeImagesAreNotSent) {
  CameraOptions o;
  o.policy = UploadPolicy::ALWAYS;
  o.max_image_bytes = 100;
  ASSERT_TRUE(set_->SetOptions(o).ok());
  CameraConfig c = Config("cam", TriggerScheme::MANUAL);
  drivers_.back()->set_image(MakeJpeg(64, 64));
  ASSERT_TRUE(set_->Add(c).ok());
  ASSERT_TRUE(set_->WaitIdle("cam", kWaitMs));
  CameraStatus st = StatusOf("cam");
  EXPECT_EQ(st.oversize_skipped, 1);
  EXPECT_EQ(st.state, CameraState::READY);
  EXPECT_THAT(st.last_error, HasSubstr("over Connect's limit"));
  EXPECT_TRUE(hub_.Snapshots().empty());
}

TEST_F(CameraSetTest, PngFromTheDriverIsUploadedAsJpeg) {
  CameraConfig c = Config("cam", TriggerScheme::MANUAL);
  drivers_.back()->set_image(MakePng(20, 10));
  ASSERT_TRUE(set_->Add(c).ok());
  ASSERT_TRUE(set_->WaitIdle("cam", kWaitMs));
  auto snaps = hub_.Snapshots();
  ASSERT_EQ(snaps.size(), 1u);
  EXPECT_EQ(DetectImageFormat(snaps[0].body), ImageFormat::kJpeg);
}

TEST_F(CameraSetTest, NonImageFromTheDriverIsACaptureFailure) {
  CameraConfig c = Config("cam", TriggerScheme::MANUAL);
  drivers_.back()->set_image("<html>login</html>");
  ASSERT_TRUE(set_->Add(c).ok());
  ASSERT_TRUE(set_->WaitIdle("cam", kWaitMs));
  EXPECT_EQ(StatusOf("cam").capture_failures, 1);
  EXPECT_THAT(StatusOf("cam").last_error, HasSubstr("not a JPEG or PNG"));
  EXPECT_TRUE(hub_.Snapshots().empty());
}

TEST_F(CameraSetTest, ASlowCameraDelaysNeitherOthersNorItsOwnSchedule) {
  CameraConfig slow = Config("slow", TriggerScheme::TEN_SEC);
  std::shared_ptr<FakeDriver> slow_driver = drivers_.back();
  slow_driver->Hold(true);
  ASSERT_TRUE(set_->Add(slow).ok());
  ASSERT_TRUE(slow_driver->WaitInCapture());
  ASSERT_TRUE(set_->Add(Config("cam", TriggerScheme::TEN_SEC)).ok());
  ASSERT_TRUE(set_->WaitIdle("cam", kWaitMs));
  AdvanceAndTick(10 * kSecond);  // the fast one keeps going
  AdvanceAndTick(10 * kSecond);
  EXPECT_EQ(StatusOf("cam").snapshots_uploaded, 3);
  EXPECT_EQ(StatusOf("slow").state, CameraState::BUSY);
  EXPECT_EQ(StatusOf("slow").triggers_skipped, 2);  // dropped, not piled up
  slow_driver->Hold(false);
  ASSERT_TRUE(set_->WaitIdle("slow", kWaitMs));
  EXPECT_EQ(StatusOf("slow").snapshots_uploaded, 1);
  EXPECT_EQ(slow_driver->captures(), 1);
}

// Q34: the SDK only disconnected stuck cameras when the application asked.
TEST_F(CameraSetTest, StuckDriverIsAbandonedAfterTheBusyTimeoutAndResumesWhenItReturns) {
  CameraConfig stuck = Config("stuck", TriggerScheme::TEN_SEC);
  std::shared_ptr<FakeDriver> d = drivers_.back();
  d->Hold(true);
  ASSERT_TRUE(set_->Add(stuck).ok());
  ASSERT_TRUE(d->WaitInCapture());
  ASSERT_TRUE(set_->Add(Config("cam", TriggerScheme::TEN_SEC)).ok());
  ASSERT_TRUE(set_->WaitIdle("cam", kWaitMs));
  // Exactly CAMERA_BUSY_TIMEOUT: still only busy.
  AdvanceAndTick(int64_t{CAMERA_BUSY_TIMEOUT} * kSecond);
  EXPECT_EQ(StatusOf("stuck").state, CameraState::BUSY);
  // Past it: abandoned, and the others go on.
  AdvanceAndTick(10 * kSecond);
  ASSERT_TRUE(set_->WaitIdle("stuck", kWaitMs));  // the worker no longer waits
  CameraStatus st = StatusOf("stuck");
  EXPECT_EQ(st.state, CameraState::STUCK);
  EXPECT_STREQ(ToString(st.state), "STUCK");
  EXPECT_THAT(st.last_error, HasSubstr("did not return within 30000 ms"));
  EXPECT_EQ(st.capture_failures, 1);
  EXPECT_EQ(StatusOf("cam").snapshots_uploaded, 3);
  // No new capture while the old call hangs: triggers are skipped.
  int64_t skipped = st.triggers_skipped;
  ASSERT_TRUE(set_->TriggerManual("stuck").ok());
  AdvanceAndTick(10 * kSecond);
  EXPECT_EQ(StatusOf("stuck").state, CameraState::STUCK);
  EXPECT_EQ(StatusOf("stuck").triggers_skipped, skipped + 2);
  EXPECT_EQ(d->captures(), 1);
  // Registering it again does not hide that it is stuck.
  hub_.SetAnswer([](const HttpRequest& r) {
    HttpResponse resp;
    resp.status = r.url.find("/p/camera") != std::string::npos ? 200 : 204;
    resp.headers.emplace_back("token", "camtoken2");
    return resp;
  });
  ASSERT_TRUE(set_->Register("stuck").ok());
  EXPECT_EQ(StatusOf("stuck").state, CameraState::STUCK);
  EXPECT_EQ(d->captures(), 1);
  // The call returns at last: its stale image is dropped, the camera resumes.
  d->Hold(false);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kWaitMs);
  while (StatusOf("stuck").state != CameraState::READY &&
         std::chrono::steady_clock::now() < deadline) {
    set_->Tick();
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_EQ(StatusOf("stuck").state, CameraState::READY);
  EXPECT_EQ(StatusOf("stuck").snapshots_uploaded, 0);
  ASSERT_TRUE(set_->TriggerManual("stuck").ok());
  ASSERT_TRUE(set_->WaitIdle("stuck", kWaitMs));
  EXPECT_EQ(d->captures(), 2);
  EXPECT_EQ(StatusOf("stuck").snapshots_uploaded, 1);
  EXPECT_EQ(StatusOf("stuck").state, CameraState::READY);
}

class ThrowingDriver : public CameraDriver {
 public:
  StatusOr<std::string> Capture() override { throw std::runtime_error("boom"); }
  std::string Describe() const override { return "throwing"; }
};

TEST_F(CameraSetTest, ADriverThatThrowsIsACaptureFailure) {
  CameraConfig c = Config("cam", TriggerScheme::MANUAL);
  c.driver = std::make_shared<ThrowingDriver>();
  ASSERT_TRUE(set_->Add(c).ok());
  ASSERT_TRUE(set_->WaitIdle("cam", kWaitMs));
  CameraStatus st = StatusOf("cam");
  EXPECT_EQ(st.state, CameraState::RETRYING);
  EXPECT_EQ(st.capture_failures, 1);
  EXPECT_THAT(st.last_error, HasSubstr("the driver threw: boom"));
}

TEST_F(CameraSetTest, RemovingACameraLeavesAHungDriverCallBehind) {  // Q34
  CameraOptions o = set_->options();
  o.busy_timeout_ms = 50;  // how long removal waits for the call in progress
  ASSERT_TRUE(set_->SetOptions(o).ok());
  CameraConfig c = Config("cam", TriggerScheme::MANUAL);
  std::shared_ptr<FakeDriver> d = drivers_.back();
  d->Hold(true);
  ASSERT_TRUE(set_->Add(c).ok());
  ASSERT_TRUE(d->WaitInCapture());
  EXPECT_TRUE(set_->Remove("cam").ok());  // returns although Capture() has not
  EXPECT_TRUE(set_->Ids().empty());
  d->Hold(false);  // the abandoned call ends on its own thread, touching nothing
}

TEST_F(CameraSetTest, ManualTriggerWaitsBehindACaptureInProgress) {
  CameraConfig c = Config("cam", TriggerScheme::MANUAL);
  std::shared_ptr<FakeDriver> d = drivers_.back();
  d->Hold(true);
  ASSERT_TRUE(set_->Add(c).ok());
  ASSERT_TRUE(d->WaitInCapture());
  ASSERT_TRUE(set_->TriggerManual("").ok());
  d->Hold(false);
  ASSERT_TRUE(set_->WaitIdle("cam", kWaitMs));
  EXPECT_EQ(d->captures(), 2);
  EXPECT_EQ(StatusOf("cam").snapshots_uploaded, 2);
}

TEST_F(CameraSetTest, EveryCameraHasItsOwnConnection) {  // Q48
  ASSERT_TRUE(set_->Add(Config("a", TriggerScheme::MANUAL)).ok());
  ASSERT_TRUE(set_->Add(Config("b", TriggerScheme::MANUAL)).ok());
  std::lock_guard<std::mutex> l(hub_.mu);
  EXPECT_EQ(hub_.clients, 2);
}

TEST_F(CameraSetTest, ChangingTheServerMovesTheCameras) {  // Q28 fixed
  ASSERT_TRUE(set_->Add(Config("cam", TriggerScheme::MANUAL)).ok());
  ASSERT_TRUE(set_->WaitIdle("cam", kWaitMs));
  session_->set_connection("http://elsewhere.test", "printertoken");
  ASSERT_TRUE(set_->TriggerManual("cam").ok());
  ASSERT_TRUE(set_->WaitIdle("cam", kWaitMs));
  auto snaps = hub_.Snapshots();
  ASSERT_EQ(snaps.size(), 2u);
  EXPECT_THAT(snaps[1].url, StartsWith("http://elsewhere.test/"));
}

TEST_F(CameraSetTest, PrinterUuidGoesIntoTheSnapshotQuery) {  // spec §8.6
  CameraConfig c = Config("cam", TriggerScheme::MANUAL);
  c.printer_uuid = "a b/c&d";
  ASSERT_TRUE(set_->Add(c).ok());
  ASSERT_TRUE(set_->WaitIdle("cam", kWaitMs));
  auto snaps = hub_.Snapshots();
  ASSERT_EQ(snaps.size(), 1u);
  EXPECT_EQ(snaps[0].url, "http://connect.test/c/snapshot?printer_uuid=a%20b%2Fc%26d");
}

TEST_F(CameraSetTest, SchemeChangeTakesEffect) {
  ASSERT_TRUE(set_->Add(Config("cam", TriggerScheme::MANUAL)).ok());
  ASSERT_TRUE(set_->WaitIdle("cam", kWaitMs));
  AdvanceAndTick(100 * kSecond);
  EXPECT_EQ(StatusOf("cam").snapshots_uploaded, 1);
  ASSERT_TRUE(set_->SetTriggerScheme("cam", TriggerScheme::TEN_SEC).ok());
  EXPECT_EQ(set_->SetTriggerScheme("nope", TriggerScheme::TEN_SEC).code(), StatusCode::kNotFound);
  AdvanceAndTick(10 * kSecond);
  EXPECT_EQ(StatusOf("cam").snapshots_uploaded, 2);
  EXPECT_EQ(StatusOf("cam").trigger_scheme, TriggerScheme::TEN_SEC);
}

// A camera that takes 5 s (of the fake clock) to deliver its image.
class SlowClockDriver : public CameraDriver {
 public:
  explicit SlowClockDriver(FakeClock* clock) : clock_(clock) {}
  StatusOr<std::string> Capture() override {
    clock_->Advance(5 * kSecond);
    return MakeJpeg();
  }
  std::string Describe() const override { return "slow clock"; }

 private:
  FakeClock* clock_;
};

TEST_F(CameraSetTest, TimestampIsWhenTheImageArrived) {
  CameraConfig c = Config("cam", TriggerScheme::MANUAL);
  c.driver = std::make_shared<SlowClockDriver>(&clock_);
  ASSERT_TRUE(set_->Add(c).ok());
  ASSERT_TRUE(set_->WaitIdle("cam", kWaitMs));
  auto snaps = hub_.Snapshots();
  ASSERT_EQ(snaps.size(), 1u);
  EXPECT_EQ(*Header(snaps[0], "Timestamp"), "1700000005.0");
}

// ---------------------------------------------------------------- drivers

class TempFile {
 public:
  explicit TempFile(const std::string& data) {
    char name[] = "/tmp/camera_test_XXXXXX";
    int fd = mkstemp(name);
    EXPECT_GE(fd, 0);
    close(fd);
    path_ = name;
    std::ofstream(path_, std::ios::binary) << data;
  }
  ~TempFile() { std::remove(path_.c_str()); }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(CameraDrivers, FileDriverReadsTheFileEachTime) {
  std::string jpeg = MakeJpeg();
  TempFile f(jpeg);
  auto d = MakeFileDriver(f.path());
  auto img = d->Capture();
  ASSERT_TRUE(img.ok());
  EXPECT_EQ(*img, jpeg);
  EXPECT_EQ(MakeFileDriver("/nonexistent/x.jpg")->Capture().status().code(),
            StatusCode::kUnavailable);
  TempFile empty("");
  EXPECT_EQ(MakeFileDriver(empty.path())->Capture().status().code(), StatusCode::kUnavailable);
}

TEST(CameraDrivers, CommandDriverReturnsStdout) {
  std::string jpeg = MakeJpeg();
  TempFile f(jpeg);
  CommandOptions o;
  o.argv = {"cat", f.path()};
  auto img = MakeCommandDriver(o)->Capture();
  ASSERT_TRUE(img.ok()) << img.status().ToString();
  EXPECT_EQ(*img, jpeg);
}

TEST(CameraDrivers, CommandDriverReportsFailuresAndKillsHungCommands) {
  CommandOptions o;
  o.argv = {"false"};
  auto r = MakeCommandDriver(o)->Capture();
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(r.status().message(), HasSubstr("exit 1"));
  o.argv = {"/nonexistent/camera-tool"};
  EXPECT_EQ(MakeCommandDriver(o)->Capture().status().code(), StatusCode::kUnavailable);
  o.argv = {"true"};  // exits 0 without output
  EXPECT_EQ(MakeCommandDriver(o)->Capture().status().code(), StatusCode::kUnavailable);
  o.argv = {"sleep", "600"};
  o.timeout_ms = 100;
  EXPECT_EQ(MakeCommandDriver(o)->Capture().status().code(), StatusCode::kDeadlineExceeded);
  o.argv = {};
  EXPECT_EQ(MakeCommandDriver(o)->Capture().status().code(), StatusCode::kInvalidArgument);
  o.argv = {"head", "-c", "5000", "/dev/zero"};
  o.timeout_ms = 10000;
  o.max_bytes = 1000;
  EXPECT_EQ(MakeCommandDriver(o)->Capture().status().code(), StatusCode::kResourceExhausted);
}

TEST(CameraDrivers, HttpDriverDescriptionHidesCredentialsAndQuery) {
  HttpSnapshotOptions o;
  o.url = "http://user:pw@cam.local:8080/snapshot?token=secret";
  EXPECT_EQ(MakeHttpSnapshotDriver(o)->Describe(), "http://cam.local:8080/snapshot");
  o.url = "http://cam.local/webcam/?action=snapshot";
  EXPECT_EQ(MakeHttpSnapshotDriver(o)->Describe(), "http://cam.local/webcam/");
}

TEST(CameraDrivers, HttpDriverReportsAnUnreachableCamera) {
  HttpSnapshotOptions o;
  o.url = "http://127.0.0.1:1/snapshot";  // nothing listens on port 1
  o.timeout_ms = 2000;
  EXPECT_EQ(MakeHttpSnapshotDriver(o)->Capture().status().code(), StatusCode::kUnavailable);
}

// No camera here: V4L2 is tested on its error paths (the capture path is
// compile-tested only; see docs/CAMERAS.md).
TEST(CameraDrivers, V4L2DriverReportsMissingAndNonVideoDevices) {
  V4L2Options o;
  o.device = "/dev/video-does-not-exist";
  auto d = MakeV4L2Driver(o);
  EXPECT_EQ(d->Capture().status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(d->Describe(), "v4l2 /dev/video-does-not-exist");
  o.device = "/dev/null";
  auto r = MakeV4L2Driver(o)->Capture();
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(r.status().message(), HasSubstr("not a V4L2 device"));
}

}  // namespace
}  // namespace prusaconnect::internal
