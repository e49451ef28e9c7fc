// Tests for the Connect emulator: the printer API as the SDK uses it
// (sdk-spec.md §1, §4.2, §8.5/8.6, §14), fault injection, the control API
// and the status page.

#include "emulator/emulator.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "emulator/str_util.h"
#include "emulator/text_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rapidjson/document.h"
#include "test_client.h"

namespace prusaconnect::emulator {
namespace {

using testing::ClientResponse;
using testing::CurlClient;
using testing::CurlResult;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using testing::PrinterHeaders;
using testing::RawConnection;

constexpr absl::Duration kWait = absl::Seconds(10);
constexpr char kFp[] = "fp-0123456789abcdef";
constexpr char kToken[] = "TOKEN0123456789abcde";

rapidjson::Document Json(const std::string& text) {
  rapidjson::Document doc;
  EXPECT_TRUE(ParseJson(text, &doc)) << text;
  return doc;
}

class EmulatorTest : public ::testing::Test {
 protected:
  void SetUp() override { Start(EmulatorOptions()); }

  void Start(EmulatorOptions options) {
    emulator_.reset();
    options.clock = [this] { return absl::FromUnixNanos(now_ns_.load()); };
    emulator_ = std::make_unique<Emulator>(std::move(options));
    ASSERT_TRUE(emulator_->Start().ok());
  }

  void Advance(absl::Duration d) { now_ns_ += absl::ToInt64Nanoseconds(d); }

  std::string Url(std::string_view path) { return absl::StrCat(emulator_->url(), AV(path)); }

  CurlResult Post(std::string_view path, const std::string& body,
                  std::vector<std::string> headers = PrinterHeaders(kFp, kToken)) {
    return client_.Request("POST", Url(path), headers, body);
  }
  CurlResult Get(std::string_view path,
                 std::vector<std::string> headers = PrinterHeaders(kFp, kToken)) {
    return client_.Request("GET", Url(path), headers);
  }
  CurlResult Telemetry(const std::string& body = R"({"temp_nozzle":200.5,"state":"IDLE"})") {
    return Post("/p/telemetry", body);
  }
  CurlResult Event(const std::string& body) { return Post("/p/events", body); }

  // Registers kFp and returns the code.
  std::string Register() {
    CurlResult r = Post("/p/register",
                        absl::StrCat(R"({"sn":"SN001","fingerprint":")", kFp,
                                     R"(","printer_type":"1.3.1","firmware":"4.7.0"})"),
                        PrinterHeaders(kFp));
    EXPECT_EQ(r.response.status, 200) << r.response.body;
    return r.response.Header("Code").value_or("");
  }

  void Preregister() {
    prusaconnect::StatusOr<std::string> t =
        emulator_->PreregisterPrinter(kFp, "SN001", "1.3.1", kToken);
    ASSERT_TRUE(t.ok());
  }

  std::atomic<int64_t> now_ns_{absl::ToUnixNanos(absl::FromUnixSeconds(1700000000))};
  std::unique_ptr<Emulator> emulator_;
  CurlClient client_;
};

// ---- Registration ----

TEST_F(EmulatorTest, RegistrationIsPendingUntilApprovedThenYieldsAToken) {
  std::string code = Register();
  ASSERT_EQ(code.size(), 10u);
  EXPECT_EQ(code.find_first_not_of("0123456789abcdef"), std::string::npos);

  std::vector<std::string> poll = PrinterHeaders(kFp);
  poll.push_back("Code: " + code);
  EXPECT_EQ(Get("/p/register", poll).response.status, 202);
  EXPECT_EQ(emulator_->WaitForCode(kWait), code);
  std::vector<RegistrationCodeInfo> codes = emulator_->Codes();
  ASSERT_EQ(codes.size(), 1u);
  EXPECT_EQ(codes[0].sn, "SN001");
  EXPECT_EQ(codes[0].printer_type, "1.3.1");
  EXPECT_EQ(codes[0].firmware, "4.7.0");

  prusaconnect::StatusOr<std::string> token = emulator_->ApproveCode(code);
  ASSERT_TRUE(token.ok());
  EXPECT_EQ(token->size(), 20u);
  CurlResult approved = Get("/p/register", poll);
  EXPECT_EQ(approved.response.status, 200);
  EXPECT_EQ(approved.response.Header("Token"), *token);

  // Idempotent for 60 s after the first fetch, then gone.
  Advance(absl::Seconds(59));
  EXPECT_EQ(Get("/p/register", poll).response.Header("Token"), *token);
  Advance(absl::Seconds(2));
  EXPECT_EQ(Get("/p/register", poll).response.status, 404);

  std::optional<PrinterInfo> p = emulator_->GetPrinter(kFp);
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->token, *token);
  EXPECT_EQ(p->sn, "SN001");
  EXPECT_EQ(p->protocol_error_count, 0);
}

TEST_F(EmulatorTest, AutoApproveAnswersTheFirstPollWithAToken) {
  EmulatorOptions options;
  options.auto_approve = true;
  Start(options);
  std::string code = Register();
  std::vector<std::string> poll = PrinterHeaders(kFp);
  poll.push_back("Code: " + code);
  CurlResult r = Get("/p/register", poll);
  EXPECT_EQ(r.response.status, 200);
  ASSERT_TRUE(r.response.Header("Token").has_value());
  EXPECT_TRUE(emulator_->WaitForPrinter(kFp, kWait));
}

TEST_F(EmulatorTest, UnknownAndExpiredCodes) {
  std::vector<std::string> poll = PrinterHeaders(kFp);
  poll.push_back("Code: 0000000000");
  EXPECT_EQ(Get("/p/register", poll).response.status, 404);
  EXPECT_EQ(Get("/p/register", PrinterHeaders(kFp)).response.status, 400);  // No Code.

  std::string code = Register();
  poll.back() = "Code: " + code;
  Advance(absl::Minutes(30));
  EXPECT_EQ(Get("/p/register", poll).response.status, 410);
  EXPECT_FALSE(emulator_->ApproveCode(code).ok());
  EXPECT_EQ(emulator_->ApproveCode("nope").status().code(), prusaconnect::StatusCode::kNotFound);
}

