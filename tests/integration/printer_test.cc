// Copyright 2026 The libprusaconnect Authors.
//
// The real transport (libcurl on the shared network thread) against the
// local Connect emulator on 127.0.0.1: registration end to end, telemetry →
// command → handler → events, outages, two printers in one process, and bad
// input from the server. Waits are bounded condition waits, never sleeps
// that a slow machine could outrun.
#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/time.h"
#include "emulator/emulator.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "prusaconnect/prusaconnect.h"

namespace prusaconnect {
namespace {

using emulator::Emulator;
using emulator::FaultKind;
using emulator::FaultRule;
using ::testing::HasSubstr;

constexpr absl::Duration kWait = absl::Seconds(30);

// Counts what a printer's conditions went through.
struct Latch {
  std::mutex mu;
  std::condition_variable cv;
  std::string value;
  bool set = false;
  void Set(const std::string& v) {
    std::lock_guard<std::mutex> l(mu);
    value = v;
    set = true;
    cv.notify_all();
  }
  bool Wait(int ms) {
    std::unique_lock<std::mutex> l(mu);
    return cv.wait_for(l, std::chrono::milliseconds(ms), [this] { return set; });
  }
};

class PrinterIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    emulator_ = std::make_unique<Emulator>();
    ASSERT_TRUE(emulator_->Start().ok());
    network_ = std::make_shared<Network>();
  }

  void TearDown() override {
    printers_.clear();
    emulator_->Stop();
  }

  // A printer already known to the emulator, with a token.
  Printer* MakePrinter(const std::string& sn, PrinterOptions options = {}) {
    options.network = network_;
    std::string fp = FingerprintFromSerial(sn);
    auto token = emulator_->PreregisterPrinter(fp, sn, "1.3.1");
    EXPECT_TRUE(token.ok());
    auto p = std::make_unique<Printer>(PrinterType::I3MK3S, sn, fp, options);
    p->set_software("test");
    p->set_connection(emulator_->url(), *token);
    printers_.push_back(std::move(p));
    return printers_.back().get();
  }

  std::vector<std::string> EventNames(const std::string& fp) {
    std::vector<std::string> names;
    for (const auto& e : emulator_->GetEvents(fp)) names.push_back(e.event);
    return names;
  }

  std::unique_ptr<Emulator> emulator_;
  std::shared_ptr<Network> network_;
  std::vector<std::unique_ptr<Printer>> printers_;
};

TEST_F(PrinterIntegrationTest, RegistrationEndToEnd) {
  PrinterOptions o;
  o.network = network_;
  o.register_poll_interval_ms = 100;
  Printer printer(PrinterType::I3MK3, "SN-REG-1", FingerprintFromSerial("SN-REG-1"), o);
  printer.set_firmware("3.14.1");
  printer.set_connection(emulator_->url(), "");
  EXPECT_EQ(printer.conditions().TOKEN.state(), CondState::kNok);
  Latch token;
  printer.set_register_handler([&](const std::string& t) { token.Set(t); });

  StatusOr<std::string> code = printer.register_printer();
  ASSERT_TRUE(code.ok()) << code.status().ToString();
  EXPECT_EQ(printer.code(), *code);
  EXPECT_EQ(printer.registration_status(), RegistrationStatus::IN_PROGRESS);
  std::optional<std::string> pending = emulator_->WaitForCode(kWait);
  ASSERT_TRUE(pending);
  EXPECT_EQ(*pending, *code);
  // Polling is answered 202 until the user approves.
  ASSERT_TRUE(emulator_->WaitFor(
      [&] {
        for (const auto& r : emulator_->RequestLog()) {
          if (r.method == "GET" && r.target == "/p/register" && r.status == 202) return true;
        }
        return false;
      },
      kWait));
  prusaconnect::StatusOr<std::string> issued = emulator_->ApproveCode(*code);
  ASSERT_TRUE(issued.ok());
  ASSERT_TRUE(token.Wait(30000));
  EXPECT_EQ(token.value, *issued);
  EXPECT_EQ(printer.token(), *issued);
  EXPECT_EQ(printer.code(), "");
  EXPECT_EQ(printer.registration_status(), RegistrationStatus::FINISHED);
  EXPECT_EQ(printer.conditions().TOKEN.state(), CondState::kOk);

  printer.telemetry(Telemetry{});
  std::string fp = FingerprintFromSerial("SN-REG-1");
  ASSERT_TRUE(emulator_->WaitForTelemetry(fp, 1, kWait));
  EXPECT_TRUE(printer.conditions().API);
  auto info = emulator_->GetPrinter(fp);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->sn, "SN-REG-1");
  EXPECT_EQ(info->printer_type, "1.3.0");
  EXPECT_EQ(info->firmware, "3.14.1");
  EXPECT_EQ(info->protocol_error_count, 0) << info->protocol_errors.front();
}

