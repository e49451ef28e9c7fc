// Copyright 2026 The libprusaconnect Authors.
//
// The printer's session (the protocol core, core.h, behind the facade's lock:
// facade/printer_session.h) against the reference SDK's behaviour, driven
// with a fake clock and canned responses: every wire sequence of sdk-spec
// §3.3 and the scenarios of the SDK's test_printer, test_command,
// test_events, test_telemetry and test_clock (§12), plus what we add
// (retries with backoff, bounded buffer, coalescing, conditions per printer).
#include "protocol/session.h"
#include "facade/printer_session.h"

#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "prusaconnect/json.h"
#include "prusaconnect/log.h"

namespace prusaconnect::internal {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr char kServer[] = "http://server:8000";
constexpr char kToken[] = "a44b552a12d96d3155cb";
constexpr int64_t kSecond = 1000000;

const std::string* FindHeader(const HttpRequest& r, const std::string& name) {
  for (const auto& [n, v] : r.headers) {
    if (n == name) return &v;
  }
  return nullptr;
}

HttpResponse Resp(int status, HeaderList headers = {}, std::string body = "") {
  HttpResponse r;
  r.status = status;
  for (auto& [n, v] : headers) {
    std::string lower = n;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    r.headers.emplace_back(lower, v);
  }
  r.body = std::move(body);
  return r;
}

HttpResponse Failure(TransportError e) {
  HttpResponse r;
  r.error = e;
  r.error_message = "simulated";
  return r;
}

class SessionTest : public ::testing::Test {
 protected:
  SessionTest() { Make(PrinterType::I3MK3S, "SN001002XP003", "__fingerprint__"); }

  void Make(std::optional<PrinterType> type, std::string sn, std::string fp,
            PrinterOptions options = {}) {
    s_ = std::make_shared<PrinterSession>(type, sn, fp, options, &clock_);
    s_->set_connection(kServer, kToken);
    s_->set_software("0.8.1");
  }

  int64_t now() const { return clock_.MonoMicros(); }

  // The next request; fails the test when there is none.
  Session::Outgoing Take() {
    int64_t wake = 0;
    std::optional<Session::Outgoing> out = s_->Next(now(), &wake);
    EXPECT_TRUE(out.has_value()) << "nothing to send";
    return out ? *out : Session::Outgoing{};
  }

  // True when nothing is ready to be sent now; *wake_at gets the next time.
  bool Nothing(int64_t* wake_at = nullptr) {
    int64_t wake = 0;
    std::optional<Session::Outgoing> out = s_->Next(now(), &wake);
    if (out) {
      ADD_FAILURE() << "unexpected request " << out->request.url << " " << out->request.body;
      s_->Complete(*out, Resp(204), now());
    }
    if (wake_at) *wake_at = wake;
    return !out;
  }

  // Sends everything queued, answering 204; returns the bodies (events and
  // telemetry) in wire order as "PATH BODY".
  std::vector<std::string> SendAll() {
    std::vector<std::string> sent;
    for (;;) {
      int64_t wake = 0;
      std::optional<Session::Outgoing> out = s_->Next(now(), &wake);
      if (!out) return sent;
      sent.push_back(out->request.url.substr(strlen(kServer)) + " " + out->request.body);
      s_->Complete(*out, Resp(204), now());
    }
  }

  // Events only, as JSON text.
  std::vector<std::string> Events() {
    std::vector<std::string> events;
    for (const std::string& s : SendAll()) {
      if (s.rfind("/p/events ", 0) == 0) events.push_back(s.substr(10));
    }
    return events;
  }

  // Delivers a command in the response to a telemetry request; returns the
  // events that follow (the queue is drained first).
  std::vector<std::string> Deliver(const std::string& id, const std::string& body,
                                   const std::string& content_type = "application/json",
                                   HeaderList extra = {}) {
    SendAll();
    s_->telemetry(Json::MakeObject());
    Session::Outgoing out = Take();
    EXPECT_EQ(out.kind, Session::Kind::kTelemetry);
    HeaderList h = {{"Content-Type", content_type}};
    if (!id.empty()) h.emplace_back("Command-Id", id);
    for (auto& e : extra) h.push_back(e);
    s_->Complete(out, Resp(200, h, body), now());
    return Events();
  }

  std::vector<std::string> Json1(const std::string& command, int64_t id) {
    return Deliver(std::to_string(id), R"({"command":")" + command + R"("})");
  }

