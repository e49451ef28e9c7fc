// Copyright 2026 The libprusaconnect Authors.
//
// Json parsing on top of RapidJSON's SAX reader: parsing builds our Json
// directly (no intermediate DOM), iteratively, so a hostile deeply nested
// text cannot exhaust the stack. Serialisation is our own writer (byte for
// byte RapidJSON's Writer output, see util/json_writer.h) appending runs of
// text instead of single characters. (About 640 lines: the value type, the
// reader and the writer share their number and string rules, kept together.)
#include "prusaconnect/json.h"

#include <locale.h>
#include <stdlib.h>  // strtod_l

#include <charconv>
#include <cmath>
#include <limits>
#include <new>
#include <string_view>
#include <vector>

#include "rapidjson/error/en.h"
#include "rapidjson/internal/dtoa.h"
#include "rapidjson/internal/itoa.h"
#include "rapidjson/reader.h"
#include "util/json_writer.h"

namespace prusaconnect {
namespace {

constexpr size_t kMaxDepth = 512;

// Escapes of RapidJSON's Writer: 'u' for \u00XX, the letter of a short
// escape, 0 for a byte written as is.
// clang-format off
constexpr char kEscape[256] = {
    'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'b', 't', 'n', 'u', 'f', 'r', 'u', 'u',  // 00
    'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u',  // 10
    0,   0,   '"', 0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,    // 20
    0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,    // 30
    0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,    // 40
    0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   '\\', 0, 0,   0,    // 50
};
// clang-format on
constexpr char kHexDigits[] = "0123456789ABCDEF";

void WriteString(std::string_view s, std::string* out) {
  out->push_back('"');
  const char* p = s.data();
  const char* end = p + s.size();
  while (p != end) {
    const char* run = p;
    while (p != end && kEscape[static_cast<unsigned char>(*p)] == 0) ++p;
    out->append(run, static_cast<size_t>(p - run));
    if (p == end) break;
    auto c = static_cast<unsigned char>(*p++);
    char esc = kEscape[c];
    if (esc == 'u') {
      const char u[6] = {'\\', 'u', '0', '0', kHexDigits[c >> 4], kHexDigits[c & 0xF]};
      out->append(u, sizeof u);
    } else {
      const char e[2] = {'\\', esc};
      out->append(e, sizeof e);
    }
  }
  out->push_back('"');
}

void WriteInt(int64_t i, std::string* out) {
  char buffer[21];
  const char* end = rapidjson::internal::i64toa(i, buffer);
  out->append(buffer, static_cast<size_t>(end - buffer));
}

void WriteDouble(double d, std::string* out) {
  if (!std::isfinite(d)) {
    out->append("null", 4);
    return;
  }
  char buffer[25];
  const char* end = rapidjson::internal::dtoa(d, buffer);
  out->append(buffer, static_cast<size_t>(end - buffer));
}

template <bool kSkipNulls, bool kSplice>
void Write(const Json& v, const internal::JsonSplice* splice, std::string* out) {
  if (kSplice && &v == splice->at) {
    splice->write(out);
    return;
  }
  switch (v.type()) {
    case Json::Type::kNull:
      out->append("null", 4);
      break;
    case Json::Type::kBool:
      if (v.as_bool()) {
        out->append("true", 4);
      } else {
        out->append("false", 5);
      }
      break;
    case Json::Type::kInt:
      WriteInt(v.as_int(), out);
      break;
    case Json::Type::kDouble:
      WriteDouble(v.as_double(), out);
      break;
    case Json::Type::kString:
      WriteString(v.as_string(), out);
      break;
    case Json::Type::kArray: {
      out->push_back('[');
      bool first = true;
      for (const Json& item : v.as_array()) {
        if (kSkipNulls && item.is_null()) continue;
        if (!first) out->push_back(',');
        first = false;
        Write<kSkipNulls, kSplice>(item, splice, out);
      }
      out->push_back(']');
      break;
    }
    case Json::Type::kObject: {
      out->push_back('{');
      bool first = true;
      for (const Json::Member& m : v.as_object()) {
        if (kSkipNulls && m.value.is_null()) continue;
        if (!first) out->push_back(',');
        first = false;
        WriteString(m.key, out);
        out->push_back(':');
        Write<kSkipNulls, kSplice>(m.value, splice, out);
      }
      out->push_back('}');
      break;
    }
  }
}

// SAX handler assembling a Json tree with an explicit stack.
class Builder : public rapidjson::BaseReaderHandler<rapidjson::UTF8<>, Builder> {
 public:
  bool Null() { return Add(Json()); }
  bool Bool(bool b) { return Add(Json(b)); }
  bool Int(int i) { return Add(Json(i)); }
  bool Uint(unsigned u) { return Add(Json(static_cast<int64_t>(u))); }
  bool Int64(int64_t i) { return Add(Json(i)); }
  bool Uint64(uint64_t u) {
    if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return Add(Json(static_cast<double>(u)));
    }
    return Add(Json(static_cast<int64_t>(u)));
  }
  bool Double(double d) { return Add(Json(d)); }
  // Numbers arrive as text (kParseNumbersAsStringsFlag) and are converted
  // here: RapidJSON 1.1.0's own full-precision conversion evaluates
  // __builtin_clzll(0) for a zero significand with a large negative exponent
  // ("0e-324"), which is undefined behaviour (found by tests/fuzz/fuzz_json).
  // Integers that fit int64/uint64 stay integers as before; everything else
  // is glibc's correctly rounded strtod in the C locale, like Python's
  // float(); a value beyond double's range is an error, as RapidJSON made it.
  bool RawNumber(const char* s, rapidjson::SizeType n, bool) {
    const char* end = s + n;
    if (std::string_view(s, n).find_first_of(".eE") == std::string_view::npos) {
      int64_t i = 0;
      std::from_chars_result r = std::from_chars(s, end, i);
      if (r.ec == std::errc() && r.ptr == end) return Add(Json(i));
      uint64_t u = 0;
      r = std::from_chars(s, end, u);
      if (r.ec == std::errc() && r.ptr == end) return Uint64(u);
    }
    static const locale_t c_locale = newlocale(LC_ALL_MASK, "C", static_cast<locale_t>(nullptr));
    std::string text(s, n);
    double d = strtod_l(text.c_str(), nullptr, c_locale);
    if (std::isinf(d)) {
      number_too_big_ = true;
      return false;
    }
    return Add(Json(d));
  }
  bool String(const char* s, rapidjson::SizeType n, bool) {
    if (HasSurrogate(s, n)) return false;
    return Add(Json(std::string(s, n)));
  }
  bool StartObject() { return Open(Json::MakeObject()); }
  bool Key(const char* s, rapidjson::SizeType n, bool) {
    if (HasSurrogate(s, n)) return false;
    key_.assign(s, n);
    return true;
  }
  bool EndObject(rapidjson::SizeType) { return Close(); }
  bool StartArray() { return Open(Json::MakeArray()); }
  bool EndArray(rapidjson::SizeType) { return Close(); }