TEST_F(PrinterIntegrationTest, RegistrationAgainstUnreachableServerIsUnavailable) {
  PrinterOptions o;
  o.network = network_;
  Printer printer(PrinterType::I3MK3, "SN", "fp", o);
  emulator_->PauseListening();
  printer.set_connection(emulator_->url(), "");
  StatusOr<std::string> code = printer.register_printer();
  EXPECT_EQ(code.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(code.status().message(), HasSubstr("cannot reach Connect"));
  EXPECT_EQ(printer.conditions().HTTP.state(), CondState::kNok);
}

TEST_F(PrinterIntegrationTest, TelemetryCommandHandlerEvents) {
  Printer* p = MakePrinter("SN-CMD-1");
  std::string fp = p->fingerprint();
  std::atomic<bool> done{false};
  std::optional<CommandRequest> gcode;
  p->set_handler(Command::GCODE, [&](const CommandRequest& c) -> StatusOr<CommandResult> {
    gcode = c;
    CommandResult r;
    r.source = Source::MARLIN;
    return r;
  });
  p->start();
  // The host's command thread, as the SDK's README does it.
  std::thread runner([&] {
    while (!done) {
      if (p->wait_for_command(50)) p->command();
    }
  });
  Telemetry t;
  t.temp_nozzle = 215.5;
  t.target_nozzle = 215;
  t.extra.set("custom", "x");
  p->telemetry(t);
  ASSERT_TRUE(emulator_->WaitForTelemetry(fp, 1, kWait));
  EXPECT_EQ(emulator_->GetPrinter(fp)->last_telemetry,
            R"({"temp_nozzle":215.5,"target_nozzle":215.0,"custom":"x","state":"BUSY"})");

  auto id = emulator_->QueueCommand(fp, emulator::Command::Json("SEND_INFO"));
  ASSERT_TRUE(id.ok());
  p->telemetry(t);  // the command rides on the answer to this telemetry
  auto info = emulator_->WaitForEvent(fp, "INFO", kWait);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->command_id, *id);
  EXPECT_THAT(info->json, HasSubstr(R"("sn":"SN-CMD-1")"));
  EXPECT_THAT(EventNames(fp), ::testing::ElementsAre("ACCEPTED", "INFO"));

  auto gid = emulator_->QueueCommand(fp, emulator::Command::Gcode("G28 X", true));
  ASSERT_TRUE(gid.ok());
  p->telemetry(t);
  auto finished = emulator_->WaitForEvent(fp, "FINISHED", kWait);
  ASSERT_TRUE(finished);
  EXPECT_EQ(finished->command_id, *gid);
  EXPECT_EQ(finished->source, "MARLIN");
  ASSERT_TRUE(gcode);
  EXPECT_TRUE(gcode->force);
  EXPECT_EQ(gcode->kwargs.find("gcode")->as_string(), "G28 X");
  done = true;
  runner.join();
  EXPECT_EQ(emulator_->GetPrinter(fp)->protocol_error_count, 0);
}

