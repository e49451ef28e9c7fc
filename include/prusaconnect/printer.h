// Copyright 2026 The libprusaconnect Authors.
//
// Printer: one printer's connection to Prusa Connect — the C++ counterpart of
// the reference SDK's `prusa.connect.printer.Printer`.
//
// A host creates a Printer with its identity (type, serial number,
// fingerprint), gives it a server and token (set_connection,
// connection_from_config) or registers it (register_printer), then:
//   * reports telemetry at least once a second (telemetry());
//   * reports state changes and other events (set_state(), event_cb());
//   * answers Connect's commands through handlers (set_handler()), run either
//     by the host calling command() — the SDK's model — or by the library's
//     handler threads (PrinterOptions::background_handlers);
//   * attaches its storages (attach(), attach_storage()): their tree goes into
//     SEND_INFO, changes are reported as FILE_CHANGED, and the file commands
//     (SEND_FILE_INFO, CREATE_FOLDER, DELETE_FILE, DELETE_FOLDER) work on
//     them (see files.h).
//
// Sending happens on the shared network thread (see network.h) once the
// printer is started: start() returns at once; loop() is the SDK-shaped
// blocking form (start, then wait for stop_loop()).
//
// Beyond the SDK: events are never lost to a failed request — they wait in a
// bounded buffer and are retried in order with exponential backoff (100 ms to
// 60 s, jittered); only the newest unsent telemetry is kept; many printers
// share one thread; conditions are per printer.
//
// Thread safety: every method may be called from any thread, concurrently.
// Handlers and callbacks must not destroy the Printer that runs them.
#ifndef PRUSACONNECT_PRINTER_H_
#define PRUSACONNECT_PRINTER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "prusaconnect/camera.h"
#include "prusaconnect/commands.h"
#include "prusaconnect/conditions.h"
#include "prusaconnect/const.h"
#include "prusaconnect/export.h"
#include "prusaconnect/files.h"
#include "prusaconnect/json.h"
#include "prusaconnect/models.h"
#include "prusaconnect/network.h"
#include "prusaconnect/status.h"
#include "prusaconnect/transfer.h"

namespace prusaconnect {

namespace internal {
class PrinterSession;
class TransferManager;
}  // namespace internal

struct PRUSACONNECT_API PrinterOptions {
  // SEND_INFO carries an `mmu` object (the SDK's constructor default).
  bool mmu_supported = true;
  // Events waiting to be sent; when full the oldest is dropped, counted in
  // PrinterStats::events_dropped_overflow and logged. At least 1.
  size_t event_buffer_size = 1000;
  // Retry delays after a failed request: doubling from min to max, jittered.
  int64_t backoff_min_ms = 100;
  int64_t backoff_max_ms = 60000;
  // Timeout of every request (the SDK's CONNECTION_TIMEOUT).
  int64_t request_timeout_ms = static_cast<int64_t>(CONNECTION_TIMEOUT) * 1000;
  // Registration polling interval and lifetime of a code.
  int64_t register_poll_interval_ms = 1000;
  int64_t register_timeout_ms = static_cast<int64_t>(CODE_TIMEOUT) * 1000;
  // TLS: certificates are verified against the system store (or `ca_file`)
  // unless verify_tls is false — only for local servers with self-signed
  // certificates.
  bool verify_tls = true;
  std::string ca_file;
  // Run command handlers on the network's handler threads as soon as a
  // command is accepted, instead of waiting for the host to call command().
  bool background_handlers = false;
  // The network to send through; null means Network::Default().
  std::shared_ptr<Network> network;
  // How the printer's storages classify files (PRINT_FILE extensions).
  FilesystemOptions files;
  // Downloads: size and rate limits, retries, staging folder.
  TransferOptions transfer;
};

class PRUSACONNECT_API Printer {
 public:
  // Any of type, sn and fingerprint may be left empty and set once later.
  explicit Printer(std::optional<PrinterType> type = std::nullopt, const std::string& sn = "",
                   const std::string& fingerprint = "", PrinterOptions options = {});
  // Stops sending; events not yet sent are discarded (see flush()).
  ~Printer();
  Printer(const Printer&) = delete;
  Printer& operator=(const Printer&) = delete;

  // ---- identity ----
  std::optional<PrinterType> type() const;
  std::string sn() const;
  std::string fingerprint() const;
  // Each can be set once: FailedPrecondition ("Fingerprint is already set.")
  // when it already has a value.
  Status set_type(PrinterType type);
  Status set_sn(const std::string& sn);
  Status set_fingerprint(const std::string& fingerprint);
  // True when sn, fingerprint and type are all set. As in the SDK a false
  // answer also marks the API condition NOK.
  bool is_initialised();

