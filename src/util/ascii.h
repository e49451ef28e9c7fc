// Copyright 2026 The libprusaconnect Authors.
//
// ASCII case folding for protocol text (header values, URL schemes and
// hosts, INI keys, file extensions): only A-Z change, every other byte —
// UTF-8 included — stays as it is, whatever locale the host has set.
#ifndef PRUSACONNECT_UTIL_ASCII_H_
#define PRUSACONNECT_UTIL_ASCII_H_

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

}  // namespace prusaconnect::internal

#endif  // PRUSACONNECT_UTIL_ASCII_H_
