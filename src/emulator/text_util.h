// Text helpers for the emulator's JSON control API and HTML status page:
// a thin JSON writer over RapidJSON that never emits invalid UTF-8, HTML
// escaping, and JSON parsing with hostile-input-safe flags.
//
// Pure functions / value types; thread-compatible.

#ifndef PRUSACONNECT_SRC_EMULATOR_TEXT_UTIL_H_
#define PRUSACONNECT_SRC_EMULATOR_TEXT_UTIL_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/time/time.h"
#include "rapidjson/document.h"

namespace prusaconnect::emulator {

// Returns `in` with every invalid UTF-8 sequence replaced by U+FFFD.
std::string Utf8Sanitize(std::string_view in);

// Escapes &, <, >, " and ' for HTML text and attribute values, and
// sanitizes UTF-8.
std::string HtmlEscape(std::string_view in);

// Truncates `in` to at most `max` bytes without splitting a UTF-8 sequence.
std::string_view TruncateUtf8(std::string_view in, size_t max);

// Seconds since the Unix epoch, as a double.
double ToUnixSecondsDouble(absl::Time t);

// Parses `text` as JSON with encoding validation and iterative (bounded
// stack) parsing.  Returns false on any error.
bool ParseJson(std::string_view text, rapidjson::Document* doc);

// Serializes a RapidJSON value compactly.
std::string ToJson(const rapidjson::Value& value);

// A streaming JSON writer.  Strings are UTF-8-sanitized.  Misuse (e.g. a
// value where a key is expected) is a programming error.
class JsonWriter {
 public:
  JsonWriter();
  ~JsonWriter();
  JsonWriter(const JsonWriter&) = delete;
  JsonWriter& operator=(const JsonWriter&) = delete;

  JsonWriter& StartObject();
  JsonWriter& EndObject();
  JsonWriter& StartArray();
  JsonWriter& EndArray();
  JsonWriter& Key(std::string_view key);
  JsonWriter& String(std::string_view value);
  JsonWriter& Int(int64_t value);
  JsonWriter& Uint(uint64_t value);
  JsonWriter& Double(double value);
  JsonWriter& Bool(bool value);
  JsonWriter& Null();
  // Embeds `json`, which must be valid JSON text (e.g. a stored body that
  // was validated on receipt).  Empty text is written as null.
  JsonWriter& RawJson(std::string_view json);
  // Writes a RapidJSON value.
  JsonWriter& Value(const rapidjson::Value& value);
  JsonWriter& Time(absl::Time t) { return Double(ToUnixSecondsDouble(t)); }

  // Returns the text written so far (a complete document once balanced).
  std::string str() const;

 private:
  struct Rep;
  std::unique_ptr<Rep> rep_;
};

}  // namespace prusaconnect::emulator

#endif  // PRUSACONNECT_SRC_EMULATOR_TEXT_UTIL_H_