  // ---- what SEND_INFO reports ----
  void set_firmware(const std::string& firmware);
  std::string firmware() const;
  void set_software(const std::string& software);  // User-Agent-Version wins over firmware
  std::string software() const;
  void set_network_info(const NetworkInfo& info);
  NetworkInfo network_info() const;
  void set_api_key(const std::string& api_key);
  void set_mbl(const std::vector<double>& mbl);
  void set_sheet_settings(const std::vector<SheetSettings>& sheets);
  // SEND_INFO then leaves mbl / sheet_settings out again (as never set).
  void clear_mbl();
  void clear_sheet_settings();
  void set_active_sheet(std::optional<int> index);
  void set_mmu(bool enabled, const std::string& firmware = "",
               std::optional<MMUType> type = std::nullopt);
  // Extra members merged into the SEND_INFO data (e.g. Buddy-style
  // "storages" or "tools"); they do not replace the SDK's keys.
  void set_info_extra(const Json& extra);
  // The data object SEND_INFO answers with now.
  Json get_info() const;

  // ---- connection ----
  // `server` is a URL such as "https://connect.prusa3d.com"; an empty token
  // means "not registered" (the TOKEN condition is then NOK, not OK as in
  // the SDK — quirk Q6).
  void set_connection(const std::string& server, const std::string& token);
  // Reads [service::connect] hostname, tls, port, token from a PrusaLink
  // `prusa_printer_settings.ini`. NotFound when the file does not exist,
  // InvalidArgument naming the missing or bad key.
  Status connection_from_config(const std::string& path);
  // "http[s]://host[:port]"; port 0 is left out.
  static std::string connect_url(const std::string& host, bool tls, int port = 0);
  std::string server() const;
  std::string token() const;

  // ---- registration ----
  // POST /p/register. Returns the temporary code to type into Connect's
  // "Add printer" form, then polls GET /p/register (about once a second, for
  // up to 30 minutes) until Connect hands out a token. On success the token
  // is set and the register handler is called with it (persist it!).
  // Blocks the calling thread for one request only; other printers' traffic
  // continues meanwhile. Errors: FailedPrecondition without a server,
  // Unavailable when Connect cannot be reached, and the server's text for
  // any other refusal.
  StatusOr<std::string> register_printer();
  // Called (on a handler thread) with the new token once registration ends.
  void set_register_handler(std::function<void(const std::string& token)> handler);
  // The pending code, "" when none.
  std::string code() const;
  RegistrationStatus registration_status() const;

  // ---- state, events, telemetry ----
  State state() const;
  bool ready() const;
  // Sets the state and emits STATE_CHANGED. PRINTING clears `ready`;
  // otherwise `ready` changes only when given.
  void set_state(State state, Source source, std::optional<bool> ready = std::nullopt,
                 const EventFields& fields = {}, const Json& data = Json());
  // Queues an event. Dropped (as in the SDK) when the printer has no token.
  void event_cb(Event event, Source source, const EventFields& fields = {},
                const Json& data = Json());
  // Queues telemetry, replacing an older sample not yet sent.
  void telemetry(const Telemetry& telemetry);
  // The same with free-form fields (a JSON object).
  // `timestamp` (seconds since the epoch) is when the values were read;
  // default: now. It goes into the Timestamp header, as the SDK's.
  void telemetry(const Json& fields, std::optional<double> timestamp = std::nullopt);
  std::optional<int64_t> job_id() const;
  void set_job_id(std::optional<int64_t> job_id);

  // ---- commands ----
  // Registers the handler of a command, replacing the built-in one if any.
  // Built-in: SEND_INFO, SEND_STATE_INFO, SET_PRINTER_READY,
  // CANCEL_PRINTER_READY, DIALOG_ACTION, and the file commands
  // SEND_FILE_INFO, CREATE_FOLDER, CREATE_DIRECTORY, DELETE_FILE,
  // DELETE_FOLDER, DELETE_DIRECTORY.
  void set_handler(Command command, CommandHandler handler);
  // Declares the commands this printer accepts (docs/commands.md). A command
  // with a definition is checked before any handler runs: a missing
  // required argument, a wrong JSON type or a state outside
  // executable_from_state is REJECTED with the reason, and absent arguments
  // get their defaults. Commands without a definition behave as before.
  // The definitions also go to Connect in SEND_INFO ("supported_commands").
  // Empty (the default): nothing is checked or sent. E.g.
  //   printer.set_supported_commands(StandardCommandDefinitions(
  //       {Command::START_PRINT, Command::PAUSE_PRINT, Command::RESUME_PRINT}));
  void set_supported_commands(std::vector<CommandDefinition> definitions);
  std::vector<CommandDefinition> supported_commands() const;
  // The commands this printer answers now (its handlers, the library's
  // file and transfer handlers, the built-in ones), e.g. to declare them:
  //   printer.set_supported_commands(StandardCommandDefinitions(printer.handled_commands()));
  std::vector<Command> handled_commands() const;
  // Runs the handler of the accepted command in the calling thread, if there
  // is one that no other thread has started; returns at once otherwise.
  void command();
  // Waits up to `timeout_ms` for a command to run; true when one is pending.
  bool wait_for_command(int64_t timeout_ms);
  // The accepted command, if one is running.
  std::optional<CommandRequest> current_command() const;
  // The SDK's command.last_state: ACCEPTED while a command runs, else the
  // terminal event of the last one (FINISHED, REJECTED, FAILED...).
  Event last_command_state() const;
  // Ends a command from outside its handler (asynchronous completion, as
  // the SDK's printer.command.finish/failed/reject). `command_id` defaults to
  // the current command. Returns FailedPrecondition when no such command is
  // running.
  Status finish_command(const CommandResult& result,
                        std::optional<int64_t> command_id = std::nullopt);
  Status fail_command(Source source, const std::string& reason, const Json& data = Json(),
                      std::optional<int64_t> command_id = std::nullopt);
  Status reject_command(Source source, const std::string& reason, const Json& data = Json(),
                        std::optional<int64_t> command_id = std::nullopt);
  // Called (on a handler thread) when a priority command (RESET_PRINTER)
  // preempts a running one; the host should make the running handler stop.
  void set_stop_cb(std::function<void()> stop_cb);

