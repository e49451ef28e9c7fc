// Copyright 2026 The libprusaconnect Authors.
//
// StrCat / StrAppend: concatenation of strings and numbers for messages and
// paths, without streams and without a runtime dependency (the shared library
// links only libcurl, OpenSSL, libjpeg and libpng; Abseil stays a test and
// emulator dependency — see docs/performance-history.md, "#2, 2026-11-23: the
// library without Abseil").
//
//   std::string m = StrCat("size ", size, " exceeds ", limit, " bytes");
//
// Integers print in decimal, floating-point numbers with six significant
// digits like printf("%g") (internal::StrCat's format), strings as they are.
// A char is that character (StrCat('/', name)); absl::StrCat refuses it.
#ifndef PRUSACONNECT_UTIL_STR_CAT_H_
#define PRUSACONNECT_UTIL_STR_CAT_H_

#include <charconv>
#include <cstddef>
#include <cstdio>
#include <initializer_list>
#include <string>
#include <string_view>
#include <type_traits>

namespace prusaconnect::internal {

// One piece of a StrCat: a view of text, formatted into `buf_` when it is a
// number. Lives only for the duration of the StrCat call.
class StrPiece {
 public:
  StrPiece(std::string_view s) : view_(s) {}          // NOLINT(google-explicit-constructor)
  StrPiece(const std::string& s) : view_(s) {}        // NOLINT(google-explicit-constructor)
  StrPiece(const char* s) : view_(s) {}               // NOLINT(google-explicit-constructor)
  StrPiece(char c) : view_(buf_, 1) { buf_[0] = c; }  // NOLINT(google-explicit-constructor)

  template <typename T, std::enable_if_t<std::is_integral_v<T> && !std::is_same_v<T, char> &&
                                             !std::is_same_v<T, bool>,
                                         int> = 0>
  StrPiece(T v) {  // NOLINT(google-explicit-constructor)
    auto [end, ec] = std::to_chars(buf_, buf_ + sizeof(buf_), v);
    (void)ec;  // 32 bytes hold any 64-bit integer.
    view_ = std::string_view(buf_, static_cast<size_t>(end - buf_));
  }
  StrPiece(bool v) : view_(v ? "1" : "0") {}  // NOLINT(google-explicit-constructor)
  StrPiece(double v) {                        // NOLINT(google-explicit-constructor)
    int n = std::snprintf(buf_, sizeof(buf_), "%g", v);
    view_ = std::string_view(buf_, n > 0 ? static_cast<size_t>(n) : 0);
  }
  StrPiece(float v) : StrPiece(static_cast<double>(v)) {}  // NOLINT(google-explicit-constructor)

  StrPiece(const StrPiece&) = delete;
  StrPiece& operator=(const StrPiece&) = delete;

  std::string_view view() const { return view_; }

 private:
  char buf_[32] = {};
  std::string_view view_;
};

namespace str_cat_detail {

inline void AppendPieces(std::string* out, std::initializer_list<std::string_view> pieces) {
  size_t n = out->size();
  bool aliased = false;  // StrAppend(&s, s): a piece views *out itself.
  const char* begin = out->data();
  const char* end = begin + out->capacity();
  for (std::string_view p : pieces) {
    n += p.size();
    aliased = aliased || (!p.empty() && p.data() >= begin && p.data() < end);
  }
  if (aliased) {
    std::string joined;
    joined.reserve(n - out->size());
    for (std::string_view p : pieces) joined.append(p.data(), p.size());
    out->append(joined);
    return;
  }
  out->reserve(n);
  for (std::string_view p : pieces) out->append(p.data(), p.size());
}

}  // namespace str_cat_detail

template <typename... Args>
std::string StrCat(const Args&... args) {
  std::string out;
  str_cat_detail::AppendPieces(&out, {StrPiece(args).view()...});
  return out;
}

template <typename... Args>
void StrAppend(std::string* out, const Args&... args) {
  str_cat_detail::AppendPieces(out, {StrPiece(args).view()...});
}

// The items of `range`, each as `text(item)`, with `separator` between:
//   StrJoin(states, ", ", [](State s) { return ToString(s); })
template <typename Range, typename ToText>
std::string StrJoin(const Range& range, std::string_view separator, ToText text) {
  std::string out;
  bool first = true;
  for (const auto& item : range) {
    if (!first) out.append(separator.data(), separator.size());
    first = false;
    StrAppend(&out, text(item));
  }
  return out;
}

}  // namespace prusaconnect::internal

#endif  // PRUSACONNECT_UTIL_STR_CAT_H_