TEST_F(EmulatorTest, RegistrationRejectsBadBodiesWithATextReason) {
  struct Case {
    std::string body;
    std::string reason;
  };
  const Case cases[] = {
      {R"({"sn":"a","fingerprint":"f","printer_type":"1.3.1"})", "Missing key: firmware"},
      {R"({"sn":"a","fingerprint":"f","printer_type":"None","firmware":null})",
       "Invalid printer_type: None"},
      {R"({"sn":"a","fingerprint":"f","printer_type":"1.3","firmware":"x"})",
       "Invalid printer_type"},
      {"not json", "Invalid JSON body"},
      {"[1,2]", "Invalid JSON body"},
  };
  for (const Case& c : cases) {
    CurlResult r = Post("/p/register", c.body, PrinterHeaders("f"));
    EXPECT_EQ(r.response.status, 400) << c.body;
    EXPECT_THAT(r.response.body, HasSubstr(c.reason)) << c.body;
  }
  // The Fingerprint header is mandatory.
  CurlResult r =
      Post("/p/register", R"({"sn":"a","fingerprint":"f","printer_type":"1.3.1","firmware":null})",
           {"User-Agent: Prusa-Connect-SDK-Printer/0.8.1"});
  EXPECT_EQ(r.response.status, 400);
  EXPECT_EQ(r.response.body, "Missing Fingerprint header");
  // firmware and sn may be null, as the SDK sends them.
  EXPECT_EQ(
      Post("/p/register", R"({"sn":null,"fingerprint":"f","printer_type":"1.3.1","firmware":null})",
           PrinterHeaders("f"))
          .response.status,
      200);
}

// ---- Telemetry and commands ----

TEST_F(EmulatorTest, TelemetryRequiresAKnownTokenAndMatchingFingerprint) {
  Preregister();
  CurlResult no_token = Post("/p/telemetry", "{}", PrinterHeaders(kFp));
  EXPECT_EQ(no_token.response.status, 403);
  EXPECT_EQ(no_token.response.body, "Invalid token");
  EXPECT_EQ(Post("/p/telemetry", "{}", PrinterHeaders(kFp, "WRONG")).response.status, 403);
  CurlResult wrong_fp = Post("/p/telemetry", "{}", PrinterHeaders("other", kToken));
  EXPECT_EQ(wrong_fp.response.status, 403);
  EXPECT_EQ(Post("/p/events", "{}", PrinterHeaders(kFp, "WRONG")).response.status, 403);
  EXPECT_EQ(emulator_->GetPrinter(kFp)->telemetry_count, 0);
}

TEST_F(EmulatorTest, TelemetryWithoutACommandGets204AndIsRecorded) {
  Preregister();
  CurlResult r = Telemetry();
  EXPECT_EQ(r.code, CURLE_OK);
  EXPECT_EQ(r.response.status, 204);
  ASSERT_TRUE(emulator_->WaitForTelemetry(kFp, 1, kWait));
  std::optional<PrinterInfo> p = emulator_->GetPrinter(kFp);
  EXPECT_EQ(p->last_telemetry, R"({"temp_nozzle":200.5,"state":"IDLE"})");
  EXPECT_EQ(p->last_telemetry_timestamp, "1700000000.1");
  EXPECT_EQ(p->telemetry_with_command_id, 0);
  EXPECT_EQ(p->protocol_error_count, 0) << ::testing::PrintToString(p->protocol_errors);

  Telemetry(R"({"command_id":42,"state":"BUSY"})");
  p = emulator_->GetPrinter(kFp);
  EXPECT_EQ(p->telemetry_count, 2);
  EXPECT_EQ(p->telemetry_with_command_id, 1);
  EXPECT_EQ(p->last_telemetry_command_id, 42);
  EXPECT_EQ(emulator_->GetTelemetry(kFp).size(), 2u);
}

TEST_F(EmulatorTest, QueuedJsonCommandIsDeliveredExactlyOnce) {
  Preregister();
  prusaconnect::StatusOr<int64_t> id1 = emulator_->QueueCommand(
      kFp, Command::Json("START_PRINT", R"(["/usb/a.gcode"])", R"({"path":"/usb/a.gcode"})"));
  prusaconnect::StatusOr<int64_t> id2 = emulator_->QueueCommand(kFp, Command::Json("SEND_INFO"));
  ASSERT_TRUE(id1.ok());
  ASSERT_TRUE(id2.ok());
  EXPECT_EQ(*id1, 1);
  EXPECT_EQ(*id2, 2);
  EXPECT_EQ(emulator_->GetPrinter(kFp)->queued_commands.size(), 2u);

  CurlResult first = Telemetry();
  EXPECT_EQ(first.response.status, 200);
  EXPECT_EQ(first.response.Header("Command-Id"), "1");
  EXPECT_EQ(first.response.Header("Content-Type"), "application/json");
  EXPECT_EQ(
      first.response.body,
      R"({"command":"START_PRINT","args":["/usb/a.gcode"],"kwargs":{"path":"/usb/a.gcode"}})");

  CurlResult second = Telemetry();
  EXPECT_EQ(second.response.Header("Command-Id"), "2");
  EXPECT_EQ(second.response.body, R"({"command":"SEND_INFO"})");
  EXPECT_EQ(Telemetry().response.status, 204);

  std::optional<PrinterInfo> p = emulator_->GetPrinter(kFp);
  EXPECT_THAT(p->queued_commands, IsEmpty());
  ASSERT_EQ(p->delivered_commands.size(), 2u);
  EXPECT_EQ(p->delivered_commands[0].command.summary, "START_PRINT");

  // Explicit ids (e.g. a repeated id) are used verbatim.
  EXPECT_EQ(*emulator_->QueueCommand(kFp, Command::Json("SEND_INFO", "", "", 1)), 1);
  EXPECT_EQ(Telemetry().response.Header("Command-Id"), "1");
  // Bad arguments are refused up front.
  EXPECT_FALSE(emulator_->QueueCommand(kFp, Command::Json("X", "{}")).ok());
  EXPECT_FALSE(emulator_->QueueCommand(kFp, Command::Json("X", "", "[]")).ok());
  EXPECT_EQ(emulator_->QueueCommand("nobody", Command::Json("X")).status().code(),
            prusaconnect::StatusCode::kNotFound);
}