  FakeClock clock_;
  std::shared_ptr<PrinterSession> s_;
};

// ---------------------------------------------------------------- test_printer

TEST_F(SessionTest, InitialisedPrinterRefusesASecondFingerprint) {
  EXPECT_TRUE(s_->is_initialised());
  Status st = s_->set_fingerprint("other");
  EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(st.message(), "Fingerprint is already set.");
  EXPECT_EQ(s_->set_sn("x").message(), "Serial number is already set.");
  EXPECT_EQ(s_->set_type(PrinterType::SL1).message(), "Printer type is already set.");
}

TEST_F(SessionTest, FingerprintCanBeSetOnceLater) {
  Make(PrinterType::I3MK3S, "SN1", "");
  EXPECT_FALSE(s_->is_initialised());
  EXPECT_EQ(s_->conditions().API.state(), CondState::kNok);
  ASSERT_TRUE(s_->set_fingerprint("fp").ok());
  EXPECT_TRUE(s_->is_initialised());
}

TEST_F(SessionTest, TelemetryCarriesThePrinterHeaders) {
  s_->telemetry(Json::MakeObject());
  Session::Outgoing out = Take();
  EXPECT_EQ(out.request.method, "POST");
  EXPECT_EQ(out.request.url, "http://server:8000/p/telemetry");
  EXPECT_EQ(out.request.body, R"({"state":"BUSY"})");
  EXPECT_EQ(out.request.content_type, "application/json");
  EXPECT_EQ(*FindHeader(out.request, "Fingerprint"), "__fingerprint__");
  EXPECT_EQ(*FindHeader(out.request, "Token"), kToken);
  EXPECT_EQ(*FindHeader(out.request, "Timestamp"), "1700000000.0");
  EXPECT_THAT(*FindHeader(out.request, "User-Agent"), StartsWith("Prusa-Connect-SDK-Printer/"));
  EXPECT_EQ(*FindHeader(out.request, "User-Agent-Printer"), "1.3.1");
  EXPECT_EQ(*FindHeader(out.request, "User-Agent-Version"), "0.8.1");
  EXPECT_EQ(FindHeader(out.request, "Clock-Adjusted"), nullptr);
}

TEST_F(SessionTest, TelemetryTimestampIsTheCallers) {
  // The SDK's telemetry(timestamp=...): when the values were read.
  s_->telemetry(Json::MakeObject(), 1699999990.27);
  Session::Outgoing first = Take();
  EXPECT_EQ(*FindHeader(first.request, "Timestamp"), "1699999990.2");
  s_->Complete(first, Resp(200, {}, ""), now());
  s_->telemetry(Json::MakeObject());
  EXPECT_EQ(*FindHeader(Take().request, "Timestamp"), "1700000000.0");
}

TEST_F(SessionTest, MblAndSheetSettingsCanBeUnset) {
  s_->set_mbl({0.1, -0.2});
  s_->set_sheet_settings({{"Smooth", 0.05}});
  Json info = s_->get_info();
  EXPECT_NE(info.find("mbl"), nullptr);
  EXPECT_NE(info.find("sheet_settings"), nullptr);
  s_->clear_mbl();
  s_->clear_sheet_settings();
  info = s_->get_info();
  EXPECT_EQ(info.find("mbl"), nullptr);
  EXPECT_EQ(info.find("sheet_settings"), nullptr);
}

TEST_F(SessionTest, LastCommandStateFollowsTheLifecycle) {
  s_->set_handler(Command::START_PRINT,
                  [](const CommandRequest&) -> StatusOr<CommandResult> { return CommandResult{}; });
  Json1("START_PRINT", 7);
  EXPECT_EQ(s_->last_command_state(), Event::ACCEPTED);
  s_->RunCommand();
  EXPECT_EQ(s_->last_command_state(), Event::FINISHED);
  s_->set_handler(Command::STOP_PRINT, [](const CommandRequest&) -> StatusOr<CommandResult> {
    CommandResult r;
    r.event = Event::REJECTED;
    r.reason = "no";
    return r;
  });
  Json1("STOP_PRINT", 8);
  s_->RunCommand();
  EXPECT_EQ(s_->last_command_state(), Event::REJECTED);
}

TEST_F(SessionTest, UnsetTypeAndVersionAreSentAsNone) {
  s_ = std::make_shared<PrinterSession>(std::nullopt, "SN", "fp", PrinterOptions{}, &clock_);
  s_->set_connection(kServer, kToken);
  s_->event_cb(Event::INFO, Source::WUI, {}, Json());
  Session::Outgoing out = Take();
  EXPECT_EQ(*FindHeader(out.request, "User-Agent-Printer"), "None");
  EXPECT_EQ(*FindHeader(out.request, "User-Agent-Version"), "None");
}

TEST_F(SessionTest, TelemetryOfUninitialisedPrinterIsStateOnly) {
  Make(PrinterType::I3MK3S, "SN1", "");
  s_->telemetry(Json::MakeObject({{"temp_bed", 1}, {"temp_nozzle", 2}}));
  EXPECT_EQ(Take().request.body, R"({"state":"BUSY"})");
}

TEST_F(SessionTest, CommandToUninitialisedPrinterIsRejectedFromWui) {
  Make(PrinterType::I3MK3S, "SN1", "");
  EXPECT_THAT(Json1("SEND_INFO", 42),
              ::testing::ElementsAre(
                  R"({"event":"REJECTED","source":"WUI","data":{},"command_id":42,)"
                  R"("reason":"Printer has not been initialized properly","state":"BUSY"})"));
}

TEST_F(SessionTest, EventGoesToEventsEndpoint) {
  s_->event_cb(Event::INFO, Source::WUI, {}, Json());
  Session::Outgoing out = Take();
  EXPECT_EQ(out.request.url, "http://server:8000/p/events");
  EXPECT_EQ(out.request.body, R"({"event":"INFO","source":"WUI","data":{},"state":"BUSY"})");
}

TEST_F(SessionTest, EventWithStateOmittedHasNoStateKey) {
  // The SDK's event_cb(event, source, state=None): "state" is among the
  // keywords, so the printer's state is not added, and None is not sent.
  EventFields fields;
  fields.omit_state = true;
  fields.state = State::IDLE;  // omit_state wins
  s_->event_cb(Event::INFO, Source::WUI, fields, Json());
  EXPECT_EQ(Take().request.body, R"({"event":"INFO","source":"WUI","data":{}})");
}

TEST_F(SessionTest, SetStatePayloadsAndReadyRules) {
  s_->set_state(State::ATTENTION, Source::WUI, std::nullopt, {}, Json());
  s_->set_state(State::IDLE, Source::HW, true, {}, Json());
  EXPECT_TRUE(s_->ready());
  s_->set_state(State::PRINTING, Source::SERIAL, std::nullopt, {}, Json());
  EXPECT_FALSE(s_->ready());
  s_->set_state(State::FINISHED, Source::FIRMWARE, std::nullopt, {}, Json());
  EXPECT_THAT(Events(),
              ::testing::ElementsAre(
                  R"({"event":"STATE_CHANGED","source":"WUI","data":{},"state":"ATTENTION"})",
                  R"({"event":"STATE_CHANGED","source":"HW","data":{},"state":"IDLE"})",
                  R"({"event":"STATE_CHANGED","source":"SERIAL","data":{},"state":"PRINTING"})",
                  R"({"event":"STATE_CHANGED","source":"FIRMWARE","data":{},"state":"FINISHED"})"));
  EXPECT_EQ(s_->state(), State::FINISHED);
}

TEST_F(SessionTest, ConnectErrorBreaksHttpButNotInternet) {
  s_->event_cb(Event::INFO, Source::WUI, {}, Json());
  Session::Outgoing out = Take();
  s_->Complete(out, Resp(400), now());
  s_->event_cb(Event::INFO, Source::WUI, {}, Json());
  out = Take();
  s_->Complete(out, Failure(TransportError::kConnect), now());
  EXPECT_EQ(s_->conditions().INTERNET.state(), CondState::kOk);
  EXPECT_EQ(s_->conditions().HTTP.state(), CondState::kNok);
  EXPECT_EQ(s_->conditions().API.state(), CondState::kNok);
}

TEST_F(SessionTest, BrokenConditionsSayWhatHappened) {
  // Refused, timed out, TLS and 5xx are told apart (issue #16: the log said
  // "we're getting 5XX statuses" for a refused connection).
  HttpResponse refused = Failure(TransportError::kConnect);
  refused.os_error = ECONNREFUSED;
  refused.error_message = "Failed to connect to 127.0.0.1 port 9 after 0 ms: Couldn't connect";
  s_->event_cb(Event::INFO, Source::WUI, {}, Json());
  s_->Complete(Take(), refused, now());
  EXPECT_EQ(s_->conditions().HTTP.reason(),
            "connection refused (Failed to connect to 127.0.0.1 port 9 after 0 ms: Couldn't "
            "connect)");
  EXPECT_EQ(s_->conditions().API.reason(), "");  // broken by its ancestor

  clock_.Advance(61 * kSecond);
  s_->Complete(Take(), Failure(TransportError::kTimeout), now());
  EXPECT_EQ(s_->conditions().HTTP.reason(), "timed out (simulated)");
  clock_.Advance(61 * kSecond);
  s_->Complete(Take(), Failure(TransportError::kTls), now());
  EXPECT_EQ(s_->conditions().HTTP.reason(), "TLS failure (simulated)");
  clock_.Advance(61 * kSecond);
  s_->Complete(Take(), Resp(503), now());
  EXPECT_EQ(s_->conditions().HTTP.reason(), "Connect answered HTTP 503");
  clock_.Advance(61 * kSecond);
  s_->Complete(Take(), Resp(204), now());
  EXPECT_EQ(s_->conditions().HTTP.state(), CondState::kOk);
  EXPECT_EQ(s_->conditions().HTTP.reason(), "");

  s_->telemetry(Json::MakeObject());
  s_->Complete(Take(), Resp(403), now());
  EXPECT_EQ(s_->conditions().TOKEN.reason(), "Connect refused the printer's token (HTTP 403)");
  clock_.Advance(61 * kSecond);
  s_->Complete(Take(), Failure(TransportError::kDns), now());
  EXPECT_EQ(s_->conditions().INTERNET.reason(), "name resolution failed (simulated)");
}

TEST_F(SessionTest, AnOutageIsLoggedOncePerKindAndMinuteNotPerRequest) {
  // During an outage telemetry fails every second; the log got a warning for
  // each request (the real OctoPrint runs saw one a second next to the
  // daemon's own summary).
  std::mutex mu;
  std::vector<std::string> lines;
  SetLogSink([&](LogLevel, const std::string&, const std::string& message) {
    std::lock_guard<std::mutex> lock(mu);
    lines.push_back(message);
  });
  HttpResponse refused = Failure(TransportError::kConnect);
  refused.os_error = ECONNREFUSED;
  for (int i = 0; i < 30; ++i) {  // 30 failures over ~30 minutes of backoff
    s_->telemetry(Json::MakeObject());
    s_->Complete(Take(), refused, now());
    clock_.Advance(61 * kSecond);
  }
  s_->telemetry(Json::MakeObject());
  s_->Complete(Take(), Resp(503), now());  // another kind: logged at once
  clock_.Advance(61 * kSecond);
  s_->telemetry(Json::MakeObject());
  s_->Complete(Take(), Resp(204), now());
  SetLogSink(nullptr);
  std::vector<std::string> warnings;
  for (const std::string& l : lines) {
    bool failure =
        l.find("failed:") != std::string::npos || l.find("answered HTTP") != std::string::npos;
    if (failure) warnings.push_back(l);
  }
  // Each failure was a minute apart, so each was logged: 30 + 1.
  EXPECT_EQ(warnings.size(), 31u);
  lines.clear();

  // Now at 1 Hz: the first one, then one line a minute with the count.
  SetLogSink([&](LogLevel, const std::string&, const std::string& message) {
    std::lock_guard<std::mutex> lock(mu);
    lines.push_back(message);
  });
  for (int i = 0; i < 150; ++i) {
    s_->telemetry(Json::MakeObject());
    std::optional<Session::Outgoing> out;
    int64_t wake = 0;
    while (!(out = s_->Next(now(), &wake))) clock_.Advance(wake - now());
    s_->Complete(*out, refused, now());
  }
  s_->telemetry(Json::MakeObject());
  int64_t wake = 0;
  std::optional<Session::Outgoing> out;
  while (!(out = s_->Next(now(), &wake))) clock_.Advance(wake - now());
  s_->Complete(*out, Resp(204), now());
  SetLogSink(nullptr);
  size_t failed = 0, summarised = 0, again = 0;
  for (const std::string& l : lines) {
    failed += l.find("failed: connection refused") != std::string::npos;
    summarised += l.find("more failed requests since the last message") != std::string::npos;
    again += l.find("Connect answers again, after 150 failed requests") != std::string::npos;
  }
  // 150 failures, backing off to 60 s: far fewer lines than requests.
  EXPECT_GE(failed, 1u);
  EXPECT_LT(failed, 150u / 2);
  EXPECT_GE(summarised, 1u);
  EXPECT_EQ(again, 1u);
}

TEST_F(SessionTest, DnsFailureBreaksInternet) {
  s_->event_cb(Event::INFO, Source::WUI, {}, Json());
  s_->Complete(Take(), Failure(TransportError::kDns), now());
  EXPECT_EQ(s_->conditions().INTERNET.state(), CondState::kNok);
  EXPECT_EQ(s_->conditions().API.state(), CondState::kNok);
}

TEST_F(SessionTest, StatusCodesDriveConditions) {
  s_->telemetry(Json::MakeObject());
  s_->Complete(Take(), Resp(204), now());
  EXPECT_EQ(s_->conditions().API.state(), CondState::kOk);
  EXPECT_EQ(s_->conditions().INTERNET.state(), CondState::kOk);
  s_->telemetry(Json::MakeObject());
  s_->Complete(Take(), Resp(403), now());
  EXPECT_EQ(s_->conditions().TOKEN.state(), CondState::kNok);
  EXPECT_EQ(s_->conditions().HTTP.state(), CondState::kOk);
  clock_.Advance(61 * kSecond);
  s_->Complete(Take(), Resp(503), now());
  EXPECT_EQ(s_->conditions().HTTP.state(), CondState::kNok);
  EXPECT_EQ(s_->conditions().INTERNET.state(), CondState::kOk);
  clock_.Advance(61 * kSecond);
  s_->Complete(Take(), Resp(204), now());
  EXPECT_TRUE(static_cast<bool>(s_->conditions().API));
  EXPECT_TRUE(static_cast<bool>(s_->conditions().HTTP));
}

TEST_F(SessionTest, EmptyTokenIsNotAValidToken) {
  s_->set_connection(kServer, "");
  EXPECT_EQ(s_->conditions().TOKEN.state(), CondState::kNok);
}

TEST_F(SessionTest, NoTokenDropsEventsAndTelemetryAsTheSdk) {
  s_->set_connection(kServer, "");
  s_->event_cb(Event::INFO, Source::WUI, {}, Json());
  s_->telemetry(Json::MakeObject());
  EXPECT_TRUE(Nothing());
  EXPECT_EQ(s_->stats().events_queued, 0u);
}

TEST_F(SessionTest, NoServerSendsNothingButKeepsEvents) {
  s_->set_connection("", kToken);
  s_->event_cb(Event::INFO, Source::WUI, {}, Json());
  EXPECT_TRUE(Nothing());
  s_->set_connection(kServer, kToken);
  EXPECT_EQ(Events().size(), 1u);
}

TEST_F(SessionTest, SendInfoIsAcceptedThenAnsweredWithInfo) {
  s_->set_firmware("3.9.0");
  std::vector<std::string> ev = Json1("SEND_INFO", 42);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0],
            R"({"event":"ACCEPTED","source":"CONNECT","data":{},"command_id":42,"state":"BUSY"})");
  ASSERT_TRUE(s_->current_command().has_value());
  s_->RunCommand();
  EXPECT_THAT(Events(), ::testing::ElementsAre(
                            R"({"event":"INFO","source":"CONNECT","data":{"type":1,"version":3,)"
                            R"("subversion":1,"firmware":"3.9.0","sdk":"0.8.1","network_info":{},)"
                            R"("files":{"type":"DIR","name":"/","read_only":true,"children":[]},)"
                            R"("sn":"SN001002XP003","fingerprint":"__fingerprint__",)"
                            R"("mmu":{"enabled":false}},"command_id":42,"state":"BUSY"})"));
  EXPECT_FALSE(s_->current_command().has_value());
}

