// Copyright 2026 The libprusaconnect Authors.
//
// Unit tests of the bridge's pure parts: the Moonraker state table
// (tables/moonraker_states.json, also in docs/moonraker.md), telemetry
// mapping, delta merging, identity, errors, and the TOML config.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "bridge_config.h"
#include "host_http.h"
#include "moonraker_map.h"

namespace bridge {
namespace {

namespace pc = prusaconnect;

pc::Json Load(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  pc::StatusOr<pc::Json> j = pc::Json::Parse(ss.str());
  EXPECT_TRUE(j.ok()) << path;
  return j.ok() ? *j : pc::Json();
}

std::string Str(const pc::Json& row, const char* key) {
  const pc::Json* v = row.find(key);
  return v != nullptr && v->is_string() ? v->as_string() : "";
}

TEST(MoonrakerMap, StateTable) {
  pc::Json table = Load(BRIDGE_TABLES_DIR "/moonraker_states.json");
  const pc::Json* rows = table.find("rows");
  ASSERT_NE(rows, nullptr);
  ASSERT_GT(rows->size(), 10u);
  for (const pc::Json& row : rows->as_array()) {
    MoonrakerView v;
    const pc::Json* connected = row.find("connected");
    v.connected = connected == nullptr || connected->as_bool();
    v.klippy_state = Str(row, "klippy");
    v.klippy_message = Str(row, "message");
    if (!Str(row, "webhooks").empty()) {
      v.status.set("webhooks", pc::Json::MakeObject({{"state", Str(row, "webhooks")},
                                                     {"state_message", Str(row, "message")}}));
    }
    if (!Str(row, "print_stats").empty()) {
      v.status.set("print_stats", pc::Json::MakeObject({{"state", Str(row, "print_stats")},
                                                        {"message", Str(row, "print_message")},
                                                        {"filename", "a.gcode"}}));
    }
    HostSnapshot s = MoonrakerSnapshot(v);
    EXPECT_EQ(HostStateName(s.state), Str(row, "host")) << row.Dump();
    EXPECT_EQ(s.reason, Str(row, "reason")) << row.Dump();
  }
}

TEST(MoonrakerMap, TelemetryFromObjects) {
  MoonrakerView v;
  v.connected = true;
  v.klippy_state = "ready";
  v.estimated_time = 1000;
  pc::StatusOr<pc::Json> status = pc::Json::Parse(R"({
    "print_stats": {"state": "printing", "filename": "dir/a.gcode", "print_duration": 100.0,
                    "filament_used": 123.456},
    "virtual_sdcard": {"progress": 0.10, "file_size": 4096},
    "display_status": {"progress": 0.123},
    "extruder": {"temperature": 214.96, "target": 215.0},
    "heater_bed": {"temperature": 59.94, "target": 60.0},
    "toolhead": {"position": [10.04, 20.0, 0.3, 5.0]},
    "fan": {"speed": 0.5, "rpm": 4200},
    "gcode_move": {"speed_factor": 1.5, "extrude_factor": 0.95}})");
  ASSERT_TRUE(status.ok());
  v.status = *status;
  HostSnapshot s = MoonrakerSnapshot(v);
  EXPECT_EQ(s.state, HostState::kPrinting);
  EXPECT_EQ(s.job_file, "dir/a.gcode");
  EXPECT_EQ(s.job_size, 4096);
  const pc::Telemetry& t = s.telemetry;
  EXPECT_EQ(t.temp_nozzle, 215.0);
  EXPECT_EQ(t.temp_bed, 59.9);
  EXPECT_EQ(t.progress, 12);  // display_status (M73) wins
  EXPECT_EQ(t.time_printing, 100);
  EXPECT_EQ(t.time_remaining, 900);  // the slicer's estimate minus the duration
  EXPECT_EQ(t.axis_x, 10.0);
  EXPECT_EQ(t.axis_z, 0.3);
  EXPECT_EQ(t.fan_print, 4200);
  EXPECT_EQ(t.speed, 150);
  EXPECT_EQ(t.flow, 95);
  EXPECT_EQ(t.filament, 123.5);
  // Without an estimate: from the progress.
  v.estimated_time.reset();
  EXPECT_EQ(MoonrakerSnapshot(v).telemetry.time_remaining, 713);  // 100/0.123 - 100
}

TEST(MoonrakerMap, AFirmwareRestartWeAskedForIsBusyNotAnError) {
  MoonrakerView v;
  v.connected = true;
  v.klippy_state = "disconnected";
  EXPECT_EQ(MoonrakerSnapshot(v).state, HostState::kError);
  v.restart_requested = std::chrono::steady_clock::now();
  EXPECT_EQ(MoonrakerSnapshot(v).state, HostState::kStarting);
  v.klippy_state = "shutdown";  // before Klippy has gone down
  EXPECT_EQ(MoonrakerSnapshot(v).state, HostState::kStarting);
  v.klippy_state = "error";  // the restart found a config error: that is news
  EXPECT_EQ(MoonrakerSnapshot(v).state, HostState::kError);
  v.klippy_state = "disconnected";
  v.restart_requested = std::chrono::steady_clock::now() - std::chrono::minutes(2);
  EXPECT_EQ(MoonrakerSnapshot(v).state, HostState::kError);
}

TEST(MoonrakerMap, MergeKeepsOtherFields) {
  pc::Json status = pc::Json::MakeObject();
  MergeStatus(&status, *pc::Json::Parse(R"({"extruder": {"temperature": 20, "target": 0}})"));
  MergeStatus(&status,
              *pc::Json::Parse(R"({"extruder": {"temperature": 21}, "fan": {"speed": 1}})"));
  EXPECT_EQ(status.Dump(), R"({"extruder":{"temperature":21,"target":0},"fan":{"speed":1}})");
  MergeStatus(&status, pc::Json("not an object"));  // ignored
  EXPECT_TRUE(status.find("fan") != nullptr);
}

TEST(MoonrakerMap, Errors) {
  auto err = [](int code, const char* message) {
    return MoonrakerError(pc::Json::MakeObject({{"code", code}, {"message", message}}));
  };
  EXPECT_EQ(err(-32601, "Method not found").code(), pc::StatusCode::kNotFound);
  EXPECT_EQ(err(404, "File does not exist").code(), pc::StatusCode::kNotFound);
  EXPECT_EQ(err(-32602, "Unauthorized").code(), pc::StatusCode::kPermissionDenied);
  EXPECT_NE(err(401, "Unauthorized").message().find("trusted_clients"), std::string::npos);
  EXPECT_EQ(err(403, "File currently in use").code(), pc::StatusCode::kFailedPrecondition);
  EXPECT_EQ(err(400, "SD busy").message(), "SD busy");
  EXPECT_EQ(err(503, "Klippy Host not connected").code(), pc::StatusCode::kUnavailable);
  EXPECT_EQ(MoonrakerError(pc::Json("x")).code(), pc::StatusCode::kInternal);
}

TEST(MoonrakerMap, IdentityFromSystemInfo) {
  auto id = [](const char* text) { return IdentityFromSystemInfo(*pc::Json::Parse(text)); };
  EXPECT_EQ(id(R"({"system_info": {"cpu_info": {"serial_number": "10000000a1b2c3d4"}}})").serial,
            "KLIPPER-10000000a1b2c3d4");
  // An all-zero serial falls back to a MAC address; loopback is skipped.
  octoprint_adapter::Identity mac = id(R"({"system_info": {"cpu_info": {"serial_number": "0000"},
      "network": {"lo": {"mac_address": "00:00:00:00:00:00"},
                  "eth0": {"mac_address": "DC:A6:32:01:02:03"}}}})");
  EXPECT_EQ(mac.serial, "KLIPPER-DCA632010203");
  EXPECT_EQ(mac.source, "host-mac");
  EXPECT_EQ(id(R"({"system_info": {}})").serial, "");
}

