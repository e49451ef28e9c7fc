// Copyright 2026 The libprusaconnect Authors.
//
// util/ascii.h: plain decimal numbers (Content-Length and Content-Range
// parts, printer type triples) and ASCII case folding.
#include "util/ascii.h"

#include <cstdint>
#include <optional>
#include <string>

#include "gtest/gtest.h"
#include "prusaconnect/const.h"
#include "transfer/headers.h"

namespace prusaconnect {
namespace {

using internal::ParseDigits;

TEST(ParseDigits, AcceptsOnlyPlainAsciiDigits) {
  int64_t n = -1;
  ASSERT_TRUE(ParseDigits("0", 18, &n));
  EXPECT_EQ(n, 0);
  ASSERT_TRUE(ParseDigits("000123", 18, &n));
  EXPECT_EQ(n, 123);
  ASSERT_TRUE(ParseDigits("999999999999999999", 18, &n));
  EXPECT_EQ(n, 999999999999999999);
  for (const char* bad : {"", "+1", "-1", " 1", "1 ", "1a", "0x1", "1.0", "1e3",
                          "\xD9\xA1",  // ARABIC-INDIC DIGIT ONE
                          "1000000000000000000"}) {
    n = -7;
    EXPECT_FALSE(ParseDigits(bad, 18, &n)) << bad;
    EXPECT_EQ(n, -7) << "untouched on failure: " << bad;
  }
  int small = 0;
  EXPECT_TRUE(ParseDigits("999999", 6, &small));
  EXPECT_EQ(small, 999999);
  EXPECT_FALSE(ParseDigits("1000000", 6, &small));
}

TEST(ParseDigits, ContentLengthHasAtMost18Digits) {
  int64_t n = 0;
  EXPECT_TRUE(internal::ParseSize("123456789012345678", &n));
  EXPECT_EQ(n, 123456789012345678);
  EXPECT_FALSE(internal::ParseSize("1234567890123456789", &n));
  EXPECT_FALSE(internal::ParseSize("-5", &n));
}

TEST(ParseDigits, PrinterTypeTriples) {
  EXPECT_EQ(PrinterType::FromString("1.3.1"), PrinterType(1, 3, 1));
  EXPECT_EQ(PrinterType::FromString("I3MK3S"), PrinterType(1, 3, 1));
  EXPECT_EQ(PrinterType::FromString("999999.0.007"), PrinterType(999999, 0, 7));
  for (const char* bad :
       {"1.3", "1.3.", ".3.1", "1..1", "1.3.1.", "1.-3.1", "1.3.1234567", "1. 3.1", "a.b.c"}) {
    EXPECT_EQ(PrinterType::FromString(bad), std::nullopt) << bad;
  }
}

TEST(AsciiLower, FoldsOnlyAsciiLetters) {
  EXPECT_EQ(internal::AsciiLower("Content-LENGTH: 5"), "content-length: 5");
  EXPECT_EQ(internal::AsciiLower("\xC3\x89T\xC3\x89"), "\xC3\x89t\xC3\x89");  // ÉTÉ: only T
}

}  // namespace
}  // namespace prusaconnect