TEST_F(EmulatorTest, GcodeCommandsUseTheGcodeContentTypeAndForce) {
  Preregister();
  int64_t plain = *emulator_->QueueCommand(kFp, Command::Gcode("G28"));
  int64_t forced = *emulator_->QueueCommand(kFp, Command::Gcode("M112\nM999", /*force=*/true));
  CurlResult a = Telemetry();
  EXPECT_EQ(a.response.Header("Command-Id"), std::to_string(plain));
  EXPECT_EQ(a.response.Header("Content-Type"), "text/x.gcode");
  EXPECT_FALSE(a.response.Header("Force").has_value());
  EXPECT_EQ(a.response.body, "G28");
  CurlResult b = Telemetry();
  EXPECT_EQ(b.response.Header("Command-Id"), std::to_string(forced));
  EXPECT_EQ(b.response.Header("Force"), "1");
  EXPECT_EQ(b.response.body, "M112\nM999");
}

TEST_F(EmulatorTest, RawResponsesAreSentVerbatim) {
  Preregister();
  RawResponse missing_id;
  missing_id.status = 200;
  missing_id.headers = {{"Content-Type", "application/json"}};
  missing_id.body = R"({"command":"SEND_INFO"})";
  EXPECT_EQ(*emulator_->QueueCommand(kFp, Command::Raw(missing_id)), 0);
  RawResponse html;
  html.headers = {{"Command-Id", "77"}, {"Content-Type", "text/html"}};
  html.body = "<html></html>";
  EXPECT_EQ(*emulator_->QueueCommand(kFp, Command::Raw(html)), 77);
  RawResponse huge;
  huge.headers = {{"Command-Id", "abc"}, {"Content-Type", "application/json"}};
  huge.body = std::string(10 * 1024 * 1024, '[');
  (void)emulator_->QueueCommand(kFp, Command::Raw(huge));

  CurlResult a = Telemetry();
  EXPECT_EQ(a.response.status, 200);
  EXPECT_FALSE(a.response.Header("Command-Id").has_value());
  CurlResult b = Telemetry();
  EXPECT_EQ(b.response.Header("Command-Id"), "77");
  EXPECT_EQ(b.response.Header("Content-Type"), "text/html");
  EXPECT_EQ(b.response.body, "<html></html>");
  CurlResult c = Telemetry();
  EXPECT_EQ(c.response.Header("Command-Id"), "abc");
  EXPECT_EQ(c.response.body.size(), 10u * 1024 * 1024);
}

// ---- Events ----

TEST_F(EmulatorTest, ValidEventsAreRecordedWithTimestampAndSequence) {
  Preregister();
  EXPECT_EQ(
      Event(R"({"event":"ACCEPTED","source":"CONNECT","data":{},"command_id":42,"state":"BUSY"})")
          .response.status,
      204);
  EXPECT_EQ(
      Event(R"({"event":"TRANSFER_STOPPED","source":"CONNECT","data":{"path":"/usb/a.gcode"},)"
            R"("job_id":5,"transfer_id":1637202714,"reason":"x","dialog_id":3,"state":"BUSY"})")
          .response.status,
      204);
  ASSERT_TRUE(emulator_->WaitForEvents(kFp, 2, kWait));
  std::vector<RecordedEvent> events = emulator_->GetEvents(kFp);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].event, "ACCEPTED");
  EXPECT_EQ(events[0].source, "CONNECT");
  EXPECT_EQ(events[0].command_id, 42);
  EXPECT_EQ(events[0].state, "BUSY");
  EXPECT_EQ(events[0].timestamp, "1700000000.1");
  EXPECT_LT(events[0].seq, events[1].seq);
  EXPECT_EQ(events[1].transfer_id, 1637202714);
  EXPECT_EQ(events[1].job_id, 5);
  EXPECT_EQ(events[1].reason, "x");
  EXPECT_EQ(emulator_->GetEvents(kFp, events[0].seq).size(), 1u);
  std::optional<RecordedEvent> stopped =
      emulator_->WaitForEvent(kFp, "TRANSFER_STOPPED", absl::Milliseconds(1));
  ASSERT_TRUE(stopped.has_value());
  EXPECT_THAT(stopped->json, HasSubstr("/usb/a.gcode"));
  EXPECT_EQ(emulator_->GetPrinter(kFp)->protocol_error_count, 0);
}

TEST_F(EmulatorTest, InvalidEventsGet400AndAreRecordedAsProtocolErrors) {
  Preregister();
  const char* bad[] = {
      "not json",
      "[]",
      R"({"event":"NOPE","source":"CONNECT","data":{}})",
      R"({"source":"CONNECT","data":{}})",
      R"({"event":"INFO","source":"SOMEWHERE","data":{}})",
      R"({"event":"INFO","source":"CONNECT"})",
      R"({"event":"INFO","source":"CONNECT","data":[]})",
      R"({"event":"INFO","source":"CONNECT","data":{},"command_id":"42"})",
      R"({"event":"INFO","source":"CONNECT","data":{},"job_id":1.5})",
      R"({"event":"INFO","source":"CONNECT","data":{},"state":"SLEEPING"})",
      R"({"event":"INFO","source":"CONNECT","data":{},"reason":7})",
  };
  for (const char* body : bad) {
    CurlResult r = Event(body);
    EXPECT_EQ(r.response.status, 400) << body;
    EXPECT_THAT(r.response.body, HasSubstr("Invalid event")) << body;
  }
  std::optional<PrinterInfo> p = emulator_->GetPrinter(kFp);
  EXPECT_EQ(p->event_count, 0);
  EXPECT_EQ(p->protocol_error_count, static_cast<int64_t>(std::size(bad)));
  EXPECT_EQ(emulator_->ProtocolErrors(kFp).size(), std::size(bad));
}

