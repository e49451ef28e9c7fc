// Copyright 2026 The libprusaconnect Authors.
// Pure parsers for the response head of a download (internal; split out of
// transfer.cc so the fuzz target fuzz_transfer_headers can reach them).
#ifndef PRUSACONNECT_SRC_TRANSFER_HEADERS_H_
#define PRUSACONNECT_SRC_TRANSFER_HEADERS_H_

#include <cstdint>
#include <string>

namespace prusaconnect {
namespace internal {

// "text/plain; charset=utf-8" → "text/plain" (lower case, no trailing blanks).
std::string MediaType(const std::string& value);

// A decimal size of 1..18 digits (no sign, no blanks) → *out.
bool ParseSize(const std::string& text, int64_t* out);

// "bytes <first>-<last>/<total>" → first and total (total -1 for "*").
// Rejects ranges with last < first or, with a known total, last >= total
// (RFC 9110 §14.4: such a Content-Range is invalid).
bool ParseContentRange(const std::string& text, int64_t* first, int64_t* total);

}  // namespace internal
}  // namespace prusaconnect

#endif  // PRUSACONNECT_SRC_TRANSFER_HEADERS_H_
