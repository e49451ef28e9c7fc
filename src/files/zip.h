// Copyright 2026 The libprusaconnect Authors.
//
// Just enough ZIP to read SL1 print archives (config.json and thumbnails):
// the central directory (our own reader: it bounds every size and offset of
// a hostile downloaded archive), stored and DEFLATE entries (inflated by
// zlib, the output bounded by the declared size), CRC-32 checks (zlib) as
// Python's zipfile does them, and base64 for the thumbnails (OpenSSL). No
// ZIP64, no encryption.
//
// Thread safety: a ZipReader is a value read by one thread at a time.
#ifndef PRUSACONNECT_FILES_ZIP_H_
#define PRUSACONNECT_FILES_ZIP_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "prusaconnect/status.h"

namespace prusaconnect::internal {

uint32_t Crc32(std::string_view data, uint32_t crc = 0);

// Inflates raw DEFLATE data (RFC 1951). False on corrupt input or when the
// output would exceed `max_out` bytes.
bool Inflate(std::string_view in, size_t max_out, std::string* out);

// Standard base64 with padding (Python's base64.b64encode).
std::string Base64Encode(std::string_view data);

class ZipReader {
 public:
  struct Entry {
    std::string name;
    uint16_t flags = 0;
    uint16_t method = 0;
    uint32_t crc = 0;
    uint64_t compressed_size = 0;
    uint64_t size = 0;
    uint64_t local_offset = 0;
  };

  // Reads the central directory of the archive in `fd` (`size` bytes).
  static StatusOr<ZipReader> Open(int fd, int64_t size);

  // In central-directory order (Python's infolist()).
  const std::vector<Entry>& entries() const { return entries_; }
  // The last entry named `name` (Python's NameToInfo), or nullptr.
  const Entry* Find(std::string_view name) const;
  // The entry's bytes, CRC-checked; entries larger than `max_size` fail.
  StatusOr<std::string> Read(const Entry& entry, uint64_t max_size) const;

 private:
  int fd_ = -1;
  int64_t size_ = 0;
  std::vector<Entry> entries_;
};

}  // namespace prusaconnect::internal

#endif  // PRUSACONNECT_FILES_ZIP_H_
