// Copyright 2026 The libprusaconnect Authors.
//
// gcode-metadata's extract_data(): metadata found in a file name
// ("box_0.4n_0.2mm_PLA_MK4_1h2m.gcode").
#include <optional>

#include "files/metadata.h"
#include "files/metadata_attrs.h"
#include "files/pytext.h"

namespace prusaconnect::internal {
namespace {

// extract_data()'s alternations: MATERIALS in list order, PRINTERS sorted by
// length (longest first, stable). A "." in a printer name is the regex
// wildcard (the list is joined without escaping).
constexpr const char* kMaterials[] = {
    "PLA", "PETG", "ABS",  "ASA", "FLEX", "HIPS", "EDGE",      "NGEN",  "PA",  "PVA",   "PCTG",
    "PP",  "PC",   "PEBA", "CPE", "PVB",  "PET",  "PLA Tough", "METAL", "TPU", "NYLON", "IGLIDUR"};
constexpr const char* kPrinters[] = {
    "MK2.5SMMU2S", "MK3.9SMMU3", "MK3.5SMMU3", "MK2.5MMU2", "MK3SMMU2S", "MK3.9MMU3", "MK3.5MMU3",
    "MK4ISMMU3",   "MK3SMMU3",   "MK4SMMU3",   "COREONE",   "MK3MMU2",   "MK3MMU3",   "MK2.5S",
    "MK3.9S",      "MK3.5S",     "MINIIS",     "MK2.5",     "MK3.9",     "MK3.5",     "MK4IS",
    "XL2IS",       "XL5IS",      "HT90",       "MK3S",      "MK4S",      "MINI",      "XLIS",
    "SL1S",        "MK3",        "MK4",        "XL2",       "XL5",       "SL1",       "XL",
    "M1",          "iX"};

// The length matched by `pattern` at s[i], or npos.
size_t MatchAt(std::string_view s, size_t i, std::string_view pattern, bool dot_wildcard) {
  size_t p = i;
  for (char c : pattern) {
    if (p >= s.size()) return std::string_view::npos;
    if (c == '.' && dot_wildcard) {
      if (s[p] == '\n') return std::string_view::npos;
      size_t len = 1;
      CodePointAt(s, p, &len);
      p += len;
    } else if (s[p] == c) {
      ++p;
    } else {
      return std::string_view::npos;
    }
  }
  return p - i;
}

template <size_t N>
std::optional<std::string_view> SearchAlternation(std::string_view s, const char* const (&alts)[N],
                                                  bool dot_wildcard) {
  for (size_t i = 0; i <= s.size(); ++i) {
    for (const char* alt : alts) {
      size_t len = MatchAt(s, i, alt, dot_wildcard);
      if (len != std::string_view::npos) return s.substr(i, len);
    }
  }
  return std::nullopt;
}

bool IsNumberChar(char c) { return IsDigit(c) || c == '.'; }

// r"([0-9.]+)<suffix>": the first run of digits and dots followed by suffix.
std::optional<std::string_view> SearchNumberBefore(std::string_view s, std::string_view suffix) {
  size_t i = 0;
  while (i < s.size()) {
    if (!IsNumberChar(s[i])) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < s.size() && IsNumberChar(s[j])) ++j;
    if (s.substr(j, suffix.size()) == suffix) return s.substr(i, j - i);
    i = j;
  }
  return std::nullopt;
}

bool IsDhm(char c) { return c == 'd' || c == 'h' || c == 'm'; }

// r"(\d+[dhm]+(?:\d*[dhm]+)*)(?!\w)"
std::optional<std::string_view> SearchTime(std::string_view s) {
  for (size_t i = 0; i < s.size(); ++i) {
    if (!IsDigit(s[i])) continue;
    size_t p = i;
    while (p < s.size() && IsDigit(s[p])) ++p;
    size_t q = p;
    while (q < s.size() && IsDhm(s[q])) ++q;
    if (q == p) continue;
    p = q;
    for (;;) {
      size_t d = p;
      while (d < s.size() && IsDigit(s[d])) ++d;
      size_t m = d;
      while (m < s.size() && IsDhm(s[m])) ++m;
      if (m == d) break;
      p = m;
    }
    size_t len = 1;
    if (p < s.size() && IsWordAt(s, p, &len)) continue;
    return s.substr(i, p - i);
  }
  return std::nullopt;
}

}  // namespace

void MetadataFromFilename(std::string_view filename, Json* data) {
  // load_from_path: the keys in the order of its result dict. Unlike
  // gcode-metadata, a number that does not parse ("box.new.gcode" gives
  // ".") skips that key instead of losing all metadata of the file.
  if (auto n = SearchNumberBefore(filename, "n")) {
    if (auto d = PyFloat(*n)) SetFdmAttr(data, "nozzle_diameter", PyVal::Float(*d));
  }
  if (auto h = SearchNumberBefore(filename, "mm")) {
    if (auto d = PyFloat(*h)) SetFdmAttr(data, "layer_height", PyVal::Float(*d));
  }
  if (auto m = SearchAlternation(filename, kMaterials, false)) {
    SetFdmAttr(data, "filament_type", PyVal::Str(*m));
  }
  if (auto p = SearchAlternation(filename, kPrinters, true)) {
    SetFdmAttr(data, "printer_model", PyVal::Str(*p));
  }
  if (auto t = SearchTime(filename)) {
    SetFdmAttr(data, "estimated printing time (normal mode)", PyVal::Str(*t));
  }
}

}  // namespace prusaconnect::internal
