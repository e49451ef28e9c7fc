// Copyright 2026 The libprusaconnect Authors.
//
// prusaconnect-bridge: many printers of different hosts (OctoPrint,
// Klipper through Moonraker, Bambu Lab, simulated ones) in Prusa Connect from one
// process. docs/bridge.md is the manual.
#include <curl/curl.h>
#include <malloc.h>

#include <prusaconnect/prusaconnect.h>
#include <signal.h>
#include <cerrno>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "adapter_log.h"
#include "bridge.h"
#include "bridge_config.h"
#include "identity.h"
#include "qr_terminal.h"

namespace pc = prusaconnect;
using octoprint_adapter::LogError;
using octoprint_adapter::LogInfo;
using octoprint_adapter::LogWarning;

namespace {

const char kUsage[] =
    "Usage: %s [--config FILE] [COMMAND]\n"
    "\n"
    "Puts the printers listed in FILE (default %s) into Prusa Connect:\n"
    "OctoPrint printers, Klipper printers through Moonraker, Bambu Lab\n"
    "printers in LAN mode, and simulated ones. The manual: docs/bridge.md\n"
    "(installed with the package).\n"
    "\n"
    "Commands:\n"
    "  run              run the bridge (the default); SIGHUP reloads FILE,\n"
    "                   SIGTERM stops\n"
    "  status           every printer: state, link to Connect, registration\n"
    "  register NAME    the registration code, link and QR code of printer NAME\n"
    "  --reset NAME     forget printer NAME's token and identity (then reload\n"
    "                   the bridge: it registers anew)\n"
    "  --check          check FILE and exit (0: good)\n"
    "  --help           this text\n";

pc::LogLevel LevelOf(const std::string& s) {
  if (s == "debug") return pc::LogLevel::kDebug;
  if (s == "warning") return pc::LogLevel::kWarning;
  if (s == "error") return pc::LogLevel::kError;
  return pc::LogLevel::kInfo;
}

// Reads the config; prints every error. 2 when unusable.
int Load(const std::string& path, bridge::BridgeConfig* config, bool quiet_printers = false) {
  pc::Status s = bridge::LoadBridgeConfig(path, config);
  if (!s.ok()) {
    std::fprintf(stderr, "prusaconnect-bridge: %s\n", s.message().c_str());
    if (s.code() == pc::StatusCode::kNotFound) {
      std::fprintf(stderr,
                   "prusaconnect-bridge: write one (docs/bridge.md has an example) or pass "
                   "--config FILE\n");
    }
    return 2;
  }
  if (!quiet_printers) {
    for (const std::string& e : config->printer_errors) {
      std::fprintf(stderr, "prusaconnect-bridge: %s\n", e.c_str());
    }
  }
  return 0;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

const bridge::PrinterEntry* Find(const bridge::BridgeConfig& config, const std::string& name) {
  for (const auto& p : config.printers) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

int Status(const bridge::BridgeConfig& config) {
  std::printf("%-16s %-10s %-10s %-12s %-14s %s\n", "NAME", "HOST", "STATE", "CONNECT",
              "REGISTRATION", "HOST STATUS");
  int64_t now = std::time(nullptr);
  for (const bridge::PrinterEntry& p : config.printers) {
    std::string dir = bridge::PrinterStateDir(config, p.name);
    pc::StatusOr<pc::Json> j = pc::Json::Parse(ReadFile(dir + "/status.json"));
    if (!j.ok() || !j->is_object()) {
      std::printf("%-16s %-10s %-10s %-12s %-14s %s\n", p.name.c_str(), p.host.c_str(), "-", "-",
                  "-", "never started (is the bridge running?)");
      continue;
    }
    auto str = [&](const char* key) {
      const pc::Json* v = j->find(key);
      return v != nullptr && v->is_string() ? v->as_string() : std::string("-");
    };
    const pc::Json* updated = j->find("updated");
    int64_t age = updated != nullptr ? now - updated->as_int() : 0;
    const pc::Json* reg = j->find("registered");
    std::string registration = reg == nullptr               ? "-"
                               : reg->as_bool()             ? "registered"
                               : j->find("code") != nullptr ? "code " + str("code")
                                                            : "not registered";
    std::string connect = "-";
    if (const pc::Json* c = j->find("conditions"); c != nullptr && c->is_object()) {
      const pc::Json* api = c->find("API");
      connect = api != nullptr && api->as_string() == "OK" ? "ok"
                : j->find("connect_problem") != nullptr    ? "broken"
                                                           : "unknown";
    }
    std::string host_status = str("host_status");
    if (age > 15) {
      host_status = "not running (last seen " + std::to_string(age) + " s ago)";
    }
    std::printf("%-16s %-10s %-10s %-12s %-14s %s\n", p.name.c_str(), p.host.c_str(),
                str("state").c_str(), connect.c_str(), registration.c_str(), host_status.c_str());
    if (j->find("connect_problem") != nullptr && age <= 15) {
      std::printf("%-16s   Connect: %s\n", "", str("connect_problem").c_str());
    }
  }
  for (const std::string& e : config.printer_errors) std::printf("left out: %s\n", e.c_str());
  // Written by the running bridge, removed when it stops.
  std::string api = ReadFile(config.state_dir + "/api-url");
  while (!api.empty() && (api.back() == '\n' || api.back() == '\r')) api.pop_back();
  if (!api.empty()) std::printf("dashboard: %s\n", api.c_str());
  return 0;
}

int RegisterInfo(const bridge::BridgeConfig& config, const std::string& name) {
  if (Find(config, name) == nullptr) {
    std::fprintf(stderr, "prusaconnect-bridge: no printer named \"%s\" in the config\n",
                 name.c_str());
    return 2;
  }
  octoprint_adapter::StateDir state(bridge::PrinterStateDir(config, name));
  if (!state.LoadToken().empty()) {
    std::printf("%s is registered (its token is in %s/token).\n", name.c_str(),
                state.dir().c_str());
    return 0;
  }
  std::string text = ReadFile(state.dir() + "/registration");
  std::string code, url;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("code=", 0) == 0) code = line.substr(5);
    if (line.rfind("url=", 0) == 0) url = line.substr(4);
  }
  if (code.empty()) {
    std::fprintf(stderr,
                 "prusaconnect-bridge: %s has no registration code yet: is the bridge running? "
                 "(systemctl status prusaconnect-bridge; the log says why)\n",
                 name.c_str());
    return 1;
  }
  std::printf(
      "%s is not registered with Prusa Connect yet.\n"
      "Open this address (or scan the QR code) while logged in to Connect:\n\n  %s\n\n"
      "or add a printer in Connect and type the code: %s\n\n%s\n",
      name.c_str(), url.c_str(), code.c_str(), octoprint_adapter::QrForTerminal(url).c_str());
  return 0;
}

int Reset(const bridge::BridgeConfig& config, const std::string& name) {
  if (Find(config, name) == nullptr) {
    std::fprintf(stderr, "prusaconnect-bridge: no printer named \"%s\" in the config\n",
                 name.c_str());
    return 2;
  }
  octoprint_adapter::StateDir state(bridge::PrinterStateDir(config, name));
  if (pc::Status s = state.Reset(); !s.ok()) {
    std::fprintf(stderr, "prusaconnect-bridge: %s\n", s.message().c_str());
    return 1;
  }
  std::remove((state.dir() + "/registration").c_str());
  std::printf(
      "Forgot the token and identity of %s. Remove the old printer in Connect, then reload the "
      "bridge (systemctl reload prusaconnect-bridge, or SIGHUP): it registers anew.\n",
      name.c_str());
  return 0;
}

int Run(const std::string& path, bridge::BridgeConfig config) {
  octoprint_adapter::SetupLogging(LevelOf(config.log_level), "bridge");
  // Signals are taken by sigtimedwait() below; every thread started from
  // here on inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);
  curl_global_init(CURL_GLOBAL_DEFAULT);
  for (const std::string& e : config.printer_errors) LogError(e);
  if (config.printers.empty()) {
    LogWarning(path + " lists no printer: add [[printer]] entries and reload (SIGHUP)");
  }
  bridge::Bridge b(config);
  if (pc::Status s = b.Start(); !s.ok()) {
    LogError(s.message());
    return 1;
  }
  LogInfo("running " + std::to_string(config.printers.size()) + " printer(s) from " + path +
          " with " + std::to_string(config.workers) + " worker thread(s)");
  while (true) {
    // Every 30 s without a signal, the heap's free pages go back to the
    // system: TLS handshakes, FTPS listings and the status API's answers
    // leave freed memory spread over the arenas, which glibc keeps
    // (docs/PERFORMANCE.md, "Bridge: Bambu Lab printers").
    struct timespec every = {30, 0};
    int sig = sigtimedwait(&signals, nullptr, &every);
    if (sig < 0) {
      if (errno == EAGAIN) malloc_trim(0);
      continue;
    }
    if (sig == SIGHUP) {
      bridge::BridgeConfig next;
      pc::Status s = bridge::LoadBridgeConfig(path, &next);
      if (!s.ok()) {
        LogError("reload: " + s.message() + "; keeping the running configuration");
        continue;
      }
      for (const std::string& e : next.printer_errors) LogError("reload: " + e);
      LogInfo("reload: " + std::to_string(next.printers.size()) + " printer(s) in " + path);
      b.Reload(next);
    } else if (sig == SIGTERM || sig == SIGINT) {
      LogInfo("stopping");
      break;
    }
  }
  b.Stop();
  curl_global_cleanup();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // glibc gives each thread that allocates its own malloc arena and keeps
  // what they freed: the status API's threads building 1 MB answers for
  // 1,000 printers kept +29.5 MB after 30 s of polling with the default,
  // +16 to +25 MB with 2 arenas (two runs), at the same CPU
  // (docs/PERFORMANCE.md). The environment's MALLOC_ARENA_MAX still wins.
  if (std::getenv("MALLOC_ARENA_MAX") == nullptr) mallopt(M_ARENA_MAX, 2);
  std::string config_path = bridge::kDefaultBridgeConfig;
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      std::printf(kUsage, argv[0], bridge::kDefaultBridgeConfig);
      return 0;
    }
    if (a == "--config" || a == "-c") {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "prusaconnect-bridge: --config needs a file\n");
        return 2;
      }
      config_path = argv[++i];
    } else if (a.rfind("--config=", 0) == 0) {
      config_path = a.substr(9);
    } else {
      args.push_back(a);
    }
  }
  std::string command = args.empty() ? "run" : args[0];
  size_t want = command == "register" || command == "--reset" ? 2 : 1;
  bool known = command == "run" || command == "status" || command == "register" ||
               command == "--reset" || command == "--check";
  if (!known || (args.size() > want) || (want == 2 && args.size() < 2)) {
    std::fprintf(stderr,
                 known ? "prusaconnect-bridge: %s: wrong number of arguments (see --help)\n"
                       : "prusaconnect-bridge: unknown command or option \"%s\" (see --help)\n",
                 command.c_str());
    return 2;
  }
  bridge::BridgeConfig config;
  // `status` lists the left-out entries itself; `run` logs them.
  if (int rc = Load(config_path, &config, command == "status" || command == "run"); rc != 0) {
    return rc;
  }
  if (command == "--check") {
    std::printf("%s: %zu printer(s)%s\n", config_path.c_str(), config.printers.size(),
                config.printer_errors.empty()
                    ? ""
                    : (", " + std::to_string(config.printer_errors.size()) + " left out").c_str());
    return config.printer_errors.empty() ? 0 : 1;
  }
  if (command == "status") return Status(config);
  if (command == "register") return RegisterInfo(config, args[1]);
  if (command == "--reset") return Reset(config, args[1]);
  return Run(config_path, config);
}
