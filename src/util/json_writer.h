// Copyright 2026 The libprusaconnect Authors.
//
// The JSON text writer behind Json::Dump, for code that assembles a payload
// around a Json without building (or copying) a bigger Json first — the
// protocol renderers (src/protocol/render.cc) write event and telemetry
// bodies with it, skipping nulls on the fly instead of copying the data
// through Json::WithoutNulls().
//
// The bytes are exactly those of RapidJSON's Writer (which Json::Dump used
// before): compact, strings with \" \\ \b \f \n \r \t and \u00XX escapes for
// the other control characters (other bytes as they are), integers in
// decimal, finite doubles as RapidJSON's dtoa (shortest round-trip text,
// always with a '.' or an exponent), non-finite doubles as null.
#ifndef PRUSACONNECT_UTIL_JSON_WRITER_H_
#define PRUSACONNECT_UTIL_JSON_WRITER_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "prusaconnect/json.h"

namespace prusaconnect::internal {

// Appends the text of `v`. With `skip_nulls`, null members and null array
// items are left out at every level (as v.WithoutNulls().Dump(), without
// the copy); `v` itself is written even when it is null.
void AppendJson(const Json& v, bool skip_nulls, std::string* out);

// A value written by a function instead of from the tree: when the writer
// reaches the Json at address `at` (a placeholder inside the value being
// written), it calls `write(out)`, which must append one JSON value.
struct JsonSplice {
  const Json* at = nullptr;
  std::function<void(std::string*)> write;
};
void AppendJson(const Json& v, bool skip_nulls, const JsonSplice& splice, std::string* out);

// Appends `s` as a JSON string (quoted and escaped).
void AppendJsonString(std::string_view s, std::string* out);

// Appends `i` in decimal.
void AppendJsonInt(int64_t i, std::string* out);

}  // namespace prusaconnect::internal

#endif  // PRUSACONNECT_UTIL_JSON_WRITER_H_
