// Copyright 2026 The libprusaconnect Authors.
#include "config.h"

#include <prusaconnect/const.h>

#include <sys/stat.h>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>

namespace octoprint_adapter {

namespace pc = prusaconnect;

const char kDefaultConfigPath[] = "/etc/prusaconnect-octoprint.conf";

namespace {

std::string Trim(const std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b])) != 0) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1])) != 0) --e;
  return s.substr(b, e - b);
}

// Keys whose 0 means "not at all".
bool ZeroAllowed(const std::string& key) { return key == "printer_wait_ms"; }

pc::Status ParseInt(const std::string& key, const std::string& v, int64_t* out) {
  char* end = nullptr;
  long long n = std::strtoll(v.c_str(), &end, 10);  // NOLINT(google-runtime-int)
  if (v.empty() || *end != 0 || n < 0 || (n == 0 && !ZeroAllowed(key))) {
    return pc::InvalidArgumentError(
        key + " must be a " + (ZeroAllowed(key) ? "whole number >= 0" : "positive whole number") +
        ", not \"" + v + "\"");
  }
  *out = n;
  return pc::Status();
}

pc::Status ParseBool(const std::string& key, const std::string& v, bool* out) {
  if (v == "true" || v == "yes" || v == "1" || v == "on") {
    *out = true;
  } else if (v == "false" || v == "no" || v == "0" || v == "off") {
    *out = false;
  } else {
    return pc::InvalidArgumentError(key + " must be true or false, not \"" + v + "\"");
  }
  return pc::Status();
}

// Sets one key; the same names serve the file and (with "--" and '-') flags.
pc::Status Set(Config* c, const std::string& key, const std::string& v) {
  std::map<std::string, std::string*> strings = {
      {"octoprint_url", &c->octoprint_url},   {"octoprint_api_key", &c->octoprint_api_key},
      {"connect_server", &c->connect_server}, {"printer_type", &c->printer_type},
      {"state_dir", &c->state_dir},           {"settings_ini", &c->settings_ini},
      {"storage_name", &c->storage_name},     {"log_level", &c->log_level},
      {"staging_dir", &c->staging_dir}};
  std::map<std::string, int64_t*> ints = {{"printing_interval_ms", &c->printing_interval_ms},
                                          {"idle_interval_ms", &c->idle_interval_ms},
                                          {"files_poll_ms", &c->files_poll_ms},
                                          {"identity_wait_ms", &c->identity_wait_ms},
                                          {"printer_wait_ms", &c->printer_wait_ms}};
  std::map<std::string, bool*> bools = {{"push_socket", &c->push_socket},
                                        {"verify_tls", &c->verify_tls},
                                        {"reconnect_printer", &c->reconnect_printer}};
  if (auto it = strings.find(key); it != strings.end()) {
    *it->second = v;
    return pc::Status();
  }
  if (auto it = ints.find(key); it != ints.end()) return ParseInt(key, v, it->second);
  if (auto it = bools.find(key); it != bools.end()) return ParseBool(key, v, it->second);
  return pc::InvalidArgumentError("unknown setting \"" + key + "\" (see --help)");
}

}  // namespace

pc::Status LoadConfigFile(const std::string& path, Config* config) {
  std::ifstream in(path);
  if (!in) return pc::NotFoundError("cannot read config file " + path);
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    line = Trim(line);
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    size_t eq = line.find('=');
    if (eq == std::string::npos) {
      std::string message = path;
      message.append(":").append(std::to_string(n)).append(": expected \"key = value\", got \"");
      message.append(line).append("\"");
      return pc::InvalidArgumentError(message);
    }
    pc::Status s = Set(config, Trim(line.substr(0, eq)), Trim(line.substr(eq + 1)));
    if (!s.ok()) {
      return pc::InvalidArgumentError(path + ":" + std::to_string(n) + ": " + s.message());
    }
  }
  return pc::Status();
}

pc::Status ParseCommandLine(int argc, char** argv, Config* config) {
  // First pass: --config and --help, so that the file is read before flags.
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help" || a == "-h") config->help = true;
    if (a == "--config" && i + 1 < argc) config->config_file = argv[i + 1];
    if (a.rfind("--config=", 0) == 0) config->config_file = a.substr(9);
  }
  if (config->help) return pc::Status();
  if (!config->config_file.empty()) {
    pc::Status s = LoadConfigFile(config->config_file, config);
    if (!s.ok()) return s;
  } else {
    struct stat st {};
    if (stat(kDefaultConfigPath, &st) == 0) {
      pc::Status s = LoadConfigFile(kDefaultConfigPath, config);
      if (!s.ok()) return s;
    }
  }
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help" || a == "-h") continue;
    if (a == "--reset") {
      config->reset = true;
      continue;
    }
    if (a == "--no-push-socket") {
      config->push_socket = false;
      continue;
    }
    if (a.rfind("--", 0) != 0) return pc::InvalidArgumentError("unexpected argument \"" + a + "\"");
    std::string key = a.substr(2), value;
    size_t eq = key.find('=');
    if (eq != std::string::npos) {
      value = key.substr(eq + 1);
      key.resize(eq);
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      return pc::InvalidArgumentError("flag " + a + " needs a value");
    }
    for (char& ch : key) {
      if (ch == '-') ch = '_';
    }
    if (key == "config") continue;
    if (key == "api_key") key = "octoprint_api_key";
    if (key == "server") key = "connect_server";
    pc::Status s = Set(config, key, value);
    if (!s.ok()) return s;
  }
  return pc::Status();
}

