// Copyright 2026 The libprusaconnect Authors.
#include "files/zip.h"

#include <errno.h>
#include <unistd.h>

#include <array>
#include <cstring>

#include "files/paths.h"

namespace prusaconnect::internal {
namespace {

// ---------------------------------------------------------------- CRC-32

std::array<uint32_t, 256> MakeCrcTable() {
  std::array<uint32_t, 256> t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    t[i] = c;
  }
  return t;
}

// ---------------------------------------------------------------- inflate
//
// A canonical-Huffman decoder in the manner of zlib's reference "puff":
// codes are decoded one bit at a time from counts per length, which is
// compact and plenty fast for thumbnails and config files.

constexpr int kMaxCodeBits = 15;

struct Huffman {
  std::array<int16_t, kMaxCodeBits + 1> count{};
  std::array<int16_t, 288> symbol{};
};

class BitReader {
 public:
  explicit BitReader(std::string_view in)
      : p_(reinterpret_cast<const uint8_t*>(in.data())), n_(in.size()) {}

  // `need` bits (LSB first); sets error() when the input runs out.
  uint32_t Bits(int need) {
    uint64_t val = buf_;
    while (cnt_ < need) {
      if (pos_ >= n_) {
        error_ = true;
        return 0;
      }
      val |= static_cast<uint64_t>(p_[pos_++]) << cnt_;
      cnt_ += 8;
    }
    buf_ = val >> need;
    cnt_ -= need;
    return static_cast<uint32_t>(val & ((1ull << need) - 1));
  }
  void AlignToByte() {
    buf_ = 0;
    cnt_ = 0;
  }
  bool ReadBytes(size_t len, std::string* out) {
    if (n_ - pos_ < len) return false;
    out->append(reinterpret_cast<const char*>(p_ + pos_), len);
    pos_ += len;
    return true;
  }
  bool error() const { return error_; }

 private:
  const uint8_t* p_;
  size_t n_;
  size_t pos_ = 0;
  uint64_t buf_ = 0;
  int cnt_ = 0;
  bool error_ = false;
};

// Builds a decoder from code lengths; false when over-subscribed.
bool Construct(Huffman* h, const int16_t* length, int n) {
  h->count.fill(0);
  for (int s = 0; s < n; ++s) h->count[length[s]]++;
  if (h->count[0] == n) return true;  // no codes: only an error if used
  int left = 1;
  for (int len = 1; len <= kMaxCodeBits; ++len) {
    left <<= 1;
    left -= h->count[len];
    if (left < 0) return false;
  }
  int16_t offs[kMaxCodeBits + 1] = {};  // offs[len]: first symbol of that length
  for (int len = 2; len <= kMaxCodeBits; ++len) {
    offs[len] = static_cast<int16_t>(offs[len - 1] + h->count[len - 1]);
  }
  for (int s = 0; s < n; ++s) {
    if (length[s] != 0) h->symbol[offs[length[s]]++] = static_cast<int16_t>(s);
  }
  return true;
}

int Decode(BitReader* in, const Huffman& h) {
  int code = 0, first = 0, index = 0;
  for (int len = 1; len <= kMaxCodeBits; ++len) {
    code |= static_cast<int>(in->Bits(1));
    if (in->error()) return -1;
    int count = h.count[len];
    if (code - count < first) return h.symbol[index + (code - first)];
    index += count;
    first += count;
    first <<= 1;
    code <<= 1;
  }
  return -1;
}

constexpr int16_t kLenBase[29] = {3,  4,  5,  6,  7,  8,  9,  10, 11,  13,  15,  17,  19,  23, 27,
                                  31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258};
constexpr int16_t kLenExtra[29] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2,
                                   2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};
constexpr int16_t kDistBase[30] = {1,    2,    3,    4,    5,    7,    9,    13,    17,    25,
                                   33,   49,   65,   97,   129,  193,  257,  385,   513,   769,
                                   1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577};
constexpr int16_t kDistExtra[30] = {0, 0, 0, 0, 1, 1, 2, 2,  3,  3,  4,  4,  5,  5,  6,
                                    6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13};

bool Codes(BitReader* in, const Huffman& lens, const Huffman& dists, size_t max_out,
           std::string* out) {
  for (;;) {
    int sym = Decode(in, lens);
    if (sym < 0) return false;
    if (sym < 256) {
      if (out->size() >= max_out) return false;
      out->push_back(static_cast<char>(sym));
      continue;
    }
    if (sym == 256) return true;
    sym -= 257;
    if (sym >= 29) return false;
    size_t len = static_cast<size_t>(kLenBase[sym]) + in->Bits(kLenExtra[sym]);
    int dsym = Decode(in, dists);
    if (dsym < 0 || dsym >= 30) return false;
    size_t dist = static_cast<size_t>(kDistBase[dsym]) + in->Bits(kDistExtra[dsym]);
    if (in->error() || dist > out->size() || out->size() + len > max_out) return false;
    size_t from = out->size() - dist;
    for (size_t i = 0; i < len; ++i) out->push_back((*out)[from + i]);
  }
}

