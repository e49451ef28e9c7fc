// Copyright 2026 The libprusaconnect Authors.
#include "camera/image.h"

#include <png.h>

#include <csetjmp>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

// jpeglib.h needs size_t and FILE declared first.
#include <jpeglib.h>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace prusaconnect::internal {
namespace {

// libjpeg reports fatal errors through error_exit, which must not return:
// jump back to the encoder, which cleans up.
struct JpegError {
  jpeg_error_mgr mgr;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

void OnJpegError(j_common_ptr cinfo) {
  auto* err = reinterpret_cast<JpegError*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, err->message);
  std::longjmp(err->jump, 1);  // NOLINT(cert-err52-cpp)
}

void SilenceJpeg(j_common_ptr /*cinfo*/, int /*level*/) {}

// Fills one scanline of 3-byte pixels (RGB or YCbCr) from the source.
using RowFiller = void (*)(const unsigned char* src, int width, unsigned char* row);

void CopyRow(const unsigned char* src, int width, unsigned char* row) {
  std::copy(src, src + static_cast<size_t>(width) * 3, row);
}

void YuyvRow(const unsigned char* src, int width, unsigned char* row) {
  for (int x = 0; x + 1 < width; x += 2) {
    const unsigned char* p = src + static_cast<size_t>(x) * 2;  // Y0 U Y1 V
    unsigned char* o = row + static_cast<size_t>(x) * 3;
    o[0] = p[0];
    o[1] = p[1];
    o[2] = p[3];
    o[3] = p[2];
    o[4] = p[1];
    o[5] = p[3];
  }
  if (width % 2 == 1) {  // odd width: the last pixel has no pair
    const unsigned char* p = src + static_cast<size_t>(width - 1) * 2;
    unsigned char* o = row + static_cast<size_t>(width - 1) * 3;
    o[0] = p[0];
    o[1] = p[1];
    o[2] = 128;
  }
}

// Encodes `height` rows of `stride` bytes. All C++ objects live outside the
// setjmp/longjmp span.
absl::StatusOr<std::string> Encode(const unsigned char* src, size_t stride, int width, int height,
                                   J_COLOR_SPACE space, RowFiller fill, int quality) {
  std::vector<unsigned char> row(static_cast<size_t>(width) * 3);
  std::string out;
  jpeg_compress_struct cinfo{};
  JpegError err{};
  unsigned char* buffer = nullptr;
  unsigned long size = 0;  // NOLINT(runtime/int): libjpeg's type
  cinfo.err = jpeg_std_error(&err.mgr);
  err.mgr.error_exit = &OnJpegError;
  err.mgr.emit_message = &SilenceJpeg;
  if (setjmp(err.jump) != 0) {  // NOLINT(cert-err52-cpp)
    jpeg_destroy_compress(&cinfo);
    std::free(buffer);  // NOLINT(cppcoreguidelines-no-malloc): jpeg_mem_dest's buffer
    return absl::InternalError(absl::StrCat("JPEG encoding failed: ", err.message));
  }
  jpeg_create_compress(&cinfo);
  jpeg_mem_dest(&cinfo, &buffer, &size);
  cinfo.image_width = static_cast<JDIMENSION>(width);
  cinfo.image_height = static_cast<JDIMENSION>(height);
  cinfo.input_components = 3;
  cinfo.in_color_space = space;
  jpeg_set_defaults(&cinfo);
  jpeg_set_quality(&cinfo, quality, TRUE);
  jpeg_start_compress(&cinfo, TRUE);
  JSAMPROW rows[1] = {row.data()};
  while (cinfo.next_scanline < cinfo.image_height) {
    fill(src + static_cast<size_t>(cinfo.next_scanline) * stride, width, row.data());
    jpeg_write_scanlines(&cinfo, rows, 1);
  }
  jpeg_finish_compress(&cinfo);
  out.assign(reinterpret_cast<const char*>(buffer), size);
  jpeg_destroy_compress(&cinfo);
  std::free(buffer);  // NOLINT(cppcoreguidelines-no-malloc)
  return out;
}

bool GoodSize(int width, int height) {
  return width > 0 && height > 0 && width <= 65500 && height <= 65500;
}

int ClampQuality(int q) { return q < 1 ? 1 : (q > 100 ? 100 : q); }

}  // namespace