TEST_F(EmulatorTest, EventListIsCappedWithADropCounter) {
  EmulatorOptions options;
  options.max_events_per_printer = 3;
  Start(options);
  Preregister();
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(Event(absl::StrCat(R"({"event":"INFO","source":"WUI","data":{"i":)", i, "}}"))
                  .response.status,
              204);
  }
  std::optional<PrinterInfo> p = emulator_->GetPrinter(kFp);
  EXPECT_EQ(p->event_count, 5);
  EXPECT_EQ(p->events_dropped, 2);
  std::vector<RecordedEvent> events = emulator_->GetEvents(kFp);
  ASSERT_EQ(events.size(), 3u);
  EXPECT_THAT(events[0].json, HasSubstr(R"("i":2)"));
}

TEST_F(EmulatorTest, HeaderViolationsAreRecordedNotRejected) {
  Preregister();
  std::vector<std::string> headers = {
      absl::StrCat("Fingerprint: ", kFp), absl::StrCat("Token: ", kToken),
      "User-Agent: python-requests/2.28", "User-Agent-Printer: None",
      "Timestamp: 1700000000.15",         "Clock-Adjusted: 1",
      "Content-Type: application/json",
  };
  EXPECT_EQ(Post("/p/telemetry", R"({"state":"IDLE"})", headers).response.status, 204);
  std::optional<PrinterInfo> p = emulator_->GetPrinter(kFp);
  EXPECT_EQ(p->clock_adjusted_count, 1);
  EXPECT_EQ(p->protocol_error_count, 4);
  std::string all = ::testing::PrintToString(p->protocol_errors);
  EXPECT_THAT(all, HasSubstr("User-Agent does not start with"));
  EXPECT_THAT(all, HasSubstr("User-Agent-Printer"));
  EXPECT_THAT(all, HasSubstr("missing User-Agent-Version"));
  EXPECT_THAT(all, HasSubstr("0.1 s grid"));

  // Python float noise on the grid is fine.
  EXPECT_EQ(
      Post("/p/telemetry", R"({"state":"IDLE"})", PrinterHeaders(kFp, kToken, "1700000000.1000001"))
          .response.status,
      204);
  EXPECT_EQ(Post("/p/telemetry", R"({"state":"IDLE"})", PrinterHeaders(kFp, kToken, "24"))
                .response.status,
            204);
  EXPECT_EQ(emulator_->GetPrinter(kFp)->protocol_error_count, 4);
}

// ---- Cameras ----

TEST_F(EmulatorTest, CameraRegistrationAndSnapshots) {
  Preregister();
  const std::string registration =
      R"({"config":{"name":"cam","camera_id":"hWl_opkt6cRv","trigger_scheme":"THIRTY_SEC"},)"
      R"("options":{},"capabilities":["imaging"],"fingerprint":"camfp1234567890"})";
  CurlResult reg = Post("/p/camera", registration);
  EXPECT_EQ(reg.response.status, 200);
  std::optional<std::string> cam_token = reg.response.Header("Token");
  ASSERT_TRUE(cam_token.has_value());
  // Registering again keeps the token.
  EXPECT_EQ(Post("/p/camera", registration).response.Header("Token"), cam_token);

  std::vector<std::string> snapshot_headers = {"Fingerprint: camfp1234567890",
                                               "Token: " + *cam_token, "Timestamp: 1700000000.5",
                                               "Content-Type: image/jpg"};
  CurlResult put = client_.Request("PUT", Url("/c/snapshot?printer_uuid=u-1"), snapshot_headers,
                                   std::string("\xff\xd8jpegdata", 10));
  EXPECT_EQ(put.response.status, 204);
  std::vector<CameraInfo> cams = emulator_->Cameras();
  ASSERT_EQ(cams.size(), 1u);
  EXPECT_EQ(cams[0].printer_fingerprint, kFp);
  EXPECT_EQ(cams[0].registrations, 2);
  EXPECT_EQ(cams[0].snapshot_count, 1);
  EXPECT_EQ(cams[0].last_snapshot_size, 10u);
  EXPECT_EQ(cams[0].last_content_type, "image/jpg");
  EXPECT_EQ(cams[0].last_printer_uuid, "u-1");
  EXPECT_EQ(emulator_->GetPrinter(kFp)->protocol_error_count, 0);

  snapshot_headers[1] = "Token: nope";
  EXPECT_EQ(client_.Request("PUT", Url("/c/snapshot"), snapshot_headers, std::string("x"))
                .response.status,
            401);
  EXPECT_EQ(Post("/p/camera", registration, PrinterHeaders(kFp, "bad")).response.status, 403);
}

// ---- Files ----

TEST_F(EmulatorTest, ServesGeneratedFilesWithRangesToPrintersOnly) {
  Preregister();
  FileSpec spec;
  spec.team_id = 7;
  spec.hash = "abc123";
  spec.size = 300000;
  ASSERT_TRUE(emulator_->AddFile(spec).ok());

  CurlResult full = Get("/p/teams/7/files/abc123/raw");
  ASSERT_EQ(full.code, CURLE_OK);
  EXPECT_EQ(full.response.status, 200);
  EXPECT_EQ(full.response.Header("Content-Type"), "application/octet-stream");
  EXPECT_EQ(full.response.Header("Content-Length"), "300000");
  ASSERT_EQ(full.response.body.size(), 300000u);
  bool same = true;
  for (size_t i = 0; i < full.response.body.size(); ++i) {
    same = same && static_cast<uint8_t>(full.response.body[i]) == GeneratedFileByte(i);
  }
  EXPECT_TRUE(same);

  std::vector<std::string> ranged = PrinterHeaders(kFp, kToken);
  ranged.push_back("Range: bytes=299990-");
  CurlResult tail = Get("/p/teams/7/files/abc123/raw", ranged);
  EXPECT_EQ(tail.response.status, 206);
  EXPECT_EQ(tail.response.Header("Content-Range"), "bytes 299990-299999/300000");
  ASSERT_EQ(tail.response.body.size(), 10u);
  EXPECT_EQ(static_cast<uint8_t>(tail.response.body[0]), GeneratedFileByte(299990));

  EXPECT_EQ(Get("/p/teams/7/files/abc123/raw", PrinterHeaders(kFp)).response.status, 403);
  EXPECT_EQ(Get("/p/teams/7/files/unknown/raw").response.status, 404);
  EXPECT_EQ(Get("/p/teams/8/files/abc123/raw").response.status, 404);
  EXPECT_EQ(emulator_->Files()[0].requests, 2);
}

