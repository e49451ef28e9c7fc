// Copyright 2026 The libprusaconnect Authors.
//
// Supported commands: what a printer accepts, declared as data, and the
// check of a command against it (docs/commands.md).
//
// A CommandDefinition names a command, its arguments (name, type, required,
// default, description, unit), the printer states it may run from, and an
// optional G-code template. Its JSON form is the one Prusa Connect's user
// API lists per printer (`GET /app/printers/{uuid}/supported-commands`):
//
//   {"command": "START_PRINT",
//    "args": [{"name": "path", "type": "string", "required": true,
//              "description": "file to print"}],
//    "executable_from_state": ["IDLE", "READY", "FINISHED", "STOPPED"],
//    "description": "Start printing a file"}
//
// The same check runs on both sides: a printer that declares definitions
// (Printer::set_supported_commands) refuses a command that does not match
// before any handler runs, and ConnectClient refuses it before sending.
//
// Values and free functions here are immutable or pure: safe from any thread.
#ifndef PRUSACONNECT_COMMANDS_H_
#define PRUSACONNECT_COMMANDS_H_

#include <string>
#include <string_view>
#include <vector>

#include "prusaconnect/const.h"
#include "prusaconnect/export.h"
#include "prusaconnect/json.h"
#include "prusaconnect/status.h"

namespace prusaconnect {

// JSON types of arguments. INTEGER accepts JSON integers only (5, not 5.0
// or "5"); NUMBER accepts integers and fractions; nothing is converted.
// ANY: a name without a declared type (Connect's short form `"args":
// ["id"]`), present or not but never type-checked.
enum class ArgType { STRING, INTEGER, NUMBER, BOOLEAN, OBJECT, ANY };

// Wire names: "string", "integer", "number", "boolean", "object", "any".
PRUSACONNECT_API const char* ToString(ArgType v);
PRUSACONNECT_API bool Parse(std::string_view text, ArgType* out);

struct CommandArgument {
  std::string name;
  ArgType type = ArgType::STRING;
  bool required = false;
  // Filled in when the argument is absent (or null); null: no default.
  Json default_value;
  std::string description;
  std::string unit;  // e.g. "mm", "°C", "s"; empty: none
};

struct CommandDefinition {
  std::string command;  // wire name, e.g. "START_PRINT"
  std::vector<CommandArgument> args;
  // The states the command may run from; empty: any state.
  std::vector<State> executable_from_state;
  std::string description;
  std::string gcode_template;  // "template" on the wire, e.g. "M486 P{id}"

  // The argument named `name`, or nullptr.
  const CommandArgument* find_arg(std::string_view name) const {
    for (const CommandArgument& a : args) {
      if (a.name == name) return &a;
    }
    return nullptr;
  }
};

// The definition of `command` in `definitions`, or nullptr.
PRUSACONNECT_API const CommandDefinition* FindCommand(
    const std::vector<CommandDefinition>& definitions, std::string_view command);

// JSON forms. ToJson(definitions) is the list, as a printer's INFO carries
// it; the user API answers {"commands": <that list>}.
// ParseCommandDefinitions takes either; arguments may be objects or bare
// names (ArgType::ANY). InvalidArgument names what is
// wrong (e.g. "commands[2].args[0]: unknown type \"float\"").
PRUSACONNECT_API Json ToJson(const CommandDefinition& definition);
PRUSACONNECT_API Json ToJson(const std::vector<CommandDefinition>& definitions);
PRUSACONNECT_API StatusOr<CommandDefinition> ParseCommandDefinition(const Json& json);
PRUSACONNECT_API StatusOr<std::vector<CommandDefinition>> ParseCommandDefinitions(const Json& json);

struct ValidationOptions {
  // An argument the definition does not list is refused. Off on printers
  // (Connect may add keys a host ignores, e.g. path_sfn), on in clients
  // (a misspelt key would otherwise be dropped silently).
  bool refuse_unknown_arguments = false;
  // Check executable_from_state against `state`.
  bool check_state = true;
};

// Checks `kwargs` (a JSON object, or null for none) against `definition`
// and, when `state` is given, the state. On success the absent arguments
// that have a default are filled in. InvalidArgument says what is wrong,
// naming the argument or the state:
//   "START_PRINT: missing required argument 'path' (string)"
//   "MOVE: argument 'x' must be a number, not a string (\"5\")"
//   "PAUSE_PRINT cannot run while the printer is IDLE (only from PRINTING)"
PRUSACONNECT_API Status ValidateCommand(const CommandDefinition& definition, Json* kwargs,
                                        State state, const ValidationOptions& options = {});

// The standard commands of the protocol with the arguments the library's
// built-in handlers (files, downloads, SEND_INFO) and the SDK's hosts take,
// and the states a printer runs them from (docs/commands.md lists them).
// A host declares the ones it handles:
//   printer.set_supported_commands(StandardCommandDefinitions({Command::PAUSE_PRINT, ...}))
PRUSACONNECT_API std::vector<CommandDefinition> StandardCommandDefinitions();
PRUSACONNECT_API std::vector<CommandDefinition> StandardCommandDefinitions(
    const std::vector<Command>& commands);

}  // namespace prusaconnect

#endif  // PRUSACONNECT_COMMANDS_H_