TEST_F(SessionTest, GcodeWithForceReachesTheHandler) {
  std::optional<CommandRequest> seen;
  s_->set_handler(Command::GCODE, [&](const CommandRequest& r) -> StatusOr<CommandResult> {
    seen = r;
    CommandResult res;
    res.source = Source::MARLIN;
    return res;
  });
  std::vector<std::string> ev = Deliver("1", "G1 X10.0", "text/x.gcode", {{"Force", "1"}});
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_THAT(ev[0], HasSubstr(R"("event":"ACCEPTED")"));
  s_->RunCommand();
  ASSERT_TRUE(seen);
  EXPECT_TRUE(seen->force);
  EXPECT_EQ(seen->command, Command::GCODE);
  EXPECT_EQ(seen->args.Dump(), R"(["G1 X10.0"])");
  EXPECT_EQ(seen->kwargs.Dump(), R"({"gcode":"G1 X10.0"})");
  EXPECT_THAT(Events(), ::testing::ElementsAre(R"({"event":"FINISHED","source":"MARLIN",)"
                                               R"("data":{},"command_id":1,"state":"BUSY"})"));
}

TEST_F(SessionTest, GcodeWithoutForceHeaderIsNotForced) {
  std::optional<CommandRequest> seen;
  s_->set_handler(Command::GCODE, [&](const CommandRequest& r) -> StatusOr<CommandResult> {
    seen = r;
    return CommandResult{};
  });
  Deliver("1", "G28", "text/x.gcode", {{"Force", "0"}});
  s_->RunCommand();
  ASSERT_TRUE(seen);
  EXPECT_FALSE(seen->force);
}

// ---------------------------------------------------------------- registration

