// Copyright 2026 The libprusaconnect Authors.
#include "util/str_cat.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "prusaconnect/status.h"

namespace prusaconnect::internal {
namespace {

TEST(StrCatTest, StringsOfEveryKind) {
  std::string s = "std";
  std::string_view v = "view";
  const char* c = "cstr";
  EXPECT_EQ(StrCat(s, "-", v, "-", c, "-", std::string_view()), "std-view-cstr-");
  EXPECT_EQ(StrCat(), "");
  EXPECT_EQ(StrCat('/', "name", '.', 'x'), "/name.x");
}

TEST(StrCatTest, IntegersAtTheirLimits) {
  EXPECT_EQ(StrCat(0, " ", -1, " ", 42U), "0 -1 42");
  EXPECT_EQ(StrCat(std::numeric_limits<int64_t>::min()), "-9223372036854775808");
  EXPECT_EQ(StrCat(std::numeric_limits<uint64_t>::max()), "18446744073709551615");
  EXPECT_EQ(StrCat(static_cast<size_t>(255), static_cast<short>(-7)), "255-7");
  EXPECT_EQ(StrCat(true, false), "10");
}

TEST(StrCatTest, FloatingPointHasSixSignificantDigitsLikeAbsl) {
  EXPECT_EQ(StrCat(0.1), "0.1");
  EXPECT_EQ(StrCat(3.0), "3");
  EXPECT_EQ(StrCat(1e6), "1e+06");
  EXPECT_EQ(StrCat(123456.7), "123457");
  EXPECT_EQ(StrCat(-2.5F), "-2.5");
}

TEST(StrCatTest, AppendKeepsWhatIsThere) {
  std::string out = "a";
  StrAppend(&out, "b", 1, 'c');
  EXPECT_EQ(out, "ab1c");
  StrAppend(&out);
  EXPECT_EQ(out, "ab1c");
}

TEST(StrCatTest, AppendOfItselfIsSafe) {
  std::string out = "0123456789";
  out.shrink_to_fit();
  StrAppend(&out, out, std::string_view(out).substr(2, 3), out);
  EXPECT_EQ(out,
            "0123456789"
            "0123456789"
            "234"
            "0123456789");
}

TEST(StrCatTest, JoinPutsTheSeparatorBetweenItemsOnly) {
  std::vector<int> none;
  EXPECT_EQ(StrJoin(none, ", ", [](int i) { return i; }), "");
  std::vector<int> one = {7};
  EXPECT_EQ(StrJoin(one, ", ", [](int i) { return i; }), "7");
  std::vector<std::string> names = {"a", "b", "c"};
  EXPECT_EQ(StrJoin(names, " | ", [](const std::string& s) { return s; }), "a | b | c");
  std::vector<std::string> empty_first = {"", "b"};
  EXPECT_EQ(StrJoin(empty_first, ",", [](const std::string& s) { return s; }), ",b");
}

TEST(StatusTest, PrintsItsCodeAndMessage) {
  std::ostringstream os;
  os << InvalidArgumentError("bad name") << " | " << Status() << " | " << DataLossError("x");
  EXPECT_EQ(os.str(), "INVALID_ARGUMENT: bad name | OK | DATA_LOSS: x");
  EXPECT_EQ(UnimplementedError("u").code(), StatusCode::kUnimplemented);
  EXPECT_EQ(OutOfRangeError("r").code(), StatusCode::kOutOfRange);
}

}  // namespace
}  // namespace prusaconnect::internal
