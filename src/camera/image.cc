// Copyright 2026 The libprusaconnect Authors.
#include "camera/image.h"

#include <dlfcn.h>

#include <csetjmp>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#if PRUSACONNECT_IMAGE_CODECS
#include <png.h>
// jpeglib.h needs size_t and FILE declared first.
#include <jpeglib.h>
#endif

#include "util/str_cat.h"

namespace prusaconnect::internal {

// ------------------------------------------------------------ the codecs
//
// libjpeg and libpng are opened on the first conversion, not at load time: a
// process that never converts an image (most never do: MJPEG cameras and
// JPEG snapshot sources need no conversion) does not map them. The headers
// still come from the -dev packages, so the structures and the ABI version
// are the ones the library was compiled against; the sonames come from the
// libraries found at configure time (src/CMakeLists.txt).

StatusOr<void*> OpenCodecLibrary(const char* soname) {
  void* handle = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = dlerror();  // NOLINT(concurrency-mt-unsafe): per-thread in glibc
    return UnavailableError(
        StrCat("image conversion needs ", soname, ": ", why != nullptr ? why : "cannot be loaded"));
  }
  return handle;
}

namespace {

bool GoodSize(int width, int height) {
  return width > 0 && height > 0 && width <= 65500 && height <= 65500;
}

[[maybe_unused]] int ClampQuality(int q) { return q < 1 ? 1 : (q > 100 ? 100 : q); }

// The checks of the encoders' input, with or without the codecs.
Status CheckRgb(std::string_view rgb, int width, int height) {
  if (!GoodSize(width, height)) {
    return InvalidArgumentError(internal::StrCat("bad image size ", width, "x", height));
  }
  if (rgb.size() < static_cast<size_t>(width) * 3 * static_cast<size_t>(height)) {
    return InvalidArgumentError("RGB data shorter than width x height x 3");
  }
  return Status::OK();
}

StatusOr<size_t> YuyvRowBytes(std::string_view yuyv, int width, int height, int stride) {
  if (!GoodSize(width, height)) {
    return InvalidArgumentError(internal::StrCat("bad image size ", width, "x", height));
  }
  size_t row_bytes = stride > 0 ? static_cast<size_t>(stride) : static_cast<size_t>(width) * 2;
  if (row_bytes < static_cast<size_t>(width) * 2 ||
      yuyv.size() < row_bytes * static_cast<size_t>(height - 1) + static_cast<size_t>(width) * 2) {
    return InvalidArgumentError("YUYV frame shorter than its size says");
  }
  return row_bytes;
}

#if PRUSACONNECT_IMAGE_CODECS

struct JpegApi {
  decltype(&jpeg_std_error) std_error;
  decltype(&jpeg_CreateCompress) create_compress;
  decltype(&jpeg_mem_dest) mem_dest;
  decltype(&jpeg_set_defaults) set_defaults;
  decltype(&jpeg_set_quality) set_quality;
  decltype(&jpeg_start_compress) start_compress;
  decltype(&jpeg_write_scanlines) write_scanlines;
  decltype(&jpeg_finish_compress) finish_compress;
  decltype(&jpeg_destroy_compress) destroy_compress;
};

struct PngApi {
  decltype(&png_image_begin_read_from_memory) begin_read_from_memory;
  decltype(&png_image_finish_read) finish_read;
  decltype(&png_image_free) free;
};

// Resolves `name` into `*fn`; the first failure is kept in `*status`.
template <typename Fn>
void Resolve(void* handle, const char* soname, const char* name, Fn* fn, Status* status) {
  void* sym = dlsym(handle, name);
  if (sym == nullptr && status->ok()) {
    *status = UnavailableError(StrCat(soname, " has no ", name));
  }
  *fn = reinterpret_cast<Fn>(sym);  // NOLINT: dlsym's documented use
}

// Opens `soname` once and fills the table with `resolve`; the outcome (the
// table, or the first error) is kept for the life of the process.
template <typename Api>
StatusOr<const Api*> LoadOnce(const char* soname,
                              void (*resolve)(void*, const char*, Api*, Status*)) {
  static std::once_flag once;
  static Api api;
  static Status status;
  std::call_once(once, [&] {
    StatusOr<void*> lib = OpenCodecLibrary(soname);
    if (!lib.ok()) {
      status = lib.status();
      return;
    }
    resolve(*lib, soname, &api, &status);
  });
  if (!status.ok()) return status;
  return &api;
}

void ResolveJpeg(void* lib, const char* so, JpegApi* api, Status* status) {
  Resolve(lib, so, "jpeg_std_error", &api->std_error, status);
  Resolve(lib, so, "jpeg_CreateCompress", &api->create_compress, status);
  Resolve(lib, so, "jpeg_mem_dest", &api->mem_dest, status);
  Resolve(lib, so, "jpeg_set_defaults", &api->set_defaults, status);
  Resolve(lib, so, "jpeg_set_quality", &api->set_quality, status);
  Resolve(lib, so, "jpeg_start_compress", &api->start_compress, status);
  Resolve(lib, so, "jpeg_write_scanlines", &api->write_scanlines, status);
  Resolve(lib, so, "jpeg_finish_compress", &api->finish_compress, status);
  Resolve(lib, so, "jpeg_destroy_compress", &api->destroy_compress, status);
}

void ResolvePng(void* lib, const char* so, PngApi* api, Status* status) {
  Resolve(lib, so, "png_image_begin_read_from_memory", &api->begin_read_from_memory, status);
  Resolve(lib, so, "png_image_finish_read", &api->finish_read, status);
  Resolve(lib, so, "png_image_free", &api->free, status);
}

StatusOr<const JpegApi*> Jpeg() {
  return LoadOnce<JpegApi>(PRUSACONNECT_LIBJPEG_SONAME, &ResolveJpeg);
}
StatusOr<const PngApi*> Png() { return LoadOnce<PngApi>(PRUSACONNECT_LIBPNG_SONAME, &ResolvePng); }

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
StatusOr<std::string> Encode(const unsigned char* src, size_t stride, int width, int height,
                             J_COLOR_SPACE space, RowFiller fill, int quality) {
  StatusOr<const JpegApi*> api = Jpeg();
  if (!api.ok()) return api.status();
  const JpegApi& jpeg = **api;
  std::vector<unsigned char> row(static_cast<size_t>(width) * 3);
  std::string out;
  jpeg_compress_struct cinfo{};
  JpegError err{};
  unsigned char* buffer = nullptr;
  unsigned long size = 0;  // NOLINT(runtime/int): libjpeg's type
  cinfo.err = jpeg.std_error(&err.mgr);
  err.mgr.error_exit = &OnJpegError;
  err.mgr.emit_message = &SilenceJpeg;
  if (setjmp(err.jump) != 0) {  // NOLINT(cert-err52-cpp)
    jpeg.destroy_compress(&cinfo);
    std::free(buffer);  // NOLINT(cppcoreguidelines-no-malloc): jpeg_mem_dest's buffer
    return InternalError(internal::StrCat("JPEG encoding failed: ", err.message));
  }
  jpeg.create_compress(&cinfo, JPEG_LIB_VERSION, sizeof(cinfo));
  jpeg.mem_dest(&cinfo, &buffer, &size);
  cinfo.image_width = static_cast<JDIMENSION>(width);
  cinfo.image_height = static_cast<JDIMENSION>(height);
  cinfo.input_components = 3;
  cinfo.in_color_space = space;
  jpeg.set_defaults(&cinfo);
  jpeg.set_quality(&cinfo, quality, TRUE);
  jpeg.start_compress(&cinfo, TRUE);
  JSAMPROW rows[1] = {row.data()};
  while (cinfo.next_scanline < cinfo.image_height) {
    fill(src + static_cast<size_t>(cinfo.next_scanline) * stride, width, row.data());
    jpeg.write_scanlines(&cinfo, rows, 1);
  }
  jpeg.finish_compress(&cinfo);
  out.assign(reinterpret_cast<const char*>(buffer), size);
  jpeg.destroy_compress(&cinfo);
  std::free(buffer);  // NOLINT(cppcoreguidelines-no-malloc)
  return out;
}

#else  // !PRUSACONNECT_IMAGE_CODECS

Status NoCodecs() {
  return UnavailableError(
      "image conversion to JPEG is not available: libprusaconnect was built with "
      "PRUSACONNECT_IMAGE_CODECS=OFF");
}

#endif  // PRUSACONNECT_IMAGE_CODECS

// ITU T.81 Annex K.3: the standard Huffman tables (counts of codes of each
// length 1..16, then the symbols), as libjpeg also uses them by default.
constexpr unsigned char kDcLuminanceBits[16] = {0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0};
constexpr unsigned char kDcChrominanceBits[16] = {0, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0};
constexpr unsigned char kDcValues[12] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
constexpr unsigned char kAcLuminanceBits[16] = {0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 0x7d};
constexpr unsigned char kAcLuminanceValues[162] = {
    0x01, 0x02, 0x03, 0x00, 0x04, 0x11, 0x05, 0x12, 0x21, 0x31, 0x41, 0x06, 0x13, 0x51, 0x61,
    0x07, 0x22, 0x71, 0x14, 0x32, 0x81, 0x91, 0xa1, 0x08, 0x23, 0x42, 0xb1, 0xc1, 0x15, 0x52,
    0xd1, 0xf0, 0x24, 0x33, 0x62, 0x72, 0x82, 0x09, 0x0a, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x25,
    0x26, 0x27, 0x28, 0x29, 0x2a, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x43, 0x44, 0x45,
    0x46, 0x47, 0x48, 0x49, 0x4a, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x63, 0x64,
    0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x83,
    0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99,
    0x9a, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6,
    0xb7, 0xb8, 0xb9, 0xba, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xd2, 0xd3,
    0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda, 0xe1, 0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8,
    0xe9, 0xea, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa};
constexpr unsigned char kAcChrominanceBits[16] = {0, 2, 1, 2, 4, 4, 3, 4,
                                                  7, 5, 4, 4, 0, 1, 2, 0x77};
constexpr unsigned char kAcChrominanceValues[162] = {
    0x00, 0x01, 0x02, 0x03, 0x11, 0x04, 0x05, 0x21, 0x31, 0x06, 0x12, 0x41, 0x51, 0x07, 0x61,
    0x71, 0x13, 0x22, 0x32, 0x81, 0x08, 0x14, 0x42, 0x91, 0xa1, 0xb1, 0xc1, 0x09, 0x23, 0x33,
    0x52, 0xf0, 0x15, 0x62, 0x72, 0xd1, 0x0a, 0x16, 0x24, 0x34, 0xe1, 0x25, 0xf1, 0x17, 0x18,
    0x19, 0x1a, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x43, 0x44,
    0x45, 0x46, 0x47, 0x48, 0x49, 0x4a, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x63,
    0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a,
    0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97,
    0x98, 0x99, 0x9a, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xb2, 0xb3, 0xb4,
    0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca,
    0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda, 0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7,
    0xe8, 0xe9, 0xea, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa};

// One DHT segment with the four standard tables (420 bytes).
std::string StandardDht() {
  std::string body;
  auto add = [&body](unsigned char class_id, const unsigned char* bits, const unsigned char* values,
                     size_t count) {
    body.push_back(static_cast<char>(class_id));
    body.append(reinterpret_cast<const char*>(bits), 16);
    body.append(reinterpret_cast<const char*>(values), count);
  };
  add(0x00, kDcLuminanceBits, kDcValues, sizeof(kDcValues));
  add(0x10, kAcLuminanceBits, kAcLuminanceValues, sizeof(kAcLuminanceValues));
  add(0x01, kDcChrominanceBits, kDcValues, sizeof(kDcValues));
  add(0x11, kAcChrominanceBits, kAcChrominanceValues, sizeof(kAcChrominanceValues));
  size_t length = body.size() + 2;
  std::string segment = {'\xff', '\xc4', static_cast<char>(length >> 8),
                         static_cast<char>(length & 0xff)};
  return segment + body;
}

}  // namespace

