// Copyright 2026 The libprusaconnect Authors.
//
// Unit tests of the OctoPrint adapter's parts. The parts that talk to
// OctoPrint run against the fake OctoPrint (fake_octoprint.py) on loopback.
#include <gtest/gtest.h>
#include <openssl/sha.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "config.h"
#include "gcode_translate.h"
#include "identity.h"
#include "octoprint_client.h"
#include "octoprint_storage.h"
#include "push_client.h"
#include "state_map.h"
#include "ws_loop.h"

extern char** environ;

namespace octoprint_adapter {
namespace {

namespace pc = prusaconnect;

std::string TempDir() {
  char tmpl[] = "/tmp/octo-unit-XXXXXX";
  return mkdtemp(tmpl);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// ---------------------------------------------------------------- state map
pc::Json Flags(std::initializer_list<const char*> set) {
  pc::Json f = pc::Json::MakeObject();
  for (const char* k : {"operational", "printing", "pausing", "paused", "cancelling", "resuming",
                        "finishing", "error", "ready", "closedOrError"}) {
    f.set(k, false);
  }
  for (const char* k : set) f.set(k, true);
  return f;
}

Snapshot WithFlags(std::initializer_list<const char*> set, const std::string& text = "") {
  Snapshot s;
  s.reachable = true;
  s.flags = Flags(set);
  s.state_text = text;
  return s;
}

// The table the OctoPrint plugin runs too (tests/octoprint/tables).
pc::Json LoadTable(const char* name) {
  std::ifstream in(std::string(OCTOPRINT_TABLES_DIR) + "/" + name);
  std::stringstream text;
  text << in.rdbuf();
  pc::StatusOr<pc::Json> j = pc::Json::Parse(text.str());
  EXPECT_TRUE(j.ok()) << name << ": " << j.status().message();
  const pc::Json* cases = j.ok() ? j->find("cases") : nullptr;
  EXPECT_TRUE(cases != nullptr && cases->is_array() && cases->size() > 0) << name;
  return cases != nullptr ? *cases : pc::Json::MakeArray();
}

std::string Text(const pc::Json& o, const char* key) {
  const pc::Json* v = o.find(key);
  return v != nullptr && v->is_string() ? v->as_string() : "";
}

TEST(StateMap, FlagsMapToConnectStates) {
  EXPECT_EQ(MapState(ClassifyOcto(WithFlags({"operational", "ready"}))), pc::State::IDLE);
  EXPECT_EQ(MapState(ClassifyOcto(WithFlags({"operational", "printing"}))), pc::State::PRINTING);
  EXPECT_EQ(MapState(ClassifyOcto(WithFlags({"operational", "printing", "finishing"}))),
            pc::State::PRINTING);
  EXPECT_EQ(MapState(ClassifyOcto(WithFlags({"operational", "printing", "pausing"}))),
            pc::State::PAUSED);
  EXPECT_EQ(MapState(ClassifyOcto(WithFlags({"operational", "paused"}))), pc::State::PAUSED);
  EXPECT_EQ(MapState(ClassifyOcto(WithFlags({"operational", "printing", "cancelling"}))),
            pc::State::BUSY);
  EXPECT_EQ(MapState(ClassifyOcto(WithFlags({"operational"}))), pc::State::BUSY);
  EXPECT_EQ(MapState(ClassifyOcto(WithFlags({"closedOrError", "error"}, "Error"))),
            pc::State::ERROR);
  EXPECT_EQ(ClassifyOcto(WithFlags({"closedOrError"}, "Offline")), OctoState::kOffline);
  Snapshot down;
  EXPECT_EQ(MapState(ClassifyOcto(down)), pc::State::ERROR);
}

TEST(StateMap, SharedTable) {
  // tests/octoprint/tables/states.json: the OctoPrint plugin runs it too.
  const pc::Json table = LoadTable("states.json");
  for (const pc::Json& c : table.as_array()) {
    Snapshot s;
    const pc::Json* reachable = c.find("reachable");
    s.reachable = reachable == nullptr || reachable->as_bool();
    s.state_text = Text(c, "text");
    std::vector<const char*> set;
    if (const pc::Json* flags = c.find("flags"); flags != nullptr) {
      for (const pc::Json& f : flags->as_array()) set.push_back(f.as_string().c_str());
    }
    for (const char* f : set) s.flags.set(f, true);
    std::string where = Text(c, "text") + " " + c.Dump();
    EXPECT_STREQ(OctoStateName(ClassifyOcto(s)), Text(c, "octo").c_str()) << where;
    EXPECT_STREQ(pc::ToString(MapState(ClassifyOcto(s))), Text(c, "connect").c_str()) << where;
  }
}

TEST(StateMap, StateTextIsUsedWhenFlagsAreMissing) {
  Snapshot s;
  s.reachable = true;
  for (auto [text, want] : std::initializer_list<std::pair<const char*, OctoState>>{
           {"Offline", OctoState::kOffline},
           {"Offline after error", OctoState::kError},
           {"Opening serial connection", OctoState::kConnecting},
           {"Printing from SD", OctoState::kPrinting},
           {"Paused", OctoState::kPaused},
           {"Cancelling", OctoState::kCancelling},
           {"Operational", OctoState::kOperational},
           {"Sending file to SD", OctoState::kBusy},
           {"", OctoState::kOffline}}) {
    s.state_text = text;
    EXPECT_EQ(ClassifyOcto(s), want) << text;
  }
}

TEST(StateMap, RestAnswersFillTheSnapshotAndTelemetry) {
  Snapshot s;
  pc::Json printer = *pc::Json::Parse(
      R"({"temperature":{"tool0":{"actual":214.8,"target":215.0},"bed":{"actual":59.9,"target":60}},
          "state":{"text":"Printing","error":"","flags":{"operational":true,"printing":true}}})");
  pc::Json job = *pc::Json::Parse(
      R"({"job":{"file":{"name":"b.gcode","path":"p/b.gcode","origin":"local","size":10,"date":5},
          "estimatedPrintTime":100.0,"filament":{"tool0":{"length":810.4,"volume":5.3}}},
          "progress":{"completion":22.98,"printTime":276,"printTimeLeft":912},"state":"Printing"})");
  ApplyRest(printer, job, &s);
  EXPECT_EQ(ClassifyOcto(s), OctoState::kPrinting);
  EXPECT_EQ(s.file_path, "p/b.gcode");
  pc::Telemetry t = BuildTelemetry(s, true);
  EXPECT_EQ(t.temp_nozzle, 214.8);
  EXPECT_EQ(t.target_bed, 60.0);
  EXPECT_EQ(t.progress, 22);
  EXPECT_EQ(t.time_printing, 276);
  EXPECT_EQ(t.time_remaining, 912);
  // Idle: no job fields.
  pc::Telemetry idle = BuildTelemetry(s, false);
  EXPECT_FALSE(idle.progress.has_value());
  EXPECT_FALSE(idle.time_remaining.has_value());
  // 409 from /api/printer: the state text of /api/job, no temperatures.
  ApplyRest(pc::Json(), *pc::Json::Parse(R"({"state":"Offline","job":{},"progress":{}})"), &s);
  EXPECT_EQ(ClassifyOcto(s), OctoState::kOffline);
  EXPECT_FALSE(s.temp_nozzle.has_value());
}

