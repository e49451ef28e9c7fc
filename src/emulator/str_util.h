// Small string helpers for the emulator.
//
// Debian's Abseil is built with its own absl::string_view (not an alias of
// std::string_view), so the emulator uses std::string_view in its
// interfaces and converts explicitly at the few Abseil call sites (AV/SV).
// All functions are pure and thread-safe.

#ifndef PRUSACONNECT_SRC_EMULATOR_STR_UTIL_H_
#define PRUSACONNECT_SRC_EMULATOR_STR_UTIL_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/string_view.h"

namespace prusaconnect::emulator {

inline absl::string_view AV(std::string_view s) { return absl::string_view(s.data(), s.size()); }
inline std::string_view SV(absl::string_view s) { return std::string_view(s.data(), s.size()); }

inline char AsciiLower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

inline bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (AsciiLower(a[i]) != AsciiLower(b[i])) return false;
  }
  return true;
}

inline bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && s.compare(0, prefix.size(), prefix) == 0;
}

inline bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

inline bool StartsWithIgnoreCase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && EqualsIgnoreCase(s.substr(0, prefix.size()), prefix);
}

// Removes leading and trailing spaces, tabs, CR and LF.
inline std::string_view TrimAscii(std::string_view s) {
  auto ws = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!s.empty() && ws(s.front())) s.remove_prefix(1);
  while (!s.empty() && ws(s.back())) s.remove_suffix(1);
  return s;
}

// Splits `s` at every `sep`.  Pieces view into `s`.
inline std::vector<std::string_view> Split(std::string_view s, char sep, bool skip_empty = false) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (;;) {
    size_t pos = s.find(sep, start);
    std::string_view piece = s.substr(start, pos == std::string_view::npos ? pos : pos - start);
    if (!skip_empty || !piece.empty()) out.push_back(piece);
    if (pos == std::string_view::npos) break;
    start = pos + 1;
  }
  return out;
}

// Parses a whole decimal integer (absl::SimpleAtoi rules: optional sign,
// surrounding whitespace allowed).
template <typename Int>
bool ParseInt(std::string_view s, Int* out) {
  return absl::SimpleAtoi(AV(s), out);
}

inline bool ParseDouble(std::string_view s, double* out) { return absl::SimpleAtod(AV(s), out); }

inline bool IsAllDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

}  // namespace prusaconnect::emulator

#endif  // PRUSACONNECT_SRC_EMULATOR_STR_UTIL_H_
