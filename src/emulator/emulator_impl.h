// Internal state of the Connect emulator, shared by emulator.cc (lifecycle,
// dispatch, faults, C++ API), printer_api.cc (the /p/ and /c/ endpoints)
// and control_api.cc (/api/ and the HTML status page).  Not for use
// outside src/emulator.
//
// Locking: all state below `mu_` is guarded by it (std::mutex rather than
// absl::Mutex so ThreadSanitizer understands it with Debian's uninstrumented
// Abseil).  Handlers take it for
// the duration of their bookkeeping and never call the HttpServer (or a
// responder) while holding it; the server may block on the loop thread,
// which itself may be waiting for `mu_`.

#ifndef PRUSACONNECT_SRC_EMULATOR_EMULATOR_IMPL_H_
#define PRUSACONNECT_SRC_EMULATOR_EMULATOR_IMPL_H_

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/time/clock.h"
#include "emulator/emulator.h"
#include "emulator/http_server.h"

namespace prusaconnect::emulator {

class Emulator::Impl {
 public:
  explicit Impl(EmulatorOptions options);
  ~Impl();

  Status Start();
  void Stop();
  uint16_t port() const;
  std::string url() const;
  std::string user_token() const;
  HttpServer* server() { return server_.get(); }

  // Entry point for every request (loop thread).
  void Handle(const HttpRequest& request, HttpResponder responder);

  // ---- C++ API (any thread) ----
  std::vector<RegistrationCodeInfo> Codes() const;
  StatusOr<std::string> ApproveCode(std::string_view code);
  StatusOr<std::string> PreregisterPrinter(std::string_view fingerprint, std::string_view sn,
                                           std::string_view printer_type, std::string_view token);
  StatusOr<int64_t> QueueCommand(std::string_view fingerprint, Command command);
  Status AddFile(FileSpec spec);
  std::vector<FileInfo> Files() const;
  std::vector<int64_t> AddFaults(std::vector<FaultRule> rules);
  bool RemoveFault(int64_t id);
  void ClearFaults();
  std::vector<FaultInfo> Faults() const;
  void PauseListening();
  Status ResumeListening();
  bool listening() const;
  std::vector<PrinterInfo> Printers() const;
  std::optional<PrinterInfo> GetPrinter(std::string_view fingerprint) const;
  std::vector<RecordedEvent> GetEvents(std::string_view fingerprint, uint64_t since_seq,
                                       size_t limit) const;
  // The last `n` stored events, oldest first.
  std::vector<RecordedEvent> GetLastEvents(std::string_view fingerprint, size_t n) const;
  std::vector<TelemetryRecord> GetTelemetry(std::string_view fingerprint) const;
  std::vector<ProtocolError> ProtocolErrors(std::string_view fingerprint, uint64_t since_seq) const;
  std::vector<CameraInfo> Cameras() const;
  std::vector<RequestLogEntry> RequestLog(uint64_t since_seq, size_t limit) const;
  EmulatorStats Stats() const;
  bool WaitFor(const std::function<bool()>& pred, absl::Duration timeout);
  void Reset();
  bool DeletePrinter(std::string_view fingerprint);

 private:
  struct QueuedCommand {
    int64_t id = 0;
    Command command;
  };

  struct PrinterRecord {
    std::string fingerprint;
    std::string sn;
    std::string printer_type;
    std::string firmware;
    std::string token;
    absl::Time registered;
    int64_t telemetry_count = 0;
    int64_t telemetry_with_command_id = 0;
    std::optional<int64_t> last_telemetry_command_id;
    std::string last_telemetry;
    std::string last_telemetry_timestamp;
    std::deque<TelemetryRecord> telemetry_history;
    std::deque<RecordedEvent> events;
    int64_t event_count = 0;
    int64_t events_dropped = 0;
    std::deque<QueuedCommand> queue;
    std::deque<DeliveredCommand> delivered;
    int64_t protocol_error_count = 0;
    std::deque<std::string> recent_errors;
    int64_t clock_adjusted_count = 0;
    int64_t request_count = 0;
    absl::Time last_seen;
    // The user API's view (user_api.cc).
    std::string uuid;                // assigned when the record is made
    std::string state;               // last state from telemetry or an event
    std::string supported_commands;  // INFO's "supported_commands" (JSON), or empty
  };

  struct CodeRecord {
    RegistrationCodeInfo info;
    std::optional<absl::Time> first_fetched;
  };

  struct CameraRecord {
    CameraInfo info;
  };

  struct FaultEntry {
    FaultInfo info;
    absl::Time start;  // Real time.
    absl::Time end;
    bool refusing = false;  // kRefuse: its window has started.
  };

  // Per-request bookkeeping for the log, created when a request arrives.
  struct LogContext {
    RequestLogEntry entry;
    std::string path;  // Normalized, for statistics.
    bool control = false;
    absl::Time started_real;
  };

