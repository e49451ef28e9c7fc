// Copyright 2026 The libprusaconnect Authors.
//
// libFuzzer target: the print-file metadata readers (src/files/metadata*.cc,
// zip.cc) — the G-code comment/thumbnail parser over its head and tail
// windows, and the SL1 archive reader — on a file in memory (a memfd), the
// way ReadGcodeMetadata reads a file from a storage. The first input byte
// picks the file name (and so the reader); the rest is the file.
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "files/metadata.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace pc = prusaconnect::internal;
  if (size == 0) return 0;
  static const char* const kNames[] = {
      "box_0.4n_0.2mm_PLA_MK3S_1h2m.gcode", "part.gco", "part.g", "model.sl1", "model.sl1s",
      "a_0.6n_0.15mm_PETG_MINI_10m.gcode",  "x.bgcode", "y.txt",
  };
  std::string_view name = kNames[data[0] % (sizeof(kNames) / sizeof(kNames[0]))];
  int fd = memfd_create("fuzz_gcode", MFD_CLOEXEC);
  if (fd < 0) return 0;
  const uint8_t* p = data + 1;
  size_t left = size - 1;
  while (left > 0) {
    ssize_t n = write(fd, p, left);
    if (n <= 0) break;
    p += n;
    left -= static_cast<size_t>(n);
  }
  prusaconnect::GcodeMetadata out;
  (void)pc::ReadPrintFileMetadata(fd, static_cast<int64_t>(size - 1), name, &out);
  close(fd);

  // The line parser on its own, fed in pieces as a stream would.
  prusaconnect::GcodeMetadata lines;
  pc::FdmMetadataParser parser(&lines);
  std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  while (!text.empty()) {
    size_t nl = text.find('\n');
    size_t len = nl == std::string_view::npos ? text.size() : nl + 1;
    if (!parser.ProcessLine(text.substr(0, len))) break;
    text.remove_prefix(len);
  }
  // File names and the numbers in them are short (a name has at most 255
  // bytes): the first 300 bytes are enough and keep the target fast.
  std::string_view head(reinterpret_cast<const char*>(data + 1), std::min<size_t>(size - 1, 300));
  prusaconnect::Json from_name = prusaconnect::Json::MakeObject();
  pc::MetadataFromFilename(head, &from_name);
  (void)pc::PyFloat(head);
  (void)pc::PyInt(head);
  return 0;
}
