// Copyright 2026 The libprusaconnect Authors.
//
// libFuzzer target: the response head of a download (src/transfer/headers.cc:
// Content-Range, Content-Length, Content-Type) and the URL helpers of
// src/transport/fetch.h that transfers run on every URL Connect sends.
// Invariants: a parsed Content-Range has 0 <= first <= last < total (or total
// unknown); a parsed size is a non-negative value of its digits; MediaType is
// idempotent, lower case, without parameters or trailing blanks; UrlOrigin of
// an origin is that origin; PercentEncode output is unreserved characters and
// %XX only and decodes back to its input.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>

#include "transfer/headers.h"
#include "transport/fetch.h"
#include "util/url.h"

namespace {

int Hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool Unreserved(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace pc = prusaconnect::internal;
  const std::string text(reinterpret_cast<const char*>(data), size);

  int64_t first = -2;
  int64_t total = -2;
  if (pc::ParseContentRange(text, &first, &total)) {
    if (first < 0 || total < -1) std::abort();
    if (total != -1 && first >= total) std::abort();
  }

  int64_t n = -1;
  if (pc::ParseSize(text, &n)) {
    if (n < 0 || std::to_string(n).size() > text.size()) std::abort();
    // Leading zeros aside, the digits are the value.
    size_t z = text.find_first_not_of('0');
    if (std::to_string(n) != (z == std::string::npos ? "0" : text.substr(z))) std::abort();
  }

  const std::string media = pc::MediaType(text);
  if (pc::MediaType(media) != media) std::abort();
  for (char c : media) {
    if (c == ';' || (c >= 'A' && c <= 'Z')) std::abort();
  }
  if (!media.empty() && (media.back() == ' ' || media.back() == '\t')) std::abort();

  const std::optional<std::string> origin = pc::UrlOrigin(text);
  if (origin) {
    const std::optional<std::string> again = pc::UrlOrigin(*origin);
    if (!again || *again != *origin) std::abort();
  }
  (void)pc::UrlForLog(text);

  const std::string enc = pc::PercentEncode(text);
  std::string dec;
  for (size_t i = 0; i < enc.size(); ++i) {
    auto c = static_cast<unsigned char>(enc[i]);
    if (c == '%') {
      if (i + 2 >= enc.size()) std::abort();
      int hi = Hex(enc[i + 1]);
      int lo = Hex(enc[i + 2]);
      if (hi < 0 || lo < 0) std::abort();
      dec.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (Unreserved(c)) {
      dec.push_back(static_cast<char>(c));
    } else {
      std::abort();
    }
  }
  if (dec != text) std::abort();
  return 0;
}
