// Copyright 2026 The libprusaconnect Authors.
//
// Regression tests for what the fuzz targets (tests/fuzz) found; each test
// names the target and the input.
#include <cmath>
#include <limits>
#include <string>

#include "files/metadata.h"
#include "gtest/gtest.h"
#include "prusaconnect/json.h"
#include "transfer/headers.h"
#include "transport/fetch.h"

namespace prusaconnect {
namespace {

// fuzz_json: {"x":1.7976931348623157e308,"y":0e-324} made RapidJSON's
// full-precision strtod call __builtin_clzll(0) (undefined behaviour).
TEST(FuzzRegression, JsonZeroWithHugeNegativeExponent) {
  StatusOr<Json> j = Json::Parse(R"({"x":1.7976931348623157e308,"y":0e-324})");
  ASSERT_TRUE(j.ok()) << j.status().message();
  EXPECT_EQ(j->find("x")->as_double(), std::numeric_limits<double>::max());
  EXPECT_TRUE(j->find("y")->is_double());
  EXPECT_EQ(j->find("y")->as_double(), 0.0);
  for (const char* zero : {"0e-324", "0.0e-99999", "-0e-400"}) {
    StatusOr<Json> z = Json::Parse(zero);
    ASSERT_TRUE(z.ok()) << zero;
    EXPECT_EQ(z->as_double(), 0.0) << zero;
  }
}

// fuzz_json: a negative mantissa with many digits and a large exponent hit
// an assertion in RapidJSON's full-precision strtod (NextPositiveDouble:
// !Sign()); in release builds it is compiled out and the result unchecked.
TEST(FuzzRegression, JsonLongNegativeMantissaWithExponent) {
  StatusOr<Json> j = Json::Parse("-922337203092233720.13790e280");
  ASSERT_TRUE(j.ok()) << j.status().message();
  EXPECT_EQ(j->as_double(), -922337203092233720.13790e280);
  EXPECT_FALSE(Json::Parse("-922337203092233720.13790e304").ok());  // beyond double
}

// The number conversion that replaced RapidJSON's keeps Python's results.
TEST(FuzzRegression, JsonNumbersStayAsPythonReadsThem) {
  auto parse = [](const char* text) {
    StatusOr<Json> j = Json::Parse(text);
    EXPECT_TRUE(j.ok()) << text;
    return j.ok() ? *j : Json();
  };
  EXPECT_TRUE(parse("-0").is_int());
  EXPECT_EQ(parse("-9223372036854775808").as_int(), std::numeric_limits<int64_t>::min());
  EXPECT_TRUE(parse("9223372036854775807").is_int());
  EXPECT_TRUE(parse("9223372036854775808").is_double());
  EXPECT_TRUE(parse("-9223372036854775809").is_double());
  EXPECT_EQ(parse("100000000000000000000000").as_double(), 1e23);
  EXPECT_EQ(parse("0.1").as_double(), 0.1);
  EXPECT_EQ(parse("5e-324").as_double(), std::numeric_limits<double>::denorm_min());
  EXPECT_EQ(parse("2.2250738585072011e-308").as_double(), 2.2250738585072011e-308);
  EXPECT_EQ(parse("1.7976931348623157e308").as_double(), std::numeric_limits<double>::max());
  EXPECT_EQ(parse("1e-400").as_double(), 0.0);
  EXPECT_TRUE(parse("1.0").is_double());
  EXPECT_TRUE(parse("1E2").is_double());
  EXPECT_EQ(parse("[1,-2.5e1]").Dump(), "[1,-25.0]");
  StatusOr<Json> big = Json::Parse("[1e400]");
  ASSERT_FALSE(big.ok());
  EXPECT_NE(big.status().message().find("Number too big"), std::string::npos)
      << big.status().message();
  EXPECT_FALSE(Json::Parse("01").ok());
  EXPECT_FALSE(Json::Parse("1.").ok());
  EXPECT_FALSE(Json::Parse("-").ok());
  EXPECT_FALSE(Json::Parse("+1").ok());
}

// fuzz_json: "\ude00" (a lone low surrogate) was decoded into bytes that are
// not UTF-8, so Dump() produced text that Parse() (and Connect) refuse.
TEST(FuzzRegression, JsonLoneSurrogateEscapesAreRefused) {
  for (const char* bad : {R"("\ude00")", R"("a\udc00b")", R"({"\udfff":1})", R"("\ud800")",
                          R"("\ud800x")", R"(["\t00e983d\ude00\n"])"}) {
    StatusOr<Json> j = Json::Parse(bad);
    EXPECT_FALSE(j.ok()) << bad;
  }
  // Pairs are fine and round-trip.
  StatusOr<Json> pair = Json::Parse(R"("\ud83d\ude00 \u00e9\uffff")");
  ASSERT_TRUE(pair.ok()) << pair.status().message();
  EXPECT_EQ(pair->as_string(), "\xF0\x9F\x98\x80 \xC3\xA9\xEF\xBF\xBF");
  StatusOr<Json> again = Json::Parse(pair->Dump());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->as_string(), pair->as_string());
}

// fuzz_gcode_metadata: PyFloat("\xE3") — a truncated UTF-8 sequence whose
// bits make U+3000 (a space) — stepped past the end and threw out_of_range.
TEST(FuzzRegression, PyStripStopsAtTruncatedUtf8) {
  using internal::PyFloat;
  using internal::PyInt;
  for (const std::string bad : {"\xE3", "\xE3\x80", "1\xE3", "1\xE3\x80",
                                "\xE3\x80"
                                "1",
                                "\xF0", "\xC2", "\x80"}) {
    EXPECT_FALSE(PyFloat(bad).has_value());
    EXPECT_FALSE(PyInt(bad).has_value());
  }
  // Complete spaces are still stripped, as Python's float() does.
  EXPECT_EQ(PyFloat("\xE3\x80\x80"
                    "1.5\xE3\x80\x80"),
            1.5);
  EXPECT_EQ(PyInt("\xC2\xA0"
                  "7\xC2\x85"),
            7);
}

// fuzz_transfer_headers: "http:/\xD1\x8Ah\xC2\x9A\xC9%25b1" had the origin
// "http://...%b1:80", which libcurl decodes again when it is parsed (%b1 is
// one byte): UrlOrigin was not a fixed point. A host that still has a '%'
// after decoding is no hostname: it has no origin.
TEST(FuzzRegression, UrlOriginOfAHostWithAnEncodedPercent) {
  EXPECT_EQ(internal::UrlOrigin("http:/\xD1\x8Ah\xC2\x9A\xC9%25b1"), std::nullopt);
  EXPECT_EQ(internal::UrlOrigin("http://a%25b/"), std::nullopt);
  EXPECT_EQ(internal::UrlOrigin("http://ex%41mple.com/x"), "http://example.com:80");
  EXPECT_EQ(internal::UrlOrigin("http://[fe80::1%25eth0]:8080/"), "http://[fe80::1]:8080");
}

// fuzz_transfer_headers: "HTTPS:/%34" had the origin "https://4:443", whose
// own origin is "https://0.0.0.4:443" (libcurl normalises a numeric IPv4
// host before decoding it). UrlOrigin now returns the stable form.
TEST(FuzzRegression, UrlOriginOfAnEncodedNumericHostIsAFixedPoint) {
  std::optional<std::string> origin = internal::UrlOrigin("HTTPS:/%34");
  ASSERT_TRUE(origin.has_value());
  EXPECT_EQ(internal::UrlOrigin(*origin), origin);
  EXPECT_EQ(internal::UrlOrigin("http://4/x"),
            internal::UrlOrigin(*internal::UrlOrigin("http://4/x")));
}

// fuzz_transfer_headers: "bytes 9-5/10" and "bytes 0-10/10" parsed (first
// 9 with last 5; last byte past the total); RFC 9110 calls both invalid.
TEST(FuzzRegression, ContentRangeOutOfOrder) {
  int64_t first = -2;
  int64_t total = -2;
  EXPECT_FALSE(internal::ParseContentRange("bytes 9-5/10", &first, &total));
  EXPECT_FALSE(internal::ParseContentRange("bytes 0-10/10", &first, &total));
  EXPECT_FALSE(internal::ParseContentRange("bytes 10-10/5", &first, &total));
  EXPECT_EQ(first, -2);  // untouched on failure
  ASSERT_TRUE(internal::ParseContentRange("Bytes 5-9/10", &first, &total));
  EXPECT_EQ(first, 5);
  EXPECT_EQ(total, 10);
  ASSERT_TRUE(internal::ParseContentRange("bytes 100-199/*", &first, &total));
  EXPECT_EQ(first, 100);
  EXPECT_EQ(total, -1);
  EXPECT_EQ(internal::MediaType("Text/Plain ; charset=UTF-8"), "text/plain");
}

}  // namespace
}  // namespace prusaconnect
