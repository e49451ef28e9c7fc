// Copyright 2026 The libprusaconnect Authors.
//
// The bridge's configuration: one TOML file (default
// /etc/prusaconnect-bridge.toml, reference in docs/bridge.md) parsed with
// toml++ (Debian's libtomlplusplus-dev):
//
//   [bridge]                       # optional; these are the defaults
//   connect_server = "https://connect.prusa3d.com"
//   state_dir = "/var/lib/prusaconnect-bridge"
//   log_level = "info"             # debug, info, warning, error
//   verify_tls = true
//   workers = 2                    # threads polling hosts, for all printers
//
//   [[printer]]
//   name = "voron"                 # [A-Za-z0-9_-], unique: its state folder
//   host = "moonraker"             # octoprint | moonraker | virtual
//   url = "http://voron.local:7125"
//   api_key = "…"                  # Moonraker: optional (trusted clients)
//   printer_type = "I3MK3S"
//   printing_interval_ms = 1000
//   idle_interval_ms = 2000
//
// Errors name the file, the line and the key. A wrong [bridge] table or a
// syntax error stops the bridge; a wrong [[printer]] entry is reported and
// left out, and the other printers start.
#ifndef PRUSACONNECT_EXAMPLES_BRIDGE_BRIDGE_CONFIG_H_
#define PRUSACONNECT_EXAMPLES_BRIDGE_BRIDGE_CONFIG_H_

#include <prusaconnect/status.h>

#include <prusaconnect/const.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace bridge {

// A camera: [[printer.camera]] (the printer's) or [[camera]] (standalone,
// with the token of Connect's "add another camera"). docs/cameras.md.
struct CameraEntry {
  std::string name;    // its id in Connect; unique within its printer / the bridge
  std::string source;  // "http", "command", "v4l2", "file"
  std::string url;     // http
  std::string username;
  std::string password;
  std::vector<std::string> command;    // command: argv, run without a shell
  std::string device = "/dev/video0";  // v4l2
  int64_t width = 1280;
  int64_t height = 720;
  std::string path;  // file
  std::string trigger = "thirty_sec";
  int64_t timeout_s = 10;
  // Restart the camera (a new driver; a hung command killed) when it gave
  // no image for this long while failing; 0: never.
  int64_t watchdog_s = 120;
  bool verify_tls = true;
  std::string token;  // standalone: the camera token from Connect
  int line = 0;

  bool operator==(const CameraEntry& o) const;
};

struct PrinterEntry {
  std::string name;
  std::string host;  // "octoprint", "moonraker", "bambu", "virtual"
  std::string url;
  std::string api_key;
  std::string printer_type = "I3MK3S";
  int64_t printing_interval_ms = 1000;
  int64_t idle_interval_ms = 2000;
  bool verify_tls = true;
  // The name Connect shows for the host's files ("/local/…").
  std::string storage_name = "local";
  // octoprint: follow the push socket (else REST polling only); ask
  // OctoPrint to reconnect a printer after a serial error.
  bool push_socket = true;
  bool reconnect_printer = true;
  // moonraker: Moonraker's webcams (server.webcams.list) as Connect cameras.
  bool cameras = true;
  // When those cameras take pictures: "ten_sec", "thirty_sec", "sixty_sec",
  // "each_layer", "fifth_layer" (layers as Klipper counts them,
  // print_stats.info.current_layer) or "manual".
  std::string camera_trigger = "thirty_sec";
  // [[printer.camera]] entries: cameras of any printer.
  std::vector<CameraEntry> camera_entries;
  // virtual: how long a simulated print takes.
  int64_t job_seconds = 60;
  // bambu (docs/bambu.md): the printer's address, serial number and LAN
  // access code; its certificate checked against ca_file, else pinned
  // (`fingerprint`, else the first one seen); ports; how long a command may
  // wait for its answer; the plate of a .3mf to print; print with the AMS.
  std::string address;
  std::string serial;
  std::string access_code;
  std::string ca_file;
  std::string fingerprint;
  int64_t mqtt_port = 8883;
  int64_t ftps_port = 990;
  int64_t command_timeout_s = 10;
  int64_t plate = 1;
  bool use_ams = false;
  int line = 0;  // where the entry starts in the file

  bool operator==(const PrinterEntry& o) const;
  bool operator!=(const PrinterEntry& o) const { return !(*this == o); }
};

// One notification channel: [[notify]] (docs/notifications.md).
struct NotifyEntry {
  std::string name;  // for logs and metrics; default "<kind>-<n>"
  std::string kind;  // "telegram", "webhook"
  // telegram
  std::string bot_token;
  std::string chat_id;
  int64_t message_thread_id = 0;  // a forum topic; 0: none
  std::string api_url = "https://api.telegram.org";
  // webhook
  std::string url;
  std::string secret;  // HMAC-SHA256 of the body in X-PrusaConnect-Signature
  bool verify_tls = true;
  // which printers (empty: all) and what
  std::vector<std::string> printers;
  bool job_started = true;
  bool state_changes = true;
  bool errors = true;  // ERROR and ATTENTION with the reason
  bool final_photo = true;
  bool printer_lost = true;
  int64_t progress_every = 5;       // percent; 0: off
  double photo_every_minutes = 60;  // while printing; 0: off
  int line = 0;

  bool operator==(const NotifyEntry& o) const;
};

struct BridgeConfig {
  std::string connect_server = "https://connect.prusa3d.com";
  std::string state_dir = "/var/lib/prusaconnect-bridge";
  std::string log_level = "info";
  bool verify_tls = true;
  int workers = 2;
  // Where downloads from Connect wait before they go to the host; "" =
  // $TMPDIR, else /tmp.
  std::string staging_dir;
  // The local status API and dashboard (docs/status-api.md): HOST:PORT, ""
  // for none. Off loopback it needs api_token (16+ characters).
  std::string api_listen = "127.0.0.1:8421";
  std::string api_token;
  int api_rate_limit = 100;  // requests per second per client
  std::vector<PrinterEntry> printers;
  std::vector<NotifyEntry> notify;
  std::vector<CameraEntry> cameras;  // [[camera]]: standalone Connect cameras
  // One line per printer entry left out: "FILE:LINE: printer.KEY: why".
  std::vector<std::string> printer_errors;
};

// Parses `path`. NotFound when it does not exist; InvalidArgument
// ("FILE:LINE:COL: …") for a syntax error or a bad [bridge] value.
prusaconnect::Status LoadBridgeConfig(const std::string& path, BridgeConfig* config);
// The same from text (tests); `source` names it in messages.
prusaconnect::Status ParseBridgeConfig(const std::string& text, const std::string& source,
                                       BridgeConfig* config);

extern const char kDefaultBridgeConfig[];

// "each_layer" -> EACH_LAYER (the enumerator's name in lower case); nullopt
// for anything else.
std::optional<prusaconnect::TriggerScheme> CameraTriggerFromName(const std::string& name);

}  // namespace bridge

#endif  // PRUSACONNECT_EXAMPLES_BRIDGE_BRIDGE_CONFIG_H_
