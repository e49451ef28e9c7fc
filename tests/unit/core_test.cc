// Copyright 2026 The libprusaconnect Authors.
//
// The single-threaded protocol core and its pieces (protocol/core.h,
// outbox.h, registration.h, command_lifecycle.h) driven directly: no lock,
// no thread, no sleep — a fake clock, a scripted random source and canned
// responses, so every delay and every decision is exact. (The same
// protocol behind the facade's lock, against the SDK's scenarios:
// session_test.cc.)
#include "protocol/core.h"

#include <deque>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "protocol/command_lifecycle.h"
#include "protocol/outbox.h"
#include "protocol/registration.h"
#include "util/clock.h"

namespace prusaconnect::internal {
namespace {

constexpr int64_t kMs = 1000;
constexpr int64_t kSecond = 1000 * kMs;

// Random values taken in order (then 0).
RandomSource Script(std::deque<uint64_t> values) {
  return [values]() mutable {
    if (values.empty()) return uint64_t{0};
    uint64_t v = values.front();
    values.pop_front();
    return v;
  };
}

HttpResponse Answer(int status, HeaderList headers = {}, std::string body = "") {
  HttpResponse r;
  r.status = status;
  r.headers = std::move(headers);
  r.body = std::move(body);
  return r;
}

// ---------------------------------------------------------------- Backoff

TEST(BackoffTest, DoublesFromMinToMaxWithJitterFromTheRandomSource) {
  // delay d: jittered = d/2 + r % (d - d/2 + 1); r = 0 gives d/2, r = d/2
  // gives d.
  Backoff b(100, 800, Script({0, 50, 0, 200, 400, 0}));
  int64_t now = 10 * kSecond;
  b.Failed(now);  // d = 100, r = 0
  EXPECT_EQ(b.not_before_us(), now + 50 * kMs);
  b.Failed(now);  // d = 200, r = 50 → 100 + 50
  EXPECT_EQ(b.not_before_us(), now + 150 * kMs);
  b.Failed(now);  // d = 400
  EXPECT_EQ(b.not_before_us(), now + 200 * kMs);
  b.Failed(now);  // d = 800, r = 200 → 400 + 200
  EXPECT_EQ(b.not_before_us(), now + 600 * kMs);
  b.Failed(now);  // capped at 800, r = 400 → 400 + 400
  EXPECT_EQ(b.not_before_us(), now + 800 * kMs);
  EXPECT_EQ(b.failures(), 5);
  b.Reset();
  EXPECT_EQ(b.failures(), 0);
  EXPECT_EQ(b.not_before_us(), 0);
  b.Failed(now);  // from the minimum again
  EXPECT_EQ(b.not_before_us(), now + 50 * kMs);
}

TEST(BackoffTest, DefaultJitterStaysWithinHalfToFull) {
  Backoff b(1000, 1000, XorShiftRandom(42));
  for (int i = 0; i < 1000; ++i) {
    b.Failed(0);
    EXPECT_GE(b.not_before_us(), 500 * kMs);
    EXPECT_LE(b.not_before_us(), 1000 * kMs);
  }
}

// ---------------------------------------------------------------- Outbox

TEST(OutboxTest, SendsInQueueOrderAndCoalescesTelemetry) {
  Outbox o(10);
  o.PushEvent("t1", "e1", 1);
  EXPECT_FALSE(o.PushTelemetry("t2", "telemetry 1", 2));
  o.PushEvent("t3", "e2", 3);
  EXPECT_TRUE(o.PushTelemetry("t4", "telemetry 2", 4));  // replaces, keeps its place

  auto a = o.Take();
  ASSERT_TRUE(a);
  EXPECT_EQ(a->kind, RequestKind::kEvent);
  EXPECT_EQ(a->entry->body, "e1");
  uint64_t seq = a->entry->seq;
  EXPECT_EQ(o.Done(RequestKind::kEvent, seq), "e1");

  auto b = o.Take();
  ASSERT_TRUE(b);
  EXPECT_EQ(b->kind, RequestKind::kTelemetry);
  EXPECT_EQ(b->entry->body, "telemetry 2");
  EXPECT_EQ(b->entry->timestamp, "t4");
  EXPECT_EQ(b->entry->queued_us, 2);  // when the first unsent sample was queued
  o.Done(RequestKind::kTelemetry, b->entry->seq);

  auto c = o.Take();
  ASSERT_TRUE(c);
  EXPECT_EQ(c->entry->body, "e2");
  o.Done(RequestKind::kEvent, c->entry->seq);
  EXPECT_FALSE(o.Take());
  EXPECT_FALSE(o.has_traffic());
}

TEST(OutboxTest, ARetriedTelemetrySampleYieldsToANewerOne) {
  Outbox o(10);
  o.PushTelemetry("t1", "old", 1);
  auto sent = o.Take();
  ASSERT_TRUE(sent);
  o.PushTelemetry("t2", "new", 2);  // queued while the old one is on the wire
  o.Retry(RequestKind::kTelemetry);
  auto next = o.Take();
  ASSERT_TRUE(next);
  EXPECT_EQ(next->entry->body, "new");
  o.Retry(RequestKind::kTelemetry);  // nothing newer: it comes back
  next = o.Take();
  ASSERT_TRUE(next);
  EXPECT_EQ(next->entry->body, "new");
}

TEST(OutboxTest, WhenFullDropsTheOldestEventNotOnTheWire) {
  Outbox o(2);
  o.PushEvent("", "e1", 0);
  o.PushEvent("", "e2", 0);
  auto on_wire = o.Take();
  ASSERT_TRUE(on_wire);
  uint64_t seq = on_wire->entry->seq;
  std::optional<Outbox::Entry> dropped = o.PushEvent("", "e3", 0);
  ASSERT_TRUE(dropped);
  EXPECT_EQ(dropped->body, "e2");  // e1 is on the wire
  EXPECT_EQ(o.events(), 2u);
  EXPECT_EQ(o.Done(RequestKind::kEvent, seq), "e1");
  auto next = o.Take();
  ASSERT_TRUE(next);
  EXPECT_EQ(next->entry->body, "e3");
}

// ---------------------------------------------------------------- Registration

TEST(RegistrationTest, PollsEveryIntervalUntilATokenOrTheCodeExpires) {
  Registration r(1000, 5000);
  r.Begin("CODE1", 0);
  EXPECT_TRUE(r.active());
  int64_t wake = 0;
  EXPECT_FALSE(r.PollDue(999 * kMs, &wake));
  EXPECT_EQ(wake, 1 * kSecond);
  EXPECT_TRUE(r.PollDue(1 * kSecond, &wake));
  EXPECT_EQ(r.Answered(202, false, false, 1 * kSecond), Registration::Outcome::kPending);
  EXPECT_FALSE(r.PollDue(1500 * kMs, &wake));
  EXPECT_EQ(wake, 2 * kSecond);
  EXPECT_EQ(r.Answered(503, false, true, 2 * kSecond), Registration::Outcome::kRetry);
  EXPECT_TRUE(r.PollDue(2 * kSecond, &wake));  // as soon as the backoff allows
  EXPECT_FALSE(r.ExpireIfDue(4999 * kMs));
  EXPECT_TRUE(r.ExpireIfDue(5 * kSecond));
  EXPECT_FALSE(r.active());
  EXPECT_EQ(r.code(), "CODE1");  // kept, as the SDK's printer.code
}

TEST(RegistrationTest, ATokenEndsItAndClearsTheCodeARefusalKeepsIt) {
  Registration r(1000, 5000);
  r.Begin("CODE1", 0);
  EXPECT_EQ(r.Answered(200, false, false, kSecond), Registration::Outcome::kNoToken);
  EXPECT_TRUE(r.active());
  EXPECT_EQ(r.Answered(200, true, false, 2 * kSecond), Registration::Outcome::kToken);
  EXPECT_FALSE(r.active());
  EXPECT_EQ(r.code(), "");

  r.Begin("CODE2", 0);
  EXPECT_EQ(r.Answered(410, false, false, kSecond), Registration::Outcome::kEnded);
  EXPECT_FALSE(r.active());
  EXPECT_EQ(r.code(), "CODE2");
  r.Begin("CODE3", 0);
  EXPECT_EQ(r.Answered(403, false, true, kSecond), Registration::Outcome::kEnded);
}

// ---------------------------------------------------------------- CommandLifecycle

struct RecordingSink final : EventSink {
  struct Emitted {
    Event event;
    Source source;
    EventFields fields;
    Json data;
  };
  std::vector<Emitted> events;
  void Emit(Event event, Source source, EventFields fields, const Json& data,
            std::string*) override {
    events.push_back({event, source, fields, data});
  }
};

TEST(CommandLifecycleTest, AcceptRunEndAndDuplicates) {
  CommandLifecycle c;
  RecordingSink sink;
  bool preempted = false;
  ASSERT_TRUE(c.CheckState(7, "PAUSE_PRINT", sink, &preempted));
  c.Accept(7, "PAUSE_PRINT", Json(), Json(), false, sink);
  ASSERT_EQ(sink.events.size(), 1u);
  EXPECT_EQ(sink.events[0].event, Event::ACCEPTED);
  EXPECT_TRUE(c.pending());
  EXPECT_EQ(c.last_state(), Event::ACCEPTED);

  // The same id again: ACCEPTED again; another id: REJECTED.
  EXPECT_FALSE(c.CheckState(7, "PAUSE_PRINT", sink, &preempted));
  EXPECT_EQ(sink.events.back().event, Event::ACCEPTED);
  EXPECT_FALSE(c.CheckState(8, "STOP_PRINT", sink, &preempted));
  EXPECT_EQ(sink.events.back().event, Event::REJECTED);
  EXPECT_EQ(sink.events.back().fields.reason, "Another command is running");
  EXPECT_EQ(sink.events.back().data.find("actual_command_id")->as_int(), 7);

  std::optional<CommandRequest> run = c.StartRun();
  ASSERT_TRUE(run);
  EXPECT_EQ(run->command, Command::PAUSE_PRINT);
  EXPECT_TRUE(run->args.is_null());  // absent args stay None, as the SDK
  EXPECT_FALSE(c.pending());
  EXPECT_FALSE(c.StartRun());  // started once
  EXPECT_TRUE(c.End(std::nullopt, Event::FINISHED, Source::MARLIN, {}, Json(), sink).ok());
  EXPECT_EQ(sink.events.back().event, Event::FINISHED);
  EXPECT_EQ(sink.events.back().fields.command_id, 7);
  EXPECT_EQ(c.last_state(), Event::FINISHED);
  EXPECT_FALSE(c.running(7));
  // A finished command's id again: its last state.
  EXPECT_FALSE(c.CheckState(7, "PAUSE_PRINT", sink, &preempted));
  EXPECT_EQ(sink.events.back().event, Event::FINISHED);
  EXPECT_FALSE(preempted);
  // Nothing runs: ending one is refused.
  EXPECT_EQ(c.End(std::nullopt, Event::FINISHED, Source::MARLIN, {}, Json(), sink).code(),
            StatusCode::kFailedPrecondition);
}

TEST(CommandLifecycleTest, APriorityCommandPreemptsARunningOne) {
  CommandLifecycle c;
  RecordingSink sink;
  bool preempted = false;
  ASSERT_TRUE(c.CheckState(1, "START_PRINT", sink, &preempted));
  c.Accept(1, "START_PRINT", Json(), Json(), false, sink);
  ASSERT_TRUE(c.StartRun());
  ASSERT_TRUE(c.CheckState(2, "RESET_PRINTER", sink, &preempted));
  EXPECT_TRUE(preempted);
  c.Accept(2, "RESET_PRINTER", Json(), Json(), false, sink);
  // The preempted handler ends later with its own id; RESET_PRINTER stays.
  EXPECT_TRUE(c.End(1, Event::FAILED, Source::MARLIN, {}, Json(), sink).ok());
  EXPECT_TRUE(c.running(2));
  EXPECT_EQ(c.End(1, Event::FAILED, Source::MARLIN, {}, Json(), sink).code(),
            StatusCode::kFailedPrecondition);  // once
}

TEST(CommandLifecycleTest, DefinitionsRejectBadKwargsAndFillDefaults) {
  CommandLifecycle c;
  RecordingSink sink;
  CommandDefinition d;
  d.command = "MOVE";
  CommandArgument x;
  x.name = "x";
  x.type = ArgType::NUMBER;
  x.required = true;
  CommandArgument speed;
  speed.name = "speed";
  speed.type = ArgType::NUMBER;
  speed.default_value = Json(100);
  d.args = {x, speed};
  c.set_definitions({d});
  ASSERT_TRUE(c.definitions_json().is_array());
  Json kwargs = Json::MakeObject();
  EXPECT_FALSE(c.CheckDefinition(3, "MOVE", &kwargs, State::IDLE, sink));
  EXPECT_EQ(sink.events.back().event, Event::REJECTED);
  EXPECT_EQ(c.last_state(), Event::REJECTED);
  kwargs = Json::MakeObject({{"x", 5}});
  EXPECT_TRUE(c.CheckDefinition(4, "MOVE", &kwargs, State::IDLE, sink));
  EXPECT_EQ(kwargs.find("speed")->as_int(), 100);
  Json other = Json::MakeObject();
  EXPECT_TRUE(c.CheckDefinition(5, "HOME", &other, State::IDLE, sink));  // no definition
}

// ---------------------------------------------------------------- SessionCore

class CoreTest : public ::testing::Test {
 protected:
  CoreTest() : core_(PrinterType::I3MK3S, "SN1", "fp", Options(), &clock_, Script({0, 0, 0})) {
    core_.SetConnection("http://connect", "tok");
    core_.TakeEffects();
  }
  static CoreOptions Options() {
    CoreOptions o;
    o.backoff_min_ms = 100;
    o.backoff_max_ms = 1000;
    return o;
  }
  Outgoing Take() {
    int64_t wake = 0;
    std::optional<Outgoing> out = core_.Next(clock_.MonoMicros(), &wake);
    EXPECT_TRUE(out) << "nothing to send";
    return out ? *out : Outgoing();
  }
  bool HasCond(const SessionCore::Effects& e, CondNode node, CondState state) {
    for (const auto& c : e.conds) {
      if (c.node == node && c.state == state) return true;
    }
    return false;
  }

