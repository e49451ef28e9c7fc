// Copyright 2026 The libprusaconnect Authors.
//
// NativeConnectClient: the SWIG-facing facade of prusaconnect::ConnectClient
// for prusaconnect.client (bindings/python/prusaconnect/client.py).
//
// Every method answers a JSON object, {"ok": true, "value": ...} or
// {"ok": false, "code": "INVALID_ARGUMENT", "message": "..."}, and the
// Python side raises its own exception classes from the code
// (CommandValidationError for a command refused before sending): a failure
// is data here, not a C++ exception. Every method may block on the network
// and runs without the GIL (prusaconnect.i).
#ifndef PRUSACONNECT_BINDINGS_PYTHON_PY_CLIENT_H_
#define PRUSACONNECT_BINDINGS_PYTHON_PY_CLIENT_H_

#include <cstdint>
#include <memory>
#include <string>

#include "prusaconnect/client.h"
#include "prusaconnect/json.h"

namespace prusaconnect::python {

// The standard definitions (StandardCommandDefinitions) of the commands
// named in `commands` (a list of names; null: all), in Connect's JSON form.
Json standard_command_definitions(const Json& commands);

class NativeConnectClient {
 public:
  NativeConnectClient(const std::string& server, const std::string& token, int64_t commands_ttl_ms,
                      int64_t timeout_ms, bool verify_tls, const std::string& ca_file);
  ~NativeConnectClient();

  Json printers();
  Json printer(const std::string& uuid_or_name);
  Json supported_commands(const std::string& printer_uuid, bool refresh);
  void invalidate_commands(const std::string& printer_uuid);
  // value: the kwargs with the defaults filled in.
  Json validate_command(const std::string& printer_uuid, const std::string& command,
                        const Json& kwargs);
  Json send_command(const std::string& printer_uuid, const std::string& command,
                    const Json& kwargs);
  int64_t requests_sent() const;

 private:
  std::unique_ptr<ConnectClient> client_;
};

}  // namespace prusaconnect::python

#endif  // PRUSACONNECT_BINDINGS_PYTHON_PY_CLIENT_H_
