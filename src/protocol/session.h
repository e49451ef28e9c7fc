// Copyright 2026 The libprusaconnect Authors.
//
// Session: the sans-IO protocol core of one printer.
//
// It holds everything the reference SDK's Printer and Command objects hold —
// identity, connection, state, the outbound buffer, the command lifecycle,
// conditions — and decides what to send next. It performs no I/O and reads
// time only through a Clock, so tests drive it deterministically with a fake
// clock and canned responses (tests/unit/session_test.cc).
//
// Two sides use it:
//   * the host (through Printer), from any thread;
//   * a driver (the Engine's network thread, or a test) calling Next() to
//     get the next request and Complete() with its outcome. At most one
//     request is outstanding at a time, which keeps events in order.
//
// Host code (handlers, callbacks) is never called with the session lock held
// and never from Next()/Complete(): it is handed to the `post` executor.
#ifndef PRUSACONNECT_PROTOCOL_SESSION_H_
#define PRUSACONNECT_PROTOCOL_SESSION_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "protocol/http_types.h"
#include "protocol/render.h"
#include "prusaconnect/commands.h"
#include "prusaconnect/conditions.h"
#include "prusaconnect/const.h"
#include "prusaconnect/json.h"
#include "prusaconnect/models.h"
#include "prusaconnect/printer.h"
#include "prusaconnect/status.h"
#include "util/clock.h"
#include "util/cond_var.h"

namespace prusaconnect::internal {

class Session : public std::enable_shared_from_this<Session> {
 public:
  using Executor = std::function<void(std::function<void()>)>;

  // What a request is for: the public RequestKind (models.h), which the
  // request observer reports.
  using Kind = RequestKind;

  // A request chosen by Next(), handed back to Complete().
  struct Outgoing {
    Kind kind = Kind::kTelemetry;
    HttpRequest request;
    uint64_t seq = 0;  // the event's sequence number (kEvent)
    int64_t queued_us = 0;
  };

  // `clock` must outlive the session.
  Session(std::optional<PrinterType> type, std::string sn, std::string fingerprint,
          PrinterOptions options, const Clock* clock);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Where host code runs (handlers, callbacks). Default: inline in the
  // calling thread (tests). The Engine installs its handler threads.
  void SetExecutor(Executor executor);
  // Called, without the lock held, whenever new work may be ready to send
  // (the Engine wakes its thread). Default: none.
  void SetWaker(std::function<void()> waker);

  // Observes every completed request (Printer::set_request_observer): kind,
  // HTTP status (0 on transport failure), when the item was queued and when
  // its answer arrived (monotonic µs). Called on the driver's thread without
  // the lock; must be quick.
  void SetObserver(RequestObserver observer);

  // ---- driver side ----
  // The next request to send at monotonic time `now_us`, or nullopt. Then
  // *wake_at_us is when to ask again without being woken (INT64_MAX: only
  // after the waker fires).
  std::optional<Outgoing> Next(int64_t now_us, int64_t* wake_at_us);
  // The outcome of the request Next() returned.
  void Complete(const Outgoing& out, const HttpResponse& response, int64_t now_us);
  // The request Next() returned was abandoned (the session is detached): its
  // event stays buffered, its telemetry pending.
  void Cancelled();
  // Marks the loop running, calls `started`, then blocks until StopLoop()
  // (Printer::loop()).
  void RunLoop(const std::function<void()>& started);
  void StopLoop();
  // Builds the blocking POST /p/register request (Printer::register_printer).
  StatusOr<HttpRequest> MakeRegisterRequest();
  // Applies its response; returns the code or an error.
  StatusOr<std::string> CompleteRegister(const HttpResponse& response);
  // A request to the printer API with the printer's headers (Fingerprint,
  // Token, Timestamp, User-Agent...), for library features that send their
  // own requests on their own connection (cameras: POST /p/camera).
  // FailedPrecondition without a server.
  StatusOr<HttpRequest> MakePrinterRequest(const char* method, const std::string& path);

  // ---- host side (Printer delegates here) ----
  std::optional<PrinterType> type() const;
  std::string sn() const;
  std::string fingerprint() const;
  Status set_type(PrinterType type);
  Status set_sn(const std::string& sn);
  Status set_fingerprint(const std::string& fingerprint);
  bool is_initialised();

  void set_firmware(const std::string& v);
  std::string firmware() const;
  void set_software(const std::string& v);
  std::string software() const;
  void set_network_info(const NetworkInfo& v);
  NetworkInfo network_info() const;
  void set_api_key(const std::string& v);
  void set_mbl(const std::vector<double>& v);
  void set_sheet_settings(const std::vector<SheetSettings>& v);
  void clear_mbl();
  void clear_sheet_settings();
  void set_active_sheet(std::optional<int> v);
  void set_mmu(bool enabled, const std::string& fw, std::optional<MMUType> type);
  void set_info_extra(const Json& extra);
  // Replaces the source of the legacy file tree of SEND_INFO (files issue).
  void set_files_provider(std::function<Json()> provider);
  // Writes the same tree as JSON text (Filesystem::AppendLegacyJson): the
  // built-in SEND_INFO answer then never builds the tree as Json.
  void set_files_writer(std::function<void(std::string*)> writer);
  Json get_info() const;
  // The start of the built-in SEND_INFO answer (INFO event from CONNECT):
  // {"event":"INFO","source":"CONNECT","data":<get_info() without nulls>
  // with the files tree written by the files writer when there is one.
  // The command's fields and the closing brace follow (AppendEventTail).
  std::string InfoEventHead() const;

