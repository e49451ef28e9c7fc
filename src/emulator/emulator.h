// Local Prusa Connect emulator: the printer-facing Connect API
// (registration, telemetry with queued commands, events, camera
// registration and snapshots, file downloads) plus a JSON control API, a
// request log and an HTML status page, on top of HttpServer.
//
// It is the fixture for integration tests (in-process, port 0), the
// benchmark target and the README demo server (`prusaconnect-emulator`).
// Behaviour follows sdk-spec.md §1, §4.2, §8.5/8.6 and §14.  The JSON
// control API (/api/...) mirrors this class and is documented at the top of
// control_api.cc.
//
// Thread-safety: every public method is thread-safe.  Handlers run on the
// server's loop thread; the C++ API may be called from any other thread
// (e.g. the test body) at the same time.  WaitFor* block on a condition
// variable that is signalled on every state change, so tests never need
// sleeps.  Predicates passed to WaitFor run without internal locks held
// and may call any other method.
//
// Memory is bounded: request log, events per printer, protocol errors,
// telemetry history and delivered-command history are capped ring buffers
// with drop counters.

#ifndef PRUSACONNECT_SRC_EMULATOR_EMULATOR_H_
#define PRUSACONNECT_SRC_EMULATOR_EMULATOR_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "emulator/http_server.h"
#include "prusaconnect/status.h"

namespace prusaconnect::emulator {

struct EmulatorOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 0;  // 0: ephemeral, see Emulator::port().
  // Approve registration codes as soon as they are issued.
  bool auto_approve = false;
  // Optional directory of downloadable files: a GET for an unregistered
  // /p/teams/{team}/files/{hash}/raw serves "<dir>/<hash>" if it exists, and
  // relative FileSpec paths are resolved against it.
  std::string file_store_dir;
  // One line per request to `log_sink` (stderr if unset).
  bool verbose = false;
  std::function<void(std::string_view line)> log_sink;

  size_t request_log_capacity = 10000;
  size_t max_events_per_printer = 100000;
  size_t telemetry_history_per_printer = 16;    // Bodies kept for GetTelemetry().
  size_t delivered_history_per_printer = 1000;  // PrinterInfo::delivered_commands.
  size_t max_protocol_errors = 10000;
  uint64_t max_body_bytes = 64ull * 1024 * 1024;
  // The bearer token of the user API (/app/...); empty: a random one,
  // see Emulator::user_token().
  std::string user_token;
  // Whether /api/... and status-page requests go into the request log.
  bool log_control_requests = false;

  absl::Duration code_lifetime = absl::Minutes(30);        // Pending code → 410 after.
  absl::Duration approved_code_grace = absl::Seconds(60);  // 200 repeats after first fetch.
  // Wall clock for registration times and code expiry (tests may fake it).
  // Fault windows always use real time.
  std::function<absl::Time()> clock;
};

// Byte `i` of a generated download: (i*31+7) & 0xff.
constexpr uint8_t GeneratedFileByte(uint64_t i) {
  return static_cast<uint8_t>((i * 31 + 7) & 0xff);
}

struct RegistrationCodeInfo {
  std::string code;
  std::string sn;
  std::string fingerprint;
  std::string printer_type;
  std::string firmware;
  absl::Time created;
  bool approved = false;
  bool expired = false;
  std::string token;  // Once approved.
};

struct RecordedEvent {
  uint64_t seq = 0;       // Global, increasing across printers.
  std::string timestamp;  // The Timestamp header, verbatim.
  absl::Time received;
  std::string event;
  std::string source;
  std::optional<int64_t> command_id;
  std::optional<int64_t> job_id;
  std::optional<int64_t> transfer_id;
  std::string state;   // Empty if absent.
  std::string reason;  // Empty if absent.
  std::string json;    // The body as received.
};

struct TelemetryRecord {
  uint64_t seq = 0;
  std::string timestamp;  // The Timestamp header.
  absl::Time received;
  std::string json;
};

struct ProtocolError {
  uint64_t seq = 0;
  absl::Time time;
  std::string fingerprint;  // Empty if the request could not be attributed.
  std::string method;
  std::string path;
  std::string message;
};

// A response delivered on a telemetry request's answer.
struct RawResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

// A command for a printer, delivered in the response to its next telemetry.
struct Command {
  enum class Kind { kJson, kGcode, kRaw };
  Kind kind = Kind::kJson;
  // Unset: the next automatic id (1, 2, ... per emulator).  Not used by kRaw.
  std::optional<int64_t> command_id;
  // kJson: {"command": command, "args": args, "kwargs": kwargs}; args and
  // kwargs are JSON texts (an array and an object), omitted when empty.
  std::string command;
  std::string args_json;
  std::string kwargs_json;
  // kGcode: text/x.gcode body, with "Force: 1" when `force`.
  std::string gcode;
  bool force = false;
  // kRaw: sent verbatim (status, headers, body) for bad-input tests.
  RawResponse raw;

