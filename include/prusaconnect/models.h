// Copyright 2026 The libprusaconnect Authors.
//
// The values that travel between a host and the library: telemetry, event
// fields, commands and their results, and the printer's descriptive info.
// Counterpart of the reference SDK's `models.py` plus the handler contract of
// `command.py`.
//
// All types are plain values (thread safety as for any std type).
#ifndef PRUSACONNECT_MODELS_H_
#define PRUSACONNECT_MODELS_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "prusaconnect/const.h"
#include "prusaconnect/export.h"
#include "prusaconnect/json.h"
#include "prusaconnect/status.h"

namespace prusaconnect {

// One telemetry sample. Unset fields are not sent (the SDK's null filtering).
// Typed fields are rendered first, in declaration order, then `extra` members
// in their order; the library then appends command_id, job_id, the transfer
// fields and `state` as the SDK does. `extra` may carry any other field
// Connect understands (e.g. "slot", "chamber"); a key that is also a typed
// field is sent once, with the typed value.
struct PRUSACONNECT_API Telemetry {
  std::optional<double> temp_nozzle;
  std::optional<double> temp_bed;
  std::optional<double> target_nozzle;
  std::optional<double> target_bed;
  std::optional<double> axis_x;
  std::optional<double> axis_y;
  std::optional<double> axis_z;
  std::optional<int> fan_extruder;        // RPM
  std::optional<int> fan_hotend;          // RPM
  std::optional<int> fan_print;           // RPM
  std::optional<int> speed;               // percent
  std::optional<int> flow;                // percent
  std::optional<int> progress;            // percent of the job
  std::optional<int64_t> time_printing;   // seconds
  std::optional<int64_t> time_remaining;  // seconds
  std::optional<double> filament;         // filament used, mm
  std::optional<std::string> material;
  Json extra = Json::MakeObject();
  // When the values were read (seconds since the epoch); default: now.
  std::optional<double> timestamp;

  // The fields as a JSON object (typed fields first, then `extra`), without
  // the values the library injects.
  Json ToJson() const;
};

// Top-level fields of an event (models.py Event). Everything else an event
// carries goes into its `data` object. As in the SDK, command_id, job_id,
// transfer_id, reason and dialog_id appear on the wire only when truthy
// (an id of 0 is omitted), and `state` defaults to the printer's state.
struct PRUSACONNECT_API EventFields {
  std::optional<int64_t> command_id;
  std::optional<int64_t> job_id;
  std::optional<int64_t> transfer_id;
  std::optional<int64_t> dialog_id;
  std::optional<std::string> reason;
  // Default: the printer's state. The SDK sends no "state" key when its
  // event_cb() is given state=None explicitly: `omit_state` does that.
  std::optional<State> state;
  bool omit_state = false;
  // Seconds since the epoch; default: the time the event was created.
  std::optional<double> timestamp;
};

// A command received from Connect, as a handler sees it.
struct PRUSACONNECT_API CommandRequest {
  int64_t command_id = 0;
  // The name as sent by Connect ("SEND_INFO"); `command` is set when the
  // name is one of the SDK's commands.
  std::string command_name;
  std::optional<Command> command;
  Json args;           // JSON array (or null when absent)
  Json kwargs;         // JSON object (or null when absent)
  bool force = false;  // G-code sent with `Force: 1`
};

// What a handler returns: the terminal event of the command. The default is
// FINISHED from `source`; `event` overrides it (e.g. INFO, FILE_INFO,
// REJECTED). `data` holds every other key of the SDK's result dict.
struct PRUSACONNECT_API CommandResult {
  Source source = Source::CONNECT;
  std::optional<Event> event;
  std::optional<std::string> reason;
  std::optional<State> state;
  std::optional<int64_t> job_id;
  std::optional<int64_t> transfer_id;
  std::optional<int64_t> dialog_id;
  Json data = Json::MakeObject();
};

// A command handler. It runs on a host thread (the one calling
// Printer::command(), or a library handler thread when background handlers
// are enabled), never on the network thread. A non-OK status — or an
// exception derived from std::exception — ends the command with FAILED,
// reason "Command error" and data.error = the message, as the SDK does.
using CommandHandler = std::function<StatusOr<CommandResult>(const CommandRequest&)>;

// network_info of SEND_INFO; empty fields are not sent.
struct PRUSACONNECT_API NetworkInfo {
  std::string lan_mac;
  std::string lan_ipv4;
  std::string lan_ipv6;
  std::string wifi_mac;
  std::string wifi_ipv4;
  std::string wifi_ipv6;
  std::string wifi_ssid;
  std::string hostname;
  std::string username;
  std::string digest;
};

struct PRUSACONNECT_API SheetSettings {
  std::string name;
  double z_offset = 0;
};

// Counters of one printer's traffic, for monitoring and tests.
struct PRUSACONNECT_API PrinterStats {
  uint64_t events_queued = 0;            // accepted into the outbound buffer
  uint64_t events_sent = 0;              // acknowledged by Connect (2xx)
  uint64_t events_dropped_overflow = 0;  // oldest dropped because the buffer was full
  uint64_t events_dropped_rejected = 0;  // refused by Connect with a final 4xx
  uint64_t events_retried = 0;           // send attempts that failed and were retried
  uint64_t telemetry_queued = 0;
  uint64_t telemetry_sent = 0;
  uint64_t telemetry_coalesced = 0;  // replaced by a newer sample before sending
  uint64_t requests_failed = 0;      // transport errors and error statuses
  uint64_t commands_received = 0;
  size_t events_buffered = 0;  // waiting to be sent now
};

// One completed request of a printer, as Printer::set_request_observer()
// reports it (latency monitoring, load tools).
enum class RequestKind { kTelemetry, kEvent, kRegistrationPoll };
struct PRUSACONNECT_API RequestRecord {
  RequestKind kind = RequestKind::kTelemetry;
  int http_status = 0;    // 0: no answer (transport failure, timeout)
  int64_t queued_us = 0;  // when the telemetry sample or event was queued
  int64_t done_us = 0;    // when its answer arrived; both CLOCK_MONOTONIC µs
};
using RequestObserver = std::function<void(const RequestRecord&)>;

}  // namespace prusaconnect

#endif  // PRUSACONNECT_MODELS_H_