TEST_F(SessionTest, RegisterBodyAndHeaders) {
  s_->set_connection(kServer, "");
  s_->set_firmware("3.9.0");
  StatusOr<HttpRequest> r = s_->MakeRegisterRequest();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->method, "POST");
  EXPECT_EQ(r->url, "http://server:8000/p/register");
  EXPECT_EQ(r->body,
            R"({"sn":"SN001002XP003","fingerprint":"__fingerprint__","printer_type":"1.3.1",)"
            R"("firmware":"3.9.0"})");
  EXPECT_EQ(FindHeader(*r, "Token"), nullptr);
}

TEST_F(SessionTest, RegisterBodyKeepsNulls) {
  s_ = std::make_shared<PrinterSession>(std::nullopt, "", "", PrinterOptions{}, &clock_);
  s_->set_connection(kServer, "");
  EXPECT_EQ(s_->MakeRegisterRequest()->body,
            R"({"sn":null,"fingerprint":null,"printer_type":"None","firmware":null})");
}

TEST_F(SessionTest, RegisterWithoutServerFails) {
  s_->set_connection("", "");
  StatusOr<HttpRequest> r = s_->MakeRegisterRequest();
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(r.status().message(), "Server is not set");
}

TEST_F(SessionTest, RegisterRefusedWith400) {
  s_->set_connection(kServer, "");
  StatusOr<std::string> code = s_->CompleteRegister(Resp(400, {}, "no mac"));
  EXPECT_EQ(code.status().code(), StatusCode::kFailedPrecondition);
  // Exactly Connect's text, as the SDK's RuntimeError(res.text).
  EXPECT_EQ(code.status().message(), "no mac");
  EXPECT_EQ(s_->conditions().HTTP.state(), CondState::kOk);
  EXPECT_EQ(s_->conditions().API.state(), CondState::kNok);
}

TEST_F(SessionTest, RegisterUnreachableIsUnavailable) {
  s_->set_connection(kServer, "");
  StatusOr<std::string> code = s_->CompleteRegister(Failure(TransportError::kConnect));
  EXPECT_EQ(code.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(s_->conditions().HTTP.state(), CondState::kNok);
}

TEST_F(SessionTest, RegistrationPollsOncePerSecondUntilTokenArrives) {
  s_->set_connection(kServer, "");
  std::string token_seen;
  s_->set_register_handler([&](const std::string& t) { token_seen = t; });
  StatusOr<std::string> code = s_->CompleteRegister(Resp(200, {{"Code", "f4c8996fb9"}}));
  ASSERT_TRUE(code.ok());
  EXPECT_EQ(*code, "f4c8996fb9");
  EXPECT_EQ(s_->registration_status(), RegistrationStatus::IN_PROGRESS);
  int64_t wake = 0;
  EXPECT_TRUE(Nothing(&wake));
  EXPECT_EQ(wake, now() + kSecond);
  clock_.Advance(kSecond);
  Session::Outgoing poll = Take();
  EXPECT_EQ(poll.request.method, "GET");
  EXPECT_EQ(poll.request.url, "http://server:8000/p/register");
  EXPECT_EQ(*FindHeader(poll.request, "Code"), "f4c8996fb9");
  s_->Complete(poll, Resp(202), now());
  EXPECT_TRUE(Nothing(&wake));
  EXPECT_EQ(wake, now() + kSecond);
  clock_.Advance(kSecond);
  poll = Take();
  s_->Complete(poll, Resp(200, {{"Token", "9TKC0M6mH7WNZTk4NbHG"}}), now());
  EXPECT_EQ(s_->token(), "9TKC0M6mH7WNZTk4NbHG");
  EXPECT_EQ(token_seen, "9TKC0M6mH7WNZTk4NbHG");
  EXPECT_EQ(s_->code(), "");
  EXPECT_EQ(s_->registration_status(), RegistrationStatus::FINISHED);
  EXPECT_EQ(s_->conditions().TOKEN.state(), CondState::kOk);
  EXPECT_TRUE(Nothing(&wake));
  EXPECT_EQ(wake, INT64_MAX);
}

TEST_F(SessionTest, RegistrationConfirmedWithoutTokenKeepsPolling) {
  s_->set_connection(kServer, "");
  ASSERT_TRUE(s_->CompleteRegister(Resp(200, {{"Code", "c"}})).ok());
  clock_.Advance(kSecond);
  s_->Complete(Take(), Resp(200), now());
  EXPECT_EQ(s_->registration_status(), RegistrationStatus::IN_PROGRESS);
  clock_.Advance(kSecond);
  EXPECT_EQ(Take().kind, Session::Kind::kRegistrationPoll);
}

TEST_F(SessionTest, RegistrationStopsOnUnknownCode) {
  s_->set_connection(kServer, "");
  ASSERT_TRUE(s_->CompleteRegister(Resp(200, {{"Code", "c"}})).ok());
  clock_.Advance(kSecond);
  s_->Complete(Take(), Resp(404), now());
  EXPECT_EQ(s_->registration_status(), RegistrationStatus::NO_REGISTRATION);
  EXPECT_EQ(s_->code(), "c");  // kept, as the SDK's printer.code
  clock_.Advance(10 * kSecond);
  EXPECT_TRUE(Nothing());
}

TEST_F(SessionTest, RegistrationCodeGoneKeepsTheCode) {
  s_->set_connection(kServer, "");
  ASSERT_TRUE(s_->CompleteRegister(Resp(200, {{"Code", "c0de"}})).ok());
  clock_.Advance(kSecond);
  s_->Complete(Take(), Resp(410), now());
  EXPECT_EQ(s_->registration_status(), RegistrationStatus::NO_REGISTRATION);
  EXPECT_EQ(s_->code(), "c0de");
  // A new registration replaces it.
  ASSERT_TRUE(s_->CompleteRegister(Resp(200, {{"Code", "n3w"}})).ok());
  EXPECT_EQ(s_->code(), "n3w");
  EXPECT_EQ(s_->registration_status(), RegistrationStatus::IN_PROGRESS);
}

TEST_F(SessionTest, RegistrationExpiresAfterThirtyMinutes) {
  s_->set_connection(kServer, "");
  ASSERT_TRUE(s_->CompleteRegister(Resp(200, {{"Code", "c"}})).ok());
  clock_.Advance(1800 * kSecond);
  EXPECT_TRUE(Nothing());
  EXPECT_EQ(s_->registration_status(), RegistrationStatus::NO_REGISTRATION);
  EXPECT_EQ(s_->code(), "c");
}

TEST_F(SessionTest, RegistrationPollingBacksOffOnServerErrors) {
  s_->set_connection(kServer, "");
  ASSERT_TRUE(s_->CompleteRegister(Resp(200, {{"Code", "c"}})).ok());
  clock_.Advance(kSecond);
  s_->Complete(Take(), Resp(503), now());
  int64_t wake = 0;
  EXPECT_TRUE(Nothing(&wake));
  EXPECT_GE(wake, now() + 50000);
  EXPECT_LE(wake, now() + 100000);
  EXPECT_EQ(s_->registration_status(), RegistrationStatus::IN_PROGRESS);
}

// ---------------------------------------------------------------- command lifecycle (§3.3)

TEST_F(SessionTest, HandlerResultWithEventAndData) {
  s_->set_handler(Command::SEND_JOB_INFO, [](const CommandRequest&) -> StatusOr<CommandResult> {
    CommandResult r;
    r.event = Event::JOB_INFO;
    r.job_id = 7;
    r.data = Json::MakeObject({{"x", "x"}});
    return r;
  });
  Json1("SEND_JOB_INFO", 5);
  s_->RunCommand();
  EXPECT_THAT(Events(),
              ::testing::ElementsAre(R"({"event":"JOB_INFO","source":"CONNECT","data":{"x":"x"},)"
                                     R"("command_id":5,"job_id":7,"state":"BUSY"})"));
}

TEST_F(SessionTest, HandlerErrorBecomesFailedCommandError) {
  s_->set_handler(Command::START_PRINT, [](const CommandRequest&) -> StatusOr<CommandResult> {
    return InvalidArgumentError("no such file");
  });
  Json1("START_PRINT", 6);
  s_->RunCommand();
  EXPECT_THAT(Events(), ::testing::ElementsAre(
                            R"({"event":"FAILED","source":"WUI","data":{"error":"no such file"},)"
                            R"("command_id":6,"reason":"Command error","state":"BUSY"})"));
  // A duplicate of a failed command is answered FAILED.
  EXPECT_THAT(Json1("START_PRINT", 6)[0], HasSubstr(R"("event":"FAILED")"));
}

TEST_F(SessionTest, HandlerExceptionBecomesFailed) {
  s_->set_handler(Command::START_PRINT, [](const CommandRequest&) -> StatusOr<CommandResult> {
    throw std::runtime_error("boom");
  });
  Json1("START_PRINT", 6);
  s_->RunCommand();
  EXPECT_THAT(Events()[0], HasSubstr(R"("data":{"error":"boom"})"));
}

TEST_F(SessionTest, UnknownCommandIsAcceptedThenRejected) {
  EXPECT_THAT(Json1("STANDUP", 24)[0], HasSubstr(R"("event":"ACCEPTED")"));
  s_->RunCommand();
  EXPECT_THAT(Events(), ::testing::ElementsAre(
                            R"({"event":"REJECTED","source":"WUI","data":{},"command_id":24,)"
                            R"("reason":"Unknown command","state":"BUSY"})"));
  EXPECT_THAT(Json1("STANDUP", 24),
              ::testing::ElementsAre(R"({"event":"REJECTED","source":"CONNECT","data":{},)"
                                     R"("command_id":24,"state":"BUSY"})"));
}

TEST_F(SessionTest, EmptyCommandNameIsUnknown) {
  Deliver("3", "{}");
  s_->RunCommand();
  EXPECT_THAT(Events()[0], HasSubstr(R"("reason":"Unknown command")"));
}

TEST_F(SessionTest, KnownCommandWithoutHandlerIsNotImplemented) {
  Json1("START_PRINT", 8);
  s_->RunCommand();
  EXPECT_THAT(Events(), ::testing::ElementsAre(
                            R"({"event":"REJECTED","source":"WUI","data":{},"command_id":8,)"
                            R"("reason":"Not Implemented","state":"BUSY"})"));
}

TEST_F(SessionTest, FinishedCommandRecallIsAnsweredFinished) {
  Json1("SEND_INFO", 24);
  s_->RunCommand();
  EXPECT_THAT(Events()[0], HasSubstr(R"("event":"INFO")"));
  EXPECT_THAT(Json1("SEND_INFO", 24),
              ::testing::ElementsAre(R"({"event":"FINISHED","source":"CONNECT","data":{},)"
                                     R"("command_id":24,"state":"BUSY"})"));
}

TEST_F(SessionTest, SameIdWhileRunningIsAcceptedAgainOtherIdRejected) {
  Json1("SEND_INFO", 42);
  EXPECT_THAT(Json1("SEND_INFO", 42),
              ::testing::ElementsAre(R"({"event":"ACCEPTED","source":"CONNECT","data":{},)"
                                     R"("command_id":42,"state":"BUSY"})"));
  EXPECT_THAT(Json1("SEND_INFO", 43),
              ::testing::ElementsAre(
                  R"({"event":"REJECTED","source":"CONNECT","data":{"actual_command_id":42},)"
                  R"("command_id":43,"reason":"Another command is running","state":"BUSY"})"));
  s_->RunCommand();
  EXPECT_THAT(Events()[0], HasSubstr(R"("command_id":42)"));
  EXPECT_EQ(s_->stats().commands_received, 3u);
}

TEST_F(SessionTest, TelemetryCarriesCommandIdWhileCommandRuns) {
  Json1("SEND_INFO", 42);
  s_->telemetry(Json::MakeObject({{"temp_nozzle", 200}}));
  EXPECT_EQ(SendAll()[0], R"(/p/telemetry {"temp_nozzle":200,"command_id":42,"state":"BUSY"})");
  s_->RunCommand();
  Events();
  s_->telemetry(Json::MakeObject());
  EXPECT_EQ(SendAll()[0], R"(/p/telemetry {"state":"BUSY"})");
}

TEST_F(SessionTest, CommandRunsOnlyOnceEvenWithConcurrentCallers) {
  std::atomic<int> runs{0};
  s_->set_handler(Command::START_PRINT, [&](const CommandRequest&) -> StatusOr<CommandResult> {
    ++runs;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    return CommandResult{};
  });
  Json1("START_PRINT", 9);
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) threads.emplace_back([this] { s_->RunCommand(); });
  for (auto& t : threads) t.join();
  EXPECT_EQ(runs.load(), 1);
  EXPECT_EQ(Events().size(), 1u);
}

