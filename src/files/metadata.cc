// Copyright 2026 The libprusaconnect Authors.
//
// gcode-metadata, rewritten. Each regular expression of metadata.py is
// replaced by a small matcher with the same outcome (leftmost match, greedy
// with backtracking); the comments quote the pattern being reproduced.
#include "files/metadata.h"

#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>

#include "files/paths.h"
#include "files/zip.h"

namespace prusaconnect {
namespace internal {
namespace {

// ---------------------------------------------------------------- text helpers

// Decodes the code point at s[i] (valid UTF-8 assumed); sets *len.
uint32_t CodePointAt(std::string_view s, size_t i, size_t* len) {
  auto c = static_cast<unsigned char>(s[i]);
  auto cont = [&](size_t k) {
    return i + k < s.size() ? static_cast<uint32_t>(static_cast<unsigned char>(s[i + k]) & 0x3F)
                            : 0u;
  };
  if (c < 0x80) {
    *len = 1;
    return c;
  }
  if (c < 0xE0) {
    *len = 2;
    return ((c & 0x1Fu) << 6) | cont(1);
  }
  if (c < 0xF0) {
    *len = 3;
    return ((c & 0x0Fu) << 12) | (cont(1) << 6) | cont(2);
  }
  *len = 4;
  return ((c & 0x07u) << 18) | (cont(1) << 12) | (cont(2) << 6) | cont(3);
}

// Python's str.isspace().
bool IsPySpace(uint32_t cp) {
  return (cp >= 0x09 && cp <= 0x0D) || (cp >= 0x1C && cp <= 0x20) || cp == 0x85 || cp == 0xA0 ||
         cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 ||
         cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

// Python's str.strip().
std::string_view PyStrip(std::string_view s) {
  // A sequence cut short by the end of `s` (or, going backwards, not ending
  // exactly where the next one starts) is not a space: without these checks
  // "\xE3" (the first byte of U+3000) stepped past the end and substr threw
  // (found by tests/fuzz/fuzz_gcode_metadata).
  size_t b = 0;
  while (b < s.size()) {
    size_t len;
    uint32_t cp = CodePointAt(s, b, &len);
    if (b + len > s.size() || !IsPySpace(cp)) break;
    b += len;
  }
  size_t e = s.size();
  while (e > b) {
    size_t start = e - 1;
    while (start > b && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) --start;
    size_t len;
    uint32_t cp = CodePointAt(s, start, &len);
    if (start + len != e || !IsPySpace(cp)) break;
    e = start;
  }
  return s.substr(b, e - b);
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Python's \w for str: letters, digits and "_". Outside ASCII we count every
// code point as a letter except the common punctuation and symbol blocks
// (an approximation of str.isalnum(); see docs/FILES.md).
bool IsWordCodePoint(uint32_t cp) {
  if (cp < 0x80) {
    return (cp >= '0' && cp <= '9') || (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') ||
           cp == '_';
  }
  if (cp <= 0xBF) {
    return cp == 0xAA || cp == 0xB2 || cp == 0xB3 || cp == 0xB5 || cp == 0xB9 || cp == 0xBA ||
           cp == 0xBC || cp == 0xBD || cp == 0xBE;
  }
  if (cp == 0xD7 || cp == 0xF7) return false;
  if (IsPySpace(cp)) return false;
  if ((cp >= 0x2000 && cp <= 0x206F) || (cp >= 0x20A0 && cp <= 0x20CF) ||
      (cp >= 0x2190 && cp <= 0x23FF) || (cp >= 0x2500 && cp <= 0x27BF) ||
      (cp >= 0x2E00 && cp <= 0x2E7F) || (cp >= 0x3000 && cp <= 0x3004) ||
      (cp >= 0x3008 && cp <= 0x3020) || (cp >= 0xFE10 && cp <= 0xFE6F) ||
      (cp >= 0xFF00 && cp <= 0xFF0F) || (cp >= 0xFF1A && cp <= 0xFF20) ||
      (cp >= 0xFF3B && cp <= 0xFF40) || (cp >= 0xFF5B && cp <= 0xFF65) ||
      (cp >= 0x1F000 && cp <= 0x1FAFF)) {
    return false;
  }
  return true;
}

bool IsWordAt(std::string_view s, size_t i, size_t* len) {
  return IsWordCodePoint(CodePointAt(s, i, len));
}

std::string_view WithoutNewline(std::string_view line) {
  if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  return line;
}

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && s.compare(0, prefix.size(), prefix) == 0;
}

// Python's repr() of a float (shortest round-trip digits, exponent outside
// 1e-4 <= |x| < 1e16), for str() of numbers in an SL config.
std::string PyFloatRepr(double d) {
  if (std::isnan(d)) return "nan";
  if (std::isinf(d)) return d < 0 ? "-inf" : "inf";
  char buf[40];
  for (int prec = 1; prec <= 17; ++prec) {
    snprintf(buf, sizeof buf, "%.*e", prec - 1, d);
    if (strtod(buf, nullptr) == d) break;
  }
  // buf: [-]D[.DDD]e[+-]XX
  std::string s = buf;
  bool neg = s[0] == '-';
  if (neg) s.erase(0, 1);
  size_t e = s.find('e');
  int exp = atoi(s.c_str() + e + 1);
  std::string digits;
  for (size_t i = 0; i < e; ++i) {
    if (s[i] != '.') digits += s[i];
  }
  int decpt = exp + 1;
  std::string out;
  if (decpt > -4 && decpt <= 16) {
    if (decpt <= 0) {
      out = "0." + std::string(static_cast<size_t>(-decpt), '0') + digits;
    } else if (static_cast<size_t>(decpt) >= digits.size()) {
      out = digits + std::string(static_cast<size_t>(decpt) - digits.size(), '0') + ".0";
    } else {
      out = digits.substr(0, static_cast<size_t>(decpt)) + "." + digits.substr(decpt);
    }
  } else {
    out = digits.substr(0, 1);
    if (digits.size() > 1) out += "." + digits.substr(1);
    char ebuf[16];
    snprintf(ebuf, sizeof ebuf, "e%c%02d", exp < 0 ? '-' : '+', std::abs(exp) % 1000);
    out += ebuf;
  }
  return neg ? "-" + out : out;
}

// Python's repr() of a JSON value, approximately (str() of a list or dict
// in an SL config).
std::string PyRepr(const Json& v) {
  switch (v.type()) {
    case Json::Type::kNull:
      return "None";
    case Json::Type::kBool:
      return v.as_bool() ? "True" : "False";
    case Json::Type::kInt:
      return std::to_string(v.as_int());
    case Json::Type::kDouble:
      return PyFloatRepr(v.as_double());
    case Json::Type::kString: {
      std::string out = "'";
      for (char c : v.as_string()) {
        if (c == '\'' || c == '\\') out += '\\';
        out += c;
      }
      return out + "'";
    }
    case Json::Type::kArray: {
      std::string out = "[";
      for (size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + PyRepr(v[i]);
      return out + "]";
    }
    case Json::Type::kObject: {
      std::string out = "{";
      bool first = true;
      for (const Json::Member& m : v.as_object()) {
        out += (first ? "" : ", ") + PyRepr(Json(m.key)) + ": " + PyRepr(m.value);
        first = false;
      }
      return out + "}";
    }
  }
  return "";
}

// Python's round(x, 2): the double nearest to the correctly rounded decimal.
double PyRound2(double d) {
  if (!std::isfinite(d)) return d;
  char buf[400];
  snprintf(buf, sizeof buf, "%.2f", d);
  return strtod(buf, nullptr);
}

// Validates Python's digitpart: digit (["_"] digit)*; returns its end or npos.
size_t DigitPart(std::string_view s, size_t i) {
  if (i >= s.size() || !IsDigit(s[i])) return std::string_view::npos;
  ++i;
  while (i < s.size()) {
    if (IsDigit(s[i])) {
      ++i;
    } else if (s[i] == '_' && i + 1 < s.size() && IsDigit(s[i + 1])) {
      i += 2;
    } else {
      break;
    }
  }
  return i;
}

locale_t CLocale() {
  static locale_t loc = newlocale(LC_ALL_MASK, "C", static_cast<locale_t>(nullptr));
  return loc;
}

}  // namespace

std::optional<double> PyFloat(std::string_view text) {
  std::string_view t = PyStrip(text);
  if (t.empty()) return std::nullopt;
  size_t i = 0;
  bool neg = false;
  if (t[0] == '+' || t[0] == '-') {
    neg = t[0] == '-';
    i = 1;
  }
  std::string lower;
  for (char c : t.substr(i)) lower += static_cast<char>((c >= 'A' && c <= 'Z') ? c + 32 : c);
  if (lower == "inf" || lower == "infinity") {
    return neg ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
  }
  if (lower == "nan") return std::numeric_limits<double>::quiet_NaN();
  // [digitpart] ["." [digitpart]] with at least one digit, [exponent]
  size_t p = i;
  size_t end = DigitPart(t, p);
  bool int_digits = end != std::string_view::npos;
  if (int_digits) p = end;
  bool frac_digits = false;
  if (p < t.size() && t[p] == '.') {
    ++p;
    end = DigitPart(t, p);
    if (end != std::string_view::npos) {
      frac_digits = true;
      p = end;
    }
  }
  if (!int_digits && !frac_digits) return std::nullopt;
  if (p < t.size() && (t[p] == 'e' || t[p] == 'E')) {
    ++p;
    if (p < t.size() && (t[p] == '+' || t[p] == '-')) ++p;
    end = DigitPart(t, p);
    if (end == std::string_view::npos) return std::nullopt;
    p = end;
  }
  if (p != t.size()) return std::nullopt;
  std::string clean;
  for (char c : t) {
    if (c != '_') clean += c;
  }
  return strtod_l(clean.c_str(), nullptr, CLocale());
}

std::optional<int64_t> PyInt(std::string_view text) {
  std::string_view t = PyStrip(text);
  if (t.empty()) return std::nullopt;
  size_t i = 0;
  bool neg = false;
  if (t[0] == '+' || t[0] == '-') {
    neg = t[0] == '-';
    i = 1;
  }
  if (DigitPart(t, i) != t.size()) return std::nullopt;
  uint64_t v = 0;
  for (char c : t.substr(i)) {
    if (c == '_') continue;
    uint64_t d = static_cast<uint64_t>(c - '0');
    if (v > (static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) + 1 - d) / 10) {
      return std::nullopt;  // beyond int64 (Python would keep a big int)
    }
    v = v * 10 + d;
  }
  if (!neg && v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return std::nullopt;
  return neg ? static_cast<int64_t>(0 - v) : static_cast<int64_t>(v);
}

namespace {

// ---------------------------------------------------------------- attributes

// A value as set_attr() receives it: text from the file, or a float, string
// or True produced by the filename and M73 parsers.
struct PyVal {
  enum Kind { kStr, kFloat, kBool } kind = kStr;
  std::string_view s;
  double d = 0;
  bool b = false;

  static PyVal Str(std::string_view s) { return {kStr, s, 0, false}; }
  static PyVal Float(double d) { return {kFloat, {}, d, false}; }
  static PyVal True() { return {kBool, {}, 0, true}; }
};

enum class Conv { kStr, kFloat, kInt, kBool, kJson, kList };

struct MmuAttr {
  const char* name;
  const char* separator;
  Conv type;
  bool sum;  // conversion: sum (else same_or_nothing)
};

// FDMMetaData.MMUAttrs
constexpr MmuAttr kMmuAttrs[] = {
    {"filament used [cm3]", ", ", Conv::kFloat, true},
    {"filament used [mm]", ", ", Conv::kFloat, true},
    {"filament used [g]", ", ", Conv::kFloat, true},
    {"filament cost", ", ", Conv::kFloat, true},
    {"filament_type", ";", Conv::kStr, false},
    {"temperature", ",", Conv::kInt, false},
    {"bed_temperature", ",", Conv::kInt, false},
    {"nozzle_diameter", ",", Conv::kFloat, false},
    {"extruder_colour", ";", Conv::kStr, false},
    {"nozzle_high_flow", ",", Conv::kInt, false},
    {"filament_abrasive", ",", Conv::kInt, false},
};

// FDMMetaData.Attrs (without the MMU ones)
struct Attr {
  const char* name;
  Conv conv;
};
constexpr Attr kFdmAttrs[] = {
    {"estimated printing time (normal mode)", Conv::kStr},
    {"printer_model", Conv::kStr},
    {"layer_height", Conv::kFloat},
    {"fill_density", Conv::kStr},
    {"brim_width", Conv::kInt},
    {"support_material", Conv::kInt},
    {"ironing", Conv::kInt},
    {"quiet_percent_present", Conv::kBool},
    {"quiet_left_present", Conv::kBool},
    {"quiet_change_in_present", Conv::kBool},
    {"normal_percent_present", Conv::kBool},
    {"normal_left_present", Conv::kBool},
    {"normal_change_in_present", Conv::kBool},
    {"layer_info_present", Conv::kBool},
    {"max_layer_z", Conv::kFloat},
    {"objects_info", Conv::kJson},
};

constexpr std::string_view kPerTool = " per tool";

const MmuAttr* FindMmu(std::string_view name) {
  for (const MmuAttr& a : kMmuAttrs) {
    if (name == a.name) return &a;
  }
  return nullptr;
}

// The conversion of an FDM attribute, including the MMU "<name> per tool"
// lists; nullopt for a name gcode-metadata does not keep.
std::optional<Conv> FdmConv(std::string_view name) {
  for (const Attr& a : kFdmAttrs) {
    if (name == a.name) return a.conv;
  }
  if (const MmuAttr* m = FindMmu(name)) return m->type;
  if (name.size() > kPerTool.size() && name.substr(name.size() - kPerTool.size()) == kPerTool &&
      FindMmu(name.substr(0, name.size() - kPerTool.size()))) {
    return Conv::kList;
  }
  return std::nullopt;
}

// conv(value), or nullopt where Python raises ValueError.
std::optional<Json> Convert(const PyVal& v, Conv conv) {
  switch (conv) {
    case Conv::kStr:
      if (v.kind == PyVal::kStr) return Json(std::string(v.s));
      if (v.kind == PyVal::kFloat) return Json(PyFloatRepr(v.d));
      return Json(v.b ? "True" : "False");
    case Conv::kFloat:
      if (v.kind == PyVal::kStr) {
        std::optional<double> d = PyFloat(v.s);
        if (!d) return std::nullopt;
        return Json(*d);
      }
      return Json(v.kind == PyVal::kFloat ? v.d : (v.b ? 1.0 : 0.0));
    case Conv::kInt:
      if (v.kind == PyVal::kStr) {
        std::optional<int64_t> i = PyInt(v.s);
        if (!i) return std::nullopt;
        return Json(*i);
      }
      if (v.kind == PyVal::kFloat) {
        if (!std::isfinite(v.d)) return std::nullopt;
        return Json(static_cast<int64_t>(v.d));
      }
      return Json(v.b ? 1 : 0);
    case Conv::kBool:
      if (v.kind == PyVal::kStr) return Json(!v.s.empty());
      if (v.kind == PyVal::kFloat) return Json(v.d != 0);
      return Json(v.b);
    case Conv::kJson: {
      if (v.kind != PyVal::kStr) return std::nullopt;
      StatusOr<Json> j = Json::Parse(v.s);
      if (!j.ok()) return std::nullopt;
      return *j;
    }
    case Conv::kList: {
      // list(str): one item per character.
      Json list = Json::MakeArray();
      if (v.kind != PyVal::kStr) return std::nullopt;
      for (size_t i = 0; i < v.s.size();) {
        size_t len;
        CodePointAt(v.s, i, &len);
        list.push_back(std::string(v.s.substr(i, len)));
        i += len;
      }
      return list;
    }
  }
  return std::nullopt;
}

bool SameValue(const Json& a, const Json& b) {
  if (a.type() != b.type()) return false;
  if (a.is_double()) return a.as_double() == b.as_double();
  return a == b;
}

// FDMMetaData.set_attr
void SetFdmAttr(Json* data, std::string_view name, const PyVal& value) {
  if (value.kind == PyVal::kStr && value.s == "\"\"") return;
  if (const MmuAttr* mmu = FindMmu(name)) {
    // MMUAttribute.parse_tools
    std::vector<std::string_view> pieces;
    if (value.kind == PyVal::kStr) {
      std::string_view sep = mmu->separator;
      size_t i = 0;
      for (;;) {
        size_t j = value.s.find(sep, i);
        if (j == std::string_view::npos) {
          pieces.push_back(value.s.substr(i));
          break;
        }
        pieces.push_back(value.s.substr(i, j - i));
        i = j + sep.size();
      }
    }
    Json list = Json::MakeArray();
    if (value.kind == PyVal::kStr) {
      for (std::string_view piece : pieces) {
        std::optional<Json> parsed = Convert(PyVal::Str(piece), mmu->type);
        if (!parsed) return;
        list.push_back(std::move(*parsed));
      }
    } else {
      std::optional<Json> parsed = Convert(value, mmu->type);
      if (!parsed) return;
      list.push_back(std::move(*parsed));
    }
    std::optional<Json> single;
    if (mmu->sum) {
      double total = 0;
      for (const Json& v : list.as_array()) total += v.as_double();
      single = Json(total);
    } else {
      bool same = true;
      for (const Json& v : list.as_array()) same = same && SameValue(v, list[0]);
      if (same) single = list[0];
    }
    if (list.size() > 1) data->set(std::string(name) + std::string(kPerTool), std::move(list));
    if (single) data->set(name, std::move(*single));
    return;
  }
  std::optional<Conv> conv = FdmConv(name);
  if (!conv) return;
  std::optional<Json> converted = Convert(value, *conv);
  if (converted) data->set(name, std::move(*converted));
}

// ---------------------------------------------------------------- filename

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
      size_t len;
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
    size_t len;
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

// ---------------------------------------------------------------- FDM lines

namespace {

constexpr int64_t kMaxM73SearchBytes = 100000;

constexpr struct {
  char letter;
  const char* attr;
} kM73Groups[] = {
    {'Q', "quiet_percent_present"},   {'S', "quiet_left_present"},
    {'C', "quiet_change_in_present"}, {'P', "normal_percent_present"},
    {'R', "normal_left_present"},     {'D', "normal_change_in_present"},
};

// Parses "; thumbnail[_QOI|_JPG] begin <dims> <size>"; false when the line
// is something else.
// r"; thumbnail_?(?P<format>QOI|JPG|) begin (?P<dim>[\w ]+) (?P<size>\d+)"
bool ParseThumbnailBegin(std::string_view line, std::string* format, std::string* dims,
                         int64_t* size) {
  constexpr std::string_view kPrefix = "; thumbnail";
  if (!StartsWith(line, kPrefix)) return false;
  size_t p = kPrefix.size();
  if (p < line.size() && line[p] == '_') ++p;
  std::string fmt;
  if (line.substr(p, 3) == "QOI" || line.substr(p, 3) == "JPG") {
    fmt = std::string(line.substr(p, 3));
    p += 3;
  }
  if (line.substr(p, 7) != " begin ") return false;
  p += 7;
  // [\w ]+ as far as it goes, then back off to the last " <digit>".
  size_t run_end = p;
  while (run_end < line.size()) {
    size_t len;
    if (line[run_end] != ' ' && !IsWordAt(line, run_end, &len)) break;
    run_end += line[run_end] == ' ' ? 1 : len;
  }
  size_t k = std::string_view::npos;
  for (size_t i = run_end; i-- > p + 1;) {
    if (line[i] == ' ' && i + 1 < run_end && IsDigit(line[i + 1])) {
      k = i;
      break;
    }
  }
  if (k == std::string_view::npos) return false;
  *format = fmt.empty() ? "PNG" : fmt;
  *dims = std::string(line.substr(p, k - p));
  int64_t v = 0;
  for (size_t i = k + 1; i < line.size() && IsDigit(line[i]); ++i) {
    v = v > (std::numeric_limits<int64_t>::max() - 9) / 10 ? std::numeric_limits<int64_t>::max()
                                                           : v * 10 + (line[i] - '0');
  }
  *size = v;
  return true;
}

// r"; thumbnail_?(QOI|JPG)? end"
bool IsThumbnailEnd(std::string_view line) {
  constexpr std::string_view kPrefix = "; thumbnail";
  if (!StartsWith(line, kPrefix)) return false;
  size_t p = kPrefix.size();
  if (p < line.size() && line[p] == '_') ++p;
  if (line.substr(p, 3) == "QOI" || line.substr(p, 3) == "JPG") p += 3;
  return line.substr(p, 4) == " end";
}

// r"^;Z:\d+\.\d+$"
bool IsLayerChange(std::string_view line) {
  line = WithoutNewline(line);
  if (!StartsWith(line, ";Z:")) return false;
  size_t p = 3, start = p;
  while (p < line.size() && IsDigit(line[p])) ++p;
  if (p == start || p >= line.size() || line[p] != '.') return false;
  start = ++p;
  while (p < line.size() && IsDigit(line[p])) ++p;
  return p > start && p == line.size();
}

void ParseDims(const std::string& dims, int* width, int* height) {
  size_t x = dims.find('x');
  if (x == std::string::npos || x == 0 || x + 1 >= dims.size()) return;
  bool digits = std::all_of(dims.begin(), dims.begin() + static_cast<ptrdiff_t>(x), IsDigit) &&
                std::all_of(dims.begin() + static_cast<ptrdiff_t>(x) + 1, dims.end(), IsDigit);
  if (!digits || x > 6 || dims.size() - x - 1 > 6) return;
  *width = std::stoi(dims.substr(0, x));
  *height = std::stoi(dims.substr(x + 1));
}

void AddThumbnail(GcodeMetadata* out, std::string key, const std::string& dims,
                  const std::string& format, std::string data) {
  for (Thumbnail& t : out->thumbnails) {
    if (t.key == key) {
      t.data = std::move(data);
      return;
    }
  }
  Thumbnail t;
  t.key = std::move(key);
  t.format = format;
  ParseDims(dims, &t.width, &t.height);
  t.data = std::move(data);
  out->thumbnails.push_back(std::move(t));
}

}  // namespace

bool FdmMetadataParser::M73Complete() const {
  for (const auto& g : kM73Groups) {
    if (!out_->data.contains(g.attr)) return false;
  }
  return true;
}

bool FdmMetadataParser::ProcessLine(std::string_view line) {
  if (!line.empty() && line.front() == ';') {
    if (!IsValidUtf8(line)) return false;  // UnicodeDecodeError
    return CommentLine(line);
  }
  if (M73Complete() || m73_searched_bytes_ > kMaxM73SearchBytes) return true;
  if (!IsValidUtf8(line)) return false;
  GcodeLine(line);
  m73_searched_bytes_ += static_cast<int64_t>(line.size());
  return true;
}

bool FdmMetadataParser::CommentLine(std::string_view line) {
  std::string format, dims;
  int64_t size;
  if (ParseThumbnailBegin(line, &format, &dims, &size)) {
    in_image_ = true;
    img_format_ = format;
    img_dims_ = dims;
    img_size_ = size;
    img_.clear();
    return true;
  }
  if (IsThumbnailEnd(line)) {
    if (!in_image_) return false;  // "".join(None): TypeError
    in_image_ = false;
    int64_t length = static_cast<int64_t>(Utf8Length(img_));
    AddThumbnail(out_, img_dims_ + "_" + img_format_, img_dims_, img_format_, std::move(img_));
    img_.clear();
    return length == img_size_;  // the assert comes after the image is kept
  }
  if (in_image_) {
    // line[2:].strip(): drops ';' and the next character.
    size_t skip = 1;
    if (line.size() > 1) {
      size_t len;
      CodePointAt(line, 1, &len);
      skip += len;
    }
    img_.append(PyStrip(line.substr(std::min(skip, line.size()))));
  }
  // r"; (?P<key>.*?) = (?P<value>.*)$"
  std::string_view body = WithoutNewline(line);
  if (StartsWith(body, "; ")) {
    size_t eq = body.find(" = ", 2);
    if (eq != std::string_view::npos) {
      SetFdmAttr(&out_->data, body.substr(2, eq - 2), PyVal::Str(body.substr(eq + 3)));
    }
  }
  if (IsLayerChange(line)) SetFdmAttr(&out_->data, "layer_info_present", PyVal::True());
  return true;
}

void FdmMetadataParser::GcodeLine(std::string_view line) {
  // r"^[^;]*M73 ?(?:Q(\d+))? ?(?:S(\d+))? ?(?:C(\d+))? ?(?:P(\d+))? ?(?:R(\d+))?
  //   ?(?:D(\d+))? ?.*$" — greedy [^;]* takes the last "M73" before any ';'.
  size_t limit = line.find(';');
  if (limit == std::string_view::npos) limit = line.size();
  size_t at = std::string_view::npos;
  for (size_t i = 0; i + 3 <= line.size() && i <= limit; ++i) {
    if (line.compare(i, 3, "M73") == 0) at = i;
  }
  if (at == std::string_view::npos) return;
  size_t p = at + 3;
  auto space = [&] {
    if (p < line.size() && line[p] == ' ') ++p;
  };
  space();
  for (const auto& g : kM73Groups) {
    if (p + 1 < line.size() && line[p] == g.letter && IsDigit(line[p + 1])) {
      p += 2;
      while (p < line.size() && IsDigit(line[p])) ++p;
      SetFdmAttr(&out_->data, g.attr, PyVal::True());
    }
    space();
  }
}

namespace {

constexpr int64_t kHeadBytes = 800000;  // METADATA_START_OFFSET
constexpr int64_t kTailBytes = 40000;   // METADATA_END_OFFSET
// How far past the head window the line that crosses it may run before we
// cut it (gcode-metadata reads such a line whole, however long).
constexpr int64_t kLineCap = 65536;

bool ReadAt(int fd, int64_t offset, int64_t len, std::string* out) {
  out->resize(static_cast<size_t>(len));
  int64_t done = 0;
  while (done < len) {
    ssize_t n = pread(fd, out->data() + done, static_cast<size_t>(len - done), offset + done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      out->resize(static_cast<size_t>(done));
      return n == 0;
    }
    done += n;
  }
  return true;
}

// Feeds the lines of buf[from, to) to the parser; the last line may lack its
// newline. Returns the offset reached and false when the parser stopped.
bool FeedLines(const std::string& buf, size_t from, size_t stop_before, size_t* reached,
               FdmMetadataParser* parser) {
  size_t pos = from;
  while (pos < buf.size() && pos < stop_before) {
    size_t nl = std::string_view(buf).find('\n', pos);
    size_t end = nl == std::string_view::npos ? buf.size() : nl + 1;
    if (!parser->ProcessLine(std::string_view(buf).substr(pos, end - pos))) return false;
    pos = end;
  }
  *reached = pos;
  return true;
}

}  // namespace

void ReadFdmWindows(int fd, int64_t size, FdmMetadataParser* parser, GcodeMetadata* out) {
  std::string buf;
  size_t reached = 0;
  if (size <= kHeadBytes + kLineCap + kTailBytes) {
    // Small enough to read whole; walk it as quick_parse() does.
    ReadAt(fd, 0, size, &buf);
    size_t n = buf.size();
    size_t pos = 0;
    while (pos < n) {
      if (!(static_cast<int64_t>(pos) < kHeadBytes ||
            static_cast<int64_t>(pos) > static_cast<int64_t>(n) - kTailBytes)) {
        pos = n - static_cast<size_t>(kTailBytes);
      }
      size_t nl = std::string_view(buf).find('\n', pos);
      size_t end = nl == std::string_view::npos ? n : nl + 1;
      if (!parser->ProcessLine(std::string_view(buf).substr(pos, end - pos))) {
        out->complete = false;
        return;
      }
      pos = end;
    }
    return;
  }
  ReadAt(fd, 0, kHeadBytes + kLineCap, &buf);
  if (!FeedLines(buf, 0, static_cast<size_t>(kHeadBytes), &reached, parser)) {
    out->complete = false;
    return;
  }
  // Past the head window: jump to the tail, which starts mid-line.
  ReadAt(fd, size - kTailBytes, kTailBytes, &buf);
  if (!FeedLines(buf, 0, buf.size(), &reached, parser)) out->complete = false;
}

// ---------------------------------------------------------------- SL

namespace {

constexpr uint64_t kMaxZipEntry = 64ull << 20;

enum class SlConv { kIntOfFloat, kFloat, kStr, kInt, kRound2 };

struct SlAttr {
  const char* name;
  SlConv conv;
};
constexpr SlAttr kSlAttrs[] = {
    {"estimated_print_time", SlConv::kIntOfFloat},
    {"layer_height", SlConv::kFloat},
    {"material", SlConv::kStr},
    {"exposure_time", SlConv::kFloat},
    {"exposure_time_first", SlConv::kFloat},
    {"total_layers", SlConv::kInt},
    {"total_height", SlConv::kFloat},
    {"resin_used_ml", SlConv::kRound2},
    {"printer_model", SlConv::kStr},
};

// SLKeys.KeyMapping
std::string_view SlKey(std::string_view key) {
  static constexpr std::pair<std::string_view, std::string_view> kMap[] = {
      {"printTime", "estimated_print_time"},
      {"expTime", "exposure_time"},
      {"expTimeFirst", "exposure_time_first"},
      {"layerHeight", "layer_height"},
      {"materialName", "material"},
      {"printerModel", "printer_model"},
      {"usedMaterial", "resin_used_ml"},
  };
  for (const auto& [from, to] : kMap) {
    if (key == from) return to;
  }
  return key;
}

enum class SlResult { kSet, kSkip, kAbort };

// float(x) of a JSON value: nullopt = ValueError, abort = TypeError.
SlResult SlFloat(const Json& v, double* out) {
  switch (v.type()) {
    case Json::Type::kString: {
      std::optional<double> d = PyFloat(v.as_string());
      if (!d) return SlResult::kSkip;
      *out = *d;
      return SlResult::kSet;
    }
    case Json::Type::kInt:
    case Json::Type::kDouble:
      *out = v.as_double();
      return SlResult::kSet;
    case Json::Type::kBool:
      *out = v.as_bool() ? 1 : 0;
      return SlResult::kSet;
    default:
      return SlResult::kAbort;
  }
}

// int() of a float: ValueError for nan, OverflowError for inf.
SlResult SlTrunc(double d, int64_t* out) {
  if (std::isnan(d)) return SlResult::kSkip;
  if (std::isinf(d)) return SlResult::kAbort;
  if (std::fabs(d) >= 9.2e18) return SlResult::kSkip;  // beyond int64
  *out = static_cast<int64_t>(d);
  return SlResult::kSet;
}

// SLMetaData.set_attr; kAbort where Python raises past the ValueError guard.
SlResult SetSlAttr(Json* data, std::string_view key, const Json& value) {
  if (value.is_null()) return SlResult::kSkip;
  std::string_view name = SlKey(key);
  const SlAttr* attr = nullptr;
  for (const SlAttr& a : kSlAttrs) {
    if (name == a.name) attr = &a;
  }
  if (attr == nullptr) return SlResult::kSkip;
  double d = 0;
  int64_t i = 0;
  SlResult r;
  switch (attr->conv) {
    case SlConv::kStr:
      data->set(name, value.is_string() ? value.as_string() : PyRepr(value));
      return SlResult::kSet;
    case SlConv::kFloat:
    case SlConv::kRound2:
      r = SlFloat(value, &d);
      if (r != SlResult::kSet) return r;
      data->set(name, attr->conv == SlConv::kRound2 ? PyRound2(d) : d);
      return r;
    case SlConv::kIntOfFloat:
      r = SlFloat(value, &d);
      if (r != SlResult::kSet) return r;
      r = SlTrunc(d, &i);
      if (r == SlResult::kSet) data->set(name, i);
      return r;
    case SlConv::kInt:
      if (value.is_string()) {
        std::optional<int64_t> parsed = PyInt(value.as_string());
        if (!parsed) return SlResult::kSkip;
        data->set(name, *parsed);
        return SlResult::kSet;
      }
      if (value.is_int()) {
        data->set(name, value.as_int());
        return SlResult::kSet;
      }
      if (value.is_bool()) {
        data->set(name, value.as_bool() ? 1 : 0);
        return SlResult::kSet;
      }
      if (value.is_double()) {
        r = SlTrunc(value.as_double(), &i);
        if (r == SlResult::kSet) data->set(name, i);
        return r;
      }
      return SlResult::kAbort;
  }
  return SlResult::kSkip;
}

// r".*?(?P<dim>\d+x\d+)\.(?P<format>qoi|jpg|png)" (anchored at the start).
bool MatchSlThumbnail(std::string_view name, std::string* dims, std::string* format) {
  for (size_t i = 0; i < name.size(); ++i) {
    if (!IsDigit(name[i])) continue;
    size_t p = i;
    while (p < name.size() && IsDigit(name[p])) ++p;
    if (p >= name.size() || name[p] != 'x') continue;
    size_t q = ++p;
    while (q < name.size() && IsDigit(name[q])) ++q;
    if (q == p || q >= name.size() || name[q] != '.') continue;
    std::string_view ext = name.substr(q + 1, 3);
    if (ext != "qoi" && ext != "jpg" && ext != "png") continue;
    *dims = std::string(name.substr(i, q - i));
    *format = std::string(ext);
    for (char& c : *format) c = static_cast<char>(c - 'a' + 'A');
    return true;
  }
  return false;
}

}  // namespace

void ReadSlArchive(int fd, int64_t size, GcodeMetadata* out) {
  StatusOr<ZipReader> zip = ZipReader::Open(fd, size);
  if (!zip.ok()) {
    out->complete = false;  // BadZipFile
    return;
  }
  if (const ZipReader::Entry* config = zip->Find("config.json")) {
    StatusOr<std::string> text = zip->Read(*config, kMaxZipEntry);
    if (!text.ok()) {
      out->complete = false;
      return;
    }
    std::string_view body = *text;
    if (StartsWith(body, "\xEF\xBB\xBF")) body.remove_prefix(3);  // utf-8-sig
    StatusOr<Json> json = Json::Parse(body);
    if (!json.ok() || !json->is_object()) {
      out->complete = false;
      return;
    }
    for (const Json::Member& m : json->as_object()) {
      if (SetSlAttr(&out->data, m.key, m.value) == SlResult::kAbort) {
        out->complete = false;
        return;
      }
    }
  }
  GcodeMetadata collected;
  for (const ZipReader::Entry& e : zip->entries()) {
    if (!StartsWith(e.name, "thumbnail/")) continue;
    std::string dims, format;
    if (!MatchSlThumbnail(e.name, &dims, &format)) continue;
    StatusOr<std::string> bytes = zip->Read(e, kMaxZipEntry);
    if (!bytes.ok()) {
      out->complete = false;  // the whole extraction fails: no thumbnails
      return;
    }
    std::string key = dims;
    key += '_';
    key += format;
    AddThumbnail(&collected, std::move(key), dims, format, Base64Encode(*bytes));
  }
  out->thumbnails = std::move(collected.thumbnails);
}

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
        size_t len;
        if (!internal::IsPySpace(internal::CodePointAt(s, p, &len))) break;
        p += len;
      }
    }
  }
  if (total == 0) return std::nullopt;
  return total;
}

}  // namespace prusaconnect