bool Fixed(BitReader* in, size_t max_out, std::string* out) {
  static const auto* tables = [] {
    auto* t = new std::pair<Huffman, Huffman>();
    int16_t lengths[288];
    int s = 0;
    for (; s < 144; ++s) lengths[s] = 8;
    for (; s < 256; ++s) lengths[s] = 9;
    for (; s < 280; ++s) lengths[s] = 7;
    for (; s < 288; ++s) lengths[s] = 8;
    Construct(&t->first, lengths, 288);
    for (s = 0; s < 30; ++s) lengths[s] = 5;
    Construct(&t->second, lengths, 30);
    return t;
  }();
  return Codes(in, tables->first, tables->second, max_out, out);
}

bool Dynamic(BitReader* in, size_t max_out, std::string* out) {
  static constexpr int8_t kOrder[19] = {16, 17, 18, 0, 8,  7, 9,  6, 10, 5,
                                        11, 4,  12, 3, 13, 2, 14, 1, 15};
  int nlen = static_cast<int>(in->Bits(5)) + 257;
  int ndist = static_cast<int>(in->Bits(5)) + 1;
  int ncode = static_cast<int>(in->Bits(4)) + 4;
  if (in->error() || nlen > 286 || ndist > 30) return false;
  int16_t lengths[320] = {};
  for (int i = 0; i < ncode; ++i) lengths[kOrder[i]] = static_cast<int16_t>(in->Bits(3));
  Huffman lencode, distcode;
  if (in->error() || !Construct(&lencode, lengths, 19)) return false;
  int index = 0;
  while (index < nlen + ndist) {
    int sym = Decode(in, lencode);
    if (sym < 0) return false;
    if (sym < 16) {
      lengths[index++] = static_cast<int16_t>(sym);
      continue;
    }
    int16_t len = 0;
    int repeat;
    if (sym == 16) {
      if (index == 0) return false;
      len = lengths[index - 1];
      repeat = 3 + static_cast<int>(in->Bits(2));
    } else if (sym == 17) {
      repeat = 3 + static_cast<int>(in->Bits(3));
    } else {
      repeat = 11 + static_cast<int>(in->Bits(7));
    }
    if (in->error() || index + repeat > nlen + ndist) return false;
    while (repeat--) lengths[index++] = len;
  }
  if (lengths[256] == 0) return false;
  if (!Construct(&lencode, lengths, nlen)) return false;
  if (!Construct(&distcode, lengths + nlen, ndist)) return false;
  return Codes(in, lencode, distcode, max_out, out);
}

// ---------------------------------------------------------------- zip

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
  static const std::array<uint32_t, 256> table = MakeCrcTable();
  crc = ~crc;
  for (unsigned char c : data) crc = table[(crc ^ c) & 0xFF] ^ (crc >> 8);
  return ~crc;
}

bool Inflate(std::string_view in, size_t max_out, std::string* out) {
  out->clear();
  BitReader bits(in);
  for (;;) {
    uint32_t last = bits.Bits(1);
    uint32_t type = bits.Bits(2);
    if (bits.error()) return false;
    bool ok;
    if (type == 0) {
      bits.AlignToByte();
      std::string header;
      if (!bits.ReadBytes(4, &header)) return false;
      auto* h = reinterpret_cast<const unsigned char*>(header.data());
      uint16_t len = Le16(h);
      if (static_cast<uint16_t>(~Le16(h + 2)) != len) return false;
      if (out->size() + len > max_out) return false;
      ok = bits.ReadBytes(len, out);
    } else if (type == 1) {
      ok = Fixed(&bits, max_out, out);
    } else if (type == 2) {
      ok = Dynamic(&bits, max_out, out);
    } else {
      return false;
    }
    if (!ok) return false;
    if (last) return true;
  }
}

std::string Base64Encode(std::string_view data) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  size_t i = 0;
  auto byte = [&](size_t k) { return static_cast<uint32_t>(static_cast<unsigned char>(data[k])); };
  for (; i + 2 < data.size(); i += 3) {
    uint32_t v = (byte(i) << 16) | (byte(i + 1) << 8) | byte(i + 2);
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (i + 1 == data.size()) {
    uint32_t v = byte(i) << 16;
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == data.size()) {
    uint32_t v = (byte(i) << 16) | (byte(i + 1) << 8);
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += '=';
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