TEST_F(SessionTest, AsynchronousCompletionFromOutsideTheHandler) {
  Json1("START_PRINT", 11);
  EXPECT_TRUE(s_->current_command().has_value());
  EventFields f;
  f.reason = "bed not ready";
  ASSERT_TRUE(s_->EndCommand(std::nullopt, Event::REJECTED, Source::MARLIN, f, Json()).ok());
  EXPECT_THAT(Events(), ::testing::ElementsAre(
                            R"({"event":"REJECTED","source":"MARLIN","data":{},"command_id":11,)"
                            R"("reason":"bed not ready","state":"BUSY"})"));
  Status again = s_->EndCommand(std::nullopt, Event::FINISHED, Source::MARLIN, {}, Json());
  EXPECT_EQ(again.code(), StatusCode::kFailedPrecondition);
  // The pending handler must not run after the command ended.
  s_->RunCommand();
  EXPECT_TRUE(Events().empty());
}

TEST_F(SessionTest, WaitForCommandSeesAcceptedCommand) {
  EXPECT_FALSE(s_->WaitForCommand(1));
  Json1("SEND_INFO", 1);
  EXPECT_TRUE(s_->WaitForCommand(1));
}

TEST_F(SessionTest, BackgroundHandlersRunThroughTheExecutor) {
  PrinterOptions o;
  o.background_handlers = true;
  Make(PrinterType::I3MK3S, "SN", "fp", o);
  std::vector<std::function<void()>> posted;
  s_->SetExecutor([&](std::function<void()> fn) { posted.push_back(std::move(fn)); });
  Json1("SEND_STATE_INFO", 3);
  ASSERT_EQ(posted.size(), 1u);
  posted[0]();
  EXPECT_THAT(Events(),
              ::testing::ElementsAre(R"({"event":"STATE_CHANGED","source":"CONNECT","data":{},)"
                                     R"("command_id":3,"state":"BUSY"})"));
}

// ---------------------------------------------------------------- bad commands

TEST_F(SessionTest, MissingOrInvalidCommandIdIsRejectedWithoutId) {
  const std::string expected = R"({"event":"REJECTED","source":"CONNECT","data":{},)"
                               R"("reason":"Invalid Command-Id header","state":"BUSY"})";
  EXPECT_THAT(Deliver("", R"({"command":"SEND_INFO"})"), ::testing::ElementsAre(expected));
  EXPECT_THAT(Deliver("abc", R"({"command":"SEND_INFO"})"), ::testing::ElementsAre(expected));
  EXPECT_THAT(Deliver("1.5", R"({"command":"SEND_INFO"})"), ::testing::ElementsAre(expected));
  EXPECT_FALSE(s_->current_command().has_value());
}