TEST_F(EmulatorTest, ServesRealFilesAndDownloadVariants) {
  Preregister();
  char name[] = "/tmp/emulator_test_XXXXXX";
  int fd = ::mkstemp(name);
  ASSERT_GE(fd, 0);
  ::close(fd);
  std::ofstream(name) << "G28\nG1 X10\n";
  FileSpec spec;
  spec.team_id = 1;
  spec.hash = "real";
  spec.path = name;
  spec.content_type = "text/x.gcode";
  ASSERT_TRUE(emulator_->AddFile(spec).ok());
  FileSpec html;
  html.team_id = 1;
  html.hash = "html";
  html.size = 5;
  html.content_type = "text/html";
  html.omit_content_length = true;
  ASSERT_TRUE(emulator_->AddFile(html).ok());
  FileSpec empty;
  empty.team_id = 1;
  empty.hash = "empty";
  ASSERT_TRUE(emulator_->AddFile(empty).ok());

  CurlResult real = Get("/p/teams/1/files/real/raw");
  EXPECT_EQ(real.response.body, "G28\nG1 X10\n");
  EXPECT_EQ(real.response.Header("Content-Type"), "text/x.gcode");
  CurlResult h = Get("/p/teams/1/files/html/raw");
  EXPECT_EQ(h.response.Header("Content-Type"), "text/html");
  EXPECT_FALSE(h.response.Header("Content-Length").has_value());
  EXPECT_EQ(h.response.body.size(), 5u);
  CurlResult e = Get("/p/teams/1/files/empty/raw");
  EXPECT_EQ(e.response.status, 200);
  EXPECT_EQ(e.response.Header("Content-Length"), "0");
  FileSpec missing;
  missing.team_id = 1;
  missing.hash = "missing";
  missing.path = "/nonexistent/file";
  EXPECT_FALSE(emulator_->AddFile(missing).ok());
  std::remove(name);
}

// ---- Faults ----

TEST_F(EmulatorTest, StatusFaultsApplyForTheirCountThenStop) {
  Preregister();
  FaultRule rule;
  rule.kind = FaultKind::kStatus;
  rule.status = 503;
  rule.body = "maintenance";
  rule.path_prefix = "/p/telemetry";
  rule.count = 2;
  emulator_->AddFault(rule);
  CurlResult a = Telemetry();
  EXPECT_EQ(a.response.status, 503);
  EXPECT_EQ(a.response.body, "maintenance");
  EXPECT_EQ(Telemetry().response.status, 503);
  EXPECT_EQ(Telemetry().response.status, 204);
  EXPECT_THAT(emulator_->Faults(), IsEmpty());
  // The faulted requests had no effect.
  EXPECT_EQ(emulator_->GetPrinter(kFp)->telemetry_count, 1);
}

TEST_F(EmulatorTest, FaultFiltersAndProcessFirst) {
  Preregister();
  ASSERT_TRUE(emulator_->PreregisterPrinter("other", "SN2", "1.3.1", "OTHERTOKEN").ok());
  FaultRule rule;
  rule.status = 500;
  rule.fingerprint = "other";
  rule.process_first = true;
  emulator_->AddFault(rule);
  EXPECT_EQ(Telemetry().response.status, 204);
  EXPECT_EQ(Post("/p/telemetry", R"({"state":"IDLE"})", PrinterHeaders("other", "OTHERTOKEN"))
                .response.status,
            500);
  // process_first: the telemetry counted although the answer was a 500.
  EXPECT_EQ(emulator_->GetPrinter("other")->telemetry_count, 1);
  // Faults never hit the control API.
  EXPECT_EQ(client_.Request("GET", Url("/api/printers")).response.status, 200);
  // A 200 without Token for the registration poll.
  emulator_->ClearFaults();
  FaultRule no_token;
  no_token.status = 200;
  no_token.path_prefix = "/p/register";
  no_token.method = "GET";
  emulator_->AddFault(no_token);
  std::vector<std::string> poll = PrinterHeaders(kFp);
  poll.push_back("Code: 0123456789");
  CurlResult r = Get("/p/register", poll);
  EXPECT_EQ(r.response.status, 200);
  EXPECT_FALSE(r.response.Header("Token").has_value());
}

TEST_F(EmulatorTest, DropAndResetFaultsCloseWithoutAnAnswer) {
  Preregister();
  FaultRule drop;
  drop.kind = FaultKind::kDrop;
  drop.count = 1;
  emulator_->AddFault(drop);
  auto c = RawConnection::Connect(emulator_->port());
  ASSERT_NE(c, nullptr);
  ASSERT_TRUE(c->Send(absl::StrCat("POST /p/events HTTP/1.1\r\nHost: x\r\nToken: ", kToken,
                                   "\r\nFingerprint: ", kFp, "\r\nContent-Length: 2\r\n\r\n{}")));
  EXPECT_EQ(c->WaitClosed(kWait), RawConnection::Outcome::kEof);
  EXPECT_TRUE(c->buffered().empty());

  FaultRule reset;
  reset.kind = FaultKind::kReset;
  reset.count = 1;
  emulator_->AddFault(reset);
  CurlResult r = Telemetry();
  EXPECT_NE(r.code, CURLE_OK);
  EXPECT_EQ(Telemetry().response.status, 204);

  std::vector<RequestLogEntry> log = emulator_->RequestLog();
  ASSERT_GE(log.size(), 3u);
  EXPECT_EQ(log[0].fault, "drop");
  EXPECT_EQ(log[0].status, 0);
  EXPECT_EQ(log[1].fault, "reset");
}