TEST(StateMap, PushCurrentKeepsOldTemperaturesWhenTempsIsEmpty) {
  Snapshot s;
  ApplyCurrent(*pc::Json::Parse(R"({"state":{"text":"Operational","flags":{"operational":true,
      "ready":true}},"temps":[{"time":1,"tool0":{"actual":20,"target":0}},
      {"time":2,"tool0":{"actual":21,"target":0}}],"currentZ":0.6})"),
               &s);
  EXPECT_EQ(s.temp_nozzle, 21.0);
  EXPECT_EQ(s.current_z, 0.6);
  ApplyCurrent(*pc::Json::Parse(R"({"temps":[],"currentZ":null})"), &s);
  EXPECT_EQ(s.temp_nozzle, 21.0);
  EXPECT_EQ(ClassifyOcto(s), OctoState::kOperational);
  ApplyCurrent(pc::Json("garbage"), &s);  // ignored
  EXPECT_EQ(s.temp_nozzle, 21.0);
}

TEST(StateMap, ZIsSentOnlyWhileCurrent) {
  // Issue #16: a stale Z (OctoPrint gone, the previous job's) must not be
  // sent. OctoPrint's currentZ is null after select / start / cancel.
  Snapshot s;
  ApplyCurrent(*pc::Json::Parse(R"({"currentZ":0.6})"), &s);
  EXPECT_EQ(BuildTelemetry(s, true).axis_z, 0.6);
  ApplyCurrent(*pc::Json::Parse(R"({"currentZ":null})"), &s);
  EXPECT_FALSE(BuildTelemetry(s, true).axis_z.has_value());
  // An M114 answer (PositionUpdate) fills in while currentZ is unknown.
  s.position_z = 12.5;
  EXPECT_EQ(BuildTelemetry(s, false).axis_z, 12.5);
  ApplyCurrent(*pc::Json::Parse(R"({"currentZ":0.2})"), &s);
  EXPECT_EQ(BuildTelemetry(s, false).axis_z, 0.2);
  // A `current` without currentZ changes nothing.
  ApplyCurrent(*pc::Json::Parse(R"({"state":{"text":"Printing"}})"), &s);
  EXPECT_EQ(BuildTelemetry(s, false).axis_z, 0.2);
  s.temp_nozzle = 200;
  ForgetLiveValues(&s);
  pc::Telemetry t = BuildTelemetry(s, true);
  EXPECT_FALSE(t.axis_z.has_value());
  EXPECT_FALSE(t.temp_nozzle.has_value());
}

