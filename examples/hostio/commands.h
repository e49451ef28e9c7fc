// Copyright 2026 The libprusaconnect Authors.
//
// Small helpers every host driver's command handlers use: the REJECTED and
// FAILED answers, and a command's string argument.
#ifndef PRUSACONNECT_EXAMPLES_HOSTIO_COMMANDS_H_
#define PRUSACONNECT_EXAMPLES_HOSTIO_COMMANDS_H_

#include <prusaconnect/models.h>
#include <prusaconnect/status.h>

#include <string>

namespace hostio {

// REJECTED with `reason` (Connect shows it to the user).
inline prusaconnect::CommandResult Reject(const std::string& reason) {
  prusaconnect::CommandResult r;
  r.event = prusaconnect::Event::REJECTED;
  r.reason = reason;
  return r;
}

// FAILED: "<host>: <message>" as the reason, "<what> failed: <message>" as
// data.error.
inline prusaconnect::CommandResult Fail(const std::string& host, const std::string& what,
                                        const prusaconnect::Status& s) {
  prusaconnect::CommandResult r;
  r.event = prusaconnect::Event::FAILED;
  r.reason = host + ": " + s.message();
  r.data.set("error", what + " failed: " + s.message());
  return r;
}

// kwargs[key] when a string, else the first positional argument when a
// string, else "".
inline std::string KwString(const prusaconnect::CommandRequest& c, const char* key) {
  const prusaconnect::Json* v = c.kwargs.is_object() ? c.kwargs.find(key) : nullptr;
  if (v != nullptr && v->is_string()) return v->as_string();
  if (c.args.is_array() && c.args.size() > 0 && c.args[0].is_string()) return c.args[0].as_string();
  return "";
}

}  // namespace hostio

#endif  // PRUSACONNECT_EXAMPLES_HOSTIO_COMMANDS_H_