ImageFormat DetectImageFormat(std::string_view d) {
  if (d.size() >= 3 && static_cast<unsigned char>(d[0]) == 0xFF &&
      static_cast<unsigned char>(d[1]) == 0xD8 && static_cast<unsigned char>(d[2]) == 0xFF) {
    return ImageFormat::kJpeg;
  }
  if (d.size() >= 8 && d.substr(0, 8) == std::string_view("\x89PNG\r\n\x1a\n", 8)) {
    return ImageFormat::kPng;
  }
  return ImageFormat::kUnknown;
}

absl::StatusOr<std::string> EncodeRgbJpeg(std::string_view rgb, int width, int height,
                                          int quality) {
  if (!GoodSize(width, height)) {
    return absl::InvalidArgumentError(absl::StrCat("bad image size ", width, "x", height));
  }
  size_t stride = static_cast<size_t>(width) * 3;
  if (rgb.size() < stride * static_cast<size_t>(height)) {
    return absl::InvalidArgumentError("RGB data shorter than width x height x 3");
  }
  return Encode(reinterpret_cast<const unsigned char*>(rgb.data()), stride, width, height, JCS_RGB,
                &CopyRow, ClampQuality(quality));
}

absl::StatusOr<std::string> EncodeYuyvJpeg(std::string_view yuyv, int width, int height, int stride,
                                           int quality) {
  if (!GoodSize(width, height)) {
    return absl::InvalidArgumentError(absl::StrCat("bad image size ", width, "x", height));
  }
  size_t row_bytes = stride > 0 ? static_cast<size_t>(stride) : static_cast<size_t>(width) * 2;
  if (row_bytes < static_cast<size_t>(width) * 2 ||
      yuyv.size() < row_bytes * static_cast<size_t>(height - 1) + static_cast<size_t>(width) * 2) {
    return absl::InvalidArgumentError("YUYV frame shorter than its size says");
  }
  return Encode(reinterpret_cast<const unsigned char*>(yuyv.data()), row_bytes, width, height,
                JCS_YCbCr, &YuyvRow, ClampQuality(quality));
}

absl::StatusOr<std::string> ToJpeg(std::string data, int quality) {
  switch (DetectImageFormat(data)) {
    case ImageFormat::kJpeg:
      return data;
    case ImageFormat::kUnknown:
      return absl::InvalidArgumentError("not a JPEG or PNG image");
    case ImageFormat::kPng:
      break;
  }
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  if (png_image_begin_read_from_memory(&image, data.data(), data.size()) == 0) {
    return absl::InvalidArgumentError(absl::StrCat("bad PNG: ", image.message));
  }
  if (!GoodSize(static_cast<int>(image.width), static_cast<int>(image.height)) ||
      static_cast<uint64_t>(image.width) * image.height > (uint64_t{1} << 28)) {
    png_image_free(&image);
    return absl::InvalidArgumentError(
        absl::StrCat("PNG too large: ", image.width, "x", image.height));
  }
  image.format = PNG_FORMAT_RGB;  // alpha is composited on `background`
  png_color background{255, 255, 255};
  std::string rgb(PNG_IMAGE_SIZE(image), '\0');
  if (png_image_finish_read(&image, &background, rgb.data(), 0, nullptr) == 0) {
    std::string message = image.message;
    png_image_free(&image);
    return absl::InvalidArgumentError(absl::StrCat("bad PNG: ", message));
  }
  return EncodeRgbJpeg(rgb, static_cast<int>(image.width), static_cast<int>(image.height), quality);
}

}  // namespace prusaconnect::internal
