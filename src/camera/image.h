// Copyright 2026 The libprusaconnect Authors.
//
// Image formats for snapshots: Connect takes JPEG only, so PNG frames (some
// HTTP snapshot sources, screenshots of virtual printers) are decoded with
// libpng and re-encoded with libjpeg(-turbo); raw YUYV frames of V4L2
// cameras without MJPEG are encoded too. Pure functions, no state.
//
// libjpeg and libpng are loaded on the first conversion (dlopen): a process
// that never converts does not map them. When one is missing, conversions
// fail with Unavailable naming it; JPEG sources keep working. A library
// built with -DPRUSACONNECT_IMAGE_CODECS=OFF has no codecs at all: the
// conversions check their input, then fail with Unavailable saying so.
//
// Thread safety: all functions are safe to call concurrently.
#ifndef PRUSACONNECT_CAMERA_IMAGE_H_
#define PRUSACONNECT_CAMERA_IMAGE_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "prusaconnect/status.h"

namespace prusaconnect::internal {

enum class ImageFormat { kUnknown, kJpeg, kPng };

// From the magic bytes.
ImageFormat DetectImageFormat(std::string_view data);

// JPEG of `width` x `height` pixels given as packed 8-bit RGB rows.
// InvalidArgument on bad sizes.
StatusOr<std::string> EncodeRgbJpeg(std::string_view rgb, int width, int height, int quality);

// JPEG of a packed YUYV 4:2:2 frame (V4L2_PIX_FMT_YUYV). `stride` is the
// bytes per row (0: 2 * width).
StatusOr<std::string> EncodeYuyvJpeg(std::string_view yuyv, int width, int height, int stride,
                                     int quality);

// JPEG input is returned unchanged; PNG is decoded (any colour type, alpha
// composited on white) and encoded. InvalidArgument for anything else and
// for corrupt PNG data.
StatusOr<std::string> ToJpeg(std::string data, int quality);

// MJPEG frames of many UVC cameras carry no Huffman tables (DHT): the
// format lets them rely on the standard tables of ITU T.81 Annex K.3, but
// not every viewer knows that. Returns the frame with those tables inserted
// before the start of scan when it has none; anything else (tables present,
// not a JPEG, malformed) is returned unchanged.
std::string AddDefaultHuffmanTables(std::string jpeg);

// dlopen()s a codec library; Unavailable with dlerror()'s reason otherwise.
// The conversions above use it; exposed for tests.
StatusOr<void*> OpenCodecLibrary(const char* soname);

}  // namespace prusaconnect::internal

#endif  // PRUSACONNECT_CAMERA_IMAGE_H_