TEST_F(SessionTest, UnknownContentTypeIsRejected) {
  EXPECT_THAT(Deliver("5", "<html>", "text/html"),
              ::testing::ElementsAre(R"({"event":"REJECTED","source":"CONNECT","data":{},)"
                                     R"("command_id":5,"reason":"Invalid command content type",)"
                                     R"("state":"BUSY"})"));
  // Exactly text/x.gcode: parameters are not allowed (Q11).
  EXPECT_THAT(Deliver("6", "G28", "text/x.gcode; charset=utf-8")[0],
              HasSubstr("Invalid command content type"));
}

TEST_F(SessionTest, InvalidJsonIsRejected) {
  std::vector<std::string> ev = Deliver("5", "{not json");
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_THAT(ev[0], HasSubstr(R"("event":"REJECTED")"));
  EXPECT_THAT(ev[0], HasSubstr(R"("command_id":5)"));
  EXPECT_THAT(ev[0], HasSubstr("Invalid command: invalid JSON"));
  EXPECT_THAT(Deliver("6", "[1,2]")[0], HasSubstr("not a JSON object"));
  EXPECT_FALSE(s_->current_command().has_value());
}

TEST_F(SessionTest, JsonContentTypeMatchesByPrefix) {
  EXPECT_THAT(Deliver("7", R"({"command":"SEND_INFO"})", "application/json; charset=utf-8")[0],
              HasSubstr(R"("event":"ACCEPTED")"));
}

TEST_F(SessionTest, OversizedCommandIsRejected) {
  s_->telemetry(Json::MakeObject());
  Session::Outgoing out = Take();
  HttpResponse r = Resp(200, {{"Command-Id", "9"}, {"Content-Type", "application/json"}},
                        std::string(1 << 20, 'x'));
  r.error = TransportError::kTooLarge;
  s_->Complete(out, r, now());
  EXPECT_THAT(Events()[0], HasSubstr("Command is too large"));
}

TEST_F(SessionTest, AbsentArgsAndKwargsAreNull) {
  // The SDK's accept(args=data.get("args"), kwargs=data.get("kwargs")):
  // None when the command has none (issue #17).
  Deliver("4", R"({"command":"START_PRINT","kwargs":{"path":"/usb/a.gcode"},"extra":1})");
  std::optional<CommandRequest> c = s_->current_command();
  ASSERT_TRUE(c);
  EXPECT_TRUE(c->args.is_null());
  EXPECT_EQ(c->kwargs.Dump(), R"({"path":"/usb/a.gcode"})");
  ASSERT_TRUE(s_->EndCommand(std::nullopt, Event::FINISHED, Source::MARLIN, {}, Json()).ok());
  Deliver("5", R"({"command":"SEND_INFO"})");
  c = s_->current_command();
  ASSERT_TRUE(c);
  EXPECT_TRUE(c->args.is_null());
  EXPECT_TRUE(c->kwargs.is_null());
}

// ---------------------------------------------------------------- priority commands (Q7)

TEST_F(SessionTest, ResetPrinterPreemptsRunningCommandWithoutBlocking) {
  std::atomic<bool> stop{false};
  s_->set_stop_cb([&] { stop = true; });
  std::atomic<bool> entered{false};
  s_->set_handler(Command::SEND_INFO, [&](const CommandRequest&) -> StatusOr<CommandResult> {
    entered = true;
    while (!stop) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    return InternalError("interrupted");
  });
  bool reset_ran = false;
  s_->set_handler(Command::RESET_PRINTER, [&](const CommandRequest&) -> StatusOr<CommandResult> {
    reset_ran = true;
    return CommandResult{};
  });
  Json1("SEND_INFO", 24);
  std::thread worker([this] { s_->RunCommand(); });
  while (!entered) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  std::vector<std::string> ev = Json1("RESET_PRINTER", 25);  // stop_cb runs inline here
  worker.join();
  // ACCEPTED 25, then the interrupted handler's FAILED with its own id 24.
  std::vector<std::string> all = ev;
  for (auto& e : Events()) all.push_back(e);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_THAT(all[0], HasSubstr(R"("event":"ACCEPTED")"));
  EXPECT_THAT(all[0], HasSubstr(R"("command_id":25)"));
  EXPECT_THAT(all[1], HasSubstr(R"("event":"FAILED")"));
  EXPECT_THAT(all[1], HasSubstr(R"("command_id":24)"));
  // The old teardown did not clear RESET_PRINTER: it still runs.
  ASSERT_TRUE(s_->current_command().has_value());
  EXPECT_EQ(s_->current_command()->command_id, 25);
  s_->RunCommand();
  EXPECT_TRUE(reset_ran);
  EXPECT_THAT(Events()[0],
              HasSubstr(R"("event":"FINISHED","source":"CONNECT","data":{},"command_id":25)"));
}

TEST_F(SessionTest, ResentResetPrinterIsNotAcceptedTwice) {
  int runs = 0;
  s_->set_handler(Command::RESET_PRINTER, [&](const CommandRequest&) -> StatusOr<CommandResult> {
    ++runs;
    return CommandResult{};
  });
  Json1("RESET_PRINTER", 30);
  Json1("RESET_PRINTER", 30);
  s_->RunCommand();
  s_->RunCommand();
  EXPECT_EQ(runs, 1);
  EXPECT_THAT(Json1("RESET_PRINTER", 30)[0], HasSubstr(R"("event":"FINISHED")"));
}

TEST_F(SessionTest, ResetPrinterReplacesACommandNotYetStarted) {
  Json1("START_PRINT", 40);
  std::vector<std::string> ev = Json1("RESET_PRINTER", 41);
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_THAT(ev[0], HasSubstr(R"("event":"REJECTED")"));
  EXPECT_THAT(ev[0], HasSubstr(R"("command_id":40)"));
  EXPECT_THAT(ev[0], HasSubstr("Interrupted by RESET_PRINTER"));
  EXPECT_THAT(ev[1], HasSubstr(R"("command_id":41)"));
}

// ---------------------------------------------------------------- built-in handlers

TEST_F(SessionTest, SetPrinterReadyEmitsStateChangedThenFinished) {
  Json1("SET_PRINTER_READY", 42);
  s_->RunCommand();
  EXPECT_EQ(s_->state(), State::READY);
  EXPECT_TRUE(s_->ready());
  EXPECT_THAT(Events(),
              ::testing::ElementsAre(
                  R"({"event":"STATE_CHANGED","source":"CONNECT","data":{},"state":"READY"})",
                  R"({"event":"FINISHED","source":"CONNECT","data":{},"command_id":42,)"
                  R"("state":"READY"})"));
  Json1("CANCEL_PRINTER_READY", 43);
  s_->RunCommand();
  EXPECT_EQ(s_->state(), State::IDLE);
  EXPECT_FALSE(s_->ready());
  std::vector<std::string> ev = Events();
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_THAT(ev[0], HasSubstr(R"("state":"IDLE")"));
  EXPECT_THAT(ev[1], HasSubstr(R"("event":"FINISHED")"));
}

TEST_F(SessionTest, CancelReadyWhenNotReadyFails) {
  Json1("CANCEL_PRINTER_READY", 43);
  s_->RunCommand();
  EXPECT_THAT(Events(),
              ::testing::ElementsAre(R"({"event":"FAILED","source":"WUI","data":{"error":)"
                                     R"("Can't cancel, printer isn't ready"},"command_id":43,)"
                                     R"("reason":"Command error","state":"BUSY"})"));
}

