#include "emulator/text_util.h"

#include <cmath>

#include "rapidjson/error/en.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"

namespace prusaconnect::emulator {
namespace {

// Length of the valid UTF-8 sequence starting at s[i], or 0 if invalid.
size_t Utf8SequenceLength(std::string_view s, size_t i) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) return 1;
  size_t len;
  uint32_t min;
  if ((b0 & 0xE0) == 0xC0) {
    len = 2;
    min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3;
    min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4;
    min = 0x10000;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  uint32_t cp = b0 & (0x7F >> len);
  for (size_t k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return len;
}

}  // namespace

std::string Utf8Sanitize(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size();) {
    size_t len = Utf8SequenceLength(in, i);
    if (len == 0) {
      out.append("\xEF\xBF\xBD");
      ++i;
    } else {
      out.append(in.data() + i, len);
      i += len;
    }
  }
  return out;
}

std::string_view TruncateUtf8(std::string_view in, size_t max) {
  if (in.size() <= max) return in;
  size_t end = max;
  // Step back over continuation bytes so a sequence is not split.
  while (end > 0 && (static_cast<unsigned char>(in[end]) & 0xC0) == 0x80) --end;
  return in.substr(0, end);
}

std::string HtmlEscape(std::string_view in) {
  std::string clean = Utf8Sanitize(in);
  std::string out;
  out.reserve(clean.size() + clean.size() / 8);
  for (char c : clean) {
    switch (c) {
      case '&':
        out.append("&amp;");
        break;
      case '<':
        out.append("&lt;");
        break;
      case '>':
        out.append("&gt;");
        break;
      case '"':
        out.append("&quot;");
        break;
      case '\'':
        out.append("&#39;");
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

double ToUnixSecondsDouble(absl::Time t) { return absl::ToDoubleSeconds(t - absl::UnixEpoch()); }

bool ParseJson(std::string_view text, rapidjson::Document* doc) {
  doc->Parse<rapidjson::kParseValidateEncodingFlag | rapidjson::kParseIterativeFlag>(text.data(),
                                                                                     text.size());
  return !doc->HasParseError();
}

std::string ToJson(const rapidjson::Value& value) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  value.Accept(w);
  return std::string(buf.GetString(), buf.GetSize());
}

struct JsonWriter::Rep {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w{buf};
};

JsonWriter::JsonWriter() : rep_(std::make_unique<Rep>()) {}
JsonWriter::~JsonWriter() = default;

JsonWriter& JsonWriter::StartObject() {
  rep_->w.StartObject();
  return *this;
}
JsonWriter& JsonWriter::EndObject() {
  rep_->w.EndObject();
  return *this;
}
JsonWriter& JsonWriter::StartArray() {
  rep_->w.StartArray();
  return *this;
}
JsonWriter& JsonWriter::EndArray() {
  rep_->w.EndArray();
  return *this;
}
JsonWriter& JsonWriter::Key(std::string_view key) {
  std::string clean = Utf8Sanitize(key);
  rep_->w.Key(clean.data(), static_cast<rapidjson::SizeType>(clean.size()));
  return *this;
}
JsonWriter& JsonWriter::String(std::string_view value) {
  std::string clean = Utf8Sanitize(value);
  rep_->w.String(clean.data(), static_cast<rapidjson::SizeType>(clean.size()));
  return *this;
}
JsonWriter& JsonWriter::Int(int64_t value) {
  rep_->w.Int64(value);
  return *this;
}
JsonWriter& JsonWriter::Uint(uint64_t value) {
  rep_->w.Uint64(value);
  return *this;
}
JsonWriter& JsonWriter::Double(double value) {
  if (std::isfinite(value)) {
    rep_->w.Double(value);
  } else {
    rep_->w.Null();
  }
  return *this;
}
JsonWriter& JsonWriter::Bool(bool value) {
  rep_->w.Bool(value);
  return *this;
}
JsonWriter& JsonWriter::Null() {
  rep_->w.Null();
  return *this;
}
JsonWriter& JsonWriter::RawJson(std::string_view json) {
  if (json.empty()) return Null();
  rep_->w.RawValue(json.data(), json.size(), rapidjson::kObjectType);
  return *this;
}
JsonWriter& JsonWriter::Value(const rapidjson::Value& value) {
  value.Accept(rep_->w);
  return *this;
}

std::string JsonWriter::str() const {
  return std::string(rep_->buf.GetString(), rep_->buf.GetSize());
}

}  // namespace prusaconnect::emulator
