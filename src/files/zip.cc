// Copyright 2026 The libprusaconnect Authors.
#include "files/zip.h"

#include <errno.h>
#include <openssl/evp.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <climits>
#include <cstring>

#include "files/paths.h"

namespace prusaconnect::internal {
namespace {

uint16_t Le16(const unsigned char* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }
uint32_t Le32(const unsigned char* p) {
  return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) |
         (static_cast<uint32_t>(p[2]) << 16) | (static_cast<uint32_t>(p[3]) << 24);
}

Status PreadAll(int fd, int64_t offset, size_t len, std::string* out) {
  out->resize(len);
  size_t done = 0;
  while (done < len) {
    ssize_t n = pread(fd, out->data() + done, len - done, offset + static_cast<int64_t>(done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return InternalError(StrCat("read error: ", ErrnoText(errno)));
    }
    if (n == 0) return DataLossError("unexpected end of archive");
    done += static_cast<size_t>(n);
  }
  return Status();
}

}  // namespace

uint32_t Crc32(std::string_view data, uint32_t crc) {
  uLong c = crc;
  while (!data.empty()) {  // zlib counts in uInt
    size_t n = std::min<size_t>(data.size(), UINT_MAX);
    c = crc32(c, reinterpret_cast<const Bytef*>(data.data()), static_cast<uInt>(n));
    data.remove_prefix(n);
  }
  return static_cast<uint32_t>(c);
}

bool Inflate(std::string_view in, size_t max_out, std::string* out) {
  out->clear();
  z_stream z{};
  if (inflateInit2(&z, -MAX_WBITS) != Z_OK) return false;  // raw DEFLATE, no header
  // The output grows as it is produced (an archive's declared size is not
  // trusted for the allocation), up to one byte past the limit: reaching
  // that byte means the data inflates to more than `max_out`.
  const size_t limit = max_out + 1;
  size_t produced = 0;
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    if (produced == out->size()) {
      size_t next = std::min(limit, std::max<size_t>(out->size() * 2, size_t{64} << 10));
      if (next == produced) break;  // over the limit
      out->resize(next);
    }
    if (z.avail_in == 0 && !in.empty()) {
      size_t n = std::min<size_t>(in.size(), UINT_MAX);
      z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
      z.avail_in = static_cast<uInt>(n);
      in.remove_prefix(n);
    }
    size_t room = std::min<size_t>(out->size() - produced, UINT_MAX);
    z.next_out = reinterpret_cast<Bytef*>(out->data() + produced);
    z.avail_out = static_cast<uInt>(room);
    rc = inflate(&z, Z_NO_FLUSH);
    produced += room - z.avail_out;
    if (rc == Z_BUF_ERROR && z.avail_in == 0 && in.empty()) break;     // truncated
    if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) break;  // corrupt
  }
  inflateEnd(&z);
  out->resize(produced);
  return rc == Z_STREAM_END && produced <= max_out;
}

std::string Base64Encode(std::string_view data) {
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4 + 1);
  // EVP_EncodeBlock counts in int: whole groups of 3 bytes per call keep
  // the padding at the very end.
  constexpr size_t kChunk = size_t{3} << 28;
  while (!data.empty()) {
    size_t n = std::min(data.size(), kChunk);
    size_t at = out.size();
    out.resize(at + (n + 2) / 3 * 4 + 1);  // EVP_EncodeBlock writes a NUL
    int written =
        EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data() + at),
                        reinterpret_cast<const unsigned char*>(data.data()), static_cast<int>(n));
    out.resize(at + static_cast<size_t>(written));
    data.remove_prefix(n);
  }
  return out;
}