TEST_F(SessionTest, SetReadyWhilePrintingFails) {
  s_->set_state(State::PRINTING, Source::MARLIN, std::nullopt, {}, Json());
  Json1("SET_PRINTER_READY", 44);
  s_->RunCommand();
  EXPECT_THAT(Events()[0], HasSubstr("Can't set ready while PRINTING"));
  EXPECT_EQ(s_->state(), State::PRINTING);
}

TEST_F(SessionTest, DialogActionNeedsKwargs) {
  Json1("DIALOG_ACTION", 50);
  s_->RunCommand();
  EXPECT_THAT(Events()[0], HasSubstr("Command.DIALOG_ACTION requires kwargs"));
  Deliver("51", R"({"command":"DIALOG_ACTION","kwargs":{"dialog_id":7,"button":"ok"}})");
  s_->RunCommand();
  EXPECT_THAT(Events()[0], HasSubstr(R"("event":"FINISHED")"));
}

TEST_F(SessionTest, MmuInfoFollowsOptions) {
  PrinterOptions o;
  o.mmu_supported = false;
  Make(PrinterType::I3MK3S, "SN", "fp", o);
  EXPECT_FALSE(s_->get_info().contains("mmu"));
  Make(PrinterType::I3MK3S, "SN", "fp");
  s_->set_mmu(true, "", MMUType::MMU3);
  EXPECT_EQ(s_->get_info().find("mmu")->Dump(), R"({"enabled":true})");
  EXPECT_EQ(s_->get_info().find("slots")->as_int(), 5);
}

// ---------------------------------------------------------------- events and telemetry

TEST_F(SessionTest, EventTimestampIsCreationTimeAndExplicitTimestampKept) {
  s_->event_cb(Event::INFO, Source::WUI, {}, Json());
  EventFields f;
  f.timestamp = 24;
  s_->event_cb(Event::INFO, Source::WUI, f, Json());
  clock_.Advance(5 * kSecond);
  Session::Outgoing first = Take();
  EXPECT_EQ(*FindHeader(first.request, "Timestamp"), "1700000000.0");
  s_->Complete(first, Resp(204), now());
  EXPECT_EQ(*FindHeader(Take().request, "Timestamp"), "24.0");
}

TEST_F(SessionTest, JobIdIsInjectedIntoEventsAndTelemetry) {
  s_->set_job_id(5);
  EventFields f;
  f.job_id = 99;  // overridden, as in the SDK
  s_->event_cb(Event::JOB_INFO, Source::MARLIN, f, Json());
  s_->telemetry(Json::MakeObject({{"progress", 10}}));
  EXPECT_THAT(SendAll(),
              ::testing::ElementsAre(R"(/p/events {"event":"JOB_INFO","source":"MARLIN","data":{},)"
                                     R"("job_id":5,"state":"BUSY"})",
                                     R"(/p/telemetry {"progress":10,"job_id":5,"state":"BUSY"})"));
}

TEST_F(SessionTest, TelemetryIsCoalescedToTheNewest) {
  s_->telemetry(Json::MakeObject({{"temp_bed", 1}}));
  s_->telemetry(Json::MakeObject({{"temp_bed", 2}}));
  s_->telemetry(Json::MakeObject({{"temp_bed", 3}}));
  EXPECT_THAT(SendAll(), ::testing::ElementsAre(R"(/p/telemetry {"temp_bed":3,"state":"BUSY"})"));
  EXPECT_EQ(s_->stats().telemetry_coalesced, 2u);
  EXPECT_EQ(s_->stats().telemetry_sent, 1u);
}

TEST_F(SessionTest, EventsAndTelemetryKeepTheirOrder) {
  s_->event_cb(Event::INFO, Source::WUI, {}, Json::MakeObject({{"n", 1}}));
  s_->telemetry(Json::MakeObject({{"t", 1}}));
  s_->event_cb(Event::INFO, Source::WUI, {}, Json::MakeObject({{"n", 2}}));
  s_->telemetry(Json::MakeObject({{"t", 2}}));  // replaces t=1 in its slot
  std::vector<std::string> sent = SendAll();
  ASSERT_EQ(sent.size(), 3u);
  EXPECT_THAT(sent[0], HasSubstr(R"({"n":1})"));
  EXPECT_THAT(sent[1], HasSubstr(R"({"t":2,)"));
  EXPECT_THAT(sent[2], HasSubstr(R"({"n":2})"));
}

TEST_F(SessionTest, TelemetryReplacedWhileInFlightIsNotLost) {
  s_->telemetry(Json::MakeObject({{"t", 1}}));
  Session::Outgoing out = Take();
  s_->telemetry(Json::MakeObject({{"t", 2}}));
  s_->Complete(out, Resp(204), now());
  EXPECT_THAT(SendAll(), ::testing::ElementsAre(R"(/p/telemetry {"t":2,"state":"BUSY"})"));
}

// ---------------------------------------------------------------- nothing lost

TEST_F(SessionTest, FailedEventIsRetriedInOrderWithExponentialBackoff) {
  for (int i = 1; i <= 3; ++i) {
    s_->event_cb(Event::INFO, Source::WUI, {}, Json::MakeObject({{"n", i}}));
  }
  // Failure 1: 50..100 ms; failure 2: 100..200 ms; failure 3: 200..400 ms.
  int64_t lo = 50000, hi = 100000;
  for (int attempt = 0; attempt < 3; ++attempt) {
    Session::Outgoing out = Take();
    EXPECT_THAT(out.request.body, HasSubstr(R"({"n":1})"));
    s_->Complete(out, attempt == 1 ? Resp(503) : Failure(TransportError::kConnect), now());
    int64_t wake = 0;
    EXPECT_TRUE(Nothing(&wake));
    EXPECT_GE(wake - now(), lo);
    EXPECT_LE(wake - now(), hi);
    clock_.Advance(wake - now());
    lo *= 2;
    hi *= 2;
  }
  std::vector<std::string> ev = Events();
  ASSERT_EQ(ev.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_THAT(ev[i], HasSubstr("{\"n\":" + std::to_string(i + 1) + "}"));
  }
  PrinterStats st = s_->stats();
  EXPECT_EQ(st.events_sent, 3u);
  EXPECT_EQ(st.events_retried, 3u);
  EXPECT_EQ(st.events_buffered, 0u);
}

TEST_F(SessionTest, BackoffIsCappedAtTheMaximum) {
  s_->event_cb(Event::INFO, Source::WUI, {}, Json());
  for (int i = 0; i < 20; ++i) {
    s_->Complete(Take(), Resp(500), now());
    int64_t wake = 0;
    EXPECT_TRUE(Nothing(&wake));
    EXPECT_LE(wake - now(), 60 * kSecond);
    clock_.Advance(wake - now());
  }
  int64_t wake = 0;
  s_->Complete(Take(), Resp(500), now());
  EXPECT_TRUE(Nothing(&wake));
  EXPECT_GE(wake - now(), 30 * kSecond);
}

TEST_F(SessionTest, FullBufferDropsTheOldestAndCountsIt) {
  PrinterOptions o;
  o.event_buffer_size = 3;
  Make(PrinterType::I3MK3S, "SN", "fp", o);
  for (int i = 1; i <= 5; ++i) {
    s_->event_cb(Event::INFO, Source::WUI, {}, Json::MakeObject({{"n", i}}));
  }
  EXPECT_EQ(s_->stats().events_dropped_overflow, 2u);
  std::vector<std::string> ev = Events();
  ASSERT_EQ(ev.size(), 3u);
  EXPECT_THAT(ev[0], HasSubstr(R"({"n":3})"));
  EXPECT_THAT(ev[2], HasSubstr(R"({"n":5})"));
}