TEST_F(EmulatorTest, SlowFaultDelaysTheAnswer) {
  Preregister();
  (void)emulator_->QueueCommand(kFp, Command::Json("SEND_INFO"));
  FaultRule slow;
  slow.kind = FaultKind::kSlow;
  slow.delay = absl::Milliseconds(300);
  slow.count = 1;
  emulator_->AddFault(slow);
  absl::Time start = absl::Now();
  CurlResult r = Telemetry();
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(300));
  EXPECT_EQ(r.response.status, 200);
  EXPECT_EQ(r.response.Header("Command-Id"), "1");
  EXPECT_EQ(emulator_->RequestLog()[0].fault, "slow");
}

TEST_F(EmulatorTest, HangFaultNeverAnswersSoTheClientTimesOut) {
  Preregister();
  FaultRule hang;
  hang.kind = FaultKind::kHang;
  hang.path_prefix = "/p/events";
  emulator_->AddFault(hang);
  CurlResult r = client_.Request("POST", Url("/p/events"), PrinterHeaders(kFp, kToken),
                                 std::string(R"({"event":"INFO","source":"WUI","data":{}})"),
                                 absl::Milliseconds(300));
  EXPECT_EQ(r.code, CURLE_OPERATION_TIMEDOUT);
  EXPECT_EQ(emulator_->GetPrinter(kFp)->event_count, 0);
  // Other paths are unaffected.
  CurlClient other;
  EXPECT_EQ(other
                .Request("POST", Url("/p/telemetry"), PrinterHeaders(kFp, kToken),
                         std::string(R"({"state":"IDLE"})"))
                .response.status,
            204);
}

TEST_F(EmulatorTest, RefuseFaultClosesTheListenerThenAcceptsAgain) {
  Preregister();
  EXPECT_EQ(Telemetry().response.status, 204);  // An idle keep-alive connection exists now.
  FaultRule refuse;
  refuse.kind = FaultKind::kRefuse;
  refuse.duration = absl::Milliseconds(300);
  int64_t id = emulator_->AddFault(refuse);
  EXPECT_FALSE(emulator_->listening());
  int error = 0;
  EXPECT_EQ(RawConnection::Connect(emulator_->port(), &error), nullptr);
  EXPECT_EQ(error, ECONNREFUSED);
  CurlResult refused = Telemetry();
  EXPECT_EQ(refused.code, CURLE_COULDNT_CONNECT);

  EXPECT_TRUE(emulator_->WaitFor([&] { return emulator_->listening(); }, kWait));
  EXPECT_EQ(Telemetry().response.status, 204);
  EXPECT_FALSE(emulator_->RemoveFault(id));  // Expired and removed.

  // Without a duration it lasts until removed.
  refuse.duration = absl::InfiniteDuration();
  id = emulator_->AddFault(refuse);
  EXPECT_FALSE(emulator_->listening());
  EXPECT_TRUE(emulator_->RemoveFault(id));
  EXPECT_TRUE(emulator_->listening());
  EXPECT_EQ(Telemetry().response.status, 204);
}

TEST_F(EmulatorTest, MalformedFaultSendsBrokenJsonWithAValidCommandId) {
  Preregister();
  FaultRule malformed;
  malformed.kind = FaultKind::kMalformed;
  malformed.count = 1;
  emulator_->AddFault(malformed);
  CurlResult r = Telemetry();
  EXPECT_EQ(r.response.status, 200);
  EXPECT_EQ(r.response.Header("Command-Id"), "1");
  EXPECT_EQ(r.response.Header("Content-Type"), "application/json");
  rapidjson::Document doc;
  EXPECT_FALSE(ParseJson(r.response.body, &doc));
  EXPECT_EQ(emulator_->GetPrinter(kFp)->telemetry_count, 1);
}

TEST_F(EmulatorTest, ScheduledFaultsStartLater) {
  Preregister();
  FaultRule later;
  later.status = 429;
  later.start_after = absl::Hours(1);
  emulator_->AddFaults({later});
  EXPECT_EQ(Telemetry().response.status, 204);
  EXPECT_EQ(emulator_->Faults().size(), 1u);
  EXPECT_EQ(emulator_->Faults()[0].hits, 0);
}

// ---- Keep-alive and request log ----

TEST_F(EmulatorTest, PrinterRequestsShareOneKeepAliveConnection) {
  Preregister();
  EXPECT_EQ(Telemetry().new_connections, 1);
  EXPECT_EQ(Event(R"({"event":"INFO","source":"WUI","data":{}})").new_connections, 0);
  EXPECT_EQ(Telemetry().new_connections, 0);
  std::vector<RequestLogEntry> log = emulator_->RequestLog();
  ASSERT_EQ(log.size(), 3u);
  EXPECT_EQ(log[0].connection_id, log[2].connection_id);
  EXPECT_EQ(log[2].request_index, 2u);
  EXPECT_EQ(log[1].method, "POST");
  EXPECT_EQ(log[1].target, "/p/events");
  EXPECT_EQ(log[1].status, 204);
  EXPECT_EQ(emulator_->RequestLog(log[1].seq).size(), 1u);
  EXPECT_EQ(emulator_->RequestLog(0, 1).size(), 1u);
}

TEST_F(EmulatorTest, RequestLogIsABoundedRing) {
  EmulatorOptions options;
  options.request_log_capacity = 5;
  Start(options);
  Preregister();
  for (int i = 0; i < 8; ++i) Telemetry();
  std::vector<RequestLogEntry> log = emulator_->RequestLog();
  ASSERT_EQ(log.size(), 5u);
  EXPECT_EQ(log.front().seq, 4u);
  EXPECT_EQ(emulator_->Stats().by_path["/p/telemetry"][204], 8u);
}

TEST_F(EmulatorTest, ChunkedAndPipelinedPrinterRequests) {
  Preregister();
  auto c = RawConnection::Connect(emulator_->port());
  ASSERT_NE(c, nullptr);
  std::string auth = absl::StrCat("Token: ", kToken, "\r\nFingerprint: ", kFp, "\r\n");
  std::string body = R"({"state":"IDLE"})";
  ASSERT_TRUE(c->Send(absl::StrCat(
      "POST /p/telemetry HTTP/1.1\r\nHost: x\r\n", auth, "Transfer-Encoding: chunked\r\n\r\n",
      "5\r\n", body.substr(0, 5), "\r\n", absl::Hex(body.size() - 5), "\r\n", body.substr(5),
      "\r\n0\r\n\r\n", "POST /p/telemetry HTTP/1.1\r\nHost: x\r\n", auth, "Content-Length: ",
      body.size(), "\r\n\r\n", body, "GET /api/stats HTTP/1.1\r\nHost: x\r\n\r\n")));
  for (int expected : {204, 204, 200}) {
    std::optional<ClientResponse> r = c->ReadResponse();
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->status, expected);
  }
  EXPECT_EQ(emulator_->GetPrinter(kFp)->last_telemetry, body);
  EXPECT_EQ(emulator_->GetPrinter(kFp)->telemetry_count, 2);
}

