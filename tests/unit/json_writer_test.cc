// Copyright 2026 The libprusaconnect Authors.
//
// The compact Json representation and its own writer (util/json_writer.h)
// against oracles: RapidJSON's Writer (what Json::Dump used before) for the
// bytes, and the former Json-building renderers (copy through
// WithoutNulls(), set/erase, Dump) for the event and telemetry bodies.
// Random trees come from fixed seeds, so every run checks the same values.
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>

#include "gtest/gtest.h"
#include "protocol/render.h"
#include "prusaconnect/json.h"
#include "rapidjson/writer.h"
#include "util/json_writer.h"

namespace prusaconnect {
namespace {

using internal::AppendJson;

// ---------------------------------------------------------------- oracles

class StringOut {
 public:
  using Ch = char;
  explicit StringOut(std::string* out) : out_(out) {}
  void Put(char c) { out_->push_back(c); }
  void Flush() {}

 private:
  std::string* out_;
};

using RjWriter = rapidjson::Writer<StringOut, rapidjson::UTF8<>, rapidjson::UTF8<>,
                                   rapidjson::CrtAllocator, rapidjson::kWriteNanAndInfFlag>;

void RjWrite(const Json& v, RjWriter* w) {
  switch (v.type()) {
    case Json::Type::kNull:
      w->Null();
      break;
    case Json::Type::kBool:
      w->Bool(v.as_bool());
      break;
    case Json::Type::kInt:
      w->Int64(v.as_int());
      break;
    case Json::Type::kDouble:
      if (std::isfinite(v.as_double())) {
        w->Double(v.as_double());
      } else {
        w->Null();
      }
      break;
    case Json::Type::kString:
      w->String(v.as_string().data(), static_cast<rapidjson::SizeType>(v.as_string().size()));
      break;
    case Json::Type::kArray:
      w->StartArray();
      for (const Json& item : v.as_array()) RjWrite(item, w);
      w->EndArray();
      break;
    case Json::Type::kObject:
      w->StartObject();
      for (const Json::Member& m : v.as_object()) {
        w->Key(m.key.data(), static_cast<rapidjson::SizeType>(m.key.size()));
        RjWrite(m.value, w);
      }
      w->EndObject();
      break;
  }
}

std::string RapidJsonDump(const Json& v) {
  std::string out;
  StringOut os(&out);
  RjWriter w(os);
  RjWrite(v, &w);
  return out;
}

// The renderers as they were: build the payload as a Json, then Dump.
std::string OldRenderEvent(Event event, Source source, const EventFields& fields,
                           const Json& data) {
  Json payload = Json::MakeObject();
  payload.set("event", ToString(event));
  payload.set("source", ToString(source));
  payload.set("data", data.is_object() ? data.WithoutNulls() : Json::MakeObject());
  if (fields.command_id && *fields.command_id != 0) payload.set("command_id", *fields.command_id);
  if (fields.job_id && *fields.job_id != 0) payload.set("job_id", *fields.job_id);
  if (fields.transfer_id && *fields.transfer_id != 0) {
    payload.set("transfer_id", *fields.transfer_id);
  }
  if (fields.reason && !fields.reason->empty()) payload.set("reason", *fields.reason);
  if (fields.dialog_id && *fields.dialog_id != 0) payload.set("dialog_id", *fields.dialog_id);
  if (fields.state) payload.set("state", ToString(*fields.state));
  return RapidJsonDump(payload);
}

std::string OldRenderTelemetry(const Json& fields, State state, std::optional<int64_t> command_id,
                               std::optional<int64_t> job_id, bool initialised) {
  Json payload = Json::MakeObject();
  if (initialised) {
    payload = fields.is_object() ? fields.WithoutNulls() : Json::MakeObject();
    payload.erase("state");
    if (command_id) payload.set("command_id", *command_id);
    if (job_id && *job_id != 0) payload.set("job_id", *job_id);
  }
  payload.set("state", ToString(state));
  return RapidJsonDump(payload);
}

// ---------------------------------------------------------------- values

double RandomDouble(std::mt19937_64& rng) {
  switch (rng() % 6) {
    case 0: {  // any finite bit pattern
      for (;;) {
        uint64_t bits = rng();
        double d;
        std::memcpy(&d, &bits, sizeof d);
        if (std::isfinite(d)) return d;
      }
    }
    case 1:
      return static_cast<double>(static_cast<int64_t>(rng() % 2000001) - 1000000);
    case 2:
      return static_cast<double>(static_cast<int64_t>(rng() % 100001)) / 100.0;
    case 3:
      return std::ldexp(static_cast<double>(rng() % 1000), static_cast<int>(rng() % 200) - 100);
    case 4: {
      const double specials[] = {0.0,
                                 -0.0,
                                 1e21,
                                 1e22,
                                 1e-7,
                                 1e-6,
                                 123456789012345680.0,
                                 std::numeric_limits<double>::max(),
                                 std::numeric_limits<double>::min(),
                                 std::numeric_limits<double>::denorm_min(),
                                 std::numeric_limits<double>::infinity(),
                                 -std::numeric_limits<double>::infinity(),
                                 std::numeric_limits<double>::quiet_NaN()};
      return specials[rng() % (sizeof specials / sizeof specials[0])];
    }
    default:
      return std::uniform_real_distribution<double>(-1e6, 1e6)(rng);
  }
}

std::string RandomString(std::mt19937_64& rng) {
  std::string s;
  size_t n = rng() % 24;
  for (size_t i = 0; i < n; ++i) {
    switch (rng() % 4) {
      case 0:  // any byte, control characters and non-ASCII included
        s.push_back(static_cast<char>(rng() % 256));
        break;
      case 1:
        s.push_back("\"\\/\b\f\n\r\t\x7f"[rng() % 9]);
        break;
      default:
        s.push_back(static_cast<char>('a' + rng() % 26));
        break;
    }
  }
  return s;
}

Json RandomJson(std::mt19937_64& rng, int depth) {
  unsigned kind = static_cast<unsigned>(rng() % (depth > 0 ? 8 : 6));
  switch (kind) {
    case 0:
      return Json();
    case 1:
      return Json(rng() % 2 == 0);
    case 2: {
      const int64_t specials[] = {0, -1, 1, std::numeric_limits<int64_t>::min(),
                                  std::numeric_limits<int64_t>::max()};
      if (rng() % 4 == 0) return Json(specials[rng() % 5]);
      return Json(static_cast<int64_t>(rng()) >> (rng() % 64));
    }
    case 3:
      return Json(RandomDouble(rng));
    case 4:
    case 5:
      return Json(RandomString(rng));
    case 6: {
      Json a = Json::MakeArray();
      size_t n = rng() % 6;
      for (size_t i = 0; i < n; ++i) a.push_back(RandomJson(rng, depth - 1));
      return a;
    }
    default: {
      Json o = Json::MakeObject();
      size_t n = rng() % 6;
      const char* keys[] = {"state", "command_id", "job_id", "a", "temp_nozzle", "data"};
      for (size_t i = 0; i < n; ++i) {
        // Duplicate keys are possible through as_object(): keep them.
        std::string key = rng() % 3 == 0 ? RandomString(rng) : keys[rng() % 6];
        o.as_object().push_back(Json::Member{key, RandomJson(rng, depth - 1)});
      }
      return o;
    }
  }
}

// ---------------------------------------------------------------- tests

TEST(JsonWriter, DumpIsByteForByteRapidJsonWriter) {
  std::mt19937_64 rng(20261122);
  for (int i = 0; i < 3000; ++i) {
    Json v = Json::MakeArray({RandomJson(rng, 4), RandomJson(rng, 4), RandomJson(rng, 4)});
    ASSERT_EQ(v.Dump(), RapidJsonDump(v)) << "value " << i;
  }
}

TEST(JsonWriter, EveryByteOfAStringIsWrittenAsRapidJsonDoes) {
  std::string all;
  for (int c = 0; c < 256; ++c) all.push_back(static_cast<char>(c));
  EXPECT_EQ(Json(all).Dump(), RapidJsonDump(Json(all)));
  EXPECT_EQ(Json(std::string("\0x", 2)).Dump(), R"("\u0000x")");
  EXPECT_EQ(Json("\x1f\x7f/").Dump(), "\"\\u001F\x7f/\"");
}

TEST(JsonWriter, NumbersAsRapidJsonWrites) {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 20000; ++i) {
    Json d(RandomDouble(rng));
    ASSERT_EQ(d.Dump(), RapidJsonDump(d)) << d.as_double();
    Json n(static_cast<int64_t>(rng()) >> (rng() % 64));
    ASSERT_EQ(n.Dump(), RapidJsonDump(n));
  }
  EXPECT_EQ(Json(std::numeric_limits<int64_t>::min()).Dump(), "-9223372036854775808");
  EXPECT_EQ(Json(-0.0).Dump(), "-0.0");
  EXPECT_EQ(Json(1e21).Dump(), "1e21");
  EXPECT_EQ(Json(std::nan("")).Dump(), "null");
}

TEST(JsonWriter, SkippingNullsWhileWritingEqualsWithoutNulls) {
  std::mt19937_64 rng(99);
  for (int i = 0; i < 3000; ++i) {
    Json v = Json::MakeArray({RandomJson(rng, 4), Json(), RandomJson(rng, 4)});
    std::string direct;
    AppendJson(v, /*skip_nulls=*/true, &direct);
    ASSERT_EQ(direct, RapidJsonDump(v.WithoutNulls())) << "value " << i;
  }
  std::string null_root;
  AppendJson(Json(), true, &null_root);
  EXPECT_EQ(null_root, "null");
}

TEST(JsonWriter, AppendsToWhatIsThere) {
  std::string out = "x=";
  Json::MakeObject({{"a", 1}}).DumpTo(&out);
  internal::AppendJsonString("q\"", &out);
  internal::AppendJsonInt(-12, &out);
  EXPECT_EQ(out, R"(x={"a":1}"q\""-12)");
}

TEST(JsonWriter, RenderEventEqualsThePayloadObjectDumped) {
  std::mt19937_64 rng(5);
  for (int i = 0; i < 2000; ++i) {
    Json data = rng() % 5 == 0 ? RandomJson(rng, 3) : Json::MakeObject();
    if (data.is_object()) {
      for (int k = 0; k < 4; ++k) data.set(RandomString(rng), RandomJson(rng, 3));
    }
    EventFields f;
    auto maybe_id = [&rng]() -> std::optional<int64_t> {
      switch (rng() % 3) {
        case 0:
          return std::nullopt;
        case 1:
          return 0;
        default:
          return static_cast<int64_t>(rng()) >> (rng() % 64);
      }
    };
    f.command_id = maybe_id();
    f.job_id = maybe_id();
    f.transfer_id = maybe_id();
    f.dialog_id = maybe_id();
    if (rng() % 2 == 0) f.reason = RandomString(rng);
    if (rng() % 2 == 0) f.state = static_cast<State>(rng() % 9);
    auto event = static_cast<Event>(rng() % 10);
    auto source = static_cast<Source>(rng() % 5);
    ASSERT_EQ(internal::RenderEvent(event, source, f, data), OldRenderEvent(event, source, f, data))
        << "case " << i;
  }
}

TEST(JsonWriter, RenderTelemetryEqualsSetAndEraseOnACopy) {
  std::mt19937_64 rng(11);
  for (int i = 0; i < 3000; ++i) {
    Json fields = rng() % 8 == 0 ? RandomJson(rng, 2) : Json::MakeObject();
    if (fields.is_object()) {
      // Random members, with nulls and duplicated state / command_id /
      // job_id keys among them.
      size_t n = rng() % 8;
      for (size_t k = 0; k < n; ++k) {
        const char* keys[] = {"state", "command_id", "job_id", "temp_bed", "progress"};
        fields.as_object().push_back(
            Json::Member{keys[rng() % 5], rng() % 3 == 0 ? Json() : RandomJson(rng, 2)});
      }
    }
    std::optional<int64_t> command_id;
    std::optional<int64_t> job_id;
    if (rng() % 2 == 0) command_id = static_cast<int64_t>(rng() % 3);
    if (rng() % 2 == 0) job_id = static_cast<int64_t>(rng() % 3);
    auto state = static_cast<State>(rng() % 9);
    bool initialised = rng() % 4 != 0;
    ASSERT_EQ(internal::RenderTelemetry(fields, state, command_id, job_id, initialised),
              OldRenderTelemetry(fields, state, command_id, job_id, initialised))
        << "case " << i << ": " << fields.Dump();
  }
}

// ---------------------------------------------------------------- values

TEST(JsonValue, IsCompact) {
  // A type tag and a union of the scalar / string / array / object.
  EXPECT_LE(sizeof(Json), sizeof(std::string) + 8);
}

TEST(JsonValue, CopiesAreDeepAndIndependent) {
  Json a = Json::MakeObject({{"s", "a long string that is not in the small buffer"},
                             {"l", Json::MakeArray({1, 2.5, "x", Json()})}});
  Json b = a;
  b["s"] = 3;
  b["l"].push_back(true);
  EXPECT_EQ(a.Dump(),
            R"({"s":"a long string that is not in the small buffer","l":[1,2.5,"x",null]})");
  EXPECT_EQ(b.Dump(), R"({"s":3,"l":[1,2.5,"x",null,true]})");
  Json c;
  c = a;
  EXPECT_EQ(c, a);
  const Json& same = c;  // through a reference: clang's -Wself-assign-overloaded
  c = same;              // self-assignment keeps the value
  EXPECT_EQ(c, a);
}

TEST(JsonValue, MovesLeaveAnEmptyValueOfTheSameType) {
  Json s("a long string that is not in the small buffer, moved");
  Json t = std::move(s);
  EXPECT_TRUE(s.is_string());  // NOLINT(bugprone-use-after-move): documented state
  EXPECT_EQ(t.as_string(), "a long string that is not in the small buffer, moved");
  Json a = Json::MakeArray({1, 2});
  Json b;
  b = std::move(a);
  EXPECT_TRUE(a.is_array());  // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(a.size(), 0u);    // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(b.Dump(), "[1,2]");
}

TEST(JsonValue, AssigningAPartOfItselfWorks) {
  Json j = Json::MakeObject(
      {{"inner", Json::MakeObject({{"x", "a string longer than fifteen"}})}, {"other", 1}});
  j = j["inner"];
  EXPECT_EQ(j.Dump(), R"({"x":"a string longer than fifteen"})");
  Json arr = Json::MakeArray({Json::MakeArray({Json("a string longer than fifteen")}), 2});
  arr = std::move(arr[0]);
  EXPECT_EQ(arr.Dump(), R"(["a string longer than fifteen"])");
  Json str = Json::MakeArray({"a string longer than fifteen"});
  str = str[0];
  EXPECT_EQ(str.Dump(), R"("a string longer than fifteen")");
}

TEST(JsonValue, ChangingTypeReleasesTheOldValue) {
  Json j = "a string longer than fifteen chars";
  j = Json::MakeArray({1});
  j = 2.5;
  j = Json::MakeObject({{"k", "v"}});
  j = nullptr;
  EXPECT_TRUE(j.is_null());
  j.push_back(1);  // a null becomes an array
  EXPECT_EQ(j.Dump(), "[1]");
  Json o;
  o["a"] = 1;  // a null becomes an object
  EXPECT_EQ(o.Dump(), R"({"a":1})");
}

TEST(JsonValue, AccessorsOfAnotherTypeAreEmpty) {
  const Json i(5);
  EXPECT_EQ(i.as_string(), "");
  EXPECT_TRUE(i.as_array().empty());
  EXPECT_TRUE(i.as_object().empty());
  EXPECT_FALSE(i.as_bool());
  EXPECT_EQ(Json("x").as_int(), 0);
  EXPECT_EQ(Json(true).as_int(), 1);
  EXPECT_EQ(Json(true).as_double(), 1.0);
  EXPECT_EQ(Json(2.9).as_int(), 2);
  Json m(5);
  m.as_array().push_back(1);  // the mutable accessor replaces the value
  EXPECT_EQ(m.Dump(), "[1]");
}

}  // namespace
}  // namespace prusaconnect
