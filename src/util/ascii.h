// Copyright 2026 The libprusaconnect Authors.
//
// ASCII helpers for protocol text, independent of the host's locale:
// case folding (header values, URL schemes and hosts, INI keys, file
// extensions: only A-Z change, every other byte — UTF-8 included — stays as
// it is), prefixes and plain decimal numbers.
#ifndef PRUSACONNECT_UTIL_ASCII_H_
#define PRUSACONNECT_UTIL_ASCII_H_

#include <cstddef>
#include <string>
#include <string_view>

namespace prusaconnect::internal {

inline char AsciiLower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

inline std::string AsciiLower(std::string_view s) {
  std::string result(s);
  for (char& c : result) c = AsciiLower(c);
  return result;
}

inline bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && s.compare(0, prefix.size(), prefix) == 0;
}

// A plain decimal number: 1 to `max_digits` ASCII digits and nothing else
// (no sign, no spaces, no "0x"). `max_digits` keeps the value within T
// (18 for int64_t, 9 for int).
template <typename T>
bool ParseDigits(std::string_view s, size_t max_digits, T* out) {
  if (s.empty() || s.size() > max_digits) return false;
  T value = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    value = static_cast<T>(value * 10 + (c - '0'));
  }
  *out = value;
  return true;
}

}  // namespace prusaconnect::internal

#endif  // PRUSACONNECT_UTIL_ASCII_H_