pc::Status Validate(const Config& c) {
  auto http = [](const std::string& u) {
    return u.rfind("http://", 0) == 0 || u.rfind("https://", 0) == 0;
  };
  if (!http(c.octoprint_url)) {
    return pc::InvalidArgumentError("octoprint_url must start with http:// or https://, got \"" +
                                    c.octoprint_url + "\"");
  }
  if (!http(c.connect_server)) {
    return pc::InvalidArgumentError("connect_server must start with http:// or https://, got \"" +
                                    c.connect_server + "\"");
  }
  if (c.octoprint_api_key.empty()) {
    return pc::InvalidArgumentError(
        "no OctoPrint API key: set octoprint_api_key in the config file or pass --api-key "
        "(OctoPrint: Settings > Application Keys, or your user's API key)");
  }
  if (!pc::PrinterType::FromString(c.printer_type)) {
    return pc::InvalidArgumentError("unknown printer_type \"" + c.printer_type +
                                    "\" (e.g. I3MK3, I3MK3S or 1.3.0)");
  }
  if (c.state_dir.empty()) return pc::InvalidArgumentError("state_dir must not be empty");
  if (c.log_level != "debug" && c.log_level != "info" && c.log_level != "warning" &&
      c.log_level != "error") {
    return pc::InvalidArgumentError("log_level must be debug, info, warning or error");
  }
  return pc::Status();
}

std::string Usage(const char* argv0) {
  return std::string("usage: ") + argv0 +
         " [--config FILE] [options]\n"
         "\n"
         "Makes a printer managed by OctoPrint visible and controllable in Prusa Connect.\n"
         "Settings come from the config file (default " +
         kDefaultConfigPath +
         ", if it exists),\n"
         "then from these flags (each also a config key, with '_' for '-'):\n"
         "  --octoprint-url URL        OctoPrint's address (default http://127.0.0.1:5000)\n"
         "  --api-key KEY              OctoPrint API key (config: octoprint_api_key; required)\n"
         "  --server URL               Prusa Connect (default https://connect.prusa3d.com)\n"
         "  --printer-type TYPE        I3MK3 (default), I3MK3S, I3MK25, ... or 1.3.0\n"
         "  --state-dir DIR            identity and token (default "
         "/var/lib/prusaconnect-octoprint)\n"
         "  --settings-ini FILE        take server and token from a PrusaLink\n"
         "                             prusa_printer_settings.ini\n"
         "  --storage-name NAME        storage shown in Connect (default local)\n"
         "  --staging-dir DIR          downloads wait here before the upload to OctoPrint\n"
         "                             (default $TMPDIR, else /tmp)\n"
         "  --printing-interval-ms N   telemetry period while printing (default 1000)\n"
         "  --idle-interval-ms N       telemetry period while idle (default 2000)\n"
         "  --files-poll-ms N          file list poll without the push socket (default 10000)\n"
         "  --printer-wait-ms N        first start: wait this long for OctoPrint to connect\n"
         "                             to the printer, whose M115 UUID becomes the identity\n"
         "                             (default 300000; 0: use the fallback at once)\n"
         "  --identity-wait-ms N       first start: wait for the M115 answer (default 10000)\n"
         "  --no-push-socket           poll OctoPrint's REST API only\n"
         "  --reconnect-printer false  do not ask OctoPrint to reconnect a printer whose\n"
         "                             serial connection dropped with an error\n"
         "  --log-level LEVEL          debug, info (default), warning, error\n"
         "  --verify-tls false         accept self-signed certificates (local servers only)\n"
         "  --reset                    forget the token and identity, then register anew\n"
         "                             (the identity is chosen again: the same printer UUID\n"
         "                             gives the same identity; job ids continue)\n"
         "  --help                     this text\n"
         "\n"
         "Without a token it registers: it prints a code, the add-printer URL and a QR code\n"
         "of it, waits until you add the printer in Connect, and stores the token in the\n"
         "state directory.\n";
}

}  // namespace octoprint_adapter