  Json Take() { return std::move(root_); }
  bool too_deep() const { return too_deep_; }
  bool number_too_big() const { return number_too_big_; }
  bool lone_surrogate() const { return lone_surrogate_; }

 private:
  struct Frame {
    Json value;
    std::string key;  // the key under which `value` goes into its parent
  };

  bool Add(Json v) {
    if (stack_.empty()) {
      root_ = std::move(v);
      return true;
    }
    Json& top = stack_.back().value;
    if (top.is_array()) {
      top.as_array().push_back(std::move(v));
    } else {
      top.as_object().push_back(Json::Member{std::move(key_), std::move(v)});
      key_.clear();
    }
    return true;
  }
  bool Open(Json v) {
    if (stack_.size() >= kMaxDepth) {
      too_deep_ = true;
      return false;
    }
    stack_.push_back(Frame{std::move(v), std::move(key_)});
    key_.clear();
    return true;
  }
  bool Close() {
    Frame f = std::move(stack_.back());
    stack_.pop_back();
    key_ = std::move(f.key);
    return Add(std::move(f.value));
  }

  std::vector<Frame> stack_;
  std::string key_;
  Json root_;
  bool too_deep_ = false;
  bool number_too_big_ = false;
  bool lone_surrogate_ = false;

  // RapidJSON 1.1.0 decodes a lone low surrogate escape ("\udc00") into the
  // UTF-8 bytes of U+DC00 (ED B0 80), which is not UTF-8: our own Dump()
  // would then send text no JSON parser accepts (found by fuzz_json). Such
  // strings are refused like raw invalid UTF-8 is.
  bool HasSurrogate(const char* s, rapidjson::SizeType n) {
    for (rapidjson::SizeType i = 0; i + 1 < n; ++i) {
      if (static_cast<unsigned char>(s[i]) == 0xED &&
          static_cast<unsigned char>(s[i + 1]) >= 0xA0) {
        lone_surrogate_ = true;
        return true;
      }
    }
    return false;
  }
};

}  // namespace