TEST_F(SessionTest, OverflowNeverDropsTheEventOnTheWire) {
  PrinterOptions o;
  o.event_buffer_size = 2;
  Make(PrinterType::I3MK3S, "SN", "fp", o);
  s_->event_cb(Event::INFO, Source::WUI, {}, Json::MakeObject({{"n", 1}}));
  Session::Outgoing out = Take();
  s_->event_cb(Event::INFO, Source::WUI, {}, Json::MakeObject({{"n", 2}}));
  s_->event_cb(Event::INFO, Source::WUI, {}, Json::MakeObject({{"n", 3}}));
  s_->Complete(out, Resp(204), now());
  std::vector<std::string> ev = Events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_THAT(ev[0], HasSubstr(R"({"n":3})"));
  EXPECT_EQ(s_->stats().events_sent, 2u);
  EXPECT_EQ(s_->stats().events_dropped_overflow, 1u);
}

TEST_F(SessionTest, FinalClientErrorDropsTheEventWithoutBackoff) {
  s_->event_cb(Event::INFO, Source::WUI, {}, Json::MakeObject({{"n", 1}}));
  s_->event_cb(Event::INFO, Source::WUI, {}, Json::MakeObject({{"n", 2}}));
  s_->Complete(Take(), Resp(400, {}, "bad event"), now());
  std::vector<std::string> ev = Events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_THAT(ev[0], HasSubstr(R"({"n":2})"));
  EXPECT_EQ(s_->stats().events_dropped_rejected, 1u);
}

TEST_F(SessionTest, IdlePrinterAsksForNoWakeUp) {
  int64_t wake = 0;
  EXPECT_TRUE(Nothing(&wake));
  EXPECT_EQ(wake, INT64_MAX);
}

TEST_F(SessionTest, CancelledRequestKeepsItsEvent) {
  s_->event_cb(Event::INFO, Source::WUI, {}, Json());
  Take();
  s_->Cancelled();
  EXPECT_EQ(Events().size(), 1u);
}

// ---------------------------------------------------------------- clock (test_clock)

TEST_F(SessionTest, ClockAdjustedGoesOutOnceAfterAJump) {
  clock_.AdjustWall(2 * kSecond);
  s_->event_cb(Event::INFO, Source::WUI, {}, Json());
  s_->event_cb(Event::INFO, Source::WUI, {}, Json());
  Session::Outgoing first = Take();
  ASSERT_NE(FindHeader(first.request, "Clock-Adjusted"), nullptr);
  EXPECT_EQ(*FindHeader(first.request, "Clock-Adjusted"), "1");
  s_->Complete(first, Resp(204), now());
  EXPECT_EQ(FindHeader(Take().request, "Clock-Adjusted"), nullptr);
}

TEST_F(SessionTest, SmallClockDriftIsNotReported) {
  clock_.AdjustWall(kSecond - 1);
  s_->event_cb(Event::INFO, Source::WUI, {}, Json());
  EXPECT_EQ(FindHeader(Take().request, "Clock-Adjusted"), nullptr);
}

// ---------------------------------------------------------- definitions

TEST_F(SessionTest, DeclaredDefinitionsRejectBeforeAnyHandlerRuns) {
  int runs = 0;
  Json seen;
  s_->set_handler(Command::START_PRINT, [&](const CommandRequest& req) -> StatusOr<CommandResult> {
    ++runs;
    seen = req.kwargs;
    return CommandResult{};
  });
  s_->set_supported_commands(StandardCommandDefinitions({Command::START_PRINT}));
  const std::string start = R"j({"command":"START_PRINT","kwargs":{"path":"/usb/a.gcode"}})j";
  // BUSY: not a state START_PRINT runs from.
  EXPECT_THAT(
      Deliver("30", start),
      ::testing::ElementsAre(R"j({"event":"REJECTED","source":"WUI","data":{},"command_id":30,)j"
                             R"j("reason":"START_PRINT cannot run while the printer is BUSY )j"
                             R"j((only from IDLE, READY, FINISHED, STOPPED)","state":"BUSY"})j"));
  s_->RunCommand();
  // Connect asking again gets the same answer, and no handler ran.
  EXPECT_THAT(Deliver("30", start)[0], HasSubstr(R"j("event":"REJECTED","source":"CONNECT")j"));
  s_->set_state(State::IDLE, Source::WUI, std::nullopt, EventFields(), Json());
  EXPECT_THAT(Deliver("31", R"j({"command":"START_PRINT","kwargs":{"path":5}})j")[0],
              HasSubstr("START_PRINT: argument 'path' must be a string, not an integer (5)"));
  EXPECT_THAT(Deliver("32", R"j({"command":"START_PRINT"})j")[0],
              HasSubstr("START_PRINT: missing required argument 'path' (string)"));
  s_->RunCommand();
  EXPECT_EQ(runs, 0);
  // A good one runs; a command without a definition is as before.
  EXPECT_THAT(Deliver("33", start)[0], HasSubstr(R"j("event":"ACCEPTED")j"));
  s_->RunCommand();
  EXPECT_EQ(runs, 1);
  EXPECT_EQ(seen.Dump(), R"j({"path":"/usb/a.gcode"})j");
  Events();
  EXPECT_THAT(Json1("STANDUP", 34)[0], HasSubstr(R"j("event":"ACCEPTED")j"));
}

TEST_F(SessionTest, DefinitionDefaultsReachTheHandlerAndGcodeIsChecked) {
  CommandDefinition move;
  move.command = "GCODE";
  CommandArgument gcode;
  gcode.name = "gcode";
  gcode.required = true;
  move.args.push_back(gcode);
  CommandDefinition del = StandardCommandDefinitions({Command::DELETE_FOLDER})[0];
  s_->set_supported_commands({move, del});
  Json seen;
  s_->set_handler(Command::DELETE_FOLDER,
                  [&](const CommandRequest& req) -> StatusOr<CommandResult> {
                    seen = req.kwargs;
                    return CommandResult{};
                  });
  Deliver("40", R"j({"command":"DELETE_FOLDER","kwargs":{"path":"/usb/old"}})j");
  s_->RunCommand();
  EXPECT_EQ(seen.Dump(), R"j({"path":"/usb/old","force":false})j");
  // text/x.gcode arrives as kwargs {"gcode": body}: it matches.
  EXPECT_THAT(Deliver("41", "G28\n", "text/x.gcode")[0], HasSubstr(R"j("event":"ACCEPTED")j"));
  // The definitions go out in SEND_INFO, and away again when cleared.
  EXPECT_THAT(s_->get_info().Dump(), HasSubstr(R"j("supported_commands":[{"command":"GCODE")j"));
  EXPECT_EQ(s_->supported_commands().size(), 2u);
  s_->set_supported_commands({});
  EXPECT_FALSE(s_->get_info().contains("supported_commands"));
}

TEST_F(SessionTest, HandledCommandsAreTheHostsTheLibrarysAndTheBuiltInOnes) {
  auto handled = [this] {
    std::vector<std::string> names;
    for (Command c : s_->HandledCommands()) names.emplace_back(ToString(c));
    return names;
  };
  EXPECT_THAT(handled(), ::testing::Contains("SEND_INFO"));
  EXPECT_THAT(handled(), ::testing::Not(::testing::Contains("START_PRINT")));
  s_->set_handler(Command::START_PRINT,
                  [](const CommandRequest&) -> StatusOr<CommandResult> { return CommandResult{}; });
  EXPECT_THAT(handled(), ::testing::Contains("START_PRINT"));
  EXPECT_THAT(handled(), ::testing::Not(::testing::Contains("UPGRADE")));
}

}  // namespace
}  // namespace prusaconnect::internal