  // ---- files ----
  // Lists `folder` and attaches it as the storage `storage` (virtual paths
  // "/<storage>/..."), watching it for changes; emits MEDIUM_INSERTED. The
  // SDK's Printer.attach. Errors as Filesystem::Attach.
  Status attach(const std::string& folder, const std::string& storage);
  // Attaches a storage whose files the host provides (e.g. OctoPrint's list)
  // under provider->name(); emits MEDIUM_INSERTED.
  Status attach_storage(std::shared_ptr<StorageProvider> provider);
  // Emits MEDIUM_EJECTED; NotFound for an unknown storage.
  Status detach(const std::string& storage);
  // This printer's storages: reading, Refresh() of a provided storage, OS
  // paths for a START_PRINT handler.
  Filesystem& fs();
  // Returns the virtual path of the file being printed ("/usb/box.gcode"),
  // "" when none. The delete commands refuse it and any folder holding it.
  void set_printed_file_cb(std::function<std::string()> cb);

  // ---- transfers (transfer.h) ----
  // Starts a download into the virtual path `path` as Connect's
  // START_URL_DOWNLOAD (type FROM_WEB) or START_CONNECT_DOWNLOAD (FROM_CONNECT,
  // with the Connect URL) would, and returns it. Errors, all before anything
  // is written: AlreadyExists ("Another transfer in progress"),
  // InvalidArgument (bad URL or name, unknown storage, outside the storage),
  // FailedPrecondition (the file being printed), ResourceExhausted (bigger
  // than max_size or the free space).
  StatusOr<TransferInfo> start_download(TransferType type, const std::string& path,
                                        const std::string& url, bool to_print = false,
                                        bool to_select = false);
  // Stops the running transfer (TRANSFER_STOPPED follows); NotFound when
  // `transfer_id` is given and is not the running one. Nothing running: OK.
  Status stop_transfer(std::optional<uint32_t> transfer_id = std::nullopt);
  // The running transfer, else the last one (type NO_TRANSFER: none yet).
  TransferInfo transfer_info() const;
  // Called on the transfer's thread after TRANSFER_FINISHED is queued, with
  // the finished transfer: `to_print` / `to_select` tell the host to start
  // or select the file.
  void set_download_finished_cb(std::function<void(const TransferInfo&)> cb);
  // Changes TransferOptions::max_bytes_per_second, also for a running
  // transfer (0 = unlimited).
  void set_transfer_rate_limit(int64_t bytes_per_second);

  // ---- cameras ----
  // This printer's cameras (camera.h): add them, register them, and they
  // upload snapshots to the printer's current server on their own threads.
  CameraController& cameras();

  // ---- running ----
  // Attaches the printer to its network: queued traffic starts flowing.
  void start();
  // Detaches it; queued events stay buffered until the next start().
  void stop();
  // start(), then block until stop_loop() (from another thread or a handler),
  // then stop(). The SDK's Printer.loop().
  void loop();
  void stop_loop();
  // Waits up to `timeout_ms` until every buffered event has been delivered.
  bool flush(int64_t timeout_ms);

  // ---- observation ----
  // This printer's INTERNET → HTTP → TOKEN → API condition chain.
  Conditions& conditions();
  PrinterStats stats() const;
  // Calls `observer` after each request of this printer is answered (or
  // fails): what it was, the HTTP status and how long it waited. It runs on
  // the network thread with none of the library's locks held: it must be
  // quick and must not block. Calls that only queue (telemetry(), event_cb())
  // are fine there; calls that wait for the network (register_printer(),
  // flush(), loop()) would deadlock. Replaces the previous observer; an empty
  // function removes it.
  void set_request_observer(RequestObserver observer);

 private:
  std::shared_ptr<internal::PrinterSession> session_;
  std::shared_ptr<Filesystem> fs_;
  std::shared_ptr<internal::TransferManager> transfers_;
  // Declared last: destroyed first, while the session is still attached.
  std::unique_ptr<CameraController> cameras_;
};

}  // namespace prusaconnect

#endif  // PRUSACONNECT_PRINTER_H_