Json::Json(unsigned long v) {                                                 // NOLINT(runtime/int)
  if (v > static_cast<unsigned long>(std::numeric_limits<int64_t>::max())) {  // NOLINT
    type_ = Type::kDouble;
    d_ = static_cast<double>(v);
  } else {
    type_ = Type::kInt;
    i_ = static_cast<int64_t>(v);
  }
}

Json::Json(unsigned long long v) : Json(static_cast<unsigned long>(v)) {}  // NOLINT

Json::Json(Array v) : type_(Type::kArray), array_(std::move(v)) {}

Json::Json(const Json& other) : type_(other.type_) {
  switch (type_) {
    case Type::kString:
      new (&string_) std::string(other.string_);
      break;
    case Type::kArray:
      new (&array_) Array(other.array_);
      break;
    case Type::kObject:
      new (&object_) Object(other.object_);
      break;
    default:
      i_ = other.i_;  // the whole scalar
      break;
  }
}

// The moved-from value keeps its type with an empty string / array / object
// (or its scalar), as a defaulted move of the former member-wise Json did.
Json::Json(Json&& other) noexcept { TakeFrom(std::move(other)); }

void Json::TakeFrom(Json&& other) noexcept {
  switch (other.type_) {
    case Type::kString:
      new (&string_) std::string(std::move(other.string_));
      break;
    case Type::kArray:
      new (&array_) Array(std::move(other.array_));
      break;
    case Type::kObject:
      new (&object_) Object(std::move(other.object_));
      break;
    default:
      i_ = other.i_;  // the whole scalar
      break;
  }
  type_ = other.type_;
}

Json& Json::operator=(const Json& other) {
  if (this != &other) {
    Json copy(other);  // first, so that assigning a part of *this to *this works
    *this = std::move(copy);
  }
  return *this;
}

Json& Json::operator=(Json&& other) noexcept {
  if (this == &other) return *this;
  if (type_ == other.type_) {
    switch (type_) {
      case Type::kString:
        string_ = std::move(other.string_);
        return *this;
      case Type::kArray:
        array_ = std::move(other.array_);
        return *this;
      case Type::kObject:
        object_ = std::move(other.object_);
        return *this;
      default:
        i_ = other.i_;
        return *this;
    }
  }
  // `other` may live inside this value (an item or member of it): take it
  // out before destroying what this holds.
  Json taken(std::move(other));
  Destroy();
  TakeFrom(std::move(taken));
  return *this;
}

Json::~Json() { Destroy(); }

void Json::Destroy() noexcept {
  switch (type_) {
    case Type::kString:
      string_.~basic_string();
      break;
    case Type::kArray:
      array_.~Array();
      break;
    case Type::kObject:
      object_.~Object();
      break;
    default:
      break;
  }
  type_ = Type::kNull;
  i_ = 0;
}

