// Copyright 2026 The libprusaconnect Authors.
//
// The V4L2 driver: one still from a USB (UVC) camera through the kernel API.
// For each capture it opens the device, asks for MJPEG (else YUYV, encoded
// here), maps two buffers, streams until it has skipped `skip_frames` frames
// and kept one, and closes the device again — so an unplugged camera is
// just Unavailable until it returns, and the camera is free between
// snapshots for other programs.
#include <fcntl.h>
#include <linux/videodev2.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/select.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "camera/image.h"
#include "prusaconnect/camera.h"
#include "util/posix.h"
#include "util/str_cat.h"

namespace prusaconnect {
namespace {

int Xioctl(int fd, unsigned long request, void* arg) {  // NOLINT(runtime/int)
  int r;
  do {
    r = ioctl(fd, request, arg);
  } while (r == -1 && errno == EINTR);
  return r;
}

class V4L2Driver : public CameraDriver {
 public:
  explicit V4L2Driver(V4L2Options o) : options_(std::move(o)) {}

  StatusOr<std::string> Capture() override {
    int fd = open(options_.device.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return UnavailableError(Err("open"));
    Device dev(fd);
    return CaptureFrom(&dev);
  }

  std::string Describe() const override { return "v4l2 " + options_.device; }

 private:
  struct Buffer {
    void* start = MAP_FAILED;
    size_t length = 0;
  };
  // Closes the device and unmaps the buffers on every path.
  struct Device {
    explicit Device(int f) : fd(f) {}
    ~Device() {
      if (streaming) {
        v4l2_buf_type type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
        Xioctl(fd, VIDIOC_STREAMOFF, &type);
      }
      for (Buffer& b : buffers) {
        if (b.start != MAP_FAILED) munmap(b.start, b.length);
      }
      close(fd);
    }
    Device(const Device&) = delete;
    Device& operator=(const Device&) = delete;
    int fd;
    bool streaming = false;
    std::vector<Buffer> buffers;
  };

  std::string Err(const char* what) const {
    return internal::StrCat(Describe(), ": ", what, ": ", internal::ErrnoText(errno));
  }

  StatusOr<std::string> CaptureFrom(Device* dev) {
    v4l2_capability cap{};
    if (Xioctl(dev->fd, VIDIOC_QUERYCAP, &cap) != 0) {
      return FailedPreconditionError(Err("not a V4L2 device (VIDIOC_QUERYCAP)"));
    }
    uint32_t caps =
        (cap.capabilities & V4L2_CAP_DEVICE_CAPS) != 0 ? cap.device_caps : cap.capabilities;
    if ((caps & V4L2_CAP_VIDEO_CAPTURE) == 0 || (caps & V4L2_CAP_STREAMING) == 0) {
      return FailedPreconditionError(
          internal::StrCat(Describe(), ": not a streaming video capture device"));
    }
    v4l2_format fmt{};
    fmt.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    fmt.fmt.pix.width = static_cast<uint32_t>(options_.width);
    fmt.fmt.pix.height = static_cast<uint32_t>(options_.height);
    fmt.fmt.pix.pixelformat = V4L2_PIX_FMT_MJPEG;
    fmt.fmt.pix.field = V4L2_FIELD_ANY;
    if (Xioctl(dev->fd, VIDIOC_S_FMT, &fmt) != 0) return UnavailableError(Err("VIDIOC_S_FMT"));
    if (fmt.fmt.pix.pixelformat != V4L2_PIX_FMT_MJPEG &&
        fmt.fmt.pix.pixelformat != V4L2_PIX_FMT_JPEG) {
      fmt.fmt.pix.pixelformat = V4L2_PIX_FMT_YUYV;
      if (Xioctl(dev->fd, VIDIOC_S_FMT, &fmt) != 0) return UnavailableError(Err("VIDIOC_S_FMT"));
      if (fmt.fmt.pix.pixelformat != V4L2_PIX_FMT_YUYV) {
        return FailedPreconditionError(
            internal::StrCat(Describe(), ": the camera offers neither MJPEG nor YUYV"));
      }
    }
    v4l2_requestbuffers req{};
    req.count = 2;
    req.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    req.memory = V4L2_MEMORY_MMAP;
    if (Xioctl(dev->fd, VIDIOC_REQBUFS, &req) != 0 || req.count < 1) {
      return UnavailableError(Err("VIDIOC_REQBUFS"));
    }
    dev->buffers.resize(req.count);
    for (uint32_t i = 0; i < req.count; ++i) {
      v4l2_buffer buf{};
      buf.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
      buf.memory = V4L2_MEMORY_MMAP;
      buf.index = i;
      if (Xioctl(dev->fd, VIDIOC_QUERYBUF, &buf) != 0) {
        return UnavailableError(Err("VIDIOC_QUERYBUF"));
      }
      dev->buffers[i].length = buf.length;
      dev->buffers[i].start =
          mmap(nullptr, buf.length, PROT_READ | PROT_WRITE, MAP_SHARED, dev->fd, buf.m.offset);
      if (dev->buffers[i].start == MAP_FAILED) return UnavailableError(Err("mmap"));
      if (Xioctl(dev->fd, VIDIOC_QBUF, &buf) != 0) return UnavailableError(Err("VIDIOC_QBUF"));
    }
    v4l2_buf_type type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    if (Xioctl(dev->fd, VIDIOC_STREAMON, &type) != 0) {
      return UnavailableError(Err("VIDIOC_STREAMON"));
    }
    dev->streaming = true;
    auto deadline =
        std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.timeout_ms);
    for (int frame = 0;; ++frame) {
      auto left = std::chrono::duration_cast<std::chrono::microseconds>(
                      deadline - std::chrono::steady_clock::now())
                      .count();
      if (left <= 0) {
        return DeadlineExceededError(
            internal::StrCat(Describe(), ": no frame within ", options_.timeout_ms, " ms"));
      }
      fd_set fds;
      FD_ZERO(&fds);
      FD_SET(dev->fd, &fds);
      timeval tv{static_cast<time_t>(left / 1000000), static_cast<suseconds_t>(left % 1000000)};
      int n = select(dev->fd + 1, &fds, nullptr, nullptr, &tv);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return UnavailableError(Err("select"));
      if (n == 0) continue;  // the deadline check above reports it
      v4l2_buffer buf{};
      buf.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
      buf.memory = V4L2_MEMORY_MMAP;
      if (Xioctl(dev->fd, VIDIOC_DQBUF, &buf) != 0) {
        if (errno == EAGAIN) continue;
        return UnavailableError(Err("VIDIOC_DQBUF"));  // e.g. ENODEV: unplugged
      }
      if (buf.index >= dev->buffers.size()) return InternalError(Describe() + ": bad buffer");
      const Buffer& b = dev->buffers[buf.index];
      bool keep = frame >= options_.skip_frames && (buf.flags & V4L2_BUF_FLAG_ERROR) == 0 &&
                  buf.bytesused > 0;
      if (keep) {
        std::string data(static_cast<const char*>(b.start),
                         std::min<size_t>(buf.bytesused, b.length));
        if (fmt.fmt.pix.pixelformat == V4L2_PIX_FMT_YUYV) {
          auto jpeg = internal::EncodeYuyvJpeg(data, static_cast<int>(fmt.fmt.pix.width),
                                               static_cast<int>(fmt.fmt.pix.height),
                                               static_cast<int>(fmt.fmt.pix.bytesperline), 85);
          if (!jpeg.ok()) return InternalError(std::string(jpeg.status().message()));
          return *std::move(jpeg);
        }
        return internal::AddDefaultHuffmanTables(std::move(data));
      }
      if (Xioctl(dev->fd, VIDIOC_QBUF, &buf) != 0) return UnavailableError(Err("VIDIOC_QBUF"));
    }
  }

  const V4L2Options options_;
};

}  // namespace

std::shared_ptr<CameraDriver> MakeV4L2Driver(const V4L2Options& options) {
  return std::make_shared<V4L2Driver>(options);
}

}  // namespace prusaconnect