// The public request observer sees every answered request of its printer:
// kind, status (a 503 as well as the retried 200), and monotonic times in
// order; an empty observer stops the reports.
TEST_F(PrinterIntegrationTest, RequestObserverReportsEachRequest) {
  PrinterOptions o;
  o.backoff_max_ms = 200;
  Printer* p = MakePrinter("SN-OBSERVE-1", o);
  std::mutex mu;
  std::condition_variable cv;
  std::vector<RequestRecord> records;
  p->set_request_observer([&](const RequestRecord& r) {
    std::lock_guard<std::mutex> l(mu);
    records.push_back(r);
    cv.notify_all();
  });
  // How many records of `kind` have a status in [lo, hi].
  auto count = [&](RequestKind kind, int lo, int hi) {
    return std::count_if(records.begin(), records.end(), [&](const RequestRecord& r) {
      return r.kind == kind && r.http_status >= lo && r.http_status <= hi;
    });
  };
  FaultRule unavailable;
  unavailable.kind = FaultKind::kStatus;
  unavailable.status = 503;
  unavailable.path_prefix = "/p/events";
  unavailable.count = 1;
  emulator_->AddFault(unavailable);
  p->start();
  Telemetry t;
  t.temp_nozzle = 200;
  p->telemetry(t);
  p->event_cb(Event::INFO, Source::WUI, {}, Json::MakeObject({{"observed", true}}));
  {
    std::unique_lock<std::mutex> l(mu);
    ASSERT_TRUE(cv.wait_for(l, std::chrono::seconds(30),
                            [&] {
                              return count(RequestKind::kTelemetry, 200, 299) >= 1 &&
                                     count(RequestKind::kEvent, 503, 503) == 1 &&
                                     count(RequestKind::kEvent, 200, 299) == 1;
                            }))
        << records.size() << " records";
    for (const RequestRecord& r : records) {
      EXPECT_GT(r.queued_us, 0);
      EXPECT_GE(r.done_us, r.queued_us);
    }
  }
  ASSERT_TRUE(p->flush(30000));
  p->set_request_observer(nullptr);
  size_t before;
  {
    std::lock_guard<std::mutex> l(mu);
    before = records.size();
  }
  const uint64_t sent = p->stats().telemetry_sent;
  p->telemetry(t);
  // Answered (the session counted it after the observer would have run).
  for (int i = 0; i < 3000 && p->stats().telemetry_sent == sent; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_GT(p->stats().telemetry_sent, sent);
  std::lock_guard<std::mutex> l(mu);
  EXPECT_EQ(records.size(), before);
}

TEST_F(PrinterIntegrationTest, BackgroundHandlersAndCommandIdInTelemetry) {
  PrinterOptions o;
  o.background_handlers = true;
  Printer* p = MakePrinter("SN-BG-1", o);
  std::string fp = p->fingerprint();
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  std::atomic<bool> entered{false};
  p->set_handler(Command::START_PRINT, [&](const CommandRequest&) -> StatusOr<CommandResult> {
    entered = true;
    std::unique_lock<std::mutex> l(mu);
    cv.wait(l, [&] { return release; });
    return CommandResult{};
  });
  p->start();
  auto id = emulator_->QueueCommand(
      fp, emulator::Command::Json("START_PRINT", "", R"({"path":"/usb/a.gcode"})"));
  ASSERT_TRUE(id.ok());
  p->telemetry(Json::MakeObject());
  ASSERT_TRUE(emulator_->WaitForEvent(fp, "ACCEPTED", kWait));
  ASSERT_TRUE(emulator_->WaitFor([&] { return entered.load(); }, kWait));
  // While the handler runs, telemetry keeps flowing and carries command_id.
  int64_t before = emulator_->GetPrinter(fp)->telemetry_count;
  p->telemetry(Json::MakeObject({{"progress", 1}}));
  ASSERT_TRUE(emulator_->WaitForTelemetry(fp, before + 1, kWait));
  EXPECT_EQ(emulator_->GetPrinter(fp)->last_telemetry_command_id, *id);
  {
    std::lock_guard<std::mutex> l(mu);
    release = true;
  }
  cv.notify_all();
  auto fin = emulator_->WaitForEvent(fp, "FINISHED", kWait);
  ASSERT_TRUE(fin);
  EXPECT_EQ(fin->command_id, *id);
}

TEST_F(PrinterIntegrationTest, OutageLosesNothingAndKeepsOrder) {
  PrinterOptions o;
  o.backoff_max_ms = 1000;  // keeps the test short; the policy is the same
  o.request_timeout_ms = 2000;
  Printer* p = MakePrinter("SN-OUT-1", o);
  std::string fp = p->fingerprint();
  p->start();
  p->event_cb(Event::INFO, Source::WUI, {}, Json::MakeObject({{"n", 0}}));
  ASSERT_TRUE(emulator_->WaitForEvents(fp, 1, kWait));

  // 10 s outage: 5 s of 503 answers, then 5 s of refused connections.
  FaultRule unavailable;
  unavailable.kind = FaultKind::kStatus;
  unavailable.status = 503;
  unavailable.path_prefix = "/p/";
  unavailable.duration = absl::Seconds(5);
  FaultRule refused;
  refused.kind = FaultKind::kRefuse;
  refused.start_after = absl::Seconds(5);
  refused.duration = absl::Seconds(5);
  emulator_->AddFaults({unavailable, refused});

  constexpr int kEvents = 60;
  for (int i = 1; i <= kEvents; ++i) {
    p->event_cb(Event::INFO, Source::WUI, {}, Json::MakeObject({{"n", i}}));
    p->telemetry(Json::MakeObject({{"n", i}}));
    std::this_thread::sleep_for(std::chrono::milliseconds(150));  // spread over the outage
  }
  ASSERT_TRUE(emulator_->WaitForEvents(fp, kEvents + 1, absl::Seconds(60)));
  ASSERT_TRUE(p->flush(30000));
  std::vector<emulator::RecordedEvent> events = emulator_->GetEvents(fp);
  ASSERT_EQ(events.size(), static_cast<size_t>(kEvents + 1));
  for (int i = 0; i <= kEvents; ++i) {
    EXPECT_THAT(events[i].json, HasSubstr("{\"n\":" + std::to_string(i) + "}")) << i;
  }
  PrinterStats st = p->stats();
  EXPECT_EQ(st.events_sent, static_cast<uint64_t>(kEvents + 1));
  EXPECT_EQ(st.events_dropped_overflow, 0u);
  EXPECT_GT(st.events_retried, 0u);
  EXPECT_GT(st.requests_failed, 0u);
  EXPECT_TRUE(p->conditions().API);
  // The outage really happened: 503s and refused connections were seen.
  EXPECT_THAT(emulator_->RequestLog(),
              ::testing::Contains(::testing::Field(&emulator::RequestLogEntry::status, 503)));
  EXPECT_EQ(emulator_->GetPrinter(fp)->protocol_error_count, 0);
}

TEST_F(PrinterIntegrationTest, TwoPrintersInOneProcessInterleave) {
  Printer* a = MakePrinter("SN-TWO-A");
  Printer* b = MakePrinter("SN-TWO-B");
  a->start();
  b->start();
  EXPECT_EQ(network_->printer_count(), 2u);
  for (int i = 0; i < 20; ++i) {
    a->event_cb(Event::INFO, Source::WUI, {}, Json::MakeObject({{"a", i}}));
    b->event_cb(Event::INFO, Source::WUI, {}, Json::MakeObject({{"b", i}}));
    a->telemetry(Json::MakeObject({{"a", i}}));
    b->telemetry(Json::MakeObject({{"b", i}}));
  }
  auto ida = emulator_->QueueCommand(a->fingerprint(), emulator::Command::Json("SEND_STATE_INFO"));
  auto idb = emulator_->QueueCommand(b->fingerprint(), emulator::Command::Json("SEND_INFO"));
  a->telemetry(Json::MakeObject());
  b->telemetry(Json::MakeObject());
  ASSERT_TRUE(a->wait_for_command(30000));
  ASSERT_TRUE(b->wait_for_command(30000));
  EXPECT_EQ(a->current_command()->command_id, *ida);
  EXPECT_EQ(b->current_command()->command_id, *idb);
  a->command();
  b->command();
  ASSERT_TRUE(emulator_->WaitForEvent(a->fingerprint(), "STATE_CHANGED", kWait));
  ASSERT_TRUE(emulator_->WaitForEvent(b->fingerprint(), "INFO", kWait));
  ASSERT_TRUE(a->flush(30000));
  ASSERT_TRUE(b->flush(30000));
  int na = 0, nb = 0;
  for (const auto& e : emulator_->GetEvents(a->fingerprint())) {
    if (e.event == "INFO") {
      EXPECT_THAT(e.json, HasSubstr("{\"a\":" + std::to_string(na++) + "}"));
    }
  }
  for (const auto& e : emulator_->GetEvents(b->fingerprint())) {
    if (e.event == "INFO" && !e.command_id) {
      EXPECT_THAT(e.json, HasSubstr("{\"b\":" + std::to_string(nb++) + "}"));
    }
  }
  EXPECT_EQ(na, 20);
  EXPECT_EQ(nb, 20);
  // Conditions are per printer: a 503 for A breaks A's HTTP condition only.
  std::atomic<int> a_broke{0}, b_broke{0};
  a->conditions().HTTP.add_broke_callback([&](const Condition&, CondState) { ++a_broke; });
  b->conditions().HTTP.add_broke_callback([&](const Condition&, CondState) { ++b_broke; });
  FaultRule only_a;
  only_a.kind = FaultKind::kStatus;
  only_a.status = 503;
  only_a.path_prefix = "/p/";
  only_a.fingerprint = a->fingerprint();
  only_a.count = 1;
  emulator_->AddFault(only_a);
  a->telemetry(Json::MakeObject());
  b->telemetry(Json::MakeObject());
  ASSERT_TRUE(emulator_->WaitFor([&] { return a_broke > 0; }, kWait));
  ASSERT_TRUE(a->flush(30000));
  ASSERT_TRUE(b->flush(30000));
  EXPECT_EQ(b_broke.load(), 0);
  EXPECT_TRUE(b->conditions().HTTP);
}

// Bad input from the server ------------------------------------------------

class BadServerInputTest : public PrinterIntegrationTest {
 protected:
  // Queues a raw telemetry answer and returns the REJECTED event it causes.
  std::optional<emulator::RecordedEvent> Answer(Printer* p, emulator::RawResponse raw) {
    uint64_t since = 0;
    for (const auto& e : emulator_->GetEvents(p->fingerprint())) since = e.seq;
    EXPECT_TRUE(emulator_->QueueCommand(p->fingerprint(), emulator::Command::Raw(raw)).ok());
    p->telemetry(Json::MakeObject());
    return emulator_->WaitForEvent(p->fingerprint(), "REJECTED", kWait, since);
  }
};

TEST_F(BadServerInputTest, EachMalformedCommandIsRejectedAndNothingCrashes) {
  Printer* p = MakePrinter("SN-BAD-1");
  p->start();
  auto r = Answer(p, {200, {{"Command-Id", "7"}, {"Content-Type", "application/json"}}, "{oops"});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->command_id, 7);
  EXPECT_THAT(r->reason, HasSubstr("Invalid command"));

  r = Answer(p, {200, {{"Content-Type", "application/json"}}, R"({"command":"SEND_INFO"})"});
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->command_id);
  EXPECT_EQ(r->reason, "Invalid Command-Id header");

  r = Answer(p, {200,
                 {{"Command-Id", "x1"}, {"Content-Type", "application/json"}},
                 R"({"command":"SEND_INFO"})"});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->reason, "Invalid Command-Id header");

  r = Answer(p, {200, {{"Command-Id", "8"}, {"Content-Type", "text/html"}}, "<html/>"});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->command_id, 8);
  EXPECT_EQ(r->reason, "Invalid command content type");

  r = Answer(p, {200,
                 {{"Command-Id", "9"}, {"Content-Type", "application/json"}},
                 std::string(10 << 20, ' ')});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->command_id, 9);
  EXPECT_THAT(r->reason, HasSubstr("too large"));

  // The printer is still healthy and takes a good command.
  auto id = emulator_->QueueCommand(p->fingerprint(), emulator::Command::Json("SEND_STATE_INFO"));
  p->telemetry(Json::MakeObject());
  ASSERT_TRUE(p->wait_for_command(30000));
  p->command();
  auto ok = emulator_->WaitForEvent(p->fingerprint(), "STATE_CHANGED", kWait);
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->command_id, *id);
}

