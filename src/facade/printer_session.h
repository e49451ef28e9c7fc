// Copyright 2026 The libprusaconnect Authors.
//
// PrinterSession: a printer's session as hosts and the engine use it — the
// single-threaded protocol core (protocol/core.h) behind a lock, plus what
// the core leaves out: waiting (for a command, for the queue to drain, for
// a command to end, for stop_loop()), running command handlers (the host's,
// the library's features', the built-in ones), the printer's conditions
// and the callbacks (register handler, stop callback, request observer).
//
// Every method is safe from any thread. Host code (handlers, callbacks,
// condition observers) never runs with the lock held: what the core decides
// under the lock is carried out after it is released (SessionGuard), and
// handlers run on the thread that calls RunCommand() or on the executor.
#ifndef PRUSACONNECT_FACADE_PRINTER_SESSION_H_
#define PRUSACONNECT_FACADE_PRINTER_SESSION_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "protocol/core.h"
#include "protocol/session.h"
#include "prusaconnect/commands.h"
#include "prusaconnect/conditions.h"
#include "prusaconnect/printer.h"
#include "util/clock.h"
#include "util/cond_var.h"

namespace prusaconnect::internal {

class PrinterSession final : public Session, public std::enable_shared_from_this<PrinterSession> {
 public:
  // `clock` must outlive the session. `random` jitters the backoff
  // (default: seeded from std::random_device).
  // Of `options` it keeps the core's part, the network and
  // background_handlers (the storages and transfers take theirs).
  PrinterSession(std::optional<PrinterType> type, std::string sn, std::string fingerprint,
                 const PrinterOptions& options, const Clock* clock, RandomSource random = nullptr);
  ~PrinterSession() override;
  PrinterSession(const PrinterSession&) = delete;
  PrinterSession& operator=(const PrinterSession&) = delete;

  // The core's options as given (PrinterOptions without the facade's).
  static CoreOptions CoreOptionsOf(const PrinterOptions& options);
  // The network the printer sends through (null: none given).
  const std::shared_ptr<Network>& network() const { return network_; }

  // ---- Session ----
  void SetExecutor(Executor executor) override;
  void SetWaker(std::function<void()> waker) override;
  std::optional<Outgoing> Next(int64_t now_us, int64_t* wake_at_us) override;
  void Complete(const Outgoing& out, const HttpResponse& response, int64_t now_us) override;
  void Cancelled() override;
  const CoreOptions& options() const override { return core_.options(); }
  std::string server() const override;
  std::string token() const override;
  std::string fingerprint() const override;
  State state() const override;
  void event_cb(Event event, Source source, const EventFields& fields, const Json& data) override;
  StatusOr<HttpRequest> MakePrinterRequest(const char* method, const std::string& path) override;
  HeaderList HeadersForDownload(bool to_connect) override;
  void SetDefaultHandler(Command command, CommandHandler handler) override;
  bool WaitCommandEnded(int64_t command_id, int64_t timeout_ms) override;
  void SetTransferProbe(std::function<std::optional<TransferStatus>()> probe) override;
  void set_files_provider(std::function<Json()> provider) override;
  void set_files_writer(std::function<void(std::string*)> writer) override;

  // Observes every completed request (Printer::set_request_observer), on
  // the driver's thread without the lock; must be quick.
  void SetObserver(RequestObserver observer);

  // ---- loop ----
  // Marks the loop running, calls `started`, then blocks until StopLoop()
  // (Printer::loop()).
  void RunLoop(const std::function<void()>& started);
  void StopLoop();

  // ---- registration ----
  // The blocking POST /p/register request (Printer::register_printer) and
  // what its answer means.
  StatusOr<HttpRequest> MakeRegisterRequest();
  StatusOr<std::string> CompleteRegister(const HttpResponse& response);

  // ---- host side (Printer delegates here) ----
  std::optional<PrinterType> type() const;
  std::string sn() const;
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
  Json get_info() const;
  // The start of the built-in SEND_INFO answer (INFO event from CONNECT):
  // {"event":"INFO","source":"CONNECT","data":<get_info() without nulls>
  // with the files tree written by the files writer when there is one.
  // The command's fields and the closing brace follow (AppendEventTail).
  std::string InfoEventHead() const;

  void set_connection(const std::string& server, const std::string& token);
  std::string code() const;
  RegistrationStatus registration_status() const;
  void set_register_handler(std::function<void(const std::string&)> handler);

  bool ready() const;
  void set_state(State state, Source source, std::optional<bool> ready, const EventFields& fields,
                 const Json& data);
  void telemetry(const Json& fields, std::optional<double> timestamp = std::nullopt);
  std::optional<int64_t> job_id() const;
  void set_job_id(std::optional<int64_t> job_id);

  void set_handler(Command command, CommandHandler handler);
  void set_supported_commands(std::vector<CommandDefinition> definitions);
  std::vector<CommandDefinition> supported_commands() const;
  // The commands something answers: a host handler, a library-provided one
  // or a built-in one.
  std::vector<Command> HandledCommands();
  // Runs the handler of the command waiting for one, on this thread.
  void RunCommand();
  bool WaitForCommand(int64_t timeout_ms);
  std::optional<CommandRequest> current_command() const;
  Event last_command_state() const;
  // With `head` (AppendEventHead's text) the event's data is already
  // rendered.
  Status EndCommand(std::optional<int64_t> command_id, Event event, Source source,
                    const EventFields& fields, const Json& data, std::string* head = nullptr);
  // Ends a command with a handler's result (event, source, reason, state,
  // ids, data).
  Status FinishCommand(const CommandResult& result, std::optional<int64_t> command_id);
  void set_stop_cb(std::function<void()> cb);

  bool Flush(int64_t timeout_ms);
  Conditions& conditions() { return conditions_; }
  PrinterStats stats() const;

 private:
  friend class SessionGuard;
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
  CommandHandler BuiltinHandler(Command c);
  Condition* Node(CondNode node);

  const std::shared_ptr<Network> network_;
  const bool background_handlers_;
  Conditions conditions_;

  mutable std::mutex mu_;
  internal::CondVar cv_;  // commands pending, queue drained, commands ended
  SessionCore core_;      // guarded by mu_
  HandlerTable handlers_;
  HandlerTable default_handlers_;
  std::function<void()> stop_cb_;
  std::function<void(const std::string&)> register_handler_;
  std::function<Json()> files_provider_;
  std::function<void(std::string*)> files_writer_;
  mutable std::atomic<size_t> info_size_hint_{0};  // the last SEND_INFO answer's size
  Executor executor_;
  std::function<void()> waker_;
  RequestObserver observer_;

  std::mutex loop_mu_;
  internal::CondVar loop_cv_;
  bool loop_running_ = false;
};

}  // namespace prusaconnect::internal

#endif  // PRUSACONNECT_FACADE_PRINTER_SESSION_H_