TEST(StateMap, FormatDurationMatchesGcodeMetadata) {
  EXPECT_EQ(FormatDuration(3723), "1h 2m 3s");
  EXPECT_EQ(FormatDuration(59), "59s");
  EXPECT_EQ(FormatDuration(90061), "1d 1h 1m 1s");
  EXPECT_EQ(FormatDuration(-5), "0s");
}

// ---------------------------------------------------------------- G-code
TEST(GcodeTranslate, PrusaCommandsBecomeMarlinOnes) {
  GcodeTranslation t = TranslateGcode("G80\nG28 W X\nM220 S90 ; comment\n\nM862.3 P \"MK3S\"");
  ASSERT_TRUE(t.ok);
  EXPECT_EQ(t.lines, (std::vector<std::string>{"G29", "G28 X", "M220 S90"}));
  GcodeTranslation escaped = TranslateGcode("M104 S200\\nM140 S60");
  EXPECT_EQ(escaped.lines, (std::vector<std::string>{"M104 S200", "M140 S60"}));
}

TEST(GcodeTranslate, SharedTable) {
  const pc::Json table = LoadTable("gcode.json");
  for (const pc::Json& c : table.as_array()) {
    GcodeTranslation t = TranslateGcode(Text(c, "gcode"));
    if (const pc::Json* lines = c.find("lines"); lines != nullptr) {
      std::vector<std::string> want;
      for (const pc::Json& l : lines->as_array()) want.push_back(l.as_string());
      EXPECT_TRUE(t.ok) << Text(c, "gcode") << ": " << t.reason;
      EXPECT_EQ(t.lines, want) << Text(c, "gcode");
    } else {
      EXPECT_FALSE(t.ok) << Text(c, "gcode");
      EXPECT_TRUE(t.lines.empty()) << Text(c, "gcode");
      EXPECT_NE(t.reason.find(Text(c, "refused")), std::string::npos) << t.reason;
    }
  }
}

TEST(GcodeTranslate, CommandsWithoutMarlinEquivalentAreRefusedWhole) {
  for (const char* g : {"M701", "G28\nM702 ", "M486 S3", "PRUSA Fir", "hello"}) {
    GcodeTranslation t = TranslateGcode(g);
    EXPECT_FALSE(t.ok) << g;
    EXPECT_TRUE(t.lines.empty()) << g;
    EXPECT_FALSE(t.reason.empty()) << g;
  }
  EXPECT_TRUE(TranslateGcode("; only a comment").lines.empty());
}