TEST_F(BadServerInputTest, ServerThatNeverAnswersTimesOutAndEventIsDeliveredLater) {
  PrinterOptions o;
  o.request_timeout_ms = 500;
  o.backoff_max_ms = 500;
  Printer* p = MakePrinter("SN-HANG-1", o);
  FaultRule hang;
  hang.kind = FaultKind::kHang;
  hang.path_prefix = "/p/events";
  hang.count = 2;
  emulator_->AddFault(hang);
  p->start();
  p->event_cb(Event::INFO, Source::WUI, {}, Json::MakeObject({{"once", true}}));
  ASSERT_TRUE(emulator_->WaitForEvents(p->fingerprint(), 1, kWait));
  ASSERT_TRUE(p->flush(30000));
  EXPECT_EQ(emulator_->GetEvents(p->fingerprint()).size(), 1u);
  EXPECT_GE(p->stats().events_retried, 2u);
}

TEST_F(BadServerInputTest, DroppedConnectionsAreRetried) {
  PrinterOptions o;
  o.backoff_max_ms = 200;
  Printer* p = MakePrinter("SN-DROP-1", o);
  FaultRule drop;
  drop.kind = FaultKind::kDrop;
  drop.path_prefix = "/p/events";
  drop.count = 3;
  emulator_->AddFault(drop);
  p->start();
  for (int i = 0; i < 5; ++i)
    p->event_cb(Event::INFO, Source::WUI, {}, Json::MakeObject({{"n", i}}));
  ASSERT_TRUE(emulator_->WaitForEvents(p->fingerprint(), 5, kWait));
  ASSERT_TRUE(p->flush(30000));
  auto events = emulator_->GetEvents(p->fingerprint());
  ASSERT_EQ(events.size(), 5u);
  for (int i = 0; i < 5; ++i)
    EXPECT_THAT(events[i].json, HasSubstr("{\"n\":" + std::to_string(i) + "}"));
}

