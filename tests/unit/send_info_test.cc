// Copyright 2026 The libprusaconnect Authors.
//
// The SEND_INFO answer written as text (Filesystem::AppendLegacyJson and
// the session's built-in SEND_INFO path) against the Json it replaces:
// byte for byte ToDictLegacy().Dump() and RenderEvent(INFO, get_info()).
#include <sys/stat.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "facade/printer_session.h"
#include "files/commands.h"
#include "files_test_util.h"
#include "gtest/gtest.h"
#include "protocol/render.h"
#include "protocol/session.h"
#include "prusaconnect/files.h"
#include "util/clock.h"

namespace prusaconnect {
namespace {

using testing_files::TempDir;
using testing_files::WriteText;

constexpr char kServer[] = "http://server:8000";

// The free space of a storage changes while the test runs (other processes
// write to /tmp): its digits are left out of comparisons.
std::string WithoutSpace(std::string text) {
  const std::string key = R"("free_space":)";
  for (size_t at = text.find(key); at != std::string::npos; at = text.find(key, at + 1)) {
    size_t end = at + key.size();
    while (end < text.size() && text[end] >= '0' && text[end] <= '9') ++end;
    text.replace(at + key.size(), end - at - key.size(), "N");
  }
  return text;
}

// Two storages with nested folders, an empty folder, names that need
// escaping or are not ASCII, and files of several sizes.
class SendInfoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    mkdir((usb_ / "a").c_str(), 0755);
    mkdir((usb_ / "a/deeper").c_str(), 0755);
    mkdir((usb_ / "empty").c_str(), 0755);
    WriteText(usb_ / "a/x.gcode", "G28\n");
    WriteText(usb_ / "a/deeper/y \\ back\\slash.gcode", std::string(1234, 'G'));
    WriteText(usb_ / "a/deeper/tab\there.bgcode", "x");
    WriteText(usb_ /
                  "ko\xc5\xbe\xc3\xad\xc4\x8d"
                  "ek.gcode",
              "G1\n");
    WriteText(usb_ / "notes.txt", "hello");
    WriteText(sd_ / "only.gcode", std::string(100, 'x'));
    fs_ = std::make_shared<Filesystem>(nullptr);
    ASSERT_TRUE(fs_->Attach(usb_.path(), "usb").ok());
    ASSERT_TRUE(fs_->Attach(sd_.path(), "sd").ok());
  }

  TempDir usb_, sd_;
  std::shared_ptr<Filesystem> fs_;
};

TEST_F(SendInfoTest, TreeTextIsTheDumpOfTheLegacyTree) {
  std::string text;
  fs_->AppendLegacyJson(&text);
  EXPECT_EQ(WithoutSpace(text), WithoutSpace(fs_->ToDictLegacy().Dump()));
  EXPECT_NE(text.find(R"("total_space":)"), std::string::npos) << text;
  EXPECT_NE(text.find(R"("name":"y \\ back\\slash.gcode")"), std::string::npos) << text;
  EXPECT_NE(text.find(R"("name":"tab\there.bgcode")"), std::string::npos) << text;
  // Appends to what is there.
  std::string prefixed = "x";
  fs_->AppendLegacyJson(&prefixed);
  EXPECT_EQ(WithoutSpace(prefixed), "x" + WithoutSpace(text));
}

TEST_F(SendInfoTest, EmptyFilesystemToo) {
  Filesystem none(nullptr);
  std::string text;
  none.AppendLegacyJson(&text);
  EXPECT_EQ(text, none.ToDictLegacy().Dump());
  EXPECT_EQ(text, R"({"type":"DIR","name":"/","read_only":true,"children":[]})");
}

// The session's answer to SEND_INFO command `id`, as it goes on the wire.
std::string SendInfoAnswer(internal::PrinterSession* s, internal::FakeClock* clock, int id) {
  auto drain = [&] {
    std::vector<std::string> events;
    for (;;) {
      int64_t wake = 0;
      std::optional<internal::Session::Outgoing> out = s->Next(clock->MonoMicros(), &wake);
      if (!out) return events;
      if (out->kind == internal::Session::Kind::kEvent) events.push_back(out->request.body);
      internal::HttpResponse ok;
      ok.status = 204;
      s->Complete(*out, ok, clock->MonoMicros());
    }
  };
  drain();
  s->telemetry(Json::MakeObject());
  int64_t wake = 0;
  std::optional<internal::Session::Outgoing> out = s->Next(clock->MonoMicros(), &wake);
  EXPECT_TRUE(out.has_value());
  if (!out) return "";
  internal::HttpResponse r;
  r.status = 200;
  r.headers = {{"content-type", "application/json"}, {"command-id", std::to_string(id)}};
  r.body = R"({"command":"SEND_INFO"})";
  s->Complete(*out, r, clock->MonoMicros());
  EXPECT_EQ(drain().size(), 1u);  // ACCEPTED
  s->RunCommand();
  std::vector<std::string> events = drain();
  EXPECT_EQ(events.size(), 1u);  // INFO
  return events.empty() ? "" : events.back();
}

TEST_F(SendInfoTest, BuiltinAnswerIsTheRenderedGetInfo) {
  internal::FakeClock clock;
  auto s = std::make_shared<internal::PrinterSession>(PrinterType::I3MK3S, "SN001", "fp",
                                                      PrinterOptions{}, &clock);
  s->set_connection(kServer, "token");
  s->set_info_extra(Json::MakeObject({{"extra_key", "v"}, {"gone", Json()}, {"files", "not me"}}));
  s->set_api_key("key");
  internal::InstallFileCommands(s.get(), fs_);
  std::string answer = SendInfoAnswer(s.get(), &clock, 42);
  EventFields f;
  f.command_id = 42;
  f.state = State::BUSY;
  EXPECT_EQ(WithoutSpace(answer),
            WithoutSpace(internal::RenderEvent(Event::INFO, Source::CONNECT, f, s->get_info())));
  EXPECT_NE(answer.find(R"("files":{"type":"DIR","name":"/")"), std::string::npos) << answer;
  EXPECT_NE(answer.find(R"("extra_key":"v")"), std::string::npos) << answer;
  // A second answer (the size hint is used) is the same.
  f.command_id = 43;
  EXPECT_EQ(WithoutSpace(SendInfoAnswer(s.get(), &clock, 43)),
            WithoutSpace(internal::RenderEvent(Event::INFO, Source::CONNECT, f, s->get_info())));
  // Without storages, and after the files provider is replaced.
  internal::InstallFileCommands(s.get(), nullptr);
  f.command_id = 44;
  EXPECT_EQ(SendInfoAnswer(s.get(), &clock, 44),
            internal::RenderEvent(Event::INFO, Source::CONNECT, f, s->get_info()));
  s->set_files_provider([] { return Json::MakeObject({{"custom", 1}, {"null", Json()}}); });
  std::string custom = SendInfoAnswer(s.get(), &clock, 45);
  EXPECT_NE(custom.find(R"("files":{"custom":1})"), std::string::npos) << custom;
}

}  // namespace
}  // namespace prusaconnect