// ---------------------------------------------------------------- config
TEST(Config, FileThenFlagsWithDefaults) {
  std::string dir = TempDir();
  std::string path = dir + "/a.conf";
  std::ofstream(path) << "# comment\noctoprint_api_key = FROMFILE\nidle_interval_ms=5000\n"
                         "push_socket = no\nprinter_type = I3MK3S\n";
  const char* argv[] = {
      "x", "--config", path.c_str(), "--idle-interval-ms", "3000", "--server=http://127.0.0.1:1"};
  Config c;
  ASSERT_TRUE(ParseCommandLine(6, const_cast<char**>(argv), &c).ok());
  EXPECT_EQ(c.octoprint_api_key, "FROMFILE");
  EXPECT_EQ(c.idle_interval_ms, 3000);
  EXPECT_FALSE(c.push_socket);
  EXPECT_EQ(c.connect_server, "http://127.0.0.1:1");
  EXPECT_EQ(c.printer_type, "I3MK3S");
  EXPECT_EQ(c.octoprint_url, "http://127.0.0.1:5000");  // default
  EXPECT_TRUE(Validate(c).ok());
}

TEST(Config, BadInputIsRefusedWithAMessage) {
  std::string dir = TempDir();
  std::string path = dir + "/b.conf";
  std::ofstream(path) << "octoprint_url\n";
  Config c;
  pc::Status s = LoadConfigFile(path, &c);
  EXPECT_EQ(s.code(), pc::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find(":1:"), std::string::npos);
  std::ofstream(path) << "idle_interval_ms = soon\n";
  EXPECT_FALSE(LoadConfigFile(path, &c).ok());
  std::ofstream(path) << "colour = blue\n";
  EXPECT_NE(LoadConfigFile(path, &c).message().find("unknown setting"), std::string::npos);
  EXPECT_EQ(LoadConfigFile(dir + "/missing", &c).code(), pc::StatusCode::kNotFound);
  Config v;
  EXPECT_NE(Validate(v).message().find("API key"), std::string::npos);
  v.octoprint_api_key = "k";
  v.printer_type = "MK9";
  EXPECT_FALSE(Validate(v).ok());
  v.printer_type = "I3MK3";
  v.octoprint_url = "ftp://x";
  EXPECT_FALSE(Validate(v).ok());
  const char* argv[] = {"x", "--config", "/dev/null", "--api-key"};
  Config f;
  EXPECT_FALSE(ParseCommandLine(4, const_cast<char**>(argv), &f).ok());
}

// ---------------------------------------------------------------- identity
TEST(Identity, SerialOrderPrusaSerialThenUuid) {
  EXPECT_EQ(SerialFromFirmware(*pc::Json::Parse(R"({"SN":"CZPX1234X004XK01234","UUID":
      "cede2a2f-41a2-4748-9b12-c55c62f367ff"})"))
                .source,
            "prusa-serial");
  Identity u =
      SerialFromFirmware(*pc::Json::Parse(R"({"UUID":"CEDE2A2F-41A2-4748-9B12-C55C62F367FF"})"));
  EXPECT_EQ(u.serial, "cede2a2f-41a2-4748-9b12-c55c62f367ff");
  EXPECT_EQ(u.source, "m115-uuid");
  EXPECT_TRUE(
      SerialFromFirmware(*pc::Json::Parse(R"({"UUID":"00000000-0000-0000-0000-000000000000"})"))
          .serial.empty());
  EXPECT_TRUE(SerialFromFirmware(*pc::Json::Parse(R"({"UUID":"not-a-uuid"})")).serial.empty());
  EXPECT_TRUE(SerialFromFirmware(pc::Json()).serial.empty());
}

TEST(Identity, SharedTable) {
  const pc::Json table = LoadTable("identity.json");
  for (const pc::Json& c : table.as_array()) {
    const pc::Json* m115 = c.find("m115");
    Identity id = SerialFromFirmware(m115 != nullptr ? *m115 : pc::Json());
    EXPECT_EQ(id.serial, Text(c, "serial")) << Text(c, "name");
    EXPECT_EQ(id.source, Text(c, "source")) << Text(c, "name");
    EXPECT_EQ(id.from_printer(), !id.serial.empty()) << Text(c, "name");
  }
  EXPECT_FALSE((Identity{"OCTO-0011223344AA", "mac"}.from_printer()));
  EXPECT_FALSE((Identity{"x", "random"}.from_printer()));
}

