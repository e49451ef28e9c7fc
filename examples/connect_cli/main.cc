// Copyright 2026 The libprusaconnect Authors.
//
// prusaconnect-cli: Prusa Connect's user API from a shell, on
// prusaconnect::ConnectClient (docs/commands.md):
//   prusaconnect-cli printers
//   prusaconnect-cli commands PRINTER
//   prusaconnect-cli send PRINTER COMMAND key=value ...
// Values are typed by the command's definition, and a command the printer
// cannot take is refused here, before anything is sent.
//
// Exit status: 0 done; 1 Connect refused or failed; 2 usage; 3 the command
// was refused here (not sent).
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "prusaconnect/client.h"
#include "prusaconnect/commands.h"
#include "prusaconnect/json.h"

namespace pc = prusaconnect;

namespace {

constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;
constexpr int kExitRefused = 3;

const char kUsage[] =
    "Usage: prusaconnect-cli [options] COMMAND [ARGS]\n"
    "\n"
    "Drives printers through Prusa Connect's user API.\n"
    "\n"
    "Commands:\n"
    "  printers                         the printers: uuid, name, state, type\n"
    "  printer PRINTER                  one printer (by uuid or name)\n"
    "  commands PRINTER                 the commands it supports, with arguments\n"
    "  send PRINTER COMMAND [key=value ...]\n"
    "                                   send a command; values are typed by its\n"
    "                                   definition (key:=JSON for a raw JSON value)\n"
    "\n"
    "Options:\n"
    "  --server URL       Connect (default $PRUSACONNECT_SERVER, else\n"
    "                     https://connect.prusa3d.com)\n"
    "  --token-file FILE  the user API token in a file (default\n"
    "                     $PRUSACONNECT_TOKEN); it is never printed\n"
    "  --json             JSON output\n"
    "  --dry-run          send: check the command, do not send it\n"
    "  --refresh          fetch the supported commands again\n"
    "  --ca-file FILE     extra CA certificates (PEM)\n"
    "  --insecure         do not verify TLS certificates (local servers only)\n"
    "  --help             this text\n"
    "\n"
    "Exit status: 0 done, 1 Connect refused or failed, 2 usage, 3 refused here\n"
    "(the command was not sent).\n";

[[noreturn]] void Usage(const std::string& message) {
  std::fprintf(stderr, "prusaconnect-cli: %s\n(prusaconnect-cli --help for the usage)\n",
               message.c_str());
  std::exit(kExitUsage);
}

int Fail(const pc::Status& s) {
  std::fprintf(stderr, "prusaconnect-cli: %s\n", s.message().c_str());
  return s.code() == pc::StatusCode::kInvalidArgument ? kExitRefused : kExitFailed;
}

std::string ReadToken(const std::string& file) {
  std::ifstream in(file);
  if (!in) Usage("cannot read the token file " + file + ": " + std::strerror(errno));
  std::string token;
  std::getline(in, token);
  while (!token.empty() && (token.back() == '\r' || token.back() == ' ')) token.pop_back();
  if (token.empty()) Usage("the token file " + file + " is empty");
  return token;
}

// "key=value": the value as the definition's type says; "key:=json": raw.
pc::StatusOr<pc::Json> TypedValue(const pc::CommandDefinition& d, const std::string& key,
                                  const std::string& text) {
  const pc::CommandArgument* arg = d.find_arg(key);
  pc::ArgType type = arg != nullptr ? arg->type : pc::ArgType::ANY;
  auto wrong = [&](const char* what) {
    return pc::InvalidArgumentError(d.command + ": argument '" + key + "' is " + what + ", not '" +
                                    text + "'");
  };
  switch (type) {
    case pc::ArgType::STRING:
      return pc::Json(text);
    case pc::ArgType::INTEGER: {
      char* end = nullptr;
      errno = 0;
      long long v = std::strtoll(text.c_str(), &end, 10);
      if (text.empty() || *end != '\0' || errno == ERANGE) return wrong("an integer");
      return pc::Json(v);
    }
    case pc::ArgType::NUMBER: {
      char* end = nullptr;
      errno = 0;
      if (text.find_first_of(".eE") == std::string::npos) {
        long long v = std::strtoll(text.c_str(), &end, 10);
        if (!text.empty() && *end == '\0' && errno != ERANGE) return pc::Json(v);
        return wrong("a number");
      }
      double v = std::strtod(text.c_str(), &end);
      if (text.empty() || *end != '\0' || !std::isfinite(v)) return wrong("a number");
      return pc::Json(v);
    }
    case pc::ArgType::BOOLEAN:
      if (text == "true" || text == "1" || text == "yes") return pc::Json(true);
      if (text == "false" || text == "0" || text == "no") return pc::Json(false);
      return wrong("true or false");
    case pc::ArgType::OBJECT: {
      pc::StatusOr<pc::Json> v = pc::Json::Parse(text);
      if (!v.ok() || !v->is_object()) return wrong("a JSON object");
      return v;
    }
    case pc::ArgType::ANY:
      break;
  }
  // No declared type: JSON when it parses (5, true, {...}), else the text.
  pc::StatusOr<pc::Json> v = pc::Json::Parse(text);
  return v.ok() ? *v : pc::Json(text);
}

void PrintJson(const pc::Json& j) { std::printf("%s\n", j.Dump().c_str()); }

std::string ArgSummary(const pc::CommandArgument& a) {
  std::string s = a.name;
  if (a.type != pc::ArgType::ANY) s += std::string(":") + pc::ToString(a.type);
  if (!a.unit.empty()) s += " [" + a.unit + "]";
  if (!a.default_value.is_null()) s += "=" + a.default_value.Dump();
  return a.required ? s : "[" + s + "]";
}

}  // namespace

