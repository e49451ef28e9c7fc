// Copyright 2026 The libprusaconnect Authors.
//
// Payload rendering against the exact JSON the reference SDK produces
// (sdk-spec §4, §5.1).
#include "protocol/render.h"

#include "gtest/gtest.h"

namespace prusaconnect::internal {
namespace {

TEST(RenderEvent, AcceptedHasTopLevelIdAndState) {
  EventFields f;
  f.command_id = 42;
  f.state = State::BUSY;
  EXPECT_EQ(RenderEvent(Event::ACCEPTED, Source::CONNECT, f, Json()),
            R"({"event":"ACCEPTED","source":"CONNECT","data":{},"command_id":42,"state":"BUSY"})");
}

TEST(RenderEvent, RejectedAnotherCommandCarriesActualIdInData) {
  EventFields f;
  f.command_id = 44;
  f.reason = "Another command is running";
  f.state = State::BUSY;
  EXPECT_EQ(RenderEvent(Event::REJECTED, Source::CONNECT, f,
                        Json::MakeObject({{"actual_command_id", 43}})),
            R"({"event":"REJECTED","source":"CONNECT","data":{"actual_command_id":43},)"
            R"("command_id":44,"reason":"Another command is running","state":"BUSY"})");
}

TEST(RenderEvent, TopLevelFieldsInSdkOrderAndNullsFiltered) {
  EventFields f;
  f.command_id = 42;
  f.job_id = 12;
  f.transfer_id = 1637202714;
  f.reason = "reason";
  f.dialog_id = 33;
  f.state = State::FINISHED;
  EXPECT_EQ(RenderEvent(Event::STATE_CHANGED, Source::WUI, f,
                        Json::MakeObject({{"data", "data"}, {"null", Json()}})),
            R"({"event":"STATE_CHANGED","source":"WUI","data":{"data":"data"},"command_id":42,)"
            R"("job_id":12,"transfer_id":1637202714,"reason":"reason","dialog_id":33,)"
            R"("state":"FINISHED"})");
}

TEST(RenderEvent, ZeroIdsAreOmittedAsInTheSdk) {
  EventFields f;
  f.command_id = 0;
  f.job_id = 0;
  EXPECT_EQ(RenderEvent(Event::INFO, Source::WUI, f, Json()),
            R"({"event":"INFO","source":"WUI","data":{}})");
}

TEST(RenderTelemetry, NullFieldsDroppedStateLast) {
  Json fields = Json::MakeObject({{"temp_nozzle", 1.0}, {"fan", Json()}});
  EXPECT_EQ(RenderTelemetry(fields, State::BUSY, std::nullopt, std::nullopt, true),
            R"({"temp_nozzle":1.0,"state":"BUSY"})");
}

TEST(RenderTelemetry, InjectsCommandAndJobId) {
  Json fields = Json::MakeObject({{"temp_nozzle", 200}});
  EXPECT_EQ(RenderTelemetry(fields, State::BUSY, 42, 5, true),
            R"({"temp_nozzle":200,"command_id":42,"job_id":5,"state":"BUSY"})");
  EXPECT_EQ(RenderTelemetry(Json::MakeObject(), State::BUSY, 42, std::nullopt, true),
            R"({"command_id":42,"state":"BUSY"})");
}

TEST(RenderTelemetry, UninitialisedPrinterSendsOnlyState) {
  Json fields = Json::MakeObject({{"temp_bed", 1}, {"temp_nozzle", 2}});
  EXPECT_EQ(RenderTelemetry(fields, State::BUSY, 42, 5, false), R"({"state":"BUSY"})");
}

TEST(RenderTelemetry, CallerStateKeyIsIgnored) {
  Json fields = Json::MakeObject({{"state", "PRINTING"}, {"axis_x", 3.1}});
  EXPECT_EQ(RenderTelemetry(fields, State::BUSY, std::nullopt, std::nullopt, true),
            R"({"axis_x":3.1,"state":"BUSY"})");
}

TEST(ParseCommandId, AcceptsWhatPythonIntAccepts) {
  EXPECT_EQ(ParseCommandId("42"), 42);
  EXPECT_EQ(ParseCommandId("  42 \t"), 42);
  EXPECT_EQ(ParseCommandId("+7"), 7);
  EXPECT_EQ(ParseCommandId("-3"), -3);
  EXPECT_EQ(ParseCommandId("1_000"), 1000);
  EXPECT_EQ(ParseCommandId("9223372036854775807"), INT64_MAX);
  EXPECT_EQ(ParseCommandId("-9223372036854775808"), INT64_MIN);
}

TEST(ParseCommandId, RejectsEverythingElse) {
  for (const char* bad : {"", " ", "abc", "4 2", "_1", "1_", "1__0", "0x10", "1.0", "+",
                          "9223372036854775808", "99999999999999999999999"}) {
    EXPECT_EQ(ParseCommandId(bad), std::nullopt) << bad;
  }
}

TEST(FormatSeconds, OneDecimalOnTheGrid) {
  EXPECT_EQ(FormatSeconds(24), "24.0");
  EXPECT_EQ(FormatSeconds(1700000000.19), "1700000000.1");
  EXPECT_EQ(FormatSeconds(0.3), "0.3");
}

TEST(BuildInfo, FreshPrinterMatchesTheSdk) {
  InfoInput in;
  in.type = PrinterType::I3MK3S;
  in.firmware = "3.9.0";
  in.sn = "SN1";
  in.fingerprint = "fp";
  EXPECT_EQ(BuildInfo(in).Dump(),
            R"({"type":1,"version":3,"subversion":1,"firmware":"3.9.0","sdk":"0.8.1",)"
            R"("network_info":{},"files":{"type":"DIR","name":"/","read_only":true,)"
            R"("children":[]},"sn":"SN1","fingerprint":"fp","mmu":{"enabled":false}})");
}

TEST(BuildInfo, MmuSlotsAndOptionalFields) {
  InfoInput in;
  in.type = PrinterType::I3MK3S;
  in.mmu_enabled = true;
  in.mmu_fw = "3.0.0";
  in.mmu_type = MMUType::MMU3;
  in.network_info.hostname = "a10";
  in.has_mbl = true;
  in.mbl = {0.1, -0.2};
  in.has_sheet_settings = true;
  in.sheet_settings = {{"Smooth", -0.5}};
  in.active_sheet = 0;
  in.api_key = "key";
  Json info = BuildInfo(in);
  EXPECT_EQ(info.find("mmu")->Dump(), R"({"enabled":true,"version":"3.0.0"})");
  EXPECT_EQ(info.find("slots")->as_int(), 5);
  EXPECT_EQ(info.find("network_info")->Dump(), R"({"hostname":"a10"})");
  EXPECT_EQ(info.find("mbl")->Dump(), "[0.1,-0.2]");
  EXPECT_EQ(info.find("sheet_settings")->Dump(), R"([{"name":"Smooth","z_offset":-0.5}])");
  EXPECT_EQ(info.find("active_sheet")->as_int(), 0);
  EXPECT_EQ(info.find("api_key")->as_string(), "key");
}

TEST(BuildInfo, NoMmuKeyWhenUnsupported) {
  InfoInput in;
  in.mmu_supported = false;
  Json info = BuildInfo(in);
  EXPECT_FALSE(info.contains("mmu"));
  EXPECT_FALSE(info.contains("slots"));
  EXPECT_FALSE(info.contains("type"));
}

TEST(BuildInfo, ExtraMembersDoNotOverrideSdkKeys) {
  InfoInput in;
  in.sn = "SN";
  in.extra = Json::MakeObject({{"sn", "other"}, {"storages", Json::MakeArray()}});
  Json info = BuildInfo(in);
  EXPECT_EQ(info.find("sn")->as_string(), "SN");
  EXPECT_TRUE(info.contains("storages"));
}

}  // namespace
}  // namespace prusaconnect::internal