TEST(OctoPrintClient, ErrorReasonsSharedTable) {
  // Issue #16: OctoPrint's generic Flask texts ("The requested URL was not
  // found on the server. If you entered the URL manually…") never reach
  // Connect; what was asked does.
  const pc::Json table = LoadTable("octoprint_errors.json");
  for (const pc::Json& c : table.as_array()) {
    const std::string name = Text(c, "name");
    pc::Status s = OctoPrintError(c.find("status")->as_int(), Text(c, "body"), Text(c, "method"),
                                  Text(c, "path"));
    EXPECT_STREQ(pc::StatusCodeName(s.code()), Text(c, "code").c_str()) << name;
    if (c.find("reason") != nullptr) {
      EXPECT_EQ(s.message(), Text(c, "reason")) << name;
    }
    if (c.find("contains") != nullptr) {
      EXPECT_NE(s.message().find(Text(c, "contains")), std::string::npos)
          << name << ": " << s.message();
    }
    EXPECT_EQ(s.message().find("If you entered the URL"), std::string::npos) << name;
    EXPECT_EQ(s.message().find('<'), std::string::npos) << name;
  }
}

TEST(Identity, MacAndRandomFallbacks) {
  std::string dir = TempDir();
  mkdir((dir + "/lo").c_str(), 0700);
  mkdir((dir + "/eth0").c_str(), 0700);
  std::ofstream(dir + "/lo/address") << "00:00:00:00:00:00\n";
  std::ofstream(dir + "/eth0/address") << "b8:27:eb:12:34:56\n";
  EXPECT_EQ(SerialFromMac(dir), "OCTO-B827EB123456");
  EXPECT_EQ(SerialFromMac(dir + "/none"), "");
  std::string a = RandomUuid(), b = RandomUuid();
  EXPECT_EQ(a.size(), 36u);
  EXPECT_NE(a, b);
  EXPECT_EQ(a[14], '4');
}