std::string AddDefaultHuffmanTables(std::string jpeg) {
  if (DetectImageFormat(jpeg) != ImageFormat::kJpeg) return jpeg;
  auto byte = [&jpeg](size_t i) { return static_cast<unsigned char>(jpeg[i]); };
  size_t i = 2;  // after SOI
  while (i + 1 < jpeg.size()) {
    if (byte(i) != 0xFF) return jpeg;  // malformed: leave it alone
    unsigned char marker = byte(i + 1);
    if (marker == 0xFF) {  // fill byte
      ++i;
      continue;
    }
    if (marker == 0xC4) return jpeg;  // has tables
    if (marker == 0xDA) {             // start of scan without tables before it
      jpeg.insert(i, StandardDht());
      return jpeg;
    }
    if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) {  // no length
      i += 2;
      continue;
    }
    if (i + 3 >= jpeg.size()) return jpeg;
    size_t length = (static_cast<size_t>(byte(i + 2)) << 8) | byte(i + 3);
    if (length < 2) return jpeg;
    i += 2 + length;
  }
  return jpeg;
}

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

StatusOr<std::string> EncodeRgbJpeg(std::string_view rgb, int width, int height, int quality) {
  if (Status s = CheckRgb(rgb, width, height); !s.ok()) return s;
#if PRUSACONNECT_IMAGE_CODECS
  return Encode(reinterpret_cast<const unsigned char*>(rgb.data()), static_cast<size_t>(width) * 3,
                width, height, JCS_RGB, &CopyRow, ClampQuality(quality));
#else
  (void)quality;
  return NoCodecs();
#endif
}

