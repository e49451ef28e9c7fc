// Copyright 2026 The libprusaconnect Authors.
//
// Benchmarks of the cameras feature (Google Benchmark), the figures of
// docs/PERFORMANCE.md "Cameras (issue #5)". Every benchmark runs one
// snapshot in the benchmark thread, exactly as a camera's worker thread does
// (internal::TakeSnapshot), so "CPU" is the client's CPU alone; the servers
// (the Connect emulator and a frame server) run in-process on their own
// threads, on loopback.
//
//   BM_SnapshotUpload/200KB    a 200 KB JPEG already in memory: JPEG check +
//                              PUT /c/snapshot to the emulator (kept-alive
//                              connection), answer 204
//   BM_SnapshotHttpCaptureAndUpload/200KB
//                              the same JPEG fetched from a local snapshot
//                              URL (the mjpg-streamer/go2rtc driver), then
//                              uploaded: the whole path of an HTTP camera
//   BM_PngToJpeg/640x480       converting a 640x480 PNG frame (libpng
//                              decode + libjpeg-turbo encode, quality 85)
//
// Run: build/bench/camera_bench [--benchmark_min_time=2]
#include <benchmark/benchmark.h>
#include <png.h>

#include <cstdio>
#include <memory>
#include <random>
#include <string>
#include <utility>

#include "camera/camera_set.h"
#include "camera/image.h"
#include "emulator/emulator.h"
#include "emulator/http_server.h"
#include "prusaconnect/prusaconnect.h"
#include "transport/http_client.h"
#include "util/clock.h"

namespace {

using prusaconnect::CameraConfig;
using prusaconnect::CameraDriver;
using prusaconnect::CameraOptions;
using prusaconnect::Printer;
using prusaconnect::StatusOr;
namespace internal = prusaconnect::internal;

// A real JPEG of random pixels, just over `target` bytes.
std::string NoiseJpeg(size_t target) {
  std::mt19937 rng(42);
  for (int w = 160;; w += 8) {
    int h = w * 3 / 4;
    std::string rgb(static_cast<size_t>(w) * h * 3, '\0');
    for (char& c : rgb) c = static_cast<char>(rng() & 0xff);
    std::string jpeg = *internal::EncodeRgbJpeg(rgb, w, h, 90);
    if (jpeg.size() >= target) return jpeg;
  }
}

// A 640x480 PNG of a smooth gradient with some noise (a plausible frame).
std::string FramePng() {
  const int w = 640;
  const int h = 480;
  std::mt19937 rng(7);
  std::string rgb(static_cast<size_t>(w) * h * 3, '\0');
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      size_t i = (static_cast<size_t>(y) * w + x) * 3;
      rgb[i] = static_cast<char>((x * 255 / w + (rng() & 7)) & 0xff);
      rgb[i + 1] = static_cast<char>((y * 255 / h + (rng() & 7)) & 0xff);
      rgb[i + 2] = static_cast<char>(((x + y) & 0xff));
    }
  }
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  image.width = w;
  image.height = h;
  image.format = PNG_FORMAT_RGB;
  png_alloc_size_t size = 0;
  png_image_write_to_memory(&image, nullptr, &size, 0, rgb.data(), 0, nullptr);
  std::string out(size, '\0');
  png_image_write_to_memory(&image, out.data(), &size, 0, rgb.data(), 0, nullptr);
  out.resize(size);
  return out;
}

class MemoryDriver : public CameraDriver {
 public:
  explicit MemoryDriver(std::string image) : image_(std::move(image)) {}
  StatusOr<std::string> Capture() override { return image_; }
  std::string Describe() const override { return "memory"; }

 private:
  std::string image_;
};