TEST_F(EmulatorTest, WaitForWakesOnStateChangesFromTheServerThread) {
  Preregister();
  std::thread printer([&] {
    CurlClient c;
    for (int i = 0; i < 3; ++i) {
      c.Request("POST", Url("/p/telemetry"), PrinterHeaders(kFp, kToken),
                std::string(R"({"state":"IDLE"})"));
    }
  });
  EXPECT_TRUE(emulator_->WaitForTelemetry(kFp, 3, kWait));
  printer.join();
  EXPECT_FALSE(emulator_->WaitForTelemetry(kFp, 4, absl::Milliseconds(20)));
}

// ---- Control API ----

TEST_F(EmulatorTest, ControlApiDrivesTheWholeFlow) {
  CurlClient api;
  auto call = [&](const std::string& method, const std::string& path,
                  const std::optional<std::string>& body = std::nullopt) {
    return api.Request(method, Url(path), {"Content-Type: application/json"}, body);
  };
  // Pre-register.
  CurlResult pre =
      call("POST", "/api/printers",
           absl::StrCat(R"({"fingerprint":")", kFp,
                        R"(","sn":"SN9","printer_type":"1.3.1","token":")", kToken, R"("})"));
  EXPECT_EQ(pre.response.status, 200);
  EXPECT_EQ(Json(pre.response.body)["token"].GetString(), std::string(kToken));

  // Commands of each kind.
  EXPECT_EQ(call("POST", absl::StrCat("/api/printers/", kFp, "/commands"),
                 R"({"command":"SEND_INFO","args":[1],"kwargs":{"a":"b"}})")
                .response.body,
            R"({"command_id":1})");
  EXPECT_EQ(call("POST", absl::StrCat("/api/printers/", kFp, "/commands"),
                 R"({"gcode":"G28","force":true,"command_id":99})")
                .response.body,
            R"({"command_id":99})");
  EXPECT_EQ(
      call(
          "POST", absl::StrCat("/api/printers/", kFp, "/commands"),
          R"({"raw":{"status":200,"headers":{"Command-Id":"abc","Content-Type":"text/html"},"body":"<b>"}})")
          .response.body,
      R"({"command_id":null})");
  EXPECT_EQ(call("POST", absl::StrCat("/api/printers/", kFp, "/commands"), R"({"args":[]})")
                .response.status,
            400);
  EXPECT_EQ(call("POST", "/api/printers/nobody/commands", R"({"command":"X"})").response.status,
            404);
  CurlResult t1 = Telemetry();
  EXPECT_EQ(t1.response.body, R"({"command":"SEND_INFO","args":[1],"kwargs":{"a":"b"}})");
  CurlResult t2 = Telemetry();
  EXPECT_EQ(t2.response.Header("Force"), "1");
  EXPECT_EQ(t2.response.Header("Command-Id"), "99");
  EXPECT_EQ(Telemetry().response.Header("Command-Id"), "abc");
  Event(R"({"event":"FINISHED","source":"CONNECT","data":{},"command_id":99})");

  // Listing and details.
  rapidjson::Document printers = Json(call("GET", "/api/printers").response.body);
  ASSERT_TRUE(printers.IsArray());
  ASSERT_EQ(printers.Size(), 1u);
  EXPECT_EQ(printers[0]["telemetry_count"].GetInt(), 3);
  EXPECT_EQ(printers[0]["sn"].GetString(), std::string("SN9"));
  EXPECT_EQ(printers[0]["event_count"].GetInt(), 1);
  EXPECT_TRUE(printers[0]["last_telemetry"].IsObject());
  rapidjson::Document detail = Json(call("GET", absl::StrCat("/api/printers/", kFp)).response.body);
  ASSERT_EQ(detail["events"].Size(), 1u);
  EXPECT_EQ(detail["events"][0]["event"].GetString(), std::string("FINISHED"));
  EXPECT_EQ(detail["events"][0]["timestamp"].GetString(), std::string("1700000000.1"));
  EXPECT_EQ(detail["events"][0]["body"]["command_id"].GetInt(), 99);
  EXPECT_EQ(call("GET", "/api/printers/unknown").response.status, 404);

  // Codes.
  std::string code = Register();
  rapidjson::Document codes = Json(call("GET", "/api/codes").response.body);
  ASSERT_EQ(codes.Size(), 1u);
  EXPECT_EQ(codes[0]["state"].GetString(), std::string("pending"));
  rapidjson::Document approved =
      Json(call("POST", absl::StrCat("/api/codes/", code, "/approve"), "").response.body);
  EXPECT_EQ(std::string(approved["token"].GetString()).size(), 20u);
  EXPECT_EQ(call("POST", "/api/codes/ffffffffff/approve", "").response.status, 404);

  // Files.
  EXPECT_EQ(call("POST", "/api/files", R"({"team_id":1,"hash":"h1","size":1000})").response.status,
            200);
  EXPECT_EQ(call("POST", "/api/files", R"({"hash":"h1"})").response.status, 400);
  EXPECT_EQ(Json(call("GET", "/api/files").response.body).Size(), 1u);

  // Faults.
  rapidjson::Document added =
      Json(call("POST", "/api/faults",
                R"([{"kind":"status","status":503,"path":"/p/telemetry","count":1},)"
                R"({"kind":"slow","delay_ms":1,"path":"/p/events","start_after_ms":3600000}])")
               .response.body);
  ASSERT_EQ(added["ids"].Size(), 2u);
  EXPECT_EQ(Json(call("GET", "/api/faults").response.body).Size(), 2u);
  EXPECT_EQ(Telemetry().response.status, 503);
  EXPECT_EQ(call("POST", "/api/faults", R"({"kind":"bogus"})").response.status, 400);
  EXPECT_EQ(call("DELETE", absl::StrCat("/api/faults/", added["ids"][1].GetInt())).response.status,
            200);
  EXPECT_EQ(call("DELETE", "/api/faults").response.status, 200);
  EXPECT_EQ(Json(call("GET", "/api/faults").response.body).Size(), 0u);

  // Log and statistics.
  rapidjson::Document log = Json(call("GET", "/api/log?since=0&limit=2").response.body);
  ASSERT_EQ(log["entries"].Size(), 2u);
  EXPECT_EQ(log["entries"][0]["path"].GetString(), std::string("/p/telemetry"));
  EXPECT_TRUE(log["entries"][0]["headers"].HasMember("Token"));
  uint64_t next = log["next_since"].GetUint64();
  rapidjson::Document rest =
      Json(call("GET", absl::StrCat("/api/log?since=", next, "&limit=1000")).response.body);
  EXPECT_GT(rest["entries"].Size(), 0u);
  EXPECT_GT(rest["entries"][0]["seq"].GetUint64(), next);
  rapidjson::Document stats = Json(call("GET", "/api/stats").response.body);
  EXPECT_EQ(stats["by_path"]["/p/telemetry"]["503"].GetInt(), 1);
  EXPECT_EQ(stats["telemetry"].GetInt(), 3);
  EXPECT_GE(stats["server"]["connections_accepted"].GetInt(), 1);

  EXPECT_EQ(call("GET", "/api/nothing").response.status, 404);
  EXPECT_EQ(call("POST", "/api/reset", "").response.status, 200);
  EXPECT_THAT(emulator_->Printers(), IsEmpty());
}

