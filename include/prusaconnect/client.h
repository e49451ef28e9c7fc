// Copyright 2026 The libprusaconnect Authors.
//
// ConnectClient: the other side of Prusa Connect, for programs that drive
// printers through Connect's user API (farm scripts, prusaconnect-cli):
// list printers, read one, read the commands it supports, send a command
// (docs/commands.md).
//
// Commands are checked before anything is sent, against the printer's
// supported commands (the same check a printer with declared definitions
// runs: the command exists, required arguments are there, JSON types match
// with no conversion, no unknown argument, and the printer's current state
// is one the command may run from). A refused command never leaves the
// process.
//
// The supported commands are cached per printer: fetched on first use,
// again after `commands_ttl_ms` or on refresh; one request per printer per
// TTL however many commands are sent. The state is read fresh for each
// command that has state limits.
//
// The token is sent only in the Authorization header and never appears in
// errors or logs.
//
// Thread safety: a ConnectClient may be used from several threads at once;
// requests run in the calling thread (blocking, up to timeout_ms each).
#ifndef PRUSACONNECT_CLIENT_H_
#define PRUSACONNECT_CLIENT_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "prusaconnect/commands.h"
#include "prusaconnect/export.h"
#include "prusaconnect/json.h"
#include "prusaconnect/status.h"

namespace prusaconnect {

struct ConnectClientOptions {
  std::string server = "https://connect.prusa3d.com";
  std::string token;  // the user API's bearer token
  int64_t commands_ttl_ms = 300000;
  int64_t timeout_ms = 10000;  // each request, connect included
  bool verify_tls = true;
  std::string ca_file;  // extra CA bundle; empty: the system's
};

// A printer as Connect's user API shows it.
struct RemotePrinter {
  std::string uuid;
  std::string name;
  // Connect's printer_state: a protocol State name (IDLE, PRINTING...) or
  // OFFLINE / UNKNOWN.
  std::string state;
  std::string printer_type;
  std::string sn;
  std::string firmware;
  Json raw;  // the whole object, as Connect sent it
};

// Errors: InvalidArgument — the command was refused here, before sending
// (the message names the command, argument or state); PermissionDenied —
// Connect refused the token (401/403); NotFound — no such printer;
// FailedPrecondition — Connect refused the request (other 4xx, with its
// message); Unavailable — Connect could not be reached or answered 5xx;
// DataLoss — an answer that is not the JSON expected.
class PRUSACONNECT_API ConnectClient {
 public:
  explicit ConnectClient(ConnectClientOptions options);
  ~ConnectClient();
  ConnectClient(const ConnectClient&) = delete;
  ConnectClient& operator=(const ConnectClient&) = delete;

  StatusOr<std::vector<RemotePrinter>> printers();
  // By uuid; else the one printer whose name is exactly `uuid_or_name`.
  StatusOr<RemotePrinter> printer(const std::string& uuid_or_name);

  // The printer's supported commands (cached; `refresh` fetches them now).
  StatusOr<std::vector<CommandDefinition>> supported_commands(const std::string& printer_uuid,
                                                              bool refresh = false);
  // Drops the cached commands of one printer, or of all ("").
  void invalidate_commands(const std::string& printer_uuid = "");

  // The check send_command runs, without sending: OK and `*kwargs` with
  // the defaults filled in, or InvalidArgument saying what is wrong.
  Status validate_command(const std::string& printer_uuid, const std::string& command,
                          Json* kwargs);
  // Checks, then sends {"command", "kwargs"} to Connect, which queues it for
  // the printer; returns Connect's answer ({"command": {"id", "state",
  // ...}}).
  StatusOr<Json> send_command(const std::string& printer_uuid, const std::string& command,
                              Json kwargs = Json());

  // HTTP requests made so far (for tests and the CLI's --verbose).
  uint64_t requests_sent() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace prusaconnect

#endif  // PRUSACONNECT_CLIENT_H_