TEST(Identity, StateDirStoresAtomicallyWithPrivateModes) {
  std::string dir = TempDir() + "/state";
  StateDir sd(dir);
  ASSERT_TRUE(sd.Prepare().ok());
  EXPECT_FALSE(sd.LoadIdentity().has_value());
  ASSERT_TRUE(sd.SaveIdentity({"SN1", "mac"}).ok());
  ASSERT_TRUE(sd.SaveToken("tok").ok());
  EXPECT_EQ(sd.LoadIdentity()->serial, "SN1");
  EXPECT_EQ(sd.LoadToken(), "tok");
  struct stat st {};
  ASSERT_EQ(stat((dir + "/token").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_NE(access((dir + "/token.tmp").c_str(), F_OK), 0);
  ASSERT_TRUE(sd.SaveJob(7, "prints/a b.gcode").ok());
  EXPECT_EQ(sd.LoadJob("prints/a b.gcode"), 7);
  EXPECT_FALSE(sd.LoadJob("other.gcode").has_value());
  EXPECT_EQ(sd.LastJobId(), 7);
  // A job that ended is not resumed by a new print of the same file.
  ASSERT_TRUE(sd.EndJob().ok());
  EXPECT_FALSE(sd.LoadJob("prints/a b.gcode").has_value());
  EXPECT_EQ(sd.LastJobId(), 7);
  ASSERT_TRUE(sd.SaveJob(7, "prints/a b.gcode").ok());
  ASSERT_TRUE(sd.Reset().ok());
  EXPECT_EQ(sd.LoadToken(), "");
  EXPECT_FALSE(sd.LoadIdentity().has_value());
  // Issue #16: the same printer comes back after a reset (same firmware
  // UUID), so job ids go on from the last one; the job in progress is gone.
  EXPECT_EQ(sd.LastJobId(), 7);
  EXPECT_FALSE(sd.LoadJob("prints/a b.gcode").has_value());
  EXPECT_FALSE(sd.LoadJob("").has_value());
  std::ofstream(dir + "/file") << "x";
  EXPECT_FALSE(StateDir(dir + "/file").Prepare().ok());
}

// ---------------------------------------------------------------- websocket codec
TEST(PushClient, ParseUrl) {
  std::string host, base;
  int port = 0;
  ASSERT_TRUE(PushClient::ParseUrl("http://octopi.local:5000/", &host, &port, &base));
  EXPECT_EQ(host, "octopi.local");
  EXPECT_EQ(port, 5000);
  EXPECT_EQ(base, "");
  ASSERT_TRUE(PushClient::ParseUrl("http://10.0.0.2/octoprint", &host, &port, &base));
  EXPECT_EQ(port, 80);
  EXPECT_EQ(base, "/octoprint");
  ASSERT_TRUE(PushClient::ParseUrl("http://[::1]:5000", &host, &port, &base));
  EXPECT_EQ(host, "::1");
  EXPECT_FALSE(PushClient::ParseUrl("https://x", &host, &port, &base));
}

TEST(OctoPrintClient, PathsArePercentEncodedPerComponent) {
  EXPECT_EQ(OctoPrintClient::FilePath("a b/c#?.gcode"), "/api/files/local/a%20b/c%23%3F.gcode");
  EXPECT_EQ(Base64Encode("ab"), "YWI=");
  EXPECT_EQ(Base64Encode("abc"), "YWJj");
  EXPECT_EQ(Base64Encode("a"), "YQ==");
}

// ---------------------------------------------------------------- against the fake
class FakeOctoPrintTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = TempDir();
    std::string port_file = dir_ + "/port";
    std::string script = FAKE_OCTOPRINT_SCRIPT;
    const char* argv[] = {"/usr/bin/python3", script.c_str(), "--port", "0",    "--port-file",
                          port_file.c_str(),  "--api-key",    "KEY",    nullptr};
    ASSERT_EQ(posix_spawn(&pid_, argv[0], nullptr, nullptr, const_cast<char**>(argv), environ), 0);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (ReadFile(port_file).empty() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    port_ = std::atoi(ReadFile(port_file).c_str());
    ASSERT_GT(port_, 0);
    url_ = "http://127.0.0.1:" + std::to_string(port_);
    client_ = std::make_shared<OctoPrintClient>(url_, "KEY");
  }
  void TearDown() override {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
    }
  }
  std::string dir_, url_;
  int port_ = 0;
  pid_t pid_ = -1;
  std::shared_ptr<OctoPrintClient> client_;
};

TEST_F(FakeOctoPrintTest, ErrorsSayWhatToFix) {
  OctoPrintClient bad(url_, "WRONG");
  pc::StatusOr<pc::Json> r = bad.Get("/api/version");
  EXPECT_EQ(r.status().code(), pc::StatusCode::kPermissionDenied);
  EXPECT_NE(r.status().message().find("octoprint_api_key"), std::string::npos);
  OctoPrintClient nobody("http://127.0.0.1:1", "KEY");
  r = nobody.Get("/api/version");
  EXPECT_EQ(r.status().code(), pc::StatusCode::kUnavailable);
  EXPECT_NE(r.status().message().find("OctoPrint unreachable"), std::string::npos);
  r = client_->Post("/api/job", pc::Json::MakeObject({{"command", "cancel"}}));
  EXPECT_EQ(r.status().code(), pc::StatusCode::kFailedPrecondition);
  EXPECT_EQ(r.status().message(), "Printer is neither printing nor paused");
  EXPECT_EQ(client_->Get("/api/files/local/none.gcode").status().code(), pc::StatusCode::kNotFound);
}