StatusOr<std::string> EncodeYuyvJpeg(std::string_view yuyv, int width, int height, int stride,
                                     int quality) {
  StatusOr<size_t> row_bytes = YuyvRowBytes(yuyv, width, height, stride);
  if (!row_bytes.ok()) return row_bytes.status();
#if PRUSACONNECT_IMAGE_CODECS
  return Encode(reinterpret_cast<const unsigned char*>(yuyv.data()), *row_bytes, width, height,
                JCS_YCbCr, &YuyvRow, ClampQuality(quality));
#else
  (void)quality;
  return NoCodecs();
#endif
}

StatusOr<std::string> ToJpeg(std::string data, int quality) {
  switch (DetectImageFormat(data)) {
    case ImageFormat::kJpeg:
      return data;
    case ImageFormat::kUnknown:
      return InvalidArgumentError("not a JPEG or PNG image");
    case ImageFormat::kPng:
      break;
  }
#if !PRUSACONNECT_IMAGE_CODECS
  (void)quality;
  return NoCodecs();
#else
  StatusOr<const PngApi*> api = Png();
  if (!api.ok()) return api.status();
  const PngApi& png = **api;
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  if (png.begin_read_from_memory(&image, data.data(), data.size()) == 0) {
    return InvalidArgumentError(internal::StrCat("bad PNG: ", image.message));
  }
  if (!GoodSize(static_cast<int>(image.width), static_cast<int>(image.height)) ||
      static_cast<uint64_t>(image.width) * image.height > (uint64_t{1} << 28)) {
    png.free(&image);
    return InvalidArgumentError(
        internal::StrCat("PNG too large: ", image.width, "x", image.height));
  }
  image.format = PNG_FORMAT_RGB;  // alpha is composited on `background`
  png_color background{255, 255, 255};
  std::string rgb(PNG_IMAGE_SIZE(image), '\0');
  if (png.finish_read(&image, &background, rgb.data(), 0, nullptr) == 0) {
    std::string message = image.message;
    png.free(&image);
    return InvalidArgumentError(internal::StrCat("bad PNG: ", message));
  }
  return EncodeRgbJpeg(rgb, static_cast<int>(image.width), static_cast<int>(image.height), quality);
#endif
}

}  // namespace prusaconnect::internal