TEST_F(EmulatorTest, ControlApiRefuseAndListener) {
  CurlClient api;
  EXPECT_EQ(api.Request("POST", Url("/api/faults"), {}, std::string(R"({"kind":"refuse"})"))
                .response.status,
            200);
  EXPECT_FALSE(emulator_->listening());
  emulator_->ClearFaults();
  EXPECT_TRUE(emulator_->listening());
  emulator_->PauseListening();
  EXPECT_FALSE(emulator_->listening());
  EXPECT_TRUE(emulator_->ResumeListening().ok());
  EXPECT_EQ(api.Request("GET", Url("/api/stats")).response.status, 200);
}

// ---- Status page ----

TEST_F(EmulatorTest, StatusPageListsPrintersAndEscapesEverything) {
  const std::string evil = "<script>alert('x')</script>&";
  ASSERT_TRUE(emulator_->PreregisterPrinter(evil, "\"SN\"", "1.3.1", kToken).ok());
  Post("/p/events", R"({"event":"INFO","source":"WUI","data":{"msg":"<b>bold</b>"}})",
       PrinterHeaders(evil, kToken));
  Post("/p/telemetry", R"({"state":"IDLE","note":"<i>"})", PrinterHeaders(evil, kToken));
  std::string code = Register();

  CurlResult page = client_.Request("GET", Url("/status"));
  EXPECT_EQ(page.response.status, 200);
  EXPECT_EQ(page.response.Header("Content-Type"), "text/html; charset=utf-8");
  const std::string& html = page.response.body;
  EXPECT_THAT(html, Not(HasSubstr("<script>")));
  EXPECT_THAT(html, Not(HasSubstr("<b>bold")));
  EXPECT_THAT(html, Not(HasSubstr("<i>")));
  EXPECT_THAT(html, HasSubstr("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;"));
  EXPECT_THAT(html, HasSubstr("&quot;SN&quot;"));
  EXPECT_THAT(html, HasSubstr("&lt;b&gt;bold&lt;/b&gt;"));
  EXPECT_THAT(html, HasSubstr(absl::StrCat("action=\"/approve/", code, "\"")));
  EXPECT_THAT(html, HasSubstr("http-equiv=\"refresh\""));

  // The Approve button posts a form and is redirected back.
  CurlResult approve =
      client_.Request("POST", Url(absl::StrCat("/approve/", code)), {}, std::string("approve=1"));
  EXPECT_EQ(approve.response.status, 303);
  EXPECT_EQ(approve.response.Header("Location"), "/");
  EXPECT_TRUE(emulator_->Codes()[0].approved);
}

// ---- The executable ----

TEST(EmulatorBinaryTest, PrintsItsUrlAndStopsOnSigterm) {
  char dir[] = "/tmp/emulator_bin_XXXXXX";
  ASSERT_NE(::mkdtemp(dir), nullptr);
  std::string port_file = absl::StrCat(dir, "/port");
  int out[2];
  ASSERT_EQ(::pipe(out), 0);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::dup2(out[1], STDOUT_FILENO);
    ::close(out[0]);
    ::close(out[1]);
    ::execl(PRUSACONNECT_EMULATOR_BINARY, PRUSACONNECT_EMULATOR_BINARY, "--port", "0",
            "--port-file", port_file.c_str(), "--auto-approve", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(out[1]);
  std::string line;
  char ch;
  while (::read(out[0], &ch, 1) == 1 && ch != '\n') line.push_back(ch);
  ::close(out[0]);
  EXPECT_THAT(line, HasSubstr("prusaconnect-emulator listening on http://127.0.0.1:"));
  std::ifstream pf(port_file);
  int port = 0;
  pf >> port;
  EXPECT_GT(port, 0);
  EXPECT_THAT(line, HasSubstr(absl::StrCat(":", port)));

  CurlClient client;
  CurlResult r = client.Request(
      "POST", absl::StrCat("http://127.0.0.1:", port, "/p/register"), PrinterHeaders("f"),
      std::string(R"({"sn":"s","fingerprint":"f","printer_type":"1.3.1","firmware":"1"})"));
  EXPECT_EQ(r.response.status, 200);

  ASSERT_EQ(::kill(pid, SIGTERM), 0);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  std::remove(port_file.c_str());
  ::rmdir(dir);
}

}  // namespace
}  // namespace prusaconnect::emulator