  static Command Json(std::string command, std::string args_json = "", std::string kwargs_json = "",
                      std::optional<int64_t> id = std::nullopt);
  static Command Gcode(std::string gcode, bool force = false,
                       std::optional<int64_t> id = std::nullopt);
  static Command Raw(RawResponse raw);
};

struct QueuedCommandInfo {
  int64_t command_id = 0;  // For kRaw: the numeric Command-Id header, else 0.
  std::string kind;        // "json", "gcode" or "raw".
  std::string summary;     // Command name, G-code text or raw status.
};

struct DeliveredCommand {
  QueuedCommandInfo command;
  absl::Time delivered;
};

struct PrinterInfo {
  std::string fingerprint;
  std::string sn;
  std::string printer_type;
  std::string firmware;
  std::string token;
  absl::Time registered;

  int64_t telemetry_count = 0;
  int64_t telemetry_with_command_id = 0;
  std::optional<int64_t> last_telemetry_command_id;
  std::string last_telemetry;  // JSON text; empty if none yet.
  std::string last_telemetry_timestamp;

  int64_t event_count = 0;     // Accepted events ever received.
  int64_t events_dropped = 0;  // Evicted from the capped list.

  std::vector<QueuedCommandInfo> queued_commands;
  std::vector<DeliveredCommand> delivered_commands;  // Most recent, oldest first.

  int64_t protocol_error_count = 0;
  std::vector<std::string> protocol_errors;  // Most recent messages.
  int64_t clock_adjusted_count = 0;          // Requests carrying Clock-Adjusted.
  int64_t request_count = 0;
  absl::Time last_seen;
};

struct CameraInfo {
  std::string fingerprint;  // Camera fingerprint from the registration.
  std::string token;
  std::string printer_fingerprint;
  std::string registration_json;  // Last POST /p/camera body.
  int64_t registrations = 0;
  int64_t snapshot_count = 0;
  uint64_t last_snapshot_size = 0;
  std::string last_content_type;
  std::string last_timestamp;
  std::string last_printer_uuid;  // ?printer_uuid= of the last snapshot.
  std::string last_snapshot;      // Bytes of the last snapshot.
};

// A downloadable file for GET /p/teams/{team_id}/files/{hash}/raw.
struct FileSpec {
  int64_t team_id = 0;
  std::string hash;
  // A real file to serve; relative paths are under file_store_dir.  If
  // empty, `size` generated bytes (GeneratedFileByte) are served.
  std::string path;
  uint64_t size = 0;
  // Empty: no Content-Type header.
  std::string content_type = "application/octet-stream";
  // Variants for the download error paths (§14.7):
  bool omit_content_length = false;  // Close-delimited body.
  uint64_t throttle_bytes_per_sec = 0;
  std::optional<uint64_t> stall_after_bytes;
  // The first `drop_requests` responses close the connection after
  // `drop_after_bytes` body bytes (a connection lost midway).
  std::optional<uint64_t> drop_after_bytes;
  int64_t drop_requests = 1;
  // Ignore Range headers (a server without range support: always 200).
  bool no_ranges = false;
  // Answer 302 with this Location instead of serving the file.
  std::string redirect_to;
  // Served to anyone, without printer headers (a public URL, a CDN).
  bool public_file = false;
};

struct FileInfo {
  FileSpec spec;
  int64_t requests = 0;
};

enum class FaultKind {
  kStatus,     // Answer `status` with `body` and `headers`.
  kDrop,       // Close the connection without answering (FIN).
  kReset,      // Close the connection with an RST.
  kSlow,       // Handle the request only after `delay`, then answer normally.
  kHang,       // Never answer; the connection stays open.
  kRefuse,     // Close the listener for `duration` (connects are refused).
  kMalformed,  // Telemetry: 200 + valid Command-Id + syntactically broken JSON.
};

std::string_view FaultKindName(FaultKind kind);
bool ParseFaultKind(std::string_view name, FaultKind* kind);

// A fault injection rule.  Request faults apply to printer-facing requests
// only (never to /api/, / or /approve/): the first active rule whose
// filters match is used, and consumes one of its `count`.
struct FaultRule {
  FaultKind kind = FaultKind::kStatus;
  // Filters (empty: any).
  std::string path_prefix;
  std::string method;
  std::string token;        // The request's Token header.
  std::string fingerprint;  // The request's Fingerprint header.
  // How many matching requests it applies to (unset: unlimited).
  std::optional<int64_t> count;
  // Active from now + start_after for `duration`.  For kRefuse, the
  // listener is closed for that window (Infinite: until removed).
  absl::Duration start_after = absl::ZeroDuration();
  absl::Duration duration = absl::InfiniteDuration();
  // kStatus.
  int status = 503;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  // kSlow.
  absl::Duration delay = absl::ZeroDuration();
  // kStatus/kDrop/kReset/kHang: handle the request normally first (so it
  // takes effect) and only then replace or suppress the answer.
  bool process_first = false;
};

struct FaultInfo {
  int64_t id = 0;
  FaultRule rule;
  int64_t hits = 0;
};

