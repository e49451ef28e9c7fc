// Copyright 2026 The libprusaconnect Authors.
//
// The adapter's configuration: a "key = value" file (default
// /etc/prusaconnect-octoprint.conf, see octoprint-adapter.conf) overridden by
// command-line flags. Unknown keys and flags are errors, so a typo never
// goes unnoticed.
#ifndef PRUSACONNECT_EXAMPLES_OCTOPRINT_ADAPTER_CONFIG_H_
#define PRUSACONNECT_EXAMPLES_OCTOPRINT_ADAPTER_CONFIG_H_

#include <prusaconnect/status.h>

#include <cstdint>
#include <string>

namespace octoprint_adapter {

struct Config {
  std::string octoprint_url = "http://127.0.0.1:5000";
  std::string octoprint_api_key;
  std::string connect_server = "https://connect.prusa3d.com";
  std::string printer_type = "I3MK3";
  std::string state_dir = "/var/lib/prusaconnect-octoprint";
  // A PrusaLink prusa_printer_settings.ini to take server and token from.
  std::string settings_ini;
  // Where downloads are received before they are uploaded to OctoPrint;
  // "" = $TMPDIR, else /tmp.
  std::string staging_dir;
  // The storage name Connect shows for OctoPrint's uploads ("/local/...").
  std::string storage_name = "local";
  // Telemetry cadence while a job runs and while idle.
  int64_t printing_interval_ms = 1000;
  int64_t idle_interval_ms = 2000;
  // REST file-list poll when the push socket is not connected.
  int64_t files_poll_ms = 10000;
  // Follow OctoPrint's push socket (REST polling is the fallback).
  bool push_socket = true;
  // First start: how long to wait for OctoPrint to be connected to the
  // printer (its M115 UUID becomes the identity); 0 = do not wait.
  int64_t printer_wait_ms = 300000;
  // First start, printer connected: how long to wait for its M115 report.
  int64_t identity_wait_ms = 10000;
  // Ask OctoPrint to reconnect the printer after the serial connection
  // dropped with an error (not after a disconnect the user asked for).
  bool reconnect_printer = true;
  std::string log_level = "info";  // debug, info, warning, error
  bool verify_tls = true;
  // The bridge's name of the printer, put before each log line of it ("" in
  // prusaconnect-octoprint).
  std::string log_name;
  // Command line only.
  std::string config_file;  // "" = the default path if it exists
  bool reset = false;
  bool help = false;
};

// Reads `path` into `config` (only the keys it sets). NotFound when it
// does not exist; InvalidArgument naming the line of a bad entry.
prusaconnect::Status LoadConfigFile(const std::string& path, Config* config);
// Parses flags; reads the config file first (--config or the default) so
// that flags win. InvalidArgument with a message for the user.
prusaconnect::Status ParseCommandLine(int argc, char** argv, Config* config);
// The --help text.
std::string Usage(const char* argv0);
// Checks values after parsing (URL scheme, intervals, API key present).
prusaconnect::Status Validate(const Config& config);

extern const char kDefaultConfigPath[];

}  // namespace octoprint_adapter

#endif  // PRUSACONNECT_EXAMPLES_OCTOPRINT_ADAPTER_CONFIG_H_
