// Copyright 2026 The libprusaconnect Authors.
//
// Python's text and number semantics that gcode-metadata relies on
// (str.strip(), \w, float()/int() of text, repr() and round() of floats),
// hand-written because the reader must give byte-identical values to the
// Python package and no C/C++ library reproduces CPython's rules.
#include "files/pytext.h"

#include <locale.h>
#include <stdlib.h>

#include <cmath>
#include <cstdio>
#include <limits>

namespace prusaconnect::internal {

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
    size_t len = 1;
    uint32_t cp = CodePointAt(s, b, &len);
    if (b + len > s.size() || !IsPySpace(cp)) break;
    b += len;
  }
  size_t e = s.size();
  while (e > b) {
    size_t start = e - 1;
    while (start > b && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) --start;
    size_t len = 1;
    uint32_t cp = CodePointAt(s, start, &len);
    if (start + len != e || !IsPySpace(cp)) break;
    e = start;
  }
  return s.substr(b, e - b);
}

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

namespace {

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

}  // namespace prusaconnect::internal
