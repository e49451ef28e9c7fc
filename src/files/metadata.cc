// Copyright 2026 The libprusaconnect Authors.
//
// gcode-metadata, rewritten. Each regular expression of metadata.py is
// replaced by a small matcher with the same outcome (leftmost match, greedy
// with backtracking); the comments quote the pattern being reproduced.
//
// This file chooses the reader by extension and holds the public entry
// points; the pieces are metadata_filename.cc (names), metadata_fdm.cc
// (G-code), metadata_sl.cc (SL archives), metadata_attrs.cc (attribute
// tables, thumbnails) and pytext.cc (Python-compatible text and numbers).
#include "files/metadata.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "files/paths.h"

namespace prusaconnect {
namespace internal {

namespace {

enum class Kind { kNone, kFdm, kSl };

Kind KindOf(std::string_view name) {
  std::string lower;
  for (char c : name) lower += static_cast<char>((c >= 'A' && c <= 'Z') ? c + 32 : c);
  auto ends = [&](std::string_view suffix) {
    return lower.size() >= suffix.size() &&
           lower.compare(lower.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  for (std::string_view e : {".gcode", ".gc", ".g", ".gco"}) {
    if (ends(e)) return Kind::kFdm;
  }
  // SLA_EXTENSIONS carry no dot in gcode-metadata.
  for (std::string_view e : {"sl1", "sl1s", "m1"}) {
    if (ends(e)) return Kind::kSl;
  }
  return Kind::kNone;
}

}  // namespace

bool ReadPrintFileMetadata(int fd, int64_t size, std::string_view name, GcodeMetadata* out) {
  Kind kind = KindOf(name);
  if (kind == Kind::kFdm) {
    MetadataFromFilename(name, &out->data);
    FdmMetadataParser parser(out);
    ReadFdmWindows(fd, size, &parser, out);
    return true;
  }
  if (kind == Kind::kSl) {
    ReadSlArchive(fd, size, out);
    return true;
  }
  return false;
}

}  // namespace internal

// ---------------------------------------------------------------- public

const Thumbnail* GcodeMetadata::Preview() const {
  for (const char* format : {"PNG", "JPG"}) {
    const Thumbnail* best = nullptr;
    for (const Thumbnail& t : thumbnails) {
      if (t.format != format) continue;
      int64_t area = static_cast<int64_t>(t.width) * t.height;
      int64_t best_area = best ? static_cast<int64_t>(best->width) * best->height : -1;
      if (!best || area > best_area || (area == best_area && t.data.size() > best->data.size())) {
        best = &t;
      }
    }
    if (best) return best;
  }
  return nullptr;
}

bool HasGcodeMetadata(std::string_view name) {
  return internal::KindOf(name) != internal::Kind::kNone;
}

StatusOr<GcodeMetadata> ReadGcodeMetadata(const std::string& os_path, const std::string& name) {
  std::string base = name;
  if (base.empty()) {
    size_t slash = os_path.rfind('/');
    base = slash == std::string::npos ? os_path : os_path.substr(slash + 1);
  }
  internal::Kind kind = internal::KindOf(base);
  if (kind == internal::Kind::kNone) {
    return InvalidArgumentError("Not a print file: " + base);
  }
  internal::UniqueFd fd(open(os_path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return internal::ErrnoStatus(errno, os_path);
  struct stat st;
  if (fstat(fd.get(), &st) != 0) return internal::ErrnoStatus(errno, os_path);
  if (!S_ISREG(st.st_mode)) return InvalidArgumentError("Not a regular file: " + os_path);
  GcodeMetadata out;
  internal::ReadPrintFileMetadata(fd.get(), st.st_size, base, &out);
  return out;
}

std::optional<int64_t> EstimatedToSeconds(std::string_view text) {
  // RE_ESTIMATED.match(value.lower()): optional "<n>d", "<n>h", "<n>m"
  // (each followed by whitespace) and "<n>s", in that order.
  std::string s;
  for (char c : text) s += static_cast<char>((c >= 'A' && c <= 'Z') ? c + 32 : c);
  size_t p = 0;
  int64_t total = 0;
  const std::pair<char, int64_t> units[] = {{'d', 86400}, {'h', 3600}, {'m', 60}, {'s', 1}};
  for (const auto& [unit, seconds] : units) {
    size_t q = p;
    while (q < s.size() && internal::IsDigit(s[q])) ++q;
    if (q == p || q >= s.size() || s[q] != unit) continue;
    std::optional<int64_t> v = internal::PyInt(std::string_view(s).substr(p, q - p));
    if (!v) return std::nullopt;
    total += *v * seconds;
    p = q + 1;
    if (unit != 's') {
      while (p < s.size()) {
        size_t len = 1;
        if (!internal::IsPySpace(internal::CodePointAt(s, p, &len))) break;
        p += len;
      }
    }
  }
  if (total == 0) return std::nullopt;
  return total;
}

}  // namespace prusaconnect