TEST(BridgeConfig, DefaultsAndPrinters) {
  BridgeConfig c;
  ASSERT_TRUE(ParseBridgeConfig(R"(
[[printer]]
name = "voron"
host = "moonraker"
url = "http://voron.local:7125"
[[printer]]
name = "sim"
host = "virtual"
job_seconds = 30
)",
                                "t.toml", &c)
                  .ok());
  EXPECT_EQ(c.connect_server, "https://connect.prusa3d.com");
  EXPECT_EQ(c.workers, 2);
  ASSERT_EQ(c.printers.size(), 2u);
  EXPECT_EQ(c.printers[0].line, 2);
  EXPECT_EQ(c.printers[1].job_seconds, 30);
  EXPECT_TRUE(c.printer_errors.empty());
}

TEST(BridgeConfig, ErrorsNameLineAndKey) {
  BridgeConfig c;
  pc::Status s = ParseBridgeConfig("[bridge]\nworkers = 0\n", "t.toml", &c);
  EXPECT_EQ(s.message(), "t.toml:2: bridge.workers: must be between 1 and 64, not 0");
  BridgeConfig c2;
  s = ParseBridgeConfig("[bridge]\nconect_server = \"x\"\n", "t.toml", &c2);
  EXPECT_EQ(s.message(), "t.toml:2: bridge.conect_server: unknown key");
  BridgeConfig c3;
  s = ParseBridgeConfig("[bridge\n", "t.toml", &c3);
  EXPECT_EQ(s.code(), pc::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message().rfind("t.toml:1:", 0), 0u) << s.message();
  BridgeConfig c4;
  ASSERT_TRUE(ParseBridgeConfig(R"([[printer]]
name = "ok"
host = "virtual"
[[printer]]
name = "op"
host = "octoprint"
url = "http://octopi"
[[printer]]
name = "bad name"
host = "virtual"
)",
                                "t.toml", &c4)
                  .ok());
  ASSERT_EQ(c4.printers.size(), 1u);
  ASSERT_EQ(c4.printer_errors.size(), 2u);
  EXPECT_NE(c4.printer_errors[0].find("t.toml:4: printer.api_key: missing"), std::string::npos)
      << c4.printer_errors[0];
  EXPECT_NE(c4.printer_errors[1].find("t.toml:9: printer.name: \"bad name\" is not a valid name"),
            std::string::npos)
      << c4.printer_errors[1];
  BridgeConfig c5;
  ASSERT_TRUE(ParseBridgeConfig("[[printer]]\nname = \"k\"\nhost = \"moonraker\"\n"
                                "url = \"http://k\"\ncamera_trigger = \"every_layer\"\n",
                                "t.toml", &c5)
                  .ok());
  ASSERT_EQ(c5.printer_errors.size(), 1u);
  EXPECT_EQ(c5.printer_errors[0],
            "t.toml:5: printer.camera_trigger: must be ten_sec, thirty_sec, sixty_sec, "
            "each_layer, fifth_layer or manual, not \"every_layer\" (printer \"k\" left out)");
  EXPECT_EQ(CameraTriggerFromName("fifth_layer"), pc::TriggerScheme::FIFTH_LAYER);
  EXPECT_FALSE(CameraTriggerFromName("FIFTH_LAYER"));
}

TEST(HostIo, UrlWithoutCredentials) {
  EXPECT_EQ(hostio::UrlWithoutCredentials("http://user:secret@voron.local:7125/x@y"),
            "http://voron.local:7125/x@y");
  EXPECT_EQ(hostio::UrlWithoutCredentials("http://voron.local:7125"), "http://voron.local:7125");
  EXPECT_EQ(hostio::UrlWithoutCredentials("no url"), "no url");
}

}  // namespace
}  // namespace bridge
