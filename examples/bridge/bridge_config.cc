// Copyright 2026 The libprusaconnect Authors.
#include "bridge_config.h"

#include "status_api.h"

#include <prusaconnect/const.h>

#include <toml++/toml.h>
#include <unistd.h>

#include <cctype>
#include <cstdint>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>

namespace bridge {

namespace pc = prusaconnect;

const char kDefaultBridgeConfig[] = "/etc/prusaconnect-bridge.toml";

bool PrinterEntry::operator==(const PrinterEntry& o) const {
  return name == o.name && host == o.host && url == o.url && api_key == o.api_key &&
         printer_type == o.printer_type && printing_interval_ms == o.printing_interval_ms &&
         idle_interval_ms == o.idle_interval_ms && verify_tls == o.verify_tls &&
         storage_name == o.storage_name && push_socket == o.push_socket &&
         reconnect_printer == o.reconnect_printer && job_seconds == o.job_seconds &&
         address == o.address && serial == o.serial && access_code == o.access_code &&
         ca_file == o.ca_file && fingerprint == o.fingerprint && mqtt_port == o.mqtt_port &&
         ftps_port == o.ftps_port && command_timeout_s == o.command_timeout_s && plate == o.plate &&
         use_ams == o.use_ams && cameras == o.cameras && camera_trigger == o.camera_trigger &&
         camera_entries == o.camera_entries;
}

bool CameraEntry::operator==(const CameraEntry& o) const {
  return name == o.name && source == o.source && url == o.url && username == o.username &&
         password == o.password && command == o.command && device == o.device && width == o.width &&
         height == o.height && path == o.path && trigger == o.trigger && timeout_s == o.timeout_s &&
         watchdog_s == o.watchdog_s && verify_tls == o.verify_tls && token == o.token;
}

bool NotifyEntry::operator==(const NotifyEntry& o) const {
  return name == o.name && kind == o.kind && bot_token == o.bot_token && chat_id == o.chat_id &&
         message_thread_id == o.message_thread_id && api_url == o.api_url && url == o.url &&
         secret == o.secret && verify_tls == o.verify_tls && printers == o.printers &&
         job_started == o.job_started && state_changes == o.state_changes && errors == o.errors &&
         final_photo == o.final_photo && printer_lost == o.printer_lost &&
         progress_every == o.progress_every && photo_every_minutes == o.photo_every_minutes;
}

namespace {

// Reads typed keys of one table, collecting the first error as
// "SOURCE:LINE: TABLE.KEY: why".
class TableReader {
 public:
  TableReader(const toml::table& table, std::string source, std::string prefix)
      : table_(table), source_(std::move(source)), prefix_(std::move(prefix)) {}

  void String(const char* key, std::string* out, bool required = false) {
    const toml::node* n = table_.get(key);
    seen_.insert(key);
    if (n == nullptr) {
      if (required) Error(table_, key, "missing (required)");
      return;
    }
    if (const auto* v = n->as_string()) {
      *out = v->get();
    } else {
      Error(*n, key, "must be a string, in quotes");
    }
  }
  void Bool(const char* key, bool* out) {
    const toml::node* n = table_.get(key);
    seen_.insert(key);
    if (n == nullptr) return;
    if (const auto* v = n->as_boolean()) {
      *out = v->get();
    } else {
      Error(*n, key, "must be true or false");
    }
  }
  void Int(const char* key, int64_t* out, int64_t min, int64_t max) {
    const toml::node* n = table_.get(key);
    seen_.insert(key);
    if (n == nullptr) return;
    const auto* v = n->as_integer();
    if (v == nullptr) {
      Error(*n, key, "must be a whole number");
    } else if (v->get() < min || v->get() > max) {
      Error(*n, key,
            "must be between " + std::to_string(min) + " and " + std::to_string(max) + ", not " +
                std::to_string(v->get()));
    } else {
      *out = v->get();
    }
  }
  // A whole or decimal number.
  void Number(const char* key, double* out, double min, double max) {
    const toml::node* n = table_.get(key);
    seen_.insert(key);
    if (n == nullptr) return;
    std::optional<double> v;
    if (const auto* i = n->as_integer()) v = static_cast<double>(i->get());
    if (const auto* f = n->as_floating_point()) v = f->get();
    if (!v) {
      Error(*n, key, "must be a number");
    } else if (*v < min || *v > max) {
      std::ostringstream msg;
      msg << "must be between " << min << " and " << max << ", not " << *v;
      Error(*n, key, msg.str());
    } else {
      *out = *v;
    }
  }
  void StringList(const char* key, std::vector<std::string>* out) {
    const toml::node* n = table_.get(key);
    seen_.insert(key);
    if (n == nullptr) return;
    const toml::array* a = n->as_array();
    if (a == nullptr) {
      Error(*n, key, "must be a list of strings, e.g. [\"voron\", \"mk3\"]");
      return;
    }
    out->clear();
    for (const toml::node& item : *a) {
      if (const auto* v = item.as_string()) {
        out->push_back(v->get());
      } else {
        Error(item, key, "must be a list of strings, e.g. [\"voron\", \"mk3\"]");
        return;
      }
    }
  }
  void Seen(const char* key) { seen_.insert(key); }
  // Unknown keys are errors: a typo never goes unnoticed.
  void NoOthers() {
    for (const auto& kv : table_) {
      std::string key(kv.first.str());
      if (seen_.count(key) == 0) Error(kv.second, key.c_str(), "unknown key");
    }
  }
  void Error(const toml::node& at, const std::string& key, const std::string& why) {
    if (!error_.empty()) return;
    error_ =
        source_ + ":" + std::to_string(at.source().begin.line) + ": " + prefix_ + key + ": " + why;
  }
  const std::string& error() const { return error_; }