int main(int argc, char** argv) {
  pc::ConnectClientOptions options;
  const char* env_server = std::getenv("PRUSACONNECT_SERVER");
  if (env_server != nullptr && *env_server != '\0') options.server = env_server;
  const char* env_token = std::getenv("PRUSACONNECT_TOKEN");
  if (env_token != nullptr) options.token = env_token;
  bool json = false;
  bool dry_run = false;
  bool refresh = false;
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](const char* name) {
      if (i + 1 >= argc) Usage(std::string(name) + " needs a value");
      return std::string(argv[++i]);
    };
    if (a == "--help" || a == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    } else if (a == "--server") {
      options.server = value("--server");
    } else if (a == "--token-file") {
      options.token = ReadToken(value("--token-file"));
    } else if (a == "--token") {
      Usage(
          "--token would show the token in the process list: use --token-file or "
          "$PRUSACONNECT_TOKEN");
    } else if (a == "--json") {
      json = true;
    } else if (a == "--dry-run") {
      dry_run = true;
    } else if (a == "--refresh") {
      refresh = true;
    } else if (a == "--ca-file") {
      options.ca_file = value("--ca-file");
    } else if (a == "--insecure") {
      options.verify_tls = false;
    } else if (a.size() > 1 && a[0] == '-' && args.size() < 3) {
      Usage("unknown option " + a);
    } else {
      args.push_back(a);
    }
  }
  if (args.empty()) Usage("no command");
  if (options.token.empty()) {
    Usage("no user API token: set $PRUSACONNECT_TOKEN or use --token-file FILE");
  }
  pc::ConnectClient client(options);
  const std::string& what = args[0];

  if (what == "printers") {
    if (args.size() != 1) Usage("printers takes no arguments");
    pc::StatusOr<std::vector<pc::RemotePrinter>> printers = client.printers();
    if (!printers.ok()) return Fail(printers.status());
    if (json) {
      pc::Json list = pc::Json::MakeArray();
      for (const pc::RemotePrinter& p : *printers) list.push_back(p.raw);
      PrintJson(pc::Json::MakeObject({{"printers", std::move(list)}}));
      return 0;
    }
    if (printers->empty()) std::printf("no printers\n");
    for (const pc::RemotePrinter& p : *printers) {
      std::printf("%-36s  %-20s  %-9s  %s\n", p.uuid.c_str(), p.name.c_str(), p.state.c_str(),
                  p.printer_type.c_str());
    }
    return 0;
  }

  if (args.size() < 2) Usage(what + " needs a PRINTER (uuid or name)");
  pc::StatusOr<pc::RemotePrinter> printer = client.printer(args[1]);
  if (!printer.ok()) return Fail(printer.status());

  if (what == "printer") {
    if (args.size() != 2) Usage("printer takes one PRINTER");
    if (json) {
      PrintJson(printer->raw);
    } else {
      std::printf("%s  %s\nstate %s, type %s, serial %s, firmware %s\n", printer->uuid.c_str(),
                  printer->name.c_str(), printer->state.c_str(), printer->printer_type.c_str(),
                  printer->sn.c_str(), printer->firmware.c_str());
    }
    return 0;
  }

  if (what == "commands") {
    if (args.size() != 2) Usage("commands takes one PRINTER");
    pc::StatusOr<std::vector<pc::CommandDefinition>> commands =
        client.supported_commands(printer->uuid, refresh);
    if (!commands.ok()) return Fail(commands.status());
    if (json) {
      PrintJson(pc::Json::MakeObject({{"commands", pc::ToJson(*commands)}}));
      return 0;
    }
    for (const pc::CommandDefinition& d : *commands) {
      std::string line = d.command;
      for (const pc::CommandArgument& a : d.args) line += " " + ArgSummary(a);
      std::printf("%s\n", line.c_str());
      if (!d.description.empty()) std::printf("    %s\n", d.description.c_str());
      if (!d.executable_from_state.empty()) {
        std::string states;
        for (pc::State s : d.executable_from_state) states += std::string(" ") + pc::ToString(s);
        std::printf("    from:%s\n", states.c_str());
      }
    }
    return 0;
  }

  if (what == "send") {
    if (args.size() < 3) Usage("send needs PRINTER COMMAND [key=value ...]");
    const std::string& command = args[2];
    pc::StatusOr<std::vector<pc::CommandDefinition>> commands =
        client.supported_commands(printer->uuid, refresh);
    if (!commands.ok()) return Fail(commands.status());
    const pc::CommandDefinition* d = pc::FindCommand(*commands, command);
    pc::Json kwargs = pc::Json::MakeObject();
    for (size_t i = 3; i < args.size(); ++i) {
      const std::string& kv = args[i];
      size_t eq = kv.find('=');
      if (eq == std::string::npos || eq == 0) Usage("not key=value: " + kv);
      bool raw = eq > 0 && kv[eq - 1] == ':';
      std::string key = kv.substr(0, raw ? eq - 1 : eq);
      std::string text = kv.substr(eq + 1);
      if (raw) {
        pc::StatusOr<pc::Json> v = pc::Json::Parse(text);
        if (!v.ok()) Usage(key + ":= is not JSON: " + v.status().message());
        kwargs.set(key, *v);
        continue;
      }
      if (d == nullptr) break;  // the check below names the command
      pc::StatusOr<pc::Json> v = TypedValue(*d, key, text);
      if (!v.ok()) return Fail(v.status());
      kwargs.set(key, *v);
    }
    // send_command runs the same check before it sends (refused: exit 3);
    // a dry run only checks.
    if (dry_run) {
      pc::Status checked = client.validate_command(printer->uuid, command, &kwargs);
      if (!checked.ok()) return Fail(checked);
      if (json) {
        PrintJson(pc::Json::MakeObject({{"command", command}, {"kwargs", kwargs}}));
      } else {
        std::printf("would send %s %s to %s\n", command.c_str(), kwargs.Dump().c_str(),
                    printer->name.c_str());
      }
      return 0;
    }
    pc::StatusOr<pc::Json> answer = client.send_command(printer->uuid, command, kwargs);
    if (!answer.ok()) return Fail(answer.status());
    if (json) {
      PrintJson(*answer);
      return 0;
    }
    const pc::Json* c = answer->find("command");
    const pc::Json* id = c != nullptr ? c->find("id") : nullptr;
    const pc::Json* state = c != nullptr ? c->find("state") : nullptr;
    std::printf("sent %s to %s: command %s (%s)\n", command.c_str(), printer->name.c_str(),
                id != nullptr ? id->Dump().c_str() : "?",
                state != nullptr && state->is_string() ? state->as_string().c_str() : "sent");
    return 0;
  }
  Usage("unknown command " + what);
}