StatusOr<ZipReader> ZipReader::Open(int fd, int64_t size) {
  constexpr int64_t kEocd = 22;
  if (size < kEocd) return InvalidArgumentError("not a zip archive");
  // The end record sits in the last 22 bytes, or before a comment of at most
  // 64 KiB (the last signature found wins, as in Python's zipfile).
  int64_t window = std::min<int64_t>(size, kEocd + 0xFFFF);
  std::string tail;
  Status s = PreadAll(fd, size - window, static_cast<size_t>(window), &tail);
  if (!s.ok()) return s;
  int64_t at = -1;
  for (int64_t i = window - kEocd; i >= 0; --i) {
    if (std::memcmp(tail.data() + i, "PK\x05\x06", 4) == 0) {
      at = i;
      break;
    }
  }
  if (at < 0) return InvalidArgumentError("not a zip archive");
  auto* e = reinterpret_cast<const unsigned char*>(tail.data() + at);
  uint16_t count = Le16(e + 10);
  uint32_t cd_size = Le32(e + 12);
  uint32_t cd_offset = Le32(e + 16);
  if (count == 0xFFFF || cd_size == 0xFFFFFFFFu || cd_offset == 0xFFFFFFFFu) {
    return UnimplementedError("ZIP64 archives are not supported");
  }
  int64_t eocd_pos = size - window + at;
  int64_t cd_start = eocd_pos - cd_size;
  if (cd_start < 0) return InvalidArgumentError("bad zip central directory");
  int64_t concat = cd_start - cd_offset;  // bytes prepended to the archive
  std::string cd;
  s = PreadAll(fd, cd_start, cd_size, &cd);
  if (!s.ok()) return s;
  ZipReader z;
  z.fd_ = fd;
  z.size_ = size;
  size_t p = 0;
  while (p + 46 <= cd.size()) {
    auto* h = reinterpret_cast<const unsigned char*>(cd.data() + p);
    if (std::memcmp(h, "PK\x01\x02", 4) != 0) return InvalidArgumentError("bad zip entry");
    Entry entry;
    entry.flags = Le16(h + 8);
    entry.method = Le16(h + 10);
    entry.crc = Le32(h + 16);
    entry.compressed_size = Le32(h + 20);
    entry.size = Le32(h + 24);
    uint16_t name_len = Le16(h + 28);
    uint16_t extra_len = Le16(h + 30);
    uint16_t comment_len = Le16(h + 32);
    entry.local_offset = static_cast<uint64_t>(Le32(h + 42) + concat);
    if (p + 46 + name_len > cd.size()) return InvalidArgumentError("bad zip entry");
    entry.name.assign(cd.data() + p + 46, name_len);
    z.entries_.push_back(std::move(entry));
    p += 46u + name_len + extra_len + comment_len;
  }
  return z;
}

const ZipReader::Entry* ZipReader::Find(std::string_view name) const {
  const Entry* found = nullptr;
  for (const Entry& e : entries_) {
    if (e.name == name) found = &e;
  }
  return found;
}

StatusOr<std::string> ZipReader::Read(const Entry& entry, uint64_t max_size) const {
  if (entry.flags & 1) return UnimplementedError("encrypted zip entry");
  if (entry.size > max_size || entry.compressed_size > max_size) {
    return ResourceExhaustedError("zip entry too large");
  }
  std::string header;
  Status s = PreadAll(fd_, static_cast<int64_t>(entry.local_offset), 30, &header);
  if (!s.ok()) return s;
  auto* h = reinterpret_cast<const unsigned char*>(header.data());
  if (std::memcmp(h, "PK\x03\x04", 4) != 0) return DataLossError("bad zip local header");
  uint16_t name_len = Le16(h + 26);
  uint16_t extra_len = Le16(h + 28);
  std::string name;
  s = PreadAll(fd_, static_cast<int64_t>(entry.local_offset) + 30, name_len, &name);
  if (!s.ok()) return s;
  if (name != entry.name) return DataLossError("zip names differ");
  std::string raw;
  s = PreadAll(fd_, static_cast<int64_t>(entry.local_offset) + 30 + name_len + extra_len,
               static_cast<size_t>(entry.compressed_size), &raw);
  if (!s.ok()) return s;
  std::string data;
  if (entry.method == 0) {
    data = std::move(raw);
    if (data.size() > entry.size) data.resize(entry.size);
  } else if (entry.method == 8) {
    if (!Inflate(raw, static_cast<size_t>(entry.size), &data)) {
      return DataLossError("bad deflate data");
    }
  } else {
    return UnimplementedError(StrCat("zip compression method ", entry.method));
  }
  if (data.size() != entry.size || Crc32(data) != entry.crc) {
    return DataLossError("Bad CRC-32");
  }
  return data;
}

}  // namespace prusaconnect::internal
