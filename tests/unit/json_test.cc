// Copyright 2026 The libprusaconnect Authors.
#include "prusaconnect/json.h"

#include <cmath>
#include <cstdint>
#include <string>

#include "gtest/gtest.h"

namespace prusaconnect {
namespace {

TEST(Json, ObjectsKeepInsertionOrderOnTheWire) {
  Json j = Json::MakeObject({{"z", 1}, {"a", "x"}, {"m", Json()}});
  j.set("b", true);
  j.set("z", 2);  // replaced in place
  EXPECT_EQ(j.Dump(), R"({"z":2,"a":"x","m":null,"b":true})");
}

TEST(Json, IntegersAndFloatsStayDistinctLikePython) {
  EXPECT_EQ(Json(3).Dump(), "3");
  EXPECT_EQ(Json(3.0).Dump(), "3.0");
  EXPECT_EQ(Json(36.75).Dump(), "36.75");
  EXPECT_EQ(Json(0.1).Dump(), "0.1");
  EXPECT_EQ(Json(-2.5e-7).Dump(), "-2.5e-7");
}

TEST(Json, AsIntSaturatesDoublesOutOfRange) {
  // A peer's JSON may say 1e300; the plain cast would be undefined.
  EXPECT_EQ(Json(1e300).as_int(), INT64_MAX);
  EXPECT_EQ(Json(-3.26e48).as_int(), INT64_MIN);
  EXPECT_EQ(Json(9223372036854775807.0).as_int(), INT64_MAX);
  EXPECT_EQ(Json(std::nan("")).as_int(), 0);
  EXPECT_EQ(Json(-2.9).as_int(), -2);
}

TEST(Json, NonFiniteDoublesBecomeNull) { EXPECT_EQ(Json(1.0 / 0.0).Dump(), "null"); }

TEST(Json, ParseRoundTripsEveryType) {
  const std::string text =
      R"({"a":[1,2.5,"s",true,false,null,{"n":{}}],"big":9223372036854775807,"neg":-3})";
  StatusOr<Json> j = Json::Parse(text);
  ASSERT_TRUE(j.ok()) << j.status().ToString();
  EXPECT_EQ(j->Dump(), text);
  EXPECT_TRUE(j->find("big")->is_int());
  EXPECT_EQ(j->find("big")->as_int(), INT64_MAX);
}

TEST(Json, HugeUnsignedBecomesDouble) {
  StatusOr<Json> j = Json::Parse("18446744073709551615");
  ASSERT_TRUE(j.ok());
  EXPECT_TRUE(j->is_double());
}

TEST(Json, ParseRejectsGarbageWithAClearMessage) {
  for (const char* bad : {"", "{", "[1,]", "{\"a\" 1}", "nul", "{} x", "\"\\uZZZZ\""}) {
    StatusOr<Json> j = Json::Parse(bad);
    EXPECT_FALSE(j.ok()) << bad;
    EXPECT_EQ(j.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(j.status().message().find("JSON"), std::string::npos);
  }
}

TEST(Json, DeepNestingIsAnErrorNotAStackOverflow) {
  std::string deep(100000, '[');
  StatusOr<Json> j = Json::Parse(deep);
  ASSERT_FALSE(j.ok());
  EXPECT_NE(j.status().message().find("deeper"), std::string::npos);
  std::string ok_depth = std::string(500, '[') + std::string(500, ']');
  EXPECT_TRUE(Json::Parse(ok_depth).ok());
}

TEST(Json, InvalidUtf8IsRejected) { EXPECT_FALSE(Json::Parse("\"\xff\xfe\"").ok()); }

TEST(Json, TruthinessFollowsPython) {
  EXPECT_FALSE(Json().truthy());
  EXPECT_FALSE(Json(0).truthy());
  EXPECT_FALSE(Json(0.0).truthy());
  EXPECT_FALSE(Json("").truthy());
  EXPECT_FALSE(Json::MakeArray().truthy());
  EXPECT_FALSE(Json::MakeObject().truthy());
  EXPECT_TRUE(Json(-1).truthy());
  EXPECT_TRUE(Json("x").truthy());
  EXPECT_TRUE(Json::MakeObject({{"a", Json()}}).truthy());
}

TEST(Json, WithoutNullsFiltersRecursivelyLikeFilterNull) {
  Json j = Json::MakeObject(
      {{"a", Json()},
       {"b", Json::MakeArray({Json(1), Json(), Json::MakeObject({{"c", Json()}, {"d", 2}})})}});
  EXPECT_EQ(j.WithoutNulls().Dump(), R"({"b":[1,{"d":2}]})");
}

TEST(Json, EqualityIgnoresObjectOrderAndNumberKind) {
  EXPECT_EQ(Json::MakeObject({{"a", 1}, {"b", 2}}), Json::MakeObject({{"b", 2}, {"a", 1}}));
  EXPECT_EQ(Json(2), Json(2.0));
  EXPECT_NE(Json("2"), Json(2));
}

TEST(Json, EraseAndFind) {
  Json j = Json::MakeObject({{"a", 1}, {"b", 2}});
  EXPECT_TRUE(j.erase("a"));
  EXPECT_FALSE(j.erase("a"));
  EXPECT_EQ(j.find("a"), nullptr);
  EXPECT_EQ(j.size(), 1u);
  EXPECT_EQ(Json(5).find("x"), nullptr);
}

TEST(Json, StringsAreEscaped) { EXPECT_EQ(Json("a\"b\\c\n\x01").Dump(), R"("a\"b\\c\n\u0001")"); }

}  // namespace
}  // namespace prusaconnect