TEST_F(FakeOctoPrintTest, StoreFileUploadsIntoOctoPrintCreatingFolders) {
  OctoPrintStorage storage(client_, "local");
  std::string local = dir_ + "/staging.part";
  std::string content = "G28\nG1 X10 Y10\n";
  std::ofstream(local) << content;
  ASSERT_TRUE(storage.CanStoreFiles());
  pc::Status s = storage.StoreFile("incoming/deep/box.gcode", local);
  ASSERT_TRUE(s.ok()) << s.ToString();
  pc::StatusOr<pc::Json> e = client_->Get("/api/files/local/incoming/deep/box.gcode");
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(e->find("size")->as_int(), static_cast<int64_t>(content.size()));
  // OctoPrint's hash is the SHA-1 of what it received: the very bytes.
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(content.data()), content.size(), digest);
  std::string hex;
  for (unsigned char c : digest) {
    static const char kHex[] = "0123456789abcdef";
    hex += kHex[c >> 4];
    hex += kHex[c & 15];
  }
  EXPECT_EQ(e->find("hash")->as_string(), hex);
  // The tree shows it.
  pc::StatusOr<pc::Node> root = storage.List();
  ASSERT_TRUE(root.ok());
  ASSERT_EQ(root->children.size(), 1u);
  EXPECT_EQ(root->children[0].name, "incoming");
  EXPECT_TRUE(root->children[0].is_dir);
  EXPECT_EQ(root->children[0].children[0].children[0].name, "box.gcode");
  EXPECT_EQ(storage.Space().free_space, 1000000000);
  // OctoPrint refuses other types: the reason is kept.
  std::ofstream(dir_ + "/x.bin") << "x";
  pc::Status refused = storage.StoreFile("x.bin", dir_ + "/x.bin");
  EXPECT_EQ(refused.code(), pc::StatusCode::kInvalidArgument);
  EXPECT_NE(refused.message().find("invalid type"), std::string::npos);
  EXPECT_FALSE(storage.StoreFile("y.gcode", dir_ + "/missing").ok());
}

TEST_F(FakeOctoPrintTest, FolderCommandsAndMetadata) {
  OctoPrintStorage storage(client_, "local");
  ASSERT_TRUE(storage.CreateFolder("a/b").ok());
  ASSERT_TRUE(storage.CreateFolder("a/b").ok());  // exists: fine
  std::ofstream(dir_ + "/f.gcode") << "G28\n";
  ASSERT_TRUE(storage.StoreFile("a/f.gcode", dir_ + "/f.gcode").ok());
  EXPECT_EQ(storage.CreateFolder("a/f.gcode").code(), pc::StatusCode::kAlreadyExists);
  EXPECT_EQ(storage.DeleteFolder("a", false).code(), pc::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(storage.DeleteFile("a/f.gcode").ok());
  EXPECT_EQ(storage.DeleteFile("a/f.gcode").code(), pc::StatusCode::kNotFound);
  ASSERT_TRUE(storage.DeleteFolder("a", true).ok());
  pc::StatusOr<pc::Node> root = storage.List();
  ASSERT_TRUE(root.ok());
  EXPECT_TRUE(root->children.empty());
  // Metadata from an analysis entry.
  pc::GcodeMetadata m = OctoPrintStorage::MetadataFromEntry(*pc::Json::Parse(
      R"({"gcodeAnalysis":{"estimatedPrintTime":8811.2,"filament":{"tool0":{"length":810.4,
          "volume":5.36}}}})"));
  EXPECT_EQ(m.data.find("estimated printing time (normal mode)")->as_string(), "2h 26m 51s");
  EXPECT_EQ(m.data.find("filament used [mm]")->as_double(), 810.4);
  EXPECT_TRUE(OctoPrintStorage::MetadataFromEntry(pc::Json::MakeObject()).data.size() == 0);
}

