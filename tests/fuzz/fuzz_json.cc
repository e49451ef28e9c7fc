// Copyright 2026 The libprusaconnect Authors.
//
// libFuzzer target: Json::Parse, the parser of every JSON payload the
// library reads (command bodies, SEND_INFO extras, config, metadata).
// Invariants: no crash or sanitizer report; whatever parses dumps to text
// that parses again and dumps to the same text (Dump is a fixed point).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "prusaconnect/json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  prusaconnect::StatusOr<prusaconnect::Json> parsed = prusaconnect::Json::Parse(text);
  if (!parsed.ok()) return 0;
  std::string dumped = parsed->Dump();
  prusaconnect::StatusOr<prusaconnect::Json> again = prusaconnect::Json::Parse(dumped);
  if (!again.ok()) std::abort();  // our own output must parse
  if (again->Dump() != dumped) std::abort();
  // Walk the accessors the library uses on payloads.
  (void)parsed->truthy();
  (void)parsed->WithoutNulls().Dump();
  if (parsed->is_object()) {
    (void)parsed->find("command");
    (void)parsed->find("args");
  }
  if (parsed->is_array() && parsed->size() > 0) (void)(*parsed)[0].Dump();
  return 0;
}
