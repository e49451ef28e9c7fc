// Copyright 2026 The libprusaconnect Authors.
//
// SessionCore: the sans-IO protocol core of one printer. It holds what the
// reference SDK's Printer and Command objects hold — identity, connection,
// state, the outbound queue, registration, the command lifecycle — and
// decides what to send next and what an answer means. It is single-
// threaded: no lock, no waiting, no thread, no handler; time comes from an
// injected Clock and the backoff's jitter from an injected random source,
// so tests drive it deterministically with canned responses
// (tests/unit/core_test.cc, session_test.cc).
//
// Pieces: PrinterInfo (printer_info.h), Outbox and Backoff (outbox.h),
// Registration (registration.h), CommandLifecycle (command_lifecycle.h).
//
// What its decisions ask of the world — condition changes, the register
// handler, the stop callback, a command to run, traffic to send — is
// collected as Effects, which the owner (the facade's PrinterSession, which
// adds the lock, the waits and the handlers) takes and carries out after
// releasing its lock.
#ifndef PRUSACONNECT_PROTOCOL_CORE_H_
#define PRUSACONNECT_PROTOCOL_CORE_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "protocol/command_lifecycle.h"
#include "protocol/core_options.h"
#include "protocol/http_types.h"
#include "protocol/outbox.h"
#include "protocol/printer_info.h"
#include "protocol/registration.h"
#include "prusaconnect/conditions.h"
#include "prusaconnect/const.h"
#include "prusaconnect/json.h"
#include "prusaconnect/models.h"
#include "prusaconnect/status.h"
#include "util/clock.h"

namespace prusaconnect::internal {

// A request chosen by Next(), handed back to Complete().
struct Outgoing {
  RequestKind kind = RequestKind::kTelemetry;
  HttpRequest request;
  uint64_t seq = 0;  // the event's or sample's place in the queue
  int64_t queued_us = 0;
};

// What telemetry and events say about a running download.
struct TransferStatus {
  uint32_t transfer_id = 0;
  Json telemetry;  // transfer_id, transfer_progress, ... (sdk-spec §4.3)
};

// The nodes of a printer's condition chain (conditions.h).
enum class CondNode { kInternet, kHttp, kToken, kApi };

class SessionCore final : private EventSink {
 public:
  // What the core's decisions ask its owner to do.
  struct Effects {
    struct CondChange {
      CondNode node;
      CondState state;
      std::string reason;  // for a kNok: what happened ("" = none given)
    };
    std::vector<CondChange> conds;
    std::optional<std::string> registered;  // the new token: call the register handler
    bool preempted = false;                 // a priority command: call the stop callback
    bool accepted = false;                  // a command waits for its handler
    bool wake = false;                      // traffic was queued: wake the driver
    bool changed = false;  // a waited-for state changed (queue drained, command ended...)
    bool empty() const {
      return conds.empty() && !registered && !preempted && !accepted && !wake && !changed;
    }
  };

  // `clock` must outlive the core. `random` (64 bits a call) jitters the
  // backoff; default: a fixed-seed xorshift (the facade seeds its own).
  SessionCore(std::optional<PrinterType> type, std::string sn, std::string fingerprint,
              CoreOptions options, const Clock* clock, RandomSource random = nullptr);
  SessionCore(const SessionCore&) = delete;
  SessionCore& operator=(const SessionCore&) = delete;

  // Moves out what was decided since the last call.
  Effects TakeEffects();
  const CoreOptions& options() const { return options_; }
  const Clock* clock() const { return clock_; }

