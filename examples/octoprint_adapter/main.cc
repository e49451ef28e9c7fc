// Copyright 2026 The libprusaconnect Authors.
//
// prusaconnect-octoprint: a daemon that runs next to OctoPrint and makes the
// printer OctoPrint manages visible and controllable in Prusa Connect.
// docs/octoprint.md walks through installing and registering it.
#include <curl/curl.h>
#include <prusaconnect/prusaconnect.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>

#include "adapter.h"
#include "adapter_log.h"
#include "config.h"
#include "identity.h"
#include "octoprint_client.h"
#include "push_client.h"
#include "qr_terminal.h"

namespace pc = prusaconnect;
using octoprint_adapter::LogError;
using octoprint_adapter::LogInfo;
using octoprint_adapter::LogWarning;

namespace {

std::atomic<bool> g_stop{false};

void OnSignal(int) { g_stop = true; }

void SleepUnlessStopped(int64_t ms) {
  auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  while (!g_stop && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

pc::LogLevel LevelOf(const std::string& s) {
  if (s == "debug") return pc::LogLevel::kDebug;
  if (s == "warning") return pc::LogLevel::kWarning;
  if (s == "error") return pc::LogLevel::kError;
  return pc::LogLevel::kInfo;
}

// Waits until OctoPrint answers with the key. False: give up (bad key, or
// stopped); the reason is logged.
bool WaitForOctoPrint(const octoprint_adapter::OctoPrintClient& client, std::string* version) {
  int64_t backoff = 1000;
  std::string last;
  while (!g_stop) {
    pc::StatusOr<pc::Json> v = client.Get("/api/version");
    if (v.ok()) {
      const pc::Json* text = v->find("text");
      *version = text != nullptr && text->is_string() ? text->as_string() : "OctoPrint";
      return true;
    }
    if (v.status().code() == pc::StatusCode::kPermissionDenied) {
      LogError(v.status().message());
      return false;
    }
    if (v.status().message() != last) {
      LogWarning(v.status().message() + "; retrying");
      last = v.status().message();
    }
    SleepUnlessStopped(backoff);
    backoff = std::min<int64_t>(backoff * 2, 30000);
  }
  return false;
}

// True when OctoPrint is connected to the printer (GET /api/printer answers
// 200; 409 means "not operational").
bool PrinterConnected(const octoprint_adapter::OctoPrintClient& client) {
  return client.Get("/api/printer?exclude=temperature,sd").ok();
}

// The identity of a first start (docs/octoprint.md, "Identity"): the
// printer's own serial number or M115 UUID when OctoPrint is connected to it
// within config.printer_wait_ms, else this machine's MAC address, else a
// random UUID. A fallback is said loudly: it becomes the printer's identity
// in Connect once registered.
octoprint_adapter::Identity ChooseIdentity(octoprint_adapter::PushClient* push,
                                           const octoprint_adapter::OctoPrintClient& client,
                                           const octoprint_adapter::Config& config) {
  std::string why_fallback;
  if (push == nullptr) {
    why_fallback = "the push socket is off (--no-push-socket), so the M115 answer cannot be read";
  } else {
    bool connected = PrinterConnected(client);
    if (!connected && config.printer_wait_ms > 0) {
      LogWarning(
          "first start: OctoPrint is not connected to the printer. Connect it in OctoPrint "
          "(Connection panel > Connect): its M115 UUID becomes this printer's identity in "
          "Connect. Waiting up to " +
          std::to_string(config.printer_wait_ms / 1000) +
          " s (printer_wait_ms) before using this machine's MAC address instead");
      auto until =
          std::chrono::steady_clock::now() + std::chrono::milliseconds(config.printer_wait_ms);
      auto next_note = std::chrono::steady_clock::now() + std::chrono::minutes(1);
      while (!g_stop && !connected && std::chrono::steady_clock::now() < until) {
        SleepUnlessStopped(1000);
        connected = PrinterConnected(client);
        if (!connected && std::chrono::steady_clock::now() >= next_note) {
          next_note += std::chrono::minutes(1);
          LogInfo("still waiting for OctoPrint to connect to the printer");
        }
      }
      if (connected) LogInfo("OctoPrint is connected to the printer; asking it for M115");
    }
    if (g_stop) return {};
    if (connected) {
      pc::Json m115 = push->ProbeFirmware(client, config.identity_wait_ms);
      if (!m115.is_object() && !g_stop) {
        // A busy host (a Pi under load, the push socket still connecting):
        // one more try before the identity falls back for good.
        LogInfo("no answer to M115 within " + std::to_string(config.identity_wait_ms) +
                " ms; asking the firmware again");
        m115 = push->ProbeFirmware(client, config.identity_wait_ms);
      }
      octoprint_adapter::Identity id = octoprint_adapter::SerialFromFirmware(m115);
      if (!id.serial.empty()) return id;
      why_fallback = m115.is_object() ? "the firmware reported no serial number or UUID (M115)"
                                      : "the firmware did not answer M115 (twice " +
                                            std::to_string(config.identity_wait_ms) + " ms)";
    } else {
      why_fallback = "OctoPrint is not connected to the printer";
    }
  }
  octoprint_adapter::Identity id;
  std::string mac = octoprint_adapter::SerialFromMac();
  id = mac.empty() ? octoprint_adapter::Identity{octoprint_adapter::RandomUuid(), "random"}
                   : octoprint_adapter::Identity{mac, "mac"};
  LogWarning(why_fallback + ": using " + id.serial + " (from " +
             (id.source == "mac" ? "this machine's MAC address" : "a random UUID") +
             ") as the printer's serial number. While the printer is not registered, the next "
             "start tries the printer's UUID again; once registered, it stays. To switch to the "
             "printer's UUID later: connect the printer in OctoPrint, remove it in Connect, and "
             "run once with --reset (then register again)");
  return id;
}

// Registers until a token arrives (stored in the state directory). False
// when stopped first.
bool Register(pc::Printer* printer, const octoprint_adapter::Config& config,
              const octoprint_adapter::StateDir& state) {
  std::atomic<bool> registered{false};
  printer->set_register_handler([&](const std::string& token) {
    pc::Status s = state.SaveToken(token);
    if (!s.ok()) {
      LogError("registered, but the token could not be stored: " + s.message() +
               " — the printer will have to register again after a restart");
    } else {
      LogInfo("registered: the token is stored in " + state.dir() + "/token");
    }
    registered = true;
  });
  int64_t backoff = 2000;
  while (!g_stop && !registered) {
    pc::StatusOr<std::string> code = printer->register_printer();
    if (!code.ok()) {
      LogError("cannot register with Prusa Connect at " + config.connect_server + ": " +
               code.status().message() +
               " (check connect_server and this machine's internet connection); retrying");
      SleepUnlessStopped(backoff);
      backoff = std::min<int64_t>(backoff * 2, 60000);
      continue;
    }
    backoff = 2000;
    pc::PrinterType type = *printer->type();
    std::string url = config.connect_server + "/add-printer/connect/" +
                      std::to_string(type.type()) + "." + std::to_string(type.version()) + "/" +
                      *code;
    std::string qr = octoprint_adapter::QrForTerminal(url);
    std::printf(
        "\nThis printer is not registered with Prusa Connect yet.\n"
        "Open this address (or scan the QR code) while logged in to Connect:\n\n  %s\n\n"
        "or add a printer in Connect and type the code: %s\n\n%s\n",
        url.c_str(), code->c_str(), qr.c_str());
    std::fflush(stdout);
    LogInfo("registration code " + *code + ": waiting for the printer to be added in Connect");
    while (!g_stop && !registered) {
      if (printer->registration_status() == pc::RegistrationStatus::NO_REGISTRATION) {
        LogWarning("the registration code " + *code + " expired; asking for a new one");
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  return registered;
}

}  // namespace

int main(int argc, char** argv) {
  octoprint_adapter::Config config;
  pc::Status parsed = octoprint_adapter::ParseCommandLine(argc, argv, &config);
  if (config.help) {
    std::fputs(octoprint_adapter::Usage(argv[0]).c_str(), stdout);
    return 0;
  }
  if (!parsed.ok()) {
    std::fprintf(stderr, "%s: %s\n", argv[0], parsed.message().c_str());
    return 2;
  }
  if (pc::Status v = octoprint_adapter::Validate(config); !v.ok()) {
    std::fprintf(stderr, "%s: %s\n", argv[0], v.message().c_str());
    return 2;
  }
  octoprint_adapter::SetupLogging(LevelOf(config.log_level));
  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
  curl_global_init(CURL_GLOBAL_DEFAULT);

  octoprint_adapter::StateDir state(config.state_dir);
  if (pc::Status s = state.Prepare(); !s.ok()) {
    LogError(s.message());
    return 1;
  }
  if (config.reset) {
    if (pc::Status s = state.Reset(); !s.ok()) {
      LogError(s.message());
      return 1;
    }
    LogInfo(
        "--reset: forgot the token and the identity; the printer registers anew (with the "
        "printer's UUID or this machine's MAC address the identity is the same again: remove "
        "the printer in Connect first; job ids continue)");
  }

  auto client = std::make_shared<octoprint_adapter::OctoPrintClient>(config.octoprint_url,
                                                                     config.octoprint_api_key);
  std::unique_ptr<octoprint_adapter::PushClient> push;
  if (config.push_socket) {
    push = std::make_unique<octoprint_adapter::PushClient>(config.octoprint_url,
                                                           config.octoprint_api_key);
    push->Start();
  }

  std::optional<octoprint_adapter::Identity> id = state.LoadIdentity();
  // A fallback identity that was never registered is chosen again: the
  // printer may be connected this time (its UUID wins).
  bool choose =
      !id || (!id->from_printer() && state.LoadToken().empty() && config.settings_ini.empty());
  std::string version;
  if (choose) {
    // The identity comes from the printer, through OctoPrint: wait for it.
    if (!WaitForOctoPrint(*client, &version)) return g_stop ? 0 : 1;
    LogInfo("connected to " + version + " at " + config.octoprint_url);
    if (id) LogInfo("not registered yet: trying the printer's own identity again");
    octoprint_adapter::Identity chosen = ChooseIdentity(push.get(), *client, config);
    if (g_stop) return 0;
    if (!id || chosen.serial != id->serial) {
      if (pc::Status s = state.SaveIdentity(chosen); !s.ok()) {
        LogError("cannot store the printer's identity: " + s.message());
        return 1;
      }
      LogInfo("new identity: serial number " + chosen.serial + " (from " + chosen.source + ")");
    }
    id = chosen;
  }
  // Otherwise OctoPrint need not answer yet: the printer goes online at
  // once and reports ERROR with the reason until OctoPrint answers.

  pc::PrinterOptions options;
  options.background_handlers = true;
  options.verify_tls = config.verify_tls;
  options.transfer.staging_dir = config.staging_dir;
  pc::Printer printer(*pc::PrinterType::FromString(config.printer_type), id->serial,
                      pc::FingerprintFromSerial(id->serial), options);
  // The adapter adds OctoPrint's version when it reaches OctoPrint.
  printer.set_software(version.empty() ? std::string("prusaconnect-octoprint")
                                       : "prusaconnect-octoprint (" + version + ")");
  if (push != nullptr && !push->firmware_name().empty()) {
    printer.set_firmware(push->firmware_name());
  }
  char host[256] = {0};
  if (gethostname(host, sizeof host - 1) == 0) {
    pc::NetworkInfo net;
    net.hostname = host;
    printer.set_network_info(net);
  }
  std::string token = state.LoadToken();
  if (token.empty() && !config.settings_ini.empty()) {
    if (pc::Status s = printer.connection_from_config(config.settings_ini); !s.ok()) {
      LogError("cannot use " + config.settings_ini + ": " + s.message());
      return 1;
    }
    token = printer.token();
    if (!token.empty()) (void)state.SaveToken(token);
  } else {
    printer.set_connection(config.connect_server, token);
  }
  LogInfo("printer " + id->serial + " (" + config.printer_type + ") on " + printer.server());

  octoprint_adapter::Adapter adapter(config, client, &printer, &state);
  adapter.InstallHandlers();
  if (push != nullptr) push->SetSink(&adapter);
  // The push client's thread calls into the adapter: detach it before the
  // adapter goes out of scope, whichever way main returns (ASan found the
  // early return after a failed registration).
  struct DetachSink {
    octoprint_adapter::PushClient* push;
    ~DetachSink() {
      if (push != nullptr) push->SetSink(nullptr);
    }
  } detach_sink{push.get()};
  // API is the leaf of the chain (INTERNET -> HTTP -> TOKEN -> API): it
  // breaks whenever any link does. Name the link nearest the root that is
  // broken, e.g. HTTP for 5XX answers, not API's "4XX problems".
  octoprint_adapter::LogConnectHealth(&printer.conditions());
  printer.start();
  if (printer.token().empty() && !Register(&printer, config, state)) {
    printer.stop();
    return 0;
  }
  LogInfo("online: telemetry every " + std::to_string(config.printing_interval_ms) +
          " ms while printing, " + std::to_string(config.idle_interval_ms) + " ms when idle");
  adapter.Run(g_stop);
  LogInfo("stopping");
  if (push != nullptr) push->Stop();
  printer.flush(3000);
  printer.stop();
  curl_global_cleanup();
  return 0;
}