TEST_F(BadServerInputTest, RevokedTokenBreaksTokenCondition) {
  Printer* p = MakePrinter("SN-TOK-1");
  p->set_connection(emulator_->url(), "not-the-token");
  p->start();
  p->telemetry(Json::MakeObject());
  ASSERT_TRUE(
      emulator_->WaitFor([&] { return p->conditions().TOKEN.state() == CondState::kNok; }, kWait));
  EXPECT_EQ(p->conditions().API.state(), CondState::kNok);
}

TEST_F(PrinterIntegrationTest, TokensNeverReachTheLogSink) {
  std::mutex mu;
  std::vector<std::string> lines;
  SetLogLevel(LogLevel::kDebug);
  SetLogSink([&](LogLevel, const std::string& component, const std::string& message) {
    std::lock_guard<std::mutex> l(mu);
    lines.push_back(component + ": " + message);
  });
  PrinterOptions o;
  o.network = network_;
  o.register_poll_interval_ms = 50;
  o.backoff_max_ms = 200;
  Printer printer(PrinterType::I3MK3, "SN-LOG-1", FingerprintFromSerial("SN-LOG-1"), o);
  printer.set_connection(emulator_->url(), "");
  Latch token;
  printer.set_register_handler([&](const std::string& t) { token.Set(t); });
  StatusOr<std::string> code = printer.register_printer();
  ASSERT_TRUE(code.ok());
  ASSERT_TRUE(emulator_->ApproveCode(*code).ok());
  ASSERT_TRUE(token.Wait(30000));
  // Failures and refusals log the request; none of it may carry the token.
  FaultRule fail;
  fail.kind = FaultKind::kStatus;
  fail.status = 500;
  fail.count = 2;
  emulator_->AddFault(fail);
  printer.event_cb(Event::INFO, Source::WUI, {}, Json());
  printer.telemetry(Json::MakeObject());
  ASSERT_TRUE(printer.flush(30000));
  SetLogSink(nullptr);
  SetLogLevel(LogLevel::kInfo);
  std::lock_guard<std::mutex> l(mu);
  EXPECT_FALSE(lines.empty());
  for (const std::string& line : lines) {
    EXPECT_EQ(line.find(token.value), std::string::npos) << line;
  }
}