  void set_connection(const std::string& server, const std::string& token);
  std::string server() const;
  std::string token() const;
  std::string code() const;
  RegistrationStatus registration_status() const;
  void set_register_handler(std::function<void(const std::string&)> handler);

  State state() const;
  bool ready() const;
  void set_state(State state, Source source, std::optional<bool> ready, const EventFields& fields,
                 const Json& data);
  void event_cb(Event event, Source source, const EventFields& fields, const Json& data);
  void telemetry(const Json& fields, std::optional<double> timestamp = std::nullopt);
  std::optional<int64_t> job_id() const;
  void set_job_id(std::optional<int64_t> job_id);

  void set_handler(Command command, CommandHandler handler);
  // Installs a library-provided handler (files, transfers...) used when the
  // host registered none for `command`; an empty one removes it.
  void SetDefaultHandler(Command command, CommandHandler handler);
  // The definitions commands are checked against before any handler runs
  // (empty: none, every command behaves as without definitions).
  void set_supported_commands(std::vector<CommandDefinition> definitions);
  std::vector<CommandDefinition> supported_commands() const;
  // The commands something answers: a host handler, a library-provided one
  // or a built-in one.
  std::vector<Command> HandledCommands();
  void RunCommand();
  bool WaitForCommand(int64_t timeout_ms);
  std::optional<CommandRequest> current_command() const;
  Event last_command_state() const;
  // With `head` (see EmitLocked) the event's data is already rendered.
  Status EndCommand(std::optional<int64_t> command_id, Event event, Source source,
                    const EventFields& fields, const Json& data, std::string* head = nullptr);
  // Waits up to `timeout_ms` until command `command_id` is no longer the
  // running one (its terminal event is queued); true when it is not.
  bool WaitCommandEnded(int64_t command_id, int64_t timeout_ms);
  void set_stop_cb(std::function<void()> cb);

  // ---- transfers (src/transfer) ----
  // What telemetry and events say about a running download.
  struct TransferStatus {
    uint32_t transfer_id = 0;
    Json telemetry;  // transfer_id, transfer_progress, ... (sdk-spec §4.3)
  };
  // Asked (with the session lock held: it must only take leaf locks) when
  // an event or telemetry is queued; nullopt while no download runs.
  void SetTransferProbe(std::function<std::optional<TransferStatus>()> probe);
  // What a download sends: the printer's headers (`to_connect`: the URL has
  // the Connect server's origin) or only User-Agent (any other URL). The
  // Clock-Adjusted flag is never consumed here.
  HeaderList HeadersForDownload(bool to_connect);

  bool Flush(int64_t timeout_ms);
  Conditions& conditions() { return conditions_; }
  PrinterStats stats() const;

  const PrinterOptions& options() const { return options_; }

 private:
  struct OutEvent {
    uint64_t seq;
    std::string timestamp;
    std::string body;
    int64_t queued_us;
  };
  struct OutTelemetry {
    uint64_t seq;  // position of the first unsent sample
    std::string timestamp;
    std::string body;
    int64_t queued_us;  // when the first unsent sample was queued
  };
  enum class RunState { kIdle, kPending, kRunning };
  // command.py's Command object.
  struct CommandState {
    bool accepted = false;  // state == ACCEPTED
    Event last_state = Event::REJECTED;
    int64_t command_id = -1;
    bool has_id = false;  // command_id is a real id (never ran one: false)
    std::string command_name;
    Json args = Json::MakeArray();
    Json kwargs = Json::MakeObject();
    bool force = false;
    RunState run = RunState::kIdle;
  };
  // Condition changes decided under the lock and applied after it.
  struct CondUpdate {
    Condition* cond;
    CondState state;
    std::string reason = {};  // for a kNok: what happened (Condition::reason())
  };
  using Work = std::vector<std::function<void()>>;

  friend class SessionGuard;

