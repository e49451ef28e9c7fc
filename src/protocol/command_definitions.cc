// Copyright 2026 The libprusaconnect Authors.
//
// Command definitions (include/prusaconnect/commands.h): their JSON form,
// the check of a command against one, and the standard definitions. Pure
// functions, no state: the printer's session and ConnectClient both call
// ValidateCommand, so a printer and a client refuse the same commands with
// the same words.
#include "prusaconnect/commands.h"

#include <utility>

#include "util/str_cat.h"

namespace prusaconnect {
namespace {

using internal::StrCat;
using internal::StrJoin;

constexpr const char* kArgTypeNames[] = {"string", "integer", "number", "boolean", "object", "any"};

// What a value is called in messages ("a string", "an integer", "null").
std::string Describe(const Json& v) {
  std::string shown = v.Dump();
  if (shown.size() > 40) {
    shown.resize(37);
    shown += "...";
  }
  if (v.is_string()) return StrCat("a string (", shown, ")");
  if (v.is_int()) return StrCat("an integer (", shown, ")");
  if (v.is_double()) return StrCat("a fraction (", shown, ")");
  if (v.is_bool()) return StrCat("a boolean (", shown, ")");
  if (v.is_array()) return "a list";
  if (v.is_object()) return "an object";
  return "null";
}

bool Matches(ArgType type, const Json& v) {
  switch (type) {
    case ArgType::STRING:
      return v.is_string();
    case ArgType::INTEGER:
      return v.is_int();
    case ArgType::NUMBER:
      return v.is_number();
    case ArgType::BOOLEAN:
      return v.is_bool();
    case ArgType::OBJECT:
      return v.is_object();
    case ArgType::ANY:
      return true;
  }
  return false;
}

const char* Article(ArgType type) {
  return type == ArgType::INTEGER || type == ArgType::OBJECT || type == ArgType::ANY ? "an" : "a";
}

Status Invalid(const std::string& where, const std::string& what) {
  return InvalidArgumentError(where.empty() ? what : StrCat(where, ": ", what));
}

StatusOr<CommandArgument> ParseArgument(const Json& json, const std::string& where) {
  CommandArgument arg;
  if (json.is_string()) {  // Connect's short form: a bare name
    arg.name = json.as_string();
    arg.type = ArgType::ANY;
  } else if (json.is_object()) {
    const Json* name = json.find("name");
    if (name == nullptr || !name->is_string() || name->as_string().empty()) {
      return Invalid(where, "an argument needs a \"name\" (a string)");
    }
    arg.name = name->as_string();
    const Json* type = json.find("type");
    if (type == nullptr || type->is_null()) {
      arg.type = ArgType::ANY;
    } else if (!type->is_string() || !Parse(type->as_string(), &arg.type)) {
      return Invalid(where, StrCat("unknown type ", type->Dump(),
                                   " (string, integer, number, boolean, object)"));
    }
    if (const Json* r = json.find("required"); r != nullptr && !r->is_null()) {
      if (!r->is_bool()) return Invalid(where, "\"required\" must be true or false");
      arg.required = r->as_bool();
    }
    if (const Json* d = json.find("default")) arg.default_value = *d;
    if (!arg.default_value.is_null() && !Matches(arg.type, arg.default_value)) {
      return Invalid(where,
                     StrCat("the default of '", arg.name, "' is ", Describe(arg.default_value),
                            ", not ", Article(arg.type), " ", ToString(arg.type)));
    }
    if (const Json* d = json.find("description"); d != nullptr && d->is_string()) {
      arg.description = d->as_string();
    }
    if (const Json* u = json.find("unit"); u != nullptr && u->is_string()) {
      arg.unit = u->as_string();
    }
  } else {
    return Invalid(where, "an argument is an object or a name");
  }
  if (arg.name.empty()) return Invalid(where, "an argument's name is empty");
  return arg;
}

CommandDefinition Def(const char* command, const char* description, std::vector<State> states,
                      std::vector<CommandArgument> args = {}) {
  CommandDefinition d;
  d.command = command;
  d.description = description;
  d.executable_from_state = std::move(states);
  d.args = std::move(args);
  return d;
}

CommandArgument Arg(const char* name, ArgType type, bool required, const char* description,
                    Json default_value = Json()) {
  CommandArgument a;
  a.name = name;
  a.type = type;
  a.required = required;
  a.description = description;
  a.default_value = std::move(default_value);
  return a;
}

}  // namespace

const char* ToString(ArgType v) { return kArgTypeNames[static_cast<int>(v)]; }

bool Parse(std::string_view text, ArgType* out) {
  for (int i = 0; i < static_cast<int>(std::size(kArgTypeNames)); ++i) {
    if (text == kArgTypeNames[i]) {
      *out = static_cast<ArgType>(i);
      return true;
    }
  }
  return false;
}

const CommandDefinition* FindCommand(const std::vector<CommandDefinition>& definitions,
                                     std::string_view command) {
  for (const CommandDefinition& d : definitions) {
    if (d.command == command) return &d;
  }
  return nullptr;
}

Json ToJson(const CommandDefinition& definition) {
  Json args = Json::MakeArray();
  for (const CommandArgument& a : definition.args) {
    Json arg =
        Json::MakeObject({{"name", a.name}, {"type", ToString(a.type)}, {"required", a.required}});
    if (!a.default_value.is_null()) arg.set("default", a.default_value);
    if (!a.description.empty()) arg.set("description", a.description);
    if (!a.unit.empty()) arg.set("unit", a.unit);
    args.push_back(std::move(arg));
  }
  Json states = Json::MakeArray();
  for (State s : definition.executable_from_state) states.push_back(ToString(s));
  Json out = Json::MakeObject({{"command", definition.command}, {"args", std::move(args)}});
  out.set("executable_from_state", std::move(states));
  if (!definition.description.empty()) out.set("description", definition.description);
  if (!definition.gcode_template.empty()) out.set("template", definition.gcode_template);
  return out;
}

Json ToJson(const std::vector<CommandDefinition>& definitions) {
  Json list = Json::MakeArray();
  for (const CommandDefinition& d : definitions) list.push_back(ToJson(d));
  return list;
}

StatusOr<CommandDefinition> ParseCommandDefinition(const Json& json) {
  if (!json.is_object()) return InvalidArgumentError("a command definition is a JSON object");
  CommandDefinition d;
  const Json* command = json.find("command");
  if (command == nullptr || !command->is_string() || command->as_string().empty()) {
    return InvalidArgumentError("a command definition needs a \"command\" (a string)");
  }
  d.command = command->as_string();
  if (const Json* args = json.find("args"); args != nullptr && !args->is_null()) {
    if (!args->is_array()) return Invalid(d.command, "\"args\" is not a list");
    for (size_t i = 0; i < args->size(); ++i) {
      StatusOr<CommandArgument> arg =
          ParseArgument((*args)[i], StrCat(d.command, ".args[", i, "]"));
      if (!arg.ok()) return arg.status();
      if (d.find_arg(arg->name) != nullptr) {
        return Invalid(d.command, StrCat("argument '", arg->name, "' is listed twice"));
      }
      d.args.push_back(std::move(*arg));
    }
  }
  if (const Json* states = json.find("executable_from_state");
      states != nullptr && !states->is_null()) {
    if (!states->is_array()) return Invalid(d.command, "\"executable_from_state\" is not a list");
    for (const Json& s : states->as_array()) {
      State state;
      if (!s.is_string() || !Parse(s.as_string(), &state)) {
        return Invalid(d.command, StrCat("unknown printer state ", s.Dump()));
      }
      d.executable_from_state.push_back(state);
    }
  }
  if (const Json* t = json.find("description"); t != nullptr && t->is_string()) {
    d.description = t->as_string();
  }
  if (const Json* t = json.find("template"); t != nullptr && t->is_string()) {
    d.gcode_template = t->as_string();
  }
  return d;
}

StatusOr<std::vector<CommandDefinition>> ParseCommandDefinitions(const Json& json) {
  const Json* list = &json;
  if (json.is_object()) {
    list = json.find("commands");
    if (list == nullptr) return InvalidArgumentError("no \"commands\" list");
  }
  if (!list->is_array()) return InvalidArgumentError("\"commands\" is not a list");
  std::vector<CommandDefinition> out;
  for (size_t i = 0; i < list->size(); ++i) {
    StatusOr<CommandDefinition> d = ParseCommandDefinition((*list)[i]);
    if (!d.ok()) return InvalidArgumentError(StrCat("commands[", i, "]: ", d.status().message()));
    // Connect's lists may repeat a command; the first entry wins.
    if (FindCommand(out, d->command) == nullptr) out.push_back(std::move(*d));
  }
  return out;
}

Status ValidateCommand(const CommandDefinition& definition, Json* kwargs, State state,
                       const ValidationOptions& options) {
  const std::string& name = definition.command;
  if (options.check_state && !definition.executable_from_state.empty()) {
    bool allowed = false;
    for (State s : definition.executable_from_state) allowed = allowed || s == state;
    if (!allowed) {
      return InvalidArgumentError(StrCat(
          name, " cannot run while the printer is ", ToString(state), " (only from ",
          StrJoin(definition.executable_from_state, ", ", [](State s) { return ToString(s); }),
          ")"));
    }
  }
  if (kwargs->is_null()) *kwargs = Json::MakeObject();
  if (!kwargs->is_object()) {
    return InvalidArgumentError(
        StrCat(name, ": the arguments (kwargs) must be an object, not ", Describe(*kwargs)));
  }
  if (options.refuse_unknown_arguments) {
    for (const Json::Member& m : kwargs->as_object()) {
      if (definition.find_arg(m.key) == nullptr) {
        std::string known =
            StrJoin(definition.args, ", ", [](const CommandArgument& a) { return a.name; });
        return InvalidArgumentError(StrCat(name, ": unknown argument '", m.key, "' (",
                                           known.empty() ? "it takes none" : "it takes " + known,
                                           ")"));
      }
    }
  }
  for (const CommandArgument& a : definition.args) {
    Json* v = kwargs->find(a.name);
    if (v == nullptr || v->is_null()) {
      if (!a.default_value.is_null()) {
        kwargs->set(a.name, a.default_value);
      } else if (a.required) {
        return InvalidArgumentError(
            StrCat(name, ": missing required argument '", a.name, "'",
                   a.type == ArgType::ANY ? "" : StrCat(" (", ToString(a.type), ")")));
      }
      continue;
    }
    if (!Matches(a.type, *v)) {
      return InvalidArgumentError(StrCat(name, ": argument '", a.name, "' must be ",
                                         Article(a.type), " ", ToString(a.type), ", not ",
                                         Describe(*v)));
    }
  }
  return Status::OK();
}

std::vector<CommandDefinition> StandardCommandDefinitions() {
  using S = State;
  const std::vector<State> any;
  // A print starts from a printer that is not printing, ready or not.
  const std::vector<State> startable = {S::IDLE, S::READY, S::FINISHED, S::STOPPED};
  CommandArgument path = Arg("path", ArgType::STRING, true, "path of the file, e.g. /usb/a.gcode");
  auto transfer_id = [] {
    return Arg("transfer_id", ArgType::INTEGER, false,
               "the transfer meant; absent: the current one");
  };
  auto download_flags = [] {
    return std::vector<CommandArgument>{
        Arg("printing", ArgType::BOOLEAN, false, "start printing the file when it is complete",
            false),
        Arg("selecting", ArgType::BOOLEAN, false, "select the file when it is complete", false)};
  };
  std::vector<CommandArgument> url_args = {
      Arg("url", ArgType::STRING, true, "address to download from (http or https)"), path};
  std::vector<CommandArgument> connect_args = {
      Arg("team_id", ArgType::INTEGER, true, "the team owning the file in Connect"),
      Arg("hash", ArgType::STRING, true, "the file's hash in Connect"), path};
  for (auto* args : {&url_args, &connect_args}) {
    for (CommandArgument& a : download_flags()) args->push_back(std::move(a));
  }
  std::vector<CommandDefinition> d = {
      Def("SEND_INFO", "Send the printer's information (INFO)", any),
      Def("GCODE", "Run G-code lines", any,
          {Arg("gcode", ArgType::STRING, true, "G-code, one command per line")}),
      Def("START_PRINT", "Start printing a file", startable, {path}),
      Def("STOP_PRINT", "Stop the print", {S::PRINTING, S::PAUSED, S::ATTENTION}),
      Def("PAUSE_PRINT", "Pause the print", {S::PRINTING}),
      Def("RESUME_PRINT", "Resume a paused print", {S::PAUSED, S::ATTENTION}),
      Def("SEND_FILE_INFO", "Send a file's information (FILE_INFO)", any, {path}),
      Def("DELETE_FILE", "Delete a file", any, {path}),
      Def("DELETE_FOLDER", "Delete a folder", any,
          {path,
           Arg("force", ArgType::BOOLEAN, false, "delete a folder that is not empty", false)}),
      Def("DELETE_DIRECTORY", "Delete a folder (older name of DELETE_FOLDER)", any,
          {path,
           Arg("force", ArgType::BOOLEAN, false, "delete a folder that is not empty", false)}),
      Def("CREATE_FOLDER", "Create a folder", any, {path}),
      Def("CREATE_DIRECTORY", "Create a folder (older name of CREATE_FOLDER)", any, {path}),
      Def("SEND_JOB_INFO", "Send the job's information (JOB_INFO)", any,
          {Arg("job_id", ArgType::INTEGER, false, "the job meant; absent: the current one")}),
      Def("SEND_STATE_INFO", "Send the printer's state (STATE_CHANGED)", any),
      Def("RESET_PRINTER", "Reset the printer", any),
      Def("START_URL_DOWNLOAD", "Download a file from an address into a storage", any,
          std::move(url_args)),
      Def("START_CONNECT_DOWNLOAD", "Download a file from Connect into a storage", any,
          std::move(connect_args)),
      Def("SEND_TRANSFER_INFO", "Send the transfer's information (TRANSFER_INFO)", any,
          {transfer_id()}),
      Def("STOP_TRANSFER", "Stop a transfer", any, {transfer_id()}),
      // As the built-in handler: from anything but a print in progress.
      Def("SET_PRINTER_READY", "Mark the printer ready: the bed is clear",
          {S::IDLE, S::READY, S::FINISHED, S::STOPPED, S::BUSY, S::ERROR, S::ATTENTION}),
      Def("CANCEL_PRINTER_READY", "Take back the ready mark", {S::READY}),
      Def("DIALOG_ACTION", "Press a button of a dialog on the printer", any,
          {Arg("dialog_id", ArgType::INTEGER, true, "the dialog"),
           Arg("button", ArgType::STRING, true, "the button's label")}),
  };
  return d;
}

std::vector<CommandDefinition> StandardCommandDefinitions(const std::vector<Command>& commands) {
  std::vector<CommandDefinition> all = StandardCommandDefinitions();
  std::vector<CommandDefinition> out;
  for (Command c : commands) {
    const CommandDefinition* d = FindCommand(all, ToString(c));
    if (d != nullptr && FindCommand(out, d->command) == nullptr) out.push_back(*d);
  }
  return out;
}

}  // namespace prusaconnect