TEST_F(PrinterIntegrationTest, SdkStyleLoopStopsOnStopLoop) {
  Printer* p = MakePrinter("SN-LOOP-1");
  std::thread loop([p] { p->loop(); });
  p->event_cb(Event::INFO, Source::WUI, {}, Json());
  ASSERT_TRUE(emulator_->WaitForEvents(p->fingerprint(), 1, kWait));
  p->stop_loop();
  loop.join();
  EXPECT_EQ(network_->printer_count(), 0u);
}

TEST_F(PrinterIntegrationTest, DestroyingAPrinterWithARequestInFlightDoesNotWait) {
  PrinterOptions o;
  o.request_timeout_ms = 60000;
  Printer* p = MakePrinter("SN-DEL-1", o);
  FaultRule hang;
  hang.kind = FaultKind::kHang;
  hang.path_prefix = "/p/";
  emulator_->AddFault(hang);
  p->start();
  p->telemetry(Json::MakeObject());
  ASSERT_TRUE(emulator_->WaitFor(
      [&] {
        for (const auto& f : emulator_->Faults()) {
          if (f.hits > 0) return true;
        }
        return false;
      },
      kWait));
  auto start = std::chrono::steady_clock::now();
  printers_.clear();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_EQ(network_->printer_count(), 0u);
}

}  // namespace
}  // namespace prusaconnect
