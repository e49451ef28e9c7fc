// Copyright 2026 The libprusaconnect Authors.
#include "transfer/headers.h"

#include "util/ascii.h"

namespace prusaconnect {
namespace internal {

std::string MediaType(const std::string& value) {
  std::string t = AsciiLower(value.substr(0, value.find(';')));
  while (!t.empty() && (t.back() == ' ' || t.back() == '\t')) t.pop_back();
  return t;
}

bool ParseSize(const std::string& text, int64_t* out) { return ParseDigits(text, 18, out); }

bool ParseContentRange(const std::string& text, int64_t* first, int64_t* total) {
  std::string v = AsciiLower(text);
  if (v.rfind("bytes ", 0) != 0) return false;
  size_t dash = v.find('-', 6);
  size_t slash = v.find('/', 6);
  if (dash == std::string::npos || slash == std::string::npos || dash > slash) return false;
  int64_t f = 0;
  int64_t last = 0;
  if (!ParseSize(v.substr(6, dash - 6), &f) ||
      !ParseSize(v.substr(dash + 1, slash - dash - 1), &last) || last < f) {
    return false;
  }
  std::string t = v.substr(slash + 1);
  int64_t n = -1;
  if (t != "*" && (!ParseSize(t, &n) || last >= n)) return false;
  *first = f;
  *total = n;
  return true;
}

}  // namespace internal
}  // namespace prusaconnect