// The emulator, a frame server and one registered camera, shared by all
// benchmarks.
struct World {
  World() : jpeg(NoiseJpeg(200 * 1000)) {
    frames = std::make_unique<prusaconnect::emulator::HttpServer>(
        prusaconnect::emulator::HttpServerOptions{},
        [this](const prusaconnect::emulator::HttpRequest&,
               prusaconnect::emulator::HttpResponder responder) {
          prusaconnect::emulator::HttpResponse r;
          r.body = jpeg;
          responder.Respond(std::move(r));
        });
    if (!frames->Start().ok() || !emulator.Start().ok()) std::abort();
    std::string fp = prusaconnect::FingerprintFromSerial("SN-BENCH-CAM");
    auto token = emulator.PreregisterPrinter(fp, "SN-BENCH-CAM", "1.3.1");
    printer = std::make_unique<Printer>(prusaconnect::PrinterType::I3MK3S, "SN-BENCH-CAM", fp);
    printer->set_connection(emulator.url(), *token);
    CameraConfig c;
    c.id = "bench";
    c.trigger_scheme = prusaconnect::TriggerScheme::MANUAL;
    c.driver = std::make_shared<MemoryDriver>(jpeg);
    if (!printer->cameras().add_camera(c).ok()) std::abort();
    auto camera_token = printer->cameras().register_camera("bench");
    if (!camera_token.ok()) std::abort();
    target.server = emulator.url();
    target.token = *camera_token;
    target.fingerprint = printer->cameras().status("bench")->fingerprint;
    // The camera's first snapshot goes out on its own thread; let it finish
    // so the benchmarks run alone.
    (void)printer->cameras().remove_camera("bench");
  }

  std::string frame_url() const {
    return "http://127.0.0.1:" + std::to_string(frames->port()) + "/snapshot.jpg";
  }

  prusaconnect::emulator::Emulator emulator;
  std::unique_ptr<prusaconnect::emulator::HttpServer> frames;
  std::unique_ptr<Printer> printer;
  std::string jpeg;
  internal::SnapshotTarget target;
};

World& TheWorld() {
  static World* world = new World();
  return *world;
}

void RunUploads(benchmark::State& state, CameraDriver& driver) {
  World& world = TheWorld();
  std::unique_ptr<internal::HttpClient> http = internal::MakeCurlHttpClient();
  CameraOptions options;
  internal::SnapshotTarget target = world.target;
  for (auto _ : state) {
    internal::SnapshotOutcome out = internal::TakeSnapshot(driver, http.get(), target, options);
    if (out.kind != internal::SnapshotOutcome::kSent || out.response.status != 204) {
      state.SkipWithError(("snapshot not delivered: " + out.error + " status " +
                           std::to_string(out.response.status))
                              .c_str());
      break;
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * world.jpeg.size()));
  state.counters["jpeg_bytes"] = static_cast<double>(world.jpeg.size());
}

void BM_SnapshotUpload(benchmark::State& state) {
  MemoryDriver driver(TheWorld().jpeg);
  RunUploads(state, driver);
}
BENCHMARK(BM_SnapshotUpload)->Name("BM_SnapshotUpload/200KB")->Unit(benchmark::kMicrosecond);

void BM_SnapshotHttpCaptureAndUpload(benchmark::State& state) {
  prusaconnect::HttpSnapshotOptions o;
  o.url = TheWorld().frame_url();
  std::shared_ptr<CameraDriver> driver = prusaconnect::MakeHttpSnapshotDriver(o);
  RunUploads(state, *driver);
}
BENCHMARK(BM_SnapshotHttpCaptureAndUpload)
    ->Name("BM_SnapshotHttpCaptureAndUpload/200KB")
    ->Unit(benchmark::kMicrosecond);

void BM_PngToJpeg(benchmark::State& state) {
  std::string png = FramePng();
  size_t out_bytes = 0;
  for (auto _ : state) {
    auto jpeg = internal::ToJpeg(png, 85);
    if (!jpeg.ok()) {
      state.SkipWithError("conversion failed");
      break;
    }
    out_bytes = jpeg->size();
    benchmark::DoNotOptimize(jpeg);
  }
  state.counters["png_bytes"] = static_cast<double>(png.size());
  state.counters["jpeg_bytes"] = static_cast<double>(out_bytes);
}
BENCHMARK(BM_PngToJpeg)->Name("BM_PngToJpeg/640x480")->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