void Json::Become(Type t) {
  Destroy();
  switch (t) {
    case Type::kString:
      new (&string_) std::string();
      break;
    case Type::kArray:
      new (&array_) Array();
      break;
    case Type::kObject:
      new (&object_) Object();
      break;
    default:
      break;
  }
  type_ = t;
}

const std::string& Json::EmptyString() {
  static const std::string* empty = new std::string();
  return *empty;
}

const Json::Array& Json::EmptyArray() {
  static const Array* empty = new Array();
  return *empty;
}

const Json::Object& Json::EmptyObject() {
  static const Object* empty = new Object();
  return *empty;
}

Json::Array& Json::as_array() {
  if (type_ != Type::kArray) Become(Type::kArray);
  return array_;
}

Json::Object& Json::as_object() {
  if (type_ != Type::kObject) Become(Type::kObject);
  return object_;
}

Json Json::MakeObject() {
  Json j;
  j.Become(Type::kObject);
  return j;
}

Json Json::MakeObject(std::initializer_list<std::pair<std::string, Json>> members) {
  Json j = MakeObject();
  j.object_.reserve(members.size());
  for (const auto& m : members) j.set(m.first, m.second);
  return j;
}

Json Json::MakeArray() {
  Json j;
  j.Become(Type::kArray);
  return j;
}

Json Json::MakeArray(std::initializer_list<Json> items) {
  Json j = MakeArray();
  j.array_.assign(items.begin(), items.end());
  return j;
}

StatusOr<Json> Json::Parse(std::string_view text) {
  rapidjson::Reader reader;
  Builder builder;
  rapidjson::MemoryStream ms(text.data(), text.size());
  rapidjson::EncodedInputStream<rapidjson::UTF8<>, rapidjson::MemoryStream> is(ms);
  rapidjson::ParseResult r =
      reader.Parse<rapidjson::kParseIterativeFlag | rapidjson::kParseNumbersAsStringsFlag |
                   rapidjson::kParseValidateEncodingFlag>(is, builder);
  if (!r) {
    if (builder.too_deep()) {
      return InvalidArgumentError("JSON nested deeper than " + std::to_string(kMaxDepth) +
                                  " levels");
    }
    if (builder.lone_surrogate()) {
      return InvalidArgumentError(std::string("invalid JSON at offset ") +
                                  std::to_string(r.Offset()) +
                                  ": a \\u escape encodes a lone UTF-16 surrogate");
    }
    if (builder.number_too_big()) {
      return InvalidArgumentError(std::string("invalid JSON at offset ") +
                                  std::to_string(r.Offset()) + ": " +
                                  rapidjson::GetParseError_En(rapidjson::kParseErrorNumberTooBig));
    }
    return InvalidArgumentError(std::string("invalid JSON at offset ") +
                                std::to_string(r.Offset()) + ": " +
                                rapidjson::GetParseError_En(r.Code()));
  }
  return builder.Take();
}

int64_t Json::as_int() const {
  switch (type_) {
    case Type::kInt:
      return i_;
    case Type::kDouble:
      // Truncated toward zero; saturated outside int64's range (the cast
      // alone is undefined there), NaN → 0. JSON from a peer may say 1e300.
      if (std::isnan(d_)) return 0;
      if (d_ >= 9223372036854775807.0) return INT64_MAX;
      if (d_ <= -9223372036854775808.0) return INT64_MIN;
      return static_cast<int64_t>(d_);
    case Type::kBool:
      return b_ ? 1 : 0;
    default:
      return 0;
  }
}

double Json::as_double() const {
  switch (type_) {
    case Type::kInt:
      return static_cast<double>(i_);
    case Type::kDouble:
      return d_;
    case Type::kBool:
      return b_ ? 1.0 : 0.0;
    default:
      return 0.0;
  }
}

