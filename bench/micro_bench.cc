// Copyright 2026 The libprusaconnect Authors.
//
// Microbenchmarks of the sans-IO core (Google Benchmark): the CPU the
// library spends per telemetry sample before any byte reaches libcurl.
//
//   BM_TelemetryToJson        Telemetry struct -> Json (the host's call)
//   BM_RenderTelemetry        Json fields -> POST /p/telemetry body
//   BM_RenderEvent            a typical event body (FINISHED with data)
//   BM_SessionTelemetryCycle  Session::telemetry() + Next() + Complete(204)
//                             with a FakeClock: one whole protocol round-trip
//   BM_SessionCommandCycle    telemetry answered by a 200 JSON command
//                             (parse + ACCEPTED event) and the event sent
//   BM_JsonParseCommand       Json::Parse of a typical command body
//   BM_JsonDumpTelemetry      Json::Dump of the typical telemetry fields
//
// Run: build/bench/micro_bench [--benchmark_min_time=0.2]
#include <benchmark/benchmark.h>

#include <memory>
#include <optional>
#include <string>

#include "bench_common.h"
#include "facade/printer_session.h"
#include "protocol/http_types.h"
#include "protocol/render.h"
#include "protocol/session.h"
#include "prusaconnect/json.h"
#include "prusaconnect/models.h"
#include "prusaconnect/printer.h"
#include "util/clock.h"

namespace {

using prusaconnect::Event;
using prusaconnect::EventFields;
using prusaconnect::Json;
using prusaconnect::PrinterOptions;
using prusaconnect::PrinterType;
using prusaconnect::Source;
using prusaconnect::State;
using prusaconnect::Telemetry;
using prusaconnect::bench::TypicalSample;
using prusaconnect::internal::FakeClock;
using prusaconnect::internal::HttpResponse;
using prusaconnect::internal::PrinterSession;
using prusaconnect::internal::Session;

const char kCommandBody[] =
    R"({"command": "START_PRINT", "args": ["/usb/benchy_0.2mm_PLA_MK3S_1h4m.gcode"],)"
    R"( "kwargs": {"path": "/usb/benchy_0.2mm_PLA_MK3S_1h4m.gcode", "hash": "c0ffee1234",)"
    R"( "size": 1234567, "printing": true}})";

void BM_TelemetryToJson(benchmark::State& state) {
  Telemetry t = TypicalSample();
  for (auto _ : state) {
    Json j = t.ToJson();
    benchmark::DoNotOptimize(j);
  }
}
BENCHMARK(BM_TelemetryToJson);

void BM_RenderTelemetry(benchmark::State& state) {
  Json fields = TypicalSample().ToJson();
  size_t bytes = 0;
  for (auto _ : state) {
    std::string body = prusaconnect::internal::RenderTelemetry(
        fields, State::PRINTING, std::optional<int64_t>(), int64_t{42}, true);
    bytes = body.size();
    benchmark::DoNotOptimize(body);
  }
  state.counters["body_bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_RenderTelemetry);

void BM_RenderEvent(benchmark::State& state) {
  EventFields f;
  f.command_id = 1234;
  f.job_id = 42;
  f.state = State::PRINTING;
  Json data = Json::MakeObject({{"path", "/usb/benchy_0.2mm_PLA_MK3S_1h4m.gcode"},
                                {"size", 1234567},
                                {"m_timestamp", 1700000000},
                                {"read_only", false}});
  size_t bytes = 0;
  for (auto _ : state) {
    std::string body =
        prusaconnect::internal::RenderEvent(Event::FINISHED, Source::CONNECT, f, data);
    bytes = body.size();
    benchmark::DoNotOptimize(body);
  }
  state.counters["body_bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_RenderEvent);

std::shared_ptr<PrinterSession> MakeSession(FakeClock* clock) {
  auto s = std::make_shared<PrinterSession>(PrinterType::I3MK3S, "SN0000000000000001",
                                            "bench-fingerprint-0001", PrinterOptions(), clock);
  s->set_firmware("3.14.1");
  s->set_connection("http://127.0.0.1:8000", "bench-token-0001");
  return s;
}

void BM_SessionTelemetryCycle(benchmark::State& state) {
  FakeClock clock;
  std::shared_ptr<PrinterSession> s = MakeSession(&clock);
  Json fields = TypicalSample().ToJson();
  HttpResponse no_content;
  no_content.status = 204;
  for (auto _ : state) {
    s->telemetry(fields);
    int64_t wake = 0;
    int64_t now = clock.MonoMicros();
    std::optional<Session::Outgoing> out = s->Next(now, &wake);
    if (!out) {
      state.SkipWithError("Next() returned no request");
      break;
    }
    clock.Advance(1000);
    s->Complete(*out, no_content, clock.MonoMicros());
  }
  if (s->stats().telemetry_sent != static_cast<uint64_t>(state.iterations())) {
    state.SkipWithError("not every telemetry was completed");
  }
}
BENCHMARK(BM_SessionTelemetryCycle);

// Telemetry answered with a command: parse it, accept it (ACCEPTED event),
// send that event, then finish the command (FINISHED event) and send it.
void BM_SessionCommandCycle(benchmark::State& state) {
  FakeClock clock;
  std::shared_ptr<PrinterSession> s = MakeSession(&clock);
  s->set_handler(prusaconnect::Command::START_PRINT, [](const prusaconnect::CommandRequest&) {
    return prusaconnect::StatusOr<prusaconnect::CommandResult>(prusaconnect::CommandResult{});
  });
  Json fields = TypicalSample().ToJson();
  HttpResponse command;
  command.status = 200;
  command.headers = {{"content-type", "application/json"}, {"command-id", "0"}};
  command.body = kCommandBody;
  HttpResponse no_content;
  no_content.status = 204;
  int64_t id = 1;
  for (auto _ : state) {
    command.headers[1].second = std::to_string(id++);
    s->telemetry(fields);
    int64_t wake = 0;
    std::optional<Session::Outgoing> out = s->Next(clock.MonoMicros(), &wake);
    s->Complete(*out, command, clock.MonoMicros());
    s->RunCommand();               // the host runs the handler: FINISHED
    for (int e = 0; e < 2; ++e) {  // ACCEPTED, FINISHED
      out = s->Next(clock.MonoMicros(), &wake);
      if (!out) break;
      s->Complete(*out, no_content, clock.MonoMicros());
    }
    clock.Advance(1000);
  }
  if (s->stats().events_sent != 2 * static_cast<uint64_t>(state.iterations())) {
    state.SkipWithError("unexpected event count");
  }
}
BENCHMARK(BM_SessionCommandCycle);

void BM_JsonParseCommand(benchmark::State& state) {
  for (auto _ : state) {
    prusaconnect::StatusOr<Json> j = Json::Parse(kCommandBody);
    benchmark::DoNotOptimize(j);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(sizeof(kCommandBody) - 1));
}
BENCHMARK(BM_JsonParseCommand);

void BM_JsonDumpTelemetry(benchmark::State& state) {
  Json fields = TypicalSample().ToJson();
  for (auto _ : state) {
    std::string s = fields.Dump();
    benchmark::DoNotOptimize(s);
  }
}
BENCHMARK(BM_JsonDumpTelemetry);

}  // namespace

BENCHMARK_MAIN();
