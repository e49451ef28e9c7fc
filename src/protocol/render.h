// Copyright 2026 The libprusaconnect Authors.
//
// Pure functions that turn protocol values into wire bytes and back:
// event and telemetry payloads, SEND_INFO data, Command-Id parsing, the
// Timestamp header. No state, no I/O — unit-tested against the SDK's exact
// JSON (tests/unit/render_test.cc).
#ifndef PRUSACONNECT_PROTOCOL_RENDER_H_
#define PRUSACONNECT_PROTOCOL_RENDER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "prusaconnect/const.h"
#include "prusaconnect/json.h"
#include "prusaconnect/models.h"
#include "util/json_writer.h"

namespace prusaconnect::internal {

// The JSON body of POST /p/events (models.py Event.to_payload): event,
// source, data (nulls filtered, always present), then command_id, job_id,
// transfer_id, reason, dialog_id when truthy, then state when set.
std::string RenderEvent(Event event, Source source, const EventFields& fields, const Json& data);
// RenderEvent in two parts, for bodies whose data is written outside the
// session lock: the head ({"event":..,"source":..,"data":{..}) and the tail
// (the top-level fields and the closing brace).
void AppendEventHead(Event event, Source source, const Json& data, const JsonSplice* splice,
                     std::string* out);
void AppendEventTail(const EventFields& fields, std::string* out);

// The JSON body of POST /p/telemetry: `fields` without nulls, with
// command_id / job_id (when given) set in place or appended, then state last.
// When `initialised` is false only {"state": ...} is sent (SDK quirk Q13).
// The members of `transfer` (an object, or null: none) follow job_id, as the
// SDK adds a running download's transfer_* keys.
std::string RenderTelemetry(const Json& fields, State state, std::optional<int64_t> command_id,
                            std::optional<int64_t> job_id, bool initialised,
                            const Json& transfer = Json());

// Parses a Command-Id header value the way Python's int() does for the
// values Connect can send: surrounding whitespace, an optional sign, decimal
// digits with single underscores between them. nullopt when invalid or out
// of the int64 range.
std::optional<int64_t> ParseCommandId(std::string_view text);

// The Timestamp header for a time given in seconds (floored to the 0.1 s
// grid, printed with exactly one decimal).
std::string FormatSeconds(double seconds);

// Inputs of the SEND_INFO data (get_info in the SDK).
struct InfoInput {
  std::optional<PrinterType> type;
  std::string firmware;
  NetworkInfo network_info;
  std::string api_key;
  Json files;  // legacy file tree
  std::string sn;
  std::string fingerprint;
  std::vector<double> mbl;
  bool has_mbl = false;
  std::vector<SheetSettings> sheet_settings;
  bool has_sheet_settings = false;
  std::optional<int> active_sheet;
  bool mmu_supported = true;
  bool mmu_enabled = false;
  std::string mmu_fw;
  std::optional<MMUType> mmu_type;
  Json extra;  // object or null
  // The declared command definitions ({"commands": [...]}'s list), or null
  // when the host declared none (then the key is not sent).
  Json supported_commands;
};
// Takes `in` by value so that the (possibly large) files tree is moved into
// the result, not copied: pass std::move(in) when it is not needed after.
Json BuildInfo(InfoInput in);

// The legacy file tree of a printer without storages.
Json EmptyLegacyTree();

}  // namespace prusaconnect::internal

#endif  // PRUSACONNECT_PROTOCOL_RENDER_H_