 private:
  const toml::table& table_;
  std::string source_;
  std::string prefix_;
  std::set<std::string> seen_;
  std::string error_;
};

}  // namespace

namespace {

bool ValidName(const std::string& name);
bool HttpUrl(const std::string& url);

// One camera table ("printer.camera." or "camera." in messages); "" or the
// first error.
std::string ParseCamera(const toml::table& t, const toml::node& at_entry, const std::string& source,
                        const std::string& prefix, bool standalone, CameraEntry* e) {
  e->line = static_cast<int>(at_entry.source().begin.line);
  TableReader r(t, source, prefix);
  r.String("name", &e->name, true);
  r.String("source", &e->source, true);
  r.String("url", &e->url);
  r.String("username", &e->username);
  r.String("password", &e->password);
  r.StringList("command", &e->command);
  r.String("device", &e->device);
  r.Int("width", &e->width, 16, 8192);
  r.Int("height", &e->height, 16, 8192);
  r.String("path", &e->path);
  r.String("trigger", &e->trigger);
  r.Int("timeout_s", &e->timeout_s, 1, 600);
  r.Int("watchdog_s", &e->watchdog_s, 0, 86400);
  r.Bool("verify_tls", &e->verify_tls);
  if (standalone) r.String("token", &e->token, true);
  r.NoOthers();
  if (!r.error().empty()) return r.error();
  auto at = [&](const char* key) -> const toml::node& {
    const toml::node* k = t.get(key);
    return k != nullptr ? *k : at_entry;
  };
  if (!ValidName(e->name)) {
    r.Error(at("name"), "name",
            "\"" + e->name + "\" is not a valid name (1-64 of A-Z a-z 0-9 - _)");
  } else if (e->source != "http" && e->source != "command" && e->source != "v4l2" &&
             e->source != "file") {
    r.Error(at("source"), "source",
            "must be http, command, v4l2 or file, not \"" + e->source + "\"");
  } else if (e->source == "http" && !HttpUrl(e->url)) {
    r.Error(at("url"), "url",
            e->url.empty() ? "missing: the camera's snapshot URL (http://…)"
                           : "must start with http:// or https://");
  } else if (e->source == "command" && e->command.empty()) {
    r.Error(at("command"), "command",
            "missing: the program and its arguments, e.g. [\"ffmpeg\", \"-i\", \"rtsp://…\", "
            "\"-frames:v\", \"1\", \"-f\", \"image2\", \"-\"]");
  } else if (e->source == "file" && e->path.empty()) {
    r.Error(at("path"), "path", "missing: the image file to read");
  } else if (!CameraTriggerFromName(e->trigger)) {
    r.Error(at("trigger"), "trigger",
            "must be ten_sec, thirty_sec, sixty_sec, each_layer, fifth_layer or manual, not \"" +
                e->trigger + "\"");
  } else if (standalone && (e->token.size() < 8 || e->token.size() > 128)) {
    r.Error(at("token"), "token",
            "is not a camera token (Connect > printer > Cameras > Add another camera shows it)");
  }
  return r.error();
}

// [[notify]] entries; a bad one is left out (config->printer_errors says
// why), the others are kept.
pc::Status ParseNotify(const toml::table& root, const std::string& source, BridgeConfig* config) {
  const toml::node* node = root.get("notify");
  if (node == nullptr) return pc::Status::OK();
  const toml::array* list = node->as_array();
  if (list == nullptr) {
    return pc::InvalidArgumentError(source + ":" + std::to_string(node->source().begin.line) +
                                    ": notify: write each channel as a [[notify]] table");
  }
  std::set<std::string> names;
  int n = 0;
  for (const toml::node& item : *list) {
    ++n;
    int line = static_cast<int>(item.source().begin.line);
    const toml::table* t = item.as_table();
    if (t == nullptr) {
      config->printer_errors.push_back(source + ":" + std::to_string(line) +
                                       ": notify: each entry must be a table");
      continue;
    }
    NotifyEntry e;
    e.line = line;
    TableReader r(*t, source, "notify.");
    r.String("name", &e.name);
    r.String("kind", &e.kind, true);
    r.String("bot_token", &e.bot_token);
    r.String("chat_id", &e.chat_id);
    r.Int("message_thread_id", &e.message_thread_id, 0, INT64_MAX);
    r.String("api_url", &e.api_url);
    r.String("url", &e.url);
    r.String("secret", &e.secret);
    r.Bool("verify_tls", &e.verify_tls);
    r.StringList("printers", &e.printers);
    r.Bool("job_started", &e.job_started);
    r.Bool("state_changes", &e.state_changes);
    r.Bool("errors", &e.errors);
    r.Bool("final_photo", &e.final_photo);
    r.Bool("printer_lost", &e.printer_lost);
    r.Int("progress_every", &e.progress_every, 0, 100);
    r.Number("photo_every_minutes", &e.photo_every_minutes, 0, 24 * 60);
    r.NoOthers();
    if (e.name.empty()) e.name = e.kind + "-" + std::to_string(n);
    if (r.error().empty()) {
      auto at = [&](const char* key) -> const toml::node& {
        const toml::node* k = t->get(key);
        return k != nullptr ? *k : item;
      };
      if (!ValidName(e.name)) {
        r.Error(at("name"), "name",
                "\"" + e.name + "\" is not a valid name (1-64 of A-Z a-z 0-9 - _)");
      } else if (!names.insert(e.name).second) {
        r.Error(at("name"), "name", "\"" + e.name + "\" is used by an earlier channel");
      } else if (e.kind != "telegram" && e.kind != "webhook") {
        r.Error(at("kind"), "kind", "must be telegram or webhook, not \"" + e.kind + "\"");
      } else if (e.kind == "telegram" && e.bot_token.empty()) {
        r.Error(at("bot_token"), "bot_token",
                "missing: the token @BotFather gave the bot (docs/notifications.md)");
      } else if (e.kind == "telegram" && e.chat_id.empty()) {
        r.Error(at("chat_id"), "chat_id",
                "missing: the chat to write to (docs/notifications.md says how to find it)");
      } else if (e.kind == "telegram" && !HttpUrl(e.api_url)) {
        r.Error(at("api_url"), "api_url", "must start with https:// or http://");
      } else if (e.kind == "webhook" && !HttpUrl(e.url)) {
        r.Error(at("url"), "url",
                e.url.empty() ? "missing (required for a webhook)"
                              : "must start with https:// or http://");
      }
    }
    if (!r.error().empty()) {
      config->printer_errors.push_back(r.error() + " (notification \"" + e.name + "\" left out)");
      continue;
    }
    config->notify.push_back(std::move(e));
  }
  return pc::Status::OK();
}

}  // namespace

std::optional<pc::TriggerScheme> CameraTriggerFromName(const std::string& name) {
  for (pc::TriggerScheme t :
       {pc::TriggerScheme::TEN_SEC, pc::TriggerScheme::THIRTY_SEC, pc::TriggerScheme::SIXTY_SEC,
        pc::TriggerScheme::EACH_LAYER, pc::TriggerScheme::FIFTH_LAYER, pc::TriggerScheme::MANUAL}) {
    std::string lower = pc::ToString(t);
    for (char& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    if (lower == name) return t;
  }
  return std::nullopt;
}

namespace {

bool ValidName(const std::string& name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

bool HttpUrl(const std::string& url) {
  return (url.rfind("http://", 0) == 0 && url.size() > 7) ||
         (url.rfind("https://", 0) == 0 && url.size() > 8);
}

// A serial names MQTT topics and a state file: letters and digits only.
bool ValidBambuSerial(const std::string& s) {
  if (s.size() < 6 || s.size() > 32) return false;
  for (char c : s) {
    if (std::isalnum(static_cast<unsigned char>(c)) == 0) return false;
  }
  return true;
}

bool ValidFingerprint(const std::string& f) {
  int digits = 0;
  for (char c : f) {
    if (std::isxdigit(static_cast<unsigned char>(c)) != 0) {
      ++digits;
    } else if (c != ':') {
      return false;
    }
  }
  return digits == 64;
}

// [[camera]] or [[printer.camera]] entries (`prefix` "camera." or
// "printer.camera."): a bad one, or one whose name an earlier one has, is
// left out with its error in printer_errors (its printer still starts).
void ParseCameraList(const toml::array& list, const std::string& source, const std::string& prefix,
                     bool standalone, const char* scope, BridgeConfig* config,
                     std::vector<CameraEntry>* out) {
  std::set<std::string> ids;
  const std::string table = prefix.substr(0, prefix.size() - 1);
  for (const toml::node& cn : list) {
    const toml::table* ct = cn.as_table();
    CameraEntry ce;
    std::string why = ct == nullptr ? source + ":" + std::to_string(cn.source().begin.line) + ": " +
                                          table + ": each entry must be a table"
                                    : ParseCamera(*ct, cn, source, prefix.c_str(), standalone, &ce);
    if (why.empty() && !ids.insert(ce.name).second) {
      why = source + ":" + std::to_string(ce.line) + ": " + prefix + "name: \"" + ce.name +
            "\" is used by an earlier camera" + scope;
    }
    if (!why.empty()) {
      config->printer_errors.push_back(why + " (camera left out)");
      continue;
    }
    out->push_back(std::move(ce));
  }
}

}  // namespace

pc::Status ParseBridgeConfig(const std::string& text, const std::string& source,
                             BridgeConfig* config) {
  toml::table root;
  try {
    root = toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    return pc::InvalidArgumentError(source + ":" + std::to_string(e.source().begin.line) + ":" +
                                    std::to_string(e.source().begin.column) + ": " +
                                    std::string(e.description()));
  }
  for (const auto& kv : root) {
    std::string key(kv.first.str());
    if (key != "bridge" && key != "printer" && key != "notify" && key != "camera") {
      return pc::InvalidArgumentError(
          source + ":" + std::to_string(kv.second.source().begin.line) + ": " + key +
          ": unknown table or key (expected [bridge], [[printer]], [[notify]] and [[camera]] "
          "entries)");
    }
  }
  if (const toml::node* b = root.get("bridge")) {
    const toml::table* t = b->as_table();
    if (t == nullptr) {
      return pc::InvalidArgumentError(source + ":" + std::to_string(b->source().begin.line) +
                                      ": bridge: must be a table, [bridge]");
    }
    TableReader r(*t, source, "bridge.");
    r.String("connect_server", &config->connect_server);
    r.String("state_dir", &config->state_dir);
    r.String("log_level", &config->log_level);
    r.String("staging_dir", &config->staging_dir);
    r.Bool("verify_tls", &config->verify_tls);
    int64_t workers = config->workers;
    r.Int("workers", &workers, 1, 64);
    config->workers = static_cast<int>(workers);
    r.String("api_listen", &config->api_listen);
    r.String("api_token", &config->api_token);
    int64_t rate = config->api_rate_limit;
    r.Int("api_rate_limit", &rate, 1, 100000);
    config->api_rate_limit = static_cast<int>(rate);
    r.NoOthers();
    std::string api_host;
    int api_port = 0;
    if (r.error().empty()) {
      if (!HttpUrl(config->connect_server)) {
        r.Error(*t->get("connect_server"), "connect_server",
                "must start with https:// (or http:// for a local server)");
      } else if (config->log_level != "debug" && config->log_level != "info" &&
                 config->log_level != "warning" && config->log_level != "error") {
        r.Error(*t->get("log_level"), "log_level",
                "must be debug, info, warning or error, not \"" + config->log_level + "\"");
      } else if (!config->api_listen.empty() &&
                 !ParseListen(config->api_listen, &api_host, &api_port)) {
        r.Error(*t->get("api_listen"), "api_listen",
                "must be HOST:PORT such as \"127.0.0.1:8421\" (or \"\" for no status API), "
                "not \"" +
                    config->api_listen + "\"");
      } else if (!config->api_listen.empty() && !IsLoopback(api_host) &&
                 config->api_token.size() < 16) {
        r.Error(t->get("api_token") != nullptr ? *t->get("api_token") : *t->get("api_listen"),
                "api_token",
                "the status API on " + config->api_listen +
                    " is reachable from other machines: set api_token to a secret of at least "
                    "16 characters (e.g. from `openssl rand -hex 16`)");
      } else if (config->state_dir.empty()) {
        r.Error(*t, "state_dir", "must not be empty");
      }
    }
    if (!r.error().empty()) return pc::InvalidArgumentError(r.error());
  }
  if (pc::Status s = ParseNotify(root, source, config); !s.ok()) return s;
  if (const toml::node* cams = root.get("camera")) {
    const toml::array* list = cams->as_array();
    if (list == nullptr) {
      return pc::InvalidArgumentError(source + ":" + std::to_string(cams->source().begin.line) +
                                      ": camera: write each camera as a [[camera]] table");
    }
    ParseCameraList(*list, source, "camera.", true, "", config, &config->cameras);
  }
  const toml::node* printers = root.get("printer");
  if (printers == nullptr) return pc::Status::OK();
  const toml::array* list = printers->as_array();
  if (list == nullptr) {
    return pc::InvalidArgumentError(source + ":" + std::to_string(printers->source().begin.line) +
                                    ": printer: write each printer as a [[printer]] table");
  }
  std::set<std::string> names;
  for (const toml::node& n : *list) {
    int line = static_cast<int>(n.source().begin.line);
    const toml::table* t = n.as_table();
    if (t == nullptr) {
      config->printer_errors.push_back(source + ":" + std::to_string(line) +
                                       ": printer: each entry must be a table");
      continue;
    }
    PrinterEntry e;
    e.line = line;
    TableReader r(*t, source, "printer.");
    r.String("name", &e.name, true);
    r.String("host", &e.host, true);
    r.String("url", &e.url);
    r.String("api_key", &e.api_key);
    r.String("printer_type", &e.printer_type);
    r.String("storage_name", &e.storage_name);
    r.Int("printing_interval_ms", &e.printing_interval_ms, 100, 600000);
    r.Int("idle_interval_ms", &e.idle_interval_ms, 100, 600000);
    r.Bool("verify_tls", &e.verify_tls);
    r.Bool("push_socket", &e.push_socket);
    r.Bool("reconnect_printer", &e.reconnect_printer);
    r.Bool("cameras", &e.cameras);
    r.String("camera_trigger", &e.camera_trigger);
    r.Int("job_seconds", &e.job_seconds, 1, 7 * 24 * 3600);
    r.String("address", &e.address);
    r.String("serial", &e.serial);
    r.String("access_code", &e.access_code);
    r.String("ca_file", &e.ca_file);
    r.String("fingerprint", &e.fingerprint);
    r.Int("mqtt_port", &e.mqtt_port, 1, 65535);
    r.Int("ftps_port", &e.ftps_port, 1, 65535);
    r.Int("command_timeout_s", &e.command_timeout_s, 1, 600);
    r.Int("plate", &e.plate, 1, 64);
    r.Bool("use_ams", &e.use_ams);
    // A Bambu printer's files are its SD card.
    if (e.host == "bambu" && t->get("storage_name") == nullptr) e.storage_name = "sdcard";
    r.Seen("camera");
    if (const toml::node* cams = t->get("camera"); cams != nullptr && r.error().empty()) {
      const toml::array* cam_list = cams->as_array();
      if (cam_list == nullptr) {
        r.Error(*cams, "camera", "write each camera as a [[printer.camera]] table");
      } else {
        ParseCameraList(*cam_list, source, "printer.camera.", false, " of this printer", config,
                        &e.camera_entries);
      }
    }
    r.NoOthers();
    if (r.error().empty()) {
      auto at = [&](const char* key) -> const toml::node& {
        const toml::node* k = t->get(key);
        return k != nullptr ? *k : n;
      };
      if (!ValidName(e.name)) {
        r.Error(at("name"), "name",
                "\"" + e.name + "\" is not a valid name (1-64 of A-Z a-z 0-9 - _)");
      } else if (!names.insert(e.name).second) {
        r.Error(at("name"), "name", "\"" + e.name + "\" is used by an earlier printer");
      } else if (e.host != "octoprint" && e.host != "moonraker" && e.host != "bambu" &&
                 e.host != "virtual") {
        r.Error(at("host"), "host",
                "must be octoprint, moonraker, bambu or virtual, not \"" + e.host + "\"");
      } else if (e.host == "bambu" && e.address.empty()) {
        r.Error(at("address"), "address",
                "missing: the printer's IP address or host name (its screen shows it)");
      } else if (e.host == "bambu" && !ValidBambuSerial(e.serial)) {
        r.Error(at("serial"), "serial",
                e.serial.empty() ? std::string("missing: the printer's serial number (on its "
                                               "screen under Settings > Device, and on its label)")
                                 : "\"" + e.serial +
                                       "\" is not a serial number (letters and digits, e.g. "
                                       "01P00A123456789)");
      } else if (e.host == "bambu" && e.access_code.empty()) {
        r.Error(at("access_code"), "access_code",
                "missing: the printer's LAN access code (its screen shows it with LAN mode)");
      } else if (e.host == "bambu" && !e.fingerprint.empty() && !ValidFingerprint(e.fingerprint)) {
        r.Error(at("fingerprint"), "fingerprint",
                "must be a SHA-256 fingerprint: 64 hex digits, colons allowed");
      } else if (e.host == "bambu" && !e.ca_file.empty() && access(e.ca_file.c_str(), R_OK) != 0) {
        r.Error(at("ca_file"), "ca_file", "cannot read " + e.ca_file);
      } else if (e.host != "virtual" && e.host != "bambu" && !HttpUrl(e.url)) {
        r.Error(at("url"), "url",
                e.url.empty() ? "missing (required for host " + e.host + ")"
                              : "must start with http:// or https://, not \"" + e.url + "\"");
      } else if (e.host == "octoprint" && e.api_key.empty()) {
        r.Error(at("api_key"), "api_key",
                "missing: OctoPrint needs an application key (Settings > Application Keys)");
      } else if (!pc::PrinterType::FromString(e.printer_type)) {
        std::string known;
        for (const pc::PrinterType& type : pc::PrinterType::All()) {
          known += (known.empty() ? "" : ", ") + type.Name();
        }
        r.Error(at("printer_type"), "printer_type",
                "unknown printer type \"" + e.printer_type + "\" (one of " + known +
                    ", or a type triple such as \"1.3.1\")");
      } else if (!CameraTriggerFromName(e.camera_trigger)) {
        r.Error(at("camera_trigger"), "camera_trigger",
                "must be ten_sec, thirty_sec, sixty_sec, each_layer, fifth_layer or manual, "
                "not \"" +
                    e.camera_trigger + "\"");
      } else if (e.storage_name.empty() || e.storage_name.find('/') != std::string::npos ||
                 e.storage_name[0] == '.') {
        r.Error(at("storage_name"), "storage_name", "must be a plain name such as \"local\"");
      }
    }
    if (!r.error().empty()) {
      config->printer_errors.push_back(
          r.error() + (e.name.empty() ? "" : " (printer \"" + e.name + "\" left out)"));
      continue;
    }
    config->printers.push_back(std::move(e));
  }
  return pc::Status::OK();
}

pc::Status LoadBridgeConfig(const std::string& path, BridgeConfig* config) {
  std::ifstream in(path);
  if (!in) return pc::NotFoundError("cannot read " + path);
  std::stringstream text;
  text << in.rdbuf();
  return ParseBridgeConfig(text.str(), path, config);
}

}  // namespace bridge
