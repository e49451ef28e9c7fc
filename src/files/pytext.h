// Copyright 2026 The libprusaconnect Authors.
//
// Python's text and number rules as gcode-metadata sees them, for the
// metadata reader (metadata*.cc). Text is UTF-8 (validated by the caller).
#ifndef PRUSACONNECT_FILES_PYTEXT_H_
#define PRUSACONNECT_FILES_PYTEXT_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "prusaconnect/json.h"
#include "util/ascii.h"  // StartsWith

namespace prusaconnect::internal {

// The code point at s[i] (valid UTF-8 assumed); sets *len to its bytes.
uint32_t CodePointAt(std::string_view s, size_t i, size_t* len);
// str.isspace() of one code point.
bool IsPySpace(uint32_t cp);
// str.strip().
std::string_view PyStrip(std::string_view s);
inline bool IsDigit(char c) { return c >= '0' && c <= '9'; }
// \w of a str pattern (see docs/FILES.md for the approximation outside
// ASCII); IsWordAt decodes s[i] first.
bool IsWordCodePoint(uint32_t cp);
bool IsWordAt(std::string_view s, size_t i, size_t* len);
std::string_view WithoutNewline(std::string_view line);
// repr() of a float and of a JSON value (str() of an SL config value).
std::string PyFloatRepr(double d);
std::string PyRepr(const Json& v);
// round(x, 2).
double PyRound2(double d);

// Python's float(str) and int(str) for the text forms slicers write:
// surrounding whitespace, a sign, "_" between digits, inf/nan (float).
std::optional<double> PyFloat(std::string_view text);
std::optional<int64_t> PyInt(std::string_view text);

}  // namespace prusaconnect::internal

#endif  // PRUSACONNECT_FILES_PYTEXT_H_