TEST_F(FakeOctoPrintTest, PushClientLogsInFollowsCurrentAndProbesFirmware) {
  struct Sink : PushSink {
    std::mutex mu;
    int currents = 0;
    bool up = false;
    std::vector<std::string> events;
    void OnCurrent(const pc::Json&) override {
      std::lock_guard<std::mutex> l(mu);
      ++currents;
    }
    void OnEvent(const std::string& t, const pc::Json&) override {
      std::lock_guard<std::mutex> l(mu);
      events.push_back(t);
    }
    void OnSocketUp(bool u) override {
      std::lock_guard<std::mutex> l(mu);
      up = u;
    }
  } sink;
  PushClient push(url_, "KEY");
  push.SetSink(&sink);
  push.Start();
  pc::Json m115 = push.ProbeFirmware(*client_, 20000);
  ASSERT_TRUE(m115.is_object());
  EXPECT_EQ(m115.find("UUID")->as_string(), "cede2a2f-41a2-4748-9b12-c55c62f367ff");
  EXPECT_EQ(push.firmware_name(), "Marlin 2.1.2 (Geeetech A10)");
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  for (;;) {
    {
      std::lock_guard<std::mutex> l(sink.mu);
      if (sink.up && sink.currents >= 2) break;
    }
    ASSERT_LT(std::chrono::steady_clock::now(), deadline);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  push.Stop();
  std::lock_guard<std::mutex> l(sink.mu);
  EXPECT_FALSE(sink.up);
  EXPECT_NE(std::find(sink.events.begin(), sink.events.end(), "FirmwareData"), sink.events.end());
}

// The WebSocket loop (hostio::WsLoop, libwebsockets) against the fake
// OctoPrint's push socket: the upgrade, a message each way, OctoPrint's
// refusal of a stale session, a refused upgrade and a closed port.
class Recorder : public hostio::WsHandler {
 public:
  void OnOpen() override {
    std::lock_guard<std::mutex> l(mu);
    opened = true;
    cv.notify_all();
  }
  void OnMessage(const std::string& text) override {
    std::lock_guard<std::mutex> l(mu);
    messages.push_back(text);
    cv.notify_all();
  }
  void OnClosed(const std::string& why) override {
    std::lock_guard<std::mutex> l(mu);
    closed = why;
    ++closes;
    cv.notify_all();
  }
  template <typename Pred>
  bool Wait(Pred pred) {
    std::unique_lock<std::mutex> l(mu);
    return cv.wait_for(l, std::chrono::seconds(10), pred);
  }
  std::mutex mu;
  std::condition_variable cv;
  bool opened = false;
  std::vector<std::string> messages;
  std::string closed;
  int closes = 0;
};

TEST_F(FakeOctoPrintTest, WsLoopHandshakeMessagesAndRefusal) {
  hostio::WsLoop loop;
  ASSERT_TRUE(loop.Start().ok());
  // scripts/bootstrap installs lws's libuv plugin: the epoll loop.
  EXPECT_TRUE(loop.uses_libuv());
  Recorder r;
  hostio::WsTarget target;
  target.url = "ws://127.0.0.1:" + std::to_string(port_) + "/sockjs/websocket";
  pc::StatusOr<std::shared_ptr<hostio::WsConnection>> ws = loop.Connect(target, &r);
  ASSERT_TRUE(ws.ok());
  ASSERT_TRUE(r.Wait([&] { return !r.messages.empty(); }));
  EXPECT_TRUE(r.opened);
  EXPECT_NE(r.messages[0].find("\"connected\""), std::string::npos);
  ASSERT_TRUE((*ws)->Send(R"({"auth":"bridge:no-such-session"})").ok());
  ASSERT_TRUE(r.Wait([&] {
    for (const std::string& m : r.messages) {
      if (m.find("reauthRequired") != std::string::npos) return true;
    }
    return false;
  }));
  (*ws)->Close();
  ASSERT_TRUE(r.Wait([&] { return r.closes == 1; }));
  EXPECT_EQ(r.closed, "closed by us");
  EXPECT_EQ((*ws)->Send("x").code(), pc::StatusCode::kFailedPrecondition);

  Recorder refused;
  target.url = "ws://127.0.0.1:" + std::to_string(port_) + "/api/version";
  ASSERT_TRUE(loop.Connect(target, &refused).ok());
  ASSERT_TRUE(refused.Wait([&] { return refused.closes == 1; }));
  EXPECT_FALSE(refused.opened);
  Recorder nobody;
  target.url = "ws://127.0.0.1:1/";
  ASSERT_TRUE(loop.Connect(target, &nobody).ok());
  ASSERT_TRUE(nobody.Wait([&] { return nobody.closes == 1; }));
  EXPECT_FALSE(nobody.opened);
  EXPECT_EQ(loop.Connect({"ftp://x/", {}, true}, &nobody).status().code(),
            pc::StatusCode::kInvalidArgument);
  loop.Stop();
  EXPECT_EQ(r.closes, 1);  // exactly one OnClosed each
}

}  // namespace
}  // namespace octoprint_adapter