  // ---- emulator.cc ----
  absl::Time Now() const;
  void Notify();
  LogContext BeginLog(const HttpRequest& request, bool control) const;
  // Records the outcome and sends `response` (or, for kDrop/kReset/kHang
  // labels with no response, does what the label says).
  void Finish(LogContext ctx, const HttpResponder& responder, HttpResponse response,
              std::string_view fault);
  void FinishWithoutResponse(LogContext ctx, const HttpResponder& responder, FaultKind kind);
  void Record(LogContext& ctx, int status, const HttpResponse* response, std::string_view fault);
  std::optional<FaultInfo> MatchFault(const HttpRequest& request);
  // Opens or closes the listener to match manual_pause_ and the active
  // kRefuse rules.  SyncListener runs SyncListenerInLoop on the loop thread
  // and waits, so every decision is applied in order.
  void SyncListener();
  void SyncListenerInLoop();
  void ScheduleRefuse(int64_t id, absl::Duration start_after, absl::Duration duration);
  std::string NewToken(size_t length);
  std::string NewCode();
  // A random version-4 UUID: a printer's id in the user API.
  std::string NewUuid();
  PrinterRecord* FindPrinter(std::string_view fingerprint);
  const PrinterRecord* FindPrinter(std::string_view fingerprint) const;
  PrinterRecord& UpsertPrinter(std::string_view fingerprint, std::string_view sn,
                               std::string_view printer_type, std::string_view firmware,
                               std::string token);
  StatusOr<std::string> ApproveLocked(std::string_view code);
  StatusOr<int64_t> QueueLocked(PrinterRecord& printer, Command command);
  void AddProtocolError(PrinterRecord* printer, std::string_view fingerprint,
                        const HttpRequest& request, std::string message);
  PrinterInfo ToInfo(const PrinterRecord& p) const;
  void CollectCodes();

  // ---- printer_api.cc ----
  // Handles a printer-facing request.  `malformed_command` turns a
  // telemetry answer into the kMalformed fault.
  HttpResponse HandlePrinterApi(const HttpRequest& request, bool malformed_command = false);
  HttpResponse PostRegister(const HttpRequest& request);
  HttpResponse GetRegister(const HttpRequest& request);
  HttpResponse PostTelemetry(const HttpRequest& request, bool malformed_command);
  HttpResponse PostEvent(const HttpRequest& request);
  HttpResponse PostCamera(const HttpRequest& request);
  HttpResponse PutSnapshot(const HttpRequest& request);
  HttpResponse GetFile(const HttpRequest& request);
  // Validates the Token/Fingerprint pair; on failure returns nullptr and
  // sets `*error` to the 403 response.
  PrinterRecord* Authenticate(const HttpRequest& request, HttpResponse* error);
  // Records spec §14.9 header violations against `printer` (or unattributed).
  void CheckPrinterHeaders(const HttpRequest& request, PrinterRecord* printer);
  HttpResponse CommandResponse(PrinterRecord& printer, QueuedCommand queued);

  // ---- user_api.cc ----
  // Connect's user API (/app/...): printers, their supported commands,
  // commands sent to them; behind the user token.
  HttpResponse HandleUserApi(const HttpRequest& request);
  PrinterRecord* FindPrinterByUuid(std::string_view uuid);
  // Records what the user API shows from a printer's INFO event / state.
  void NoteEventForUserApi(PrinterRecord& p, std::string_view event, std::string_view body);

  // ---- control_api.cc ----
  static bool IsControlPath(std::string_view path);
  HttpResponse HandleControl(const HttpRequest& request);
  HttpResponse StatusPage();

  EmulatorOptions options_;
  std::unique_ptr<HttpServer> server_;

  // Methods named *Locked, the endpoint handlers of printer_api.cc and the
  // registry helpers require mu_ to be held; the public C++ API methods
  // acquire it themselves.
  mutable std::mutex mu_;
  std::condition_variable cv_;  // Signalled with every generation_ change.
  uint64_t generation_ = 0;
  std::mt19937_64 rng_;

  std::map<std::string, std::unique_ptr<PrinterRecord>, std::less<>> printers_;
  std::unordered_map<std::string, PrinterRecord*> by_token_;
  std::map<std::string, CodeRecord, std::less<>> codes_;
  uint64_t registrations_since_gc_ = 0;
  std::map<std::string, CameraRecord, std::less<>> cameras_;
  std::unordered_map<std::string, CameraRecord*> camera_by_token_;
  std::map<std::pair<int64_t, std::string>, FileInfo> files_;
  std::vector<FaultEntry> faults_;
  int64_t next_fault_id_ = 1;
  bool manual_pause_ = false;
  int64_t next_command_id_ = 1;
  uint64_t next_event_seq_ = 1;
  uint64_t next_telemetry_seq_ = 1;
  uint64_t next_log_seq_ = 1;
  uint64_t next_error_seq_ = 1;
  std::deque<RequestLogEntry> log_;
  uint64_t log_dropped_ = 0;
  std::deque<ProtocolError> protocol_errors_;
  uint64_t protocol_errors_dropped_ = 0;
  uint64_t requests_total_ = 0;
  uint64_t telemetry_total_ = 0;
  uint64_t events_total_ = 0;
  std::map<std::string, std::map<int, uint64_t>> stats_;
  std::string user_token_;  // the user API's bearer token
};

}  // namespace prusaconnect::emulator

#endif  // PRUSACONNECT_SRC_EMULATOR_EMULATOR_IMPL_H_