  // ---- driver side ----
  // The next request to send at monotonic time `now_us`, or nullopt; then
  // *wake_at_us is when to ask again unasked (INT64_MAX: after a wake).
  std::optional<Outgoing> Next(int64_t now_us, int64_t* wake_at_us);
  // The outcome of the request Next() returned.
  void Complete(const Outgoing& out, const HttpResponse& response, int64_t now_us);
  // The request Next() returned was abandoned: its item stays queued.
  void Cancelled();
  // POST /p/register, and what its answer means (the code, or an error).
  StatusOr<HttpRequest> MakeRegisterRequest();
  StatusOr<std::string> CompleteRegister(const HttpResponse& response);
  // A request to the printer API with the printer's headers.
  StatusOr<HttpRequest> MakePrinterRequest(const char* method, const std::string& path);
  // A download's headers: the printer's (`to_connect`) or User-Agent only.
  HeaderList HeadersForDownload(bool to_connect);

  // ---- host side ----
  PrinterInfo& info() { return info_; }
  const PrinterInfo& info() const { return info_; }
  // As the SDK, a printer that is not initialised marks the API NOK.
  bool IsInitialised();
  InfoInput InfoInputNow() const { return info_.Input(commands_.definitions_json()); }

  void SetConnection(const std::string& server, const std::string& token);
  const std::string& server() const { return server_; }
  const std::string& token() const { return token_; }
  const std::string& code() const { return registration_.code(); }
  RegistrationStatus registration_status() const;

  State state() const { return state_; }
  bool ready() const { return ready_; }
  // STATE_CHANGED; PRINTING clears `ready`, otherwise it changes when given.
  void SetState(State state, Source source, std::optional<bool> ready, const EventFields& fields,
                const Json& data);
  // Queues an event (dropped without a token, as the SDK). With `head` the
  // data is already rendered.
  void Emit(Event event, Source source, EventFields fields, const Json& data,
            std::string* head = nullptr) override;
  void Telemetry(const Json& fields, std::optional<double> timestamp);
  std::optional<int64_t> job_id() const { return job_id_; }
  void set_job_id(std::optional<int64_t> job_id) { job_id_ = job_id; }

  CommandLifecycle& commands() { return commands_; }
  const CommandLifecycle& commands() const { return commands_; }
  Status EndCommand(std::optional<int64_t> command_id, Event event, Source source,
                    const EventFields& fields, const Json& data, std::string* head = nullptr);

  // Asked when an event or telemetry is queued; nullopt while no download
  // runs. Called from within the core's methods: it must only take leaf
  // locks.
  void set_transfer_probe(std::function<std::optional<TransferStatus>()> probe) {
    transfer_probe_ = std::move(probe);
  }

  size_t events_buffered() const { return outbox_.events(); }
  PrinterStats stats() const;

 private:
  std::string NowTimestamp() const;
  HttpRequest BaseRequest(const char* method, const std::string& path) const;
  HeaderList Headers(const std::string& timestamp, bool clock_flag = true);
  void Cond(CondNode node, CondState state, std::string reason = {});
  void HandleCommandResponse(const HttpResponse& r);
  void DeduceFromStatus(int status);
  // Failed requests are logged once per distinct failure and then at most
  // once a minute (an outage at 1 Hz must not write a line a second).
  void LogFailure(const std::string& key, const std::string& what, int64_t now_us);
  void LogAnswered();

  const CoreOptions options_;
  const Clock* const clock_;
  ClockWatcher watcher_;
  PrinterInfo info_;
  std::string server_;
  std::string token_;
  Registration registration_;
  State state_ = State::BUSY;
  bool ready_ = false;
  std::optional<int64_t> job_id_;
  Outbox outbox_;
  Backoff backoff_;
  bool in_flight_ = false;
  CommandLifecycle commands_;
  std::function<std::optional<TransferStatus>()> transfer_probe_;
  PrinterStats stats_;
  Effects effects_;

  std::string last_failure_logged_;
  int64_t last_failure_log_us_ = 0;
  int64_t failures_not_logged_ = 0;
  int64_t failures_since_answer_ = 0;
};

}  // namespace prusaconnect::internal

#endif  // PRUSACONNECT_PROTOCOL_CORE_H_