bool Json::truthy() const {
  switch (type_) {
    case Type::kNull:
      return false;
    case Type::kBool:
      return b_;
    case Type::kInt:
      return i_ != 0;
    case Type::kDouble:
      return d_ != 0.0;
    case Type::kString:
      return !string_.empty();
    case Type::kArray:
      return !array_.empty();
    case Type::kObject:
      return !object_.empty();
  }
  return false;
}

const Json* Json::find(std::string_view key) const {
  if (type_ != Type::kObject) return nullptr;
  for (const Member& m : object_) {
    if (m.key == key) return &m.value;
  }
  return nullptr;
}

Json* Json::find(std::string_view key) {
  return const_cast<Json*>(static_cast<const Json*>(this)->find(key));
}

Json& Json::operator[](std::string_view key) {
  if (type_ != Type::kObject) Become(Type::kObject);
  if (Json* v = find(key)) return *v;
  object_.push_back(Member{std::string(key), Json()});
  return object_.back().value;
}

Json& Json::set(std::string_view key, Json value) {
  Json& slot = (*this)[key];
  slot = std::move(value);
  return slot;
}

bool Json::erase(std::string_view key) {
  if (type_ != Type::kObject) return false;
  for (auto it = object_.begin(); it != object_.end(); ++it) {
    if (it->key == key) {
      object_.erase(it);
      return true;
    }
  }
  return false;
}

void Json::push_back(Json value) {
  if (type_ != Type::kArray) Become(Type::kArray);
  array_.push_back(std::move(value));
}

size_t Json::size() const {
  if (type_ == Type::kArray) return array_.size();
  if (type_ == Type::kObject) return object_.size();
  return 0;
}

std::string Json::Dump() const {
  std::string out;
  DumpTo(&out);
  return out;
}

void Json::DumpTo(std::string* out) const { Write<false, false>(*this, nullptr, out); }

Json Json::WithoutNulls() const {
  if (type_ == Type::kObject) {
    Json out = MakeObject();
    out.object_.reserve(object_.size());
    for (const Member& m : object_) {
      if (!m.value.is_null()) out.object_.push_back(Member{m.key, m.value.WithoutNulls()});
    }
    return out;
  }
  if (type_ == Type::kArray) {
    Json out = MakeArray();
    out.array_.reserve(array_.size());
    for (const Json& item : array_) {
      if (!item.is_null()) out.array_.push_back(item.WithoutNulls());
    }
    return out;
  }
  return *this;
}

bool operator==(const Json& a, const Json& b) {
  if (a.is_number() && b.is_number()) {
    if (a.is_int() && b.is_int()) return a.as_int() == b.as_int();
    return a.as_double() == b.as_double();
  }
  if (a.type_ != b.type_) return false;
  switch (a.type_) {
    case Json::Type::kNull:
      return true;
    case Json::Type::kBool:
      return a.b_ == b.b_;
    case Json::Type::kString:
      return a.string_ == b.string_;
    case Json::Type::kArray:
      return a.array_ == b.array_;
    case Json::Type::kObject: {
      // Order-insensitive comparison, as for Python dicts.
      if (a.object_.size() != b.object_.size()) return false;
      for (const Json::Member& m : a.object_) {
        const Json* other = b.find(m.key);
        if (other == nullptr || !(*other == m.value)) return false;
      }
      return true;
    }
    default:
      return false;
  }
}

namespace internal {

void AppendJson(const Json& v, bool skip_nulls, std::string* out) {
  if (skip_nulls) {
    Write<true, false>(v, nullptr, out);
  } else {
    Write<false, false>(v, nullptr, out);
  }
}

void AppendJson(const Json& v, bool skip_nulls, const JsonSplice& splice, std::string* out) {
  if (skip_nulls) {
    Write<true, true>(v, &splice, out);
  } else {
    Write<false, true>(v, &splice, out);
  }
}

void AppendJsonString(std::string_view s, std::string* out) { WriteString(s, out); }

void AppendJsonInt(int64_t i, std::string* out) { WriteInt(i, out); }

}  // namespace internal
}  // namespace prusaconnect
