// Copyright 2026 The libprusaconnect Authors.
//
// Json: a small JSON value used wherever the Connect protocol carries free-form
// data — command args and kwargs, event `data`, extra telemetry fields.
//
// Objects keep their members in insertion order (as Python dicts do), so the
// bytes on the wire follow the order in which the host added the fields, just
// as the reference SDK's `json.dumps` does. Integers and floating-point numbers
// are distinct types: 3 is sent as `3`, 3.0 as `3.0`.
//
// The library never exposes a third-party JSON type; this one is all a host
// needs to know.
//
// Thread safety: a Json is a plain value; concurrent reads of one object are
// safe, concurrent mutation needs external synchronisation.
#ifndef PRUSACONNECT_JSON_H_
#define PRUSACONNECT_JSON_H_

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "prusaconnect/export.h"
#include "prusaconnect/status.h"

namespace prusaconnect {

class PRUSACONNECT_API Json {
 public:
  enum class Type { kNull, kBool, kInt, kDouble, kString, kArray, kObject };
  struct Member;
  using Array = std::vector<Json>;
  using Object = std::vector<Member>;

  Json() {}                                                             // null
  Json(std::nullptr_t) {}                                               // NOLINT
  Json(bool v) : type_(Type::kBool), b_(v) {}                           // NOLINT
  Json(int v) : type_(Type::kInt), i_(v) {}                             // NOLINT
  Json(long v) : type_(Type::kInt), i_(v) {}                            // NOLINT
  Json(long long v) : type_(Type::kInt), i_(v) {}                       // NOLINT
  Json(unsigned v) : type_(Type::kInt), i_(v) {}                        // NOLINT
  Json(unsigned long v);                                                // NOLINT
  Json(unsigned long long v);                                           // NOLINT
  Json(double v) : type_(Type::kDouble), d_(v) {}                       // NOLINT
  Json(const char* v) : type_(Type::kString), string_(v) {}             // NOLINT
  Json(std::string v) : type_(Type::kString), string_(std::move(v)) {}  // NOLINT
  Json(std::string_view v) : type_(Type::kString), string_(v) {}        // NOLINT
  Json(Array v);                                                        // NOLINT

  Json(const Json& other);
  Json(Json&& other) noexcept;
  Json& operator=(const Json& other);
  Json& operator=(Json&& other) noexcept;
  ~Json();

  // An empty object / array, or an object built from key-value pairs:
  //   Json::MakeObject({{"path", "/usb/a.gcode"}, {"size", 42}})
  static Json MakeObject();
  static Json MakeObject(std::initializer_list<std::pair<std::string, Json>> members);
  static Json MakeArray();
  static Json MakeArray(std::initializer_list<Json> items);

  // Parses a JSON text (RFC 8259). Nesting deeper than 512 levels, invalid
  // UTF-8 escapes and trailing garbage are errors (InvalidArgument).
  static StatusOr<Json> Parse(std::string_view text);

  Type type() const { return type_; }
  bool is_null() const { return type_ == Type::kNull; }
  bool is_bool() const { return type_ == Type::kBool; }
  bool is_int() const { return type_ == Type::kInt; }
  bool is_double() const { return type_ == Type::kDouble; }
  bool is_number() const { return is_int() || is_double(); }
  bool is_string() const { return type_ == Type::kString; }
  bool is_array() const { return type_ == Type::kArray; }
  bool is_object() const { return type_ == Type::kObject; }

  // Accessors. Each expects the matching type, except that as_double()
  // accepts an int and as_int() a double (truncated toward zero, saturated
  // at the int64 limits, NaN as 0). On another type the const accessors
  // return false, 0, or an empty string, array or object; the mutable
  // as_array() / as_object() first replace the value by an empty array /
  // object.
  bool as_bool() const { return type_ == Type::kBool && b_; }
  int64_t as_int() const;
  double as_double() const;
  const std::string& as_string() const { return type_ == Type::kString ? string_ : EmptyString(); }
  const Array& as_array() const { return type_ == Type::kArray ? array_ : EmptyArray(); }
  Array& as_array();
  const Object& as_object() const { return type_ == Type::kObject ? object_ : EmptyObject(); }
  Object& as_object();

  // Python truthiness, as the reference SDK tests values: null, false, 0,
  // 0.0, "", [] and {} are false; everything else is true.
  bool truthy() const;

  // Object access. find() returns nullptr when this is not an object or has
  // no such key. operator[] turns a null into an object and inserts a null
  // member when the key is missing. set() replaces an existing member in
  // place (keeping its position) or appends a new one.
  const Json* find(std::string_view key) const;
  Json* find(std::string_view key);
  bool contains(std::string_view key) const { return find(key) != nullptr; }
  Json& operator[](std::string_view key);
  Json& set(std::string_view key, Json value);
  bool erase(std::string_view key);

  // Array access. push_back() turns a null into an array.
  void push_back(Json value);
  // REQUIRE an array with more than `index` items.
  const Json& operator[](size_t index) const { return array_[index]; }
  Json& operator[](size_t index) { return array_[index]; }

  // Number of members or items; 0 for scalars.
  size_t size() const;

  // Compact JSON text. Doubles use the shortest text that reads back exactly
  // and always carry a '.' or exponent (1.0, 36.75), as Python's json does.
  // Non-finite doubles, which JSON cannot carry, are written as null.
  std::string Dump() const;
  void DumpTo(std::string* out) const;

  // Removes null members and items recursively, as the SDK's filter_null().
  Json WithoutNulls() const;

  friend PRUSACONNECT_API bool operator==(const Json& a, const Json& b);
  friend bool operator!=(const Json& a, const Json& b) { return !(a == b); }

 private:
  static const std::string& EmptyString();
  static const Array& EmptyArray();
  static const Object& EmptyObject();
  // Destroys the current value and becomes an empty value of type `t`
  // (kNull, kString, kArray or kObject).
  void Become(Type t);
  void Destroy() noexcept;
  // Move-constructs the value of `other` into this (destroyed or null) one.
  void TakeFrom(Json&& other) noexcept;

  // One value at a time (40 bytes on LP64): the type tag and a union of the
  // scalar or the string / array / object; only the member named by type_
  // is alive.
  Type type_ = Type::kNull;
  union {
    int64_t i_ = 0;
    bool b_;
    double d_;
    std::string string_;
    Array array_;
    Object object_;
  };
};

struct Json::Member {
  std::string key;
  Json value;
};

}  // namespace prusaconnect

#endif  // PRUSACONNECT_JSON_H_