  // All *Locked methods REQUIRE mu_ held. Condition changes and host work
  // they decide are collected in pending_* and carried out by SessionGuard
  // after the lock is released.
  // With `head` (AppendEventHead's text, data already written), `data` is
  // ignored and the body is head + tail.
  void EmitLocked(Event event, Source source, EventFields fields, const Json& data,
                  std::string* head = nullptr);
  void SetStateLocked(State state, Source source, std::optional<bool> ready,
                      const EventFields& fields, const Json& data);
  bool IsInitialisedLocked();
  HeaderList MakeHeadersLocked(const std::string& timestamp, bool clock_flag = true);
  HttpRequest BaseRequestLocked(const char* method, const std::string& path);
  void HandleCommandResponseLocked(const HttpResponse& r);
  bool CheckStateLocked(int64_t id, const std::string& name);
  // Checks a command that has a definition; REJECTED with the reason (and
  // false) when it does not match. Fills in the defaults of `kwargs`.
  bool CheckDefinitionLocked(int64_t id, const std::string& name, Json* kwargs);
  void AcceptLocked(int64_t id, std::string name, Json args, Json kwargs, bool force);
  // Emits the terminal event and, when `id` is the current command, tears
  // it down with its last_state.
  void EndLocked(int64_t id, Event event, Source source, EventFields fields, const Json& data,
                 std::string* head = nullptr);
  InfoInput InfoInputLocked() const;
  void DeduceFromStatusLocked(int status);
  // Logs a failed request (see last_failure_logged_). REQUIRES: mu_ held.
  // `key` names the kind of failure (the same key within a minute is not
  // logged again); `what` is the message.
  void LogFailureLocked(const std::string& key, const std::string& what, int64_t now_us);
  // Logs that Connect answers again after failures. REQUIRES: mu_ held.
  void LogAnsweredLocked();
  void BackoffLocked(int64_t now_us);
  std::string NowTimestampLocked() const;
  CommandHandler BuiltinHandler(Command c);

  const PrinterOptions options_;
  const Clock* const clock_;
  Conditions conditions_;
  ClockWatcher watcher_;

  mutable std::mutex mu_;
  internal::CondVar cv_;  // commands pending, buffer drained

  std::optional<PrinterType> type_;
  std::string sn_;
  std::string fingerprint_;
  std::string firmware_;
  std::string software_;
  NetworkInfo network_info_;
  std::string api_key_;
  std::vector<double> mbl_;
  bool has_mbl_ = false;
  std::vector<SheetSettings> sheets_;
  bool has_sheets_ = false;
  std::optional<int> active_sheet_;
  bool mmu_enabled_ = false;
  std::string mmu_fw_;
  std::optional<MMUType> mmu_type_;
  Json info_extra_;
  std::function<Json()> files_provider_;
  std::function<void(std::string*)> files_writer_;
  mutable std::atomic<size_t> info_size_hint_{0};  // the last SEND_INFO answer's size

  std::string server_;
  std::string token_;
  std::string code_;
  bool registering_ = false;
  int64_t register_deadline_us_ = 0;
  int64_t next_poll_us_ = 0;
  std::function<void(const std::string&)> register_handler_;

  State state_ = State::BUSY;
  bool ready_ = false;
  std::optional<int64_t> job_id_;

  std::deque<OutEvent> events_;
  std::optional<OutTelemetry> telemetry_;
  std::optional<OutTelemetry> in_flight_telemetry_;
  uint64_t next_seq_ = 1;
  bool in_flight_ = false;
  uint64_t in_flight_seq_ = 0;  // event in flight, 0 = none
  int failures_ = 0;
  // Failed requests are logged once per distinct failure and then at most
  // once a minute (an outage at 1 Hz must not write a line a second).
  std::string last_failure_logged_;
  int64_t last_failure_log_us_ = 0;
  int64_t failures_not_logged_ = 0;
  int64_t failures_since_answer_ = 0;
  int64_t not_before_us_ = 0;
  uint64_t rng_;

  CommandState cmd_;
  std::vector<int64_t> preempted_;  // running commands a priority command replaced
  // Handlers by command: a few entries, looked up once per command. A
  // vector, not a std::map: the map's tree functions live in a page of
  // libstdc++ a telemetry-only host would otherwise never touch.
  class HandlerTable {
   public:
    const CommandHandler* Find(Command c) const {
      for (const auto& [command, handler] : entries_) {
        if (command == c) return &handler;
      }
      return nullptr;
    }
    // An empty handler removes the entry.
    void Set(Command c, CommandHandler handler);

   private:
    std::vector<std::pair<Command, CommandHandler>> entries_;
  };
  HandlerTable handlers_;
  HandlerTable default_handlers_;
  std::vector<CommandDefinition> definitions_;
  Json definitions_json_;  // their INFO form, or null
  std::function<void()> stop_cb_;

  PrinterStats stats_;

  std::vector<CondUpdate> pending_conds_;
  Work pending_work_;
  bool pending_wake_ = false;

  Executor executor_;
  std::function<void()> waker_;
  RequestObserver observer_;
  std::function<std::optional<TransferStatus>()> transfer_probe_;

  std::mutex loop_mu_;
  internal::CondVar loop_cv_;
  bool loop_running_ = false;
};

}  // namespace prusaconnect::internal

#endif  // PRUSACONNECT_PROTOCOL_SESSION_H_
