// Copyright 2026 The libprusaconnect Authors.
//
// libFuzzer target: the telemetry-response / command parser of the sans-IO
// core (PrinterSession::Complete → SessionCore::HandleCommandResponse and the command
// lifecycle behind it), driven with canned HttpResponses and a fake clock,
// exactly as the transport drives it — no I/O.
//
// Input: responses separated by a line "%%". Each response is
//   <status> [<error>]            e.g. "200", "200 toolarge", "0 timeout",
//                                 "R 200" (answer a registration instead)
//   <Header>: <value>             any number of lines (names lower-cased and
//   ...                           values trimmed, as the transport does)
//   <blank line>
//   <body>
// Each response answers the next telemetry request (events queued before it
// are acknowledged first); then the accepted command, if any, runs inline.
// Invariants: no crash or sanitizer report; at most one command is current.
#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "facade/printer_session.h"
#include "protocol/session.h"
#include "prusaconnect/log.h"
#include "util/clock.h"

namespace pc = prusaconnect;
namespace pi = prusaconnect::internal;

namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

pi::TransportError ErrorOf(std::string_view name) {
  if (name == "dns") return pi::TransportError::kDns;
  if (name == "connect") return pi::TransportError::kConnect;
  if (name == "timeout") return pi::TransportError::kTimeout;
  if (name == "connection") return pi::TransportError::kConnection;
  if (name == "tls") return pi::TransportError::kTls;
  if (name == "toolarge") return pi::TransportError::kTooLarge;
  if (name == "other") return pi::TransportError::kOther;
  return pi::TransportError::kNone;
}

// Parses one response; *register_answer is set for "R <status>".
pi::HttpResponse ParseResponse(std::string_view text, bool* register_answer) {
  pi::HttpResponse r;
  size_t nl = text.find('\n');
  std::string_view first = Trim(text.substr(0, nl));
  text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
  *register_answer = false;
  if (!first.empty() && first.front() == 'R') {
    *register_answer = true;
    first = Trim(first.substr(1));
  }
  size_t sp = first.find(' ');
  std::string status(first.substr(0, sp));
  r.status = std::atoi(status.c_str());
  if (sp != std::string_view::npos) {
    r.error = ErrorOf(Trim(first.substr(sp + 1)));
    r.error_message = "fuzz";
  }
  while (!text.empty()) {
    nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    if (Trim(line).empty()) break;
    size_t colon = line.find(':');
    std::string name(Trim(line.substr(0, colon)));
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    std::string value =
        colon == std::string_view::npos ? std::string() : std::string(Trim(line.substr(colon + 1)));
    r.headers.emplace_back(std::move(name), std::move(value));
  }
  r.body = std::string(text);
  return r;
}

// Acknowledges queued events until the next request is telemetry.
std::optional<pi::Session::Outgoing> NextTelemetry(pi::Session* s, pi::FakeClock* clock) {
  for (int i = 0; i < 64; ++i) {
    int64_t wake = 0;
    clock->Advance(int64_t{120} * 1000000);  // past any backoff
    std::optional<pi::Session::Outgoing> out = s->Next(clock->MonoMicros(), &wake);
    if (!out) return std::nullopt;
    if (out->kind == pi::Session::Kind::kTelemetry) return out;
    pi::HttpResponse ok;
    ok.status = (i % 2) ? 204 : 200;
    s->Complete(*out, ok, clock->MonoMicros());
  }
  return std::nullopt;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  pc::SetLogSink([](pc::LogLevel, const std::string&, const std::string&) {});
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  pi::FakeClock clock;
  pc::PrinterOptions options;
  options.event_buffer_size = 64;
  auto s = std::make_shared<pi::PrinterSession>(pc::PrinterType::I3MK3S, "SN001002XP003",
                                                "__fingerprint__", options, &clock);
  s->set_connection("http://server:8000", "a44b552a12d96d3155cb");
  s->set_software("0.8.1");
  s->set_state(pc::State::IDLE, pc::Source::WUI, std::nullopt, pc::EventFields{}, pc::Json());
  // Host handlers that succeed, fail and throw; the rest are the built-ins.
  s->set_handler(pc::Command::GCODE,
                 [](const pc::CommandRequest& r) -> pc::StatusOr<pc::CommandResult> {
                   pc::CommandResult res;
                   res.data = pc::Json::MakeObject({{"args", r.args}, {"kwargs", r.kwargs}});
                   return res;
                 });
  s->set_handler(pc::Command::START_PRINT,
                 [](const pc::CommandRequest&) -> pc::StatusOr<pc::CommandResult> {
                   return pc::InvalidArgumentError("no such file");
                 });
  s->set_handler(pc::Command::STOP_PRINT,
                 [](const pc::CommandRequest&) -> pc::StatusOr<pc::CommandResult> {
                   throw std::runtime_error("handler threw");
                 });

  std::string_view input(reinterpret_cast<const char*>(data), size);
  int rounds = 0;
  while (rounds++ < 32) {
    size_t sep = input.find("\n%%\n");
    std::string_view chunk = input.substr(0, sep);
    bool register_answer = false;
    pi::HttpResponse response = ParseResponse(chunk, &register_answer);
    if (register_answer) {
      if (s->MakeRegisterRequest().ok()) (void)s->CompleteRegister(response);
    } else {
      s->telemetry(pc::Json::MakeObject({{"temp_nozzle", 215.0}}));
      std::optional<pi::Session::Outgoing> out = NextTelemetry(s.get(), &clock);
      if (out) s->Complete(*out, response, clock.MonoMicros());
    }
    (void)s->current_command();
    s->RunCommand();
    if (sep == std::string_view::npos) break;
    input.remove_prefix(sep + 4);
  }
  (void)s->stats();
  (void)s->get_info().Dump();
  return 0;
}
