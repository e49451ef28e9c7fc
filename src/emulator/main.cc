// prusaconnect-emulator: runs the local Prusa Connect emulator until SIGINT
// or SIGTERM.  See --help.

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "emulator/emulator.h"
#include "emulator/str_util.h"

namespace {

constexpr char kUsage[] =
    "Usage: prusaconnect-emulator [options]\n"
    "\n"
    "A local Prusa Connect emulator for tests, benchmarks and demos.\n"
    "\n"
    "Options:\n"
    "  --host HOST        address to listen on (default 127.0.0.1)\n"
    "  --port PORT        port to listen on (default 8000; 0 = ephemeral)\n"
    "  --auto-approve     approve registration codes immediately\n"
    "  --port-file PATH   write the bound port to PATH once listening\n"
    "  --file-store DIR   serve GET /p/teams/*/files/HASH/raw from DIR/HASH\n"
    "  --user-token TOKEN the user API's bearer token (default: a random one,\n"
    "                     printed at start and at GET /api/user-token)\n"
    "  --verbose          log one line per request to stderr\n"
    "  --help             show this help\n"
    "\n"
    "Printer API: POST/GET /p/register, POST /p/telemetry, POST /p/events,\n"
    "POST /p/camera, PUT /c/snapshot, GET /p/teams/{team}/files/{hash}/raw.\n"
    "Page: GET / (a local Connect in the browser), GET /status (no JavaScript).\n"
    "Control API (JSON): /api/printers, /api/codes,\n"
    "/api/printers/{fp}/commands, /api/files, /api/faults, /api/log,\n"
    "/api/stats, /api/cameras, /api/protocol_errors, /api/reset.\n"
    "User API (Authorization: Bearer TOKEN): GET /app/printers, GET /app/printers/{uuid},\n"
    "GET /app/printers/{uuid}/supported-commands, POST /app/printers/{uuid}/commands/sync.\n";

[[noreturn]] void UsageError(const std::string& message) {
  std::fprintf(stderr, "prusaconnect-emulator: %s\n\n%s", message.c_str(), kUsage);
  std::exit(2);
}

bool WritePortFile(const std::string& path, uint16_t port) {
  std::string tmp = path + ".tmp";
  FILE* f = std::fopen(tmp.c_str(), "w");
  if (f == nullptr) return false;
  bool ok = std::fprintf(f, "%u\n", static_cast<unsigned>(port)) > 0;
  ok = std::fclose(f) == 0 && ok;
  // Rename so a reader never sees a partially written file.
  return ok && std::rename(tmp.c_str(), path.c_str()) == 0;
}

}  // namespace

int main(int argc, char** argv) {
  using prusaconnect::emulator::Emulator;
  using prusaconnect::emulator::EmulatorOptions;
  using prusaconnect::emulator::ParseInt;

  EmulatorOptions options;
  options.port = 8000;
  std::string port_file;

  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    std::string value;
    auto take_value = [&](std::string_view name) {
      if (arg.size() > name.size() && arg.substr(0, name.size()) == name &&
          arg[name.size()] == '=') {
        value = std::string(arg.substr(name.size() + 1));
        return true;
      }
      if (arg == name) {
        if (i + 1 >= argc) UsageError(std::string(name) + " needs a value");
        value = argv[++i];
        return true;
      }
      return false;
    };
    if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    } else if (arg == "--auto-approve") {
      options.auto_approve = true;
    } else if (arg == "--verbose" || arg == "-v") {
      options.verbose = true;
    } else if (take_value("--host")) {
      options.host = value;
    } else if (take_value("--port")) {
      int port = -1;
      if (!ParseInt(value, &port) || port < 0 || port > 65535) UsageError("invalid --port");
      options.port = static_cast<uint16_t>(port);
    } else if (take_value("--port-file")) {
      port_file = value;
    } else if (take_value("--file-store")) {
      options.file_store_dir = value;
    } else if (take_value("--user-token")) {
      if (value.empty()) UsageError("--user-token needs a token");
      options.user_token = value;
    } else {
      UsageError("unknown argument: " + std::string(arg));
    }
  }

  // Block the termination signals before any thread starts so that only
  // sigwait() below sees them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  Emulator emulator(options);
  prusaconnect::Status status = emulator.Start();
  if (!status.ok()) {
    std::fprintf(stderr, "prusaconnect-emulator: %s\n", status.ToString().c_str());
    return 1;
  }
  if (!port_file.empty() && !WritePortFile(port_file, emulator.port())) {
    std::fprintf(stderr, "prusaconnect-emulator: cannot write %s: %s\n", port_file.c_str(),
                 std::strerror(errno));
    return 1;
  }
  std::printf("prusaconnect-emulator listening on %s\n", emulator.url().c_str());
  std::printf("user API token: %s\n", emulator.user_token().c_str());
  std::fflush(stdout);

  int sig = 0;
  while (sigwait(&signals, &sig) != 0) {
  }
  emulator.Stop();
  return 0;
}