  FakeClock clock_;
  SessionCore core_;
};

TEST_F(CoreTest, QueuingAsksForAWakeAndAnsweredRequestsForAWaiterCheck) {
  core_.Telemetry(Json::MakeObject({{"temp_bed", 60}}), std::nullopt);
  SessionCore::Effects e = core_.TakeEffects();
  EXPECT_TRUE(e.wake);
  EXPECT_FALSE(e.changed);
  Outgoing out = Take();
  EXPECT_EQ(out.kind, RequestKind::kTelemetry);
  EXPECT_EQ(out.request.url, "http://connect/p/telemetry");
  int64_t wake = 0;
  EXPECT_FALSE(core_.Next(clock_.MonoMicros(), &wake));  // one request at a time
  core_.Complete(out, Answer(204), clock_.MonoMicros());
  e = core_.TakeEffects();
  EXPECT_TRUE(e.changed);
  EXPECT_TRUE(HasCond(e, CondNode::kApi, CondState::kOk));
  EXPECT_TRUE(core_.TakeEffects().empty());
}

TEST_F(CoreTest, FailuresSetTheConditionsAndTheExactBackoff) {
  core_.Emit(Event::INFO, Source::CONNECT, {}, Json());
  Outgoing out = Take();
  HttpResponse dns;
  dns.error = TransportError::kDns;
  dns.error_message = "no such host";
  int64_t now = clock_.MonoMicros();
  core_.Complete(out, dns, now);
  SessionCore::Effects e = core_.TakeEffects();
  EXPECT_TRUE(HasCond(e, CondNode::kInternet, CondState::kNok));
  int64_t wake = 0;
  EXPECT_FALSE(core_.Next(now, &wake));
  EXPECT_EQ(wake, now + 50 * kMs);  // min 100 ms, random 0: the lower half
  clock_.Advance(50 * kMs);
  out = Take();
  EXPECT_EQ(out.kind, RequestKind::kEvent);  // the same event again
  core_.Complete(out, Answer(503), clock_.MonoMicros());
  e = core_.TakeEffects();
  EXPECT_TRUE(HasCond(e, CondNode::kHttp, CondState::kNok));
  EXPECT_FALSE(core_.Next(clock_.MonoMicros(), &wake));
  EXPECT_EQ(wake, clock_.MonoMicros() + 100 * kMs);  // second failure: 200 ms → 100..200
  clock_.Advance(100 * kMs);
  out = Take();
  core_.Complete(out, Answer(401), clock_.MonoMicros());
  e = core_.TakeEffects();
  EXPECT_TRUE(HasCond(e, CondNode::kToken, CondState::kNok));
  EXPECT_EQ(core_.stats().events_retried, 3u);
  EXPECT_EQ(core_.events_buffered(), 1u);
}

TEST_F(CoreTest, ACommandInATelemetryAnswerIsAcceptedAndAPriorityOnePreempts) {
  core_.Telemetry(Json::MakeObject(), std::nullopt);
  Outgoing out = Take();
  core_.Complete(out,
                 Answer(200, {{"command-id", "11"}, {"content-type", "application/json"}},
                        R"({"command":"START_PRINT","kwargs":{"path":"/usb/a.gcode"}})"),
                 clock_.MonoMicros());
  SessionCore::Effects e = core_.TakeEffects();
  EXPECT_TRUE(e.accepted);
  EXPECT_FALSE(e.preempted);
  std::optional<CommandRequest> run = core_.commands().StartRun();
  ASSERT_TRUE(run);
  EXPECT_EQ(run->kwargs.find("path")->as_string(), "/usb/a.gcode");
  Outgoing accepted = Take();
  EXPECT_NE(accepted.request.body.find("\"event\":\"ACCEPTED\""), std::string::npos);
  core_.Complete(accepted, Answer(204), clock_.MonoMicros());

  core_.Telemetry(Json::MakeObject(), std::nullopt);
  out = Take();
  core_.Complete(out,
                 Answer(200, {{"command-id", "12"}, {"content-type", "application/json"}},
                        R"({"command":"RESET_PRINTER"})"),
                 clock_.MonoMicros());
  e = core_.TakeEffects();
  EXPECT_TRUE(e.accepted);
  EXPECT_TRUE(e.preempted);  // the stop callback must run
}

TEST_F(CoreTest, RegistrationPollingEndsWithTheTokenEffect) {
  SessionCore core(PrinterType::I3MK3S, "SN1", "fp", Options(), &clock_);
  core.SetConnection("http://connect", "");
  StatusOr<HttpRequest> reg = core.MakeRegisterRequest();
  ASSERT_TRUE(reg.ok());
  EXPECT_EQ(reg->url, "http://connect/p/register");
  StatusOr<std::string> code = core.CompleteRegister(Answer(200, {{"code", "ABC"}}));
  ASSERT_TRUE(code.ok());
  EXPECT_EQ(*code, "ABC");
  EXPECT_EQ(core.registration_status(), RegistrationStatus::IN_PROGRESS);
  core.TakeEffects();
  int64_t wake = 0;
  EXPECT_FALSE(core.Next(clock_.MonoMicros(), &wake));
  EXPECT_EQ(wake, clock_.MonoMicros() + kSecond);
  clock_.Advance(kSecond);
  std::optional<Outgoing> poll = core.Next(clock_.MonoMicros(), &wake);
  ASSERT_TRUE(poll);
  EXPECT_EQ(poll->kind, RequestKind::kRegistrationPoll);
  core.Complete(*poll, Answer(200, {{"token", "NEWTOKEN"}}), clock_.MonoMicros());
  SessionCore::Effects e = core.TakeEffects();
  ASSERT_TRUE(e.registered);
  EXPECT_EQ(*e.registered, "NEWTOKEN");
  EXPECT_TRUE(HasCond(e, CondNode::kToken, CondState::kOk));
  EXPECT_EQ(core.token(), "NEWTOKEN");
  EXPECT_EQ(core.code(), "");
  EXPECT_EQ(core.registration_status(), RegistrationStatus::FINISHED);
}

TEST_F(CoreTest, WithoutATokenNothingIsQueued) {
  core_.SetConnection("http://connect", "");
  SessionCore::Effects e = core_.TakeEffects();
  EXPECT_TRUE(HasCond(e, CondNode::kToken, CondState::kNok));
  core_.Emit(Event::INFO, Source::CONNECT, {}, Json());
  core_.Telemetry(Json::MakeObject(), std::nullopt);
  EXPECT_EQ(core_.events_buffered(), 0u);
  int64_t wake = 0;
  EXPECT_FALSE(core_.Next(clock_.MonoMicros(), &wake));
}

}  // namespace
}  // namespace prusaconnect::internal