struct RequestLogEntry {
  uint64_t seq = 0;  // Increasing; assigned when the request completes.
  absl::Time time;   // When the request was received.
  absl::Duration latency;
  uint64_t connection_id = 0;
  uint64_t request_index = 0;  // Position on its connection (keep-alive).
  std::string method;
  std::string target;
  std::vector<std::pair<std::string, std::string>> headers;  // Selected.
  std::string body;                                          // First 4 KiB.
  uint64_t body_size = 0;
  int status = 0;  // 0: no answer (drop, reset, hang).
  std::vector<std::pair<std::string, std::string>> response_headers;  // Selected.
  std::string response_body;  // First 1 KiB ("" for streamed bodies).
  std::string fault;          // Fault kind applied, if any.
};

struct EmulatorStats {
  uint64_t requests = 0;
  // Normalized path → status → count (status 0: no answer).
  std::map<std::string, std::map<int, uint64_t>> by_path;
  uint64_t telemetry = 0;
  uint64_t events = 0;
  HttpServerStats server;
};

class Emulator {
 public:
  explicit Emulator(EmulatorOptions options = {});
  ~Emulator();  // Stops the server.
  Emulator(const Emulator&) = delete;
  Emulator& operator=(const Emulator&) = delete;

  // Binds and starts serving on a background thread.
  Status Start();
  // Stops serving; state stays readable.  Idempotent.
  void Stop();

  uint16_t port() const;
  // "http://host:port".
  std::string url() const;
  // The token the user API (/app/...) takes: `Authorization: Bearer TOKEN`.
  std::string user_token() const;

  // ---- Registration ----
  std::vector<RegistrationCodeInfo> Codes() const;
  // Approves a pending code; returns the printer token (the same token if
  // already approved).  NotFound for unknown codes, FailedPrecondition for
  // expired ones.
  StatusOr<std::string> ApproveCode(std::string_view code);
  // Creates (or replaces) a printer with a given token, skipping
  // registration.  An empty token generates one.  Returns the token.
  StatusOr<std::string> PreregisterPrinter(std::string_view fingerprint, std::string_view sn,
                                           std::string_view printer_type,
                                           std::string_view token = {});

  // ---- Commands ----
  // Queues `command` for the printer; returns its command id (kRaw: the
  // numeric Command-Id header, or 0).  NotFound for unknown printers,
  // InvalidArgument for malformed args/kwargs.
  StatusOr<int64_t> QueueCommand(std::string_view fingerprint, Command command);

  // ---- Files ----
  Status AddFile(FileSpec spec);
  std::vector<FileInfo> Files() const;

  // ---- Faults ----
  int64_t AddFault(FaultRule rule);
  std::vector<int64_t> AddFaults(std::vector<FaultRule> rules);
  // Removing an active kRefuse rule reopens the listener.
  bool RemoveFault(int64_t id);
  void ClearFaults();
  std::vector<FaultInfo> Faults() const;
  // Direct listener control (see HttpServer::PauseListening).
  void PauseListening();
  Status ResumeListening();
  bool listening() const;

  // ---- Inspection ----
  std::vector<PrinterInfo> Printers() const;
  std::optional<PrinterInfo> GetPrinter(std::string_view fingerprint) const;
  // Stored events with seq > since_seq, oldest first.
  std::vector<RecordedEvent> GetEvents(std::string_view fingerprint, uint64_t since_seq = 0) const;
  // Recent telemetry bodies (options.telemetry_history_per_printer), oldest
  // first.
  std::vector<TelemetryRecord> GetTelemetry(std::string_view fingerprint) const;
  // Protocol errors (all, or those attributed to `fingerprint`).
  std::vector<ProtocolError> ProtocolErrors(std::string_view fingerprint = {}) const;
  std::vector<CameraInfo> Cameras() const;
  std::vector<RequestLogEntry> RequestLog(uint64_t since_seq = 0, size_t limit = 10000) const;
  EmulatorStats Stats() const;

  // ---- Waiting (no sleeps needed in tests) ----
  // Returns true as soon as `pred` holds, false if it still does not after
  // `timeout`.  `pred` is re-evaluated after every state change.
  bool WaitFor(const std::function<bool()>& pred, absl::Duration timeout);
  // At least `count` telemetry requests (resp. accepted events) received.
  bool WaitForTelemetry(std::string_view fingerprint, int64_t count, absl::Duration timeout);
  bool WaitForEvents(std::string_view fingerprint, int64_t count, absl::Duration timeout);
  // The first stored event named `event` with seq > since_seq.
  std::optional<RecordedEvent> WaitForEvent(std::string_view fingerprint, std::string_view event,
                                            absl::Duration timeout, uint64_t since_seq = 0);
  // A registration code (the oldest not yet approved one).
  std::optional<std::string> WaitForCode(absl::Duration timeout);
  // A printer with this fingerprint exists (registered/approved).
  bool WaitForPrinter(std::string_view fingerprint, absl::Duration timeout);

  // Forgets printers, codes, cameras, files, faults, logs and statistics.
  void Reset();

  class Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace prusaconnect::emulator

#endif  // PRUSACONNECT_SRC_EMULATOR_EMULATOR_H_
