// Copyright 2026 The libprusaconnect Authors.
//
// Unit tests of the bridge's pure parts: the Moonraker and Bambu state
// tables (tables/*_states.json, also in docs/moonraker.md and
// docs/bambu.md), telemetry mapping, delta merging, identity, errors, FTP
// listings, and the TOML config.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "bambu_ftps.h"
#include "bambu_map.h"
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

TEST(BambuMap, StateTable) {
  pc::Json table = Load(BRIDGE_TABLES_DIR "/bambu_states.json");
  const pc::Json* rows = table.find("rows");
  ASSERT_NE(rows, nullptr);
  ASSERT_GT(rows->size(), 15u);
  for (const pc::Json& row : rows->as_array()) {
    BambuView v;
    const pc::Json* connected = row.find("connected");
    v.connected = connected == nullptr || connected->as_bool();
    const pc::Json* reported = row.find("reported");
    v.reported = reported == nullptr || reported->as_bool();
    for (const char* key : {"gcode_state", "print_error", "hms"}) {
      if (const pc::Json* f = row.find(key)) v.print.set(key, *f);
    }
    HostSnapshot s = BambuSnapshot(v);
    EXPECT_EQ(HostStateName(s.state), Str(row, "host")) << row.Dump();
    EXPECT_EQ(s.reason, Str(row, "reason")) << row.Dump();
  }
}

TEST(BambuMap, PartialReportsMergeAndMapToTelemetry) {
  BambuView v;
  v.connected = true;
  v.reported = true;
  v.now = 10000;
  MergeReport(&v.print, *pc::Json::Parse(R"({
    "gcode_state": "RUNNING", "mc_percent": 42, "mc_remaining_time": 17,
    "layer_num": 12, "total_layer_num": 120, "nozzle_temper": 219.96875,
    "nozzle_target_temper": 220.0, "bed_temper": 64.9, "bed_target_temper": 65,
    "chamber_temper": 31.0, "cooling_fan_speed": "15", "heatbreak_fan_speed": "10",
    "big_fan1_speed": "0", "big_fan2_speed": "7", "spd_lvl": 3, "spd_mag": 124,
    "gcode_file": "/sdcard/dir/cube.gcode", "subtask_name": "cube",
    "gcode_start_time": "9000", "ipcam": {"timelapse": "disable", "resolution": "1080p"}})"));
  // A delta: only what changed; nested objects merge.
  MergeReport(&v.print, *pc::Json::Parse(
                            R"({"mc_percent": 43, "ipcam": {"timelapse": "enable"}, "x": [1]})"));
  MergeReport(&v.print, pc::Json("not an object"));
  EXPECT_EQ(v.print.find("ipcam")->find("resolution")->as_string(), "1080p");
  EXPECT_EQ(v.print.find("ipcam")->find("timelapse")->as_string(), "enable");
  HostSnapshot s = BambuSnapshot(v);
  EXPECT_EQ(s.state, HostState::kPrinting);
  EXPECT_EQ(s.job_file, "dir/cube.gcode");
  const pc::Telemetry& t = s.telemetry;
  EXPECT_EQ(t.progress, 43);
  EXPECT_EQ(t.time_remaining, 17 * 60);
  EXPECT_EQ(t.time_printing, 1000);
  EXPECT_EQ(t.temp_nozzle, 220.0);
  EXPECT_EQ(t.target_nozzle, 220.0);
  EXPECT_EQ(t.temp_bed, 64.9);
  EXPECT_EQ(t.target_bed, 65.0);
  EXPECT_EQ(t.speed, 124);
  EXPECT_EQ(t.extra.find("temp_chamber")->as_double(), 31.0);
  EXPECT_EQ(t.extra.find("fan_print_percent")->as_int(), 100);
  EXPECT_EQ(t.extra.find("fan_hotend_percent")->as_int(), 67);
  EXPECT_EQ(t.extra.find("fan_aux_percent")->as_int(), 0);
  EXPECT_EQ(t.extra.find("fan_chamber_percent")->as_int(), 47);
  EXPECT_EQ(t.extra.find("speed_level")->as_string(), "sport");
  EXPECT_EQ(t.extra.find("layer")->as_int(), 12);
  EXPECT_EQ(t.extra.find("total_layers")->as_int(), 120);
  // A 3MF job names a plate inside the archive: the file is the one the
  // bridge started, while the printer runs that job.
  v.print.set("gcode_file", "Metadata/plate_1.gcode");
  v.print.set("subtask_name", "benchy");
  EXPECT_EQ(BambuSnapshot(v).job_file, "");
  v.started_file = "prints/benchy.3mf";
  v.started_subtask = "benchy";
  EXPECT_EQ(BambuSnapshot(v).job_file, "prints/benchy.3mf");
  v.print.set("subtask_name", "other");
  EXPECT_EQ(BambuSnapshot(v).job_file, "");
  // Idle: no progress, no job.
  v.print.set("gcode_state", "IDLE");
  HostSnapshot idle = BambuSnapshot(v);
  EXPECT_FALSE(idle.telemetry.progress);
  EXPECT_EQ(idle.job_file, "");
}

TEST(BambuMap, OnlyUsedFieldsAreKept) {
  pc::Json report = *pc::Json::Parse(R"({"command": "push_status", "sequence_id": "2001",
    "msg": 1, "gcode_state": "RUNNING", "ams": {"ams": [{"id": "0"}]}, "ipcam": {},
    "subtask_name": "cube", "upgrade_state": {"status": "IDLE"}})");
  pc::Json hms = pc::Json::MakeArray();
  for (int i = 0; i < 100; ++i) hms.push_back(pc::Json::MakeObject({{"attr", i}, {"code", i}}));
  report.set("hms", hms);
  report.set("gcode_file", std::string(5000, 'x'));
  pc::Json used = BambuUsedFields(report);
  EXPECT_EQ(used.size(), 4u) << used.Dump();
  EXPECT_EQ(used.find("gcode_state")->as_string(), "RUNNING");
  EXPECT_EQ(used.find("hms")->size(), 32u);
  EXPECT_EQ(used.find("gcode_file")->as_string().size(), 512u);
  EXPECT_EQ(used.find("ams"), nullptr);
  EXPECT_EQ(BambuUsedFields(pc::Json("x")).size(), 0u);
}

TEST(BambuMap, BadValuesAreIgnored) {
  BambuView v;
  v.connected = true;
  v.reported = true;
  MergeReport(&v.print, *pc::Json::Parse(R"({
    "gcode_state": ["RUNNING"], "mc_percent": "lots", "nozzle_temper": null,
    "bed_temper": "60.5", "cooling_fan_speed": {"x": 1}, "big_fan1_speed": "99",
    "hms": "none", "print_error": "x", "spd_lvl": 9, "layer_num": true})"));
  HostSnapshot s = BambuSnapshot(v);
  EXPECT_EQ(s.state, HostState::kBusy);
  EXPECT_FALSE(s.telemetry.temp_nozzle);
  EXPECT_EQ(s.telemetry.temp_bed, 60.5);
  EXPECT_EQ(s.telemetry.extra.find("fan_print_percent"), nullptr);
  EXPECT_EQ(s.telemetry.extra.find("fan_aux_percent")->as_int(), 100);
  EXPECT_EQ(s.telemetry.extra.find("speed_level"), nullptr);
  // Numbers no printer sends (found by fuzz_bambu): ignored, no overflow.
  BambuView huge = v;
  MergeReport(&huge.print, *pc::Json::Parse(R"({"gcode_state": "RUNNING", "layer_num": 1e42,
    "print_error": 1e300, "mc_remaining_time": 1e300, "mc_percent": -1e300,
    "gcode_start_time": "1e300", "hms": [{"attr": 1e300, "code": -1e300}]})"));
  HostSnapshot h = BambuSnapshot(huge);
  EXPECT_EQ(h.telemetry.extra.find("layer"), nullptr);
  EXPECT_FALSE(h.telemetry.time_remaining);
  EXPECT_FALSE(h.telemetry.progress);
}

TEST(BambuMap, ModelsCodesAndFans) {
  EXPECT_EQ(BambuModel("00M09A350100001"), "Bambu Lab X1 Carbon");
  EXPECT_EQ(BambuModel("00W00A000000001"), "Bambu Lab X1");
  EXPECT_EQ(BambuModel("03W00A000000001"), "Bambu Lab X1E");
  EXPECT_EQ(BambuModel("01S00A000000001"), "Bambu Lab P1P");
  EXPECT_EQ(BambuModel("01P00A000000001"), "Bambu Lab P1S");
  EXPECT_EQ(BambuModel("03000A000000001"), "Bambu Lab A1 mini");
  EXPECT_EQ(BambuModel("03900A000000001"), "Bambu Lab A1");
  EXPECT_EQ(BambuModel("22E00A000000001"), "Bambu Lab P2S");
  EXPECT_EQ(BambuModel("09300A000000001"), "Bambu Lab H2S");
  EXPECT_EQ(BambuModel("09400A000000001"), "Bambu Lab H2D");
  EXPECT_EQ(BambuModel("99900A000000001"), "");
  EXPECT_EQ(BambuErrorCode(kBambuCancelled), "0300_400C");
  EXPECT_EQ(BambuHmsCode(50331904, 65543), "0300_0100_0001_0007");
  EXPECT_EQ(BambuFanPercent(pc::Json("0")), 0);
  EXPECT_EQ(BambuFanPercent(pc::Json("8")), 53);
  EXPECT_EQ(BambuFanPercent(pc::Json(15)), 100);
  EXPECT_EQ(BambuFanPercent(pc::Json("-3")), 0);
  EXPECT_FALSE(BambuFanPercent(pc::Json("fast")));
  EXPECT_FALSE(BambuFanPercent(pc::Json()));
  EXPECT_STREQ(BambuSpeedLevelName(4), "ludicrous");
  EXPECT_STREQ(BambuSpeedLevelName(0), "");
}

TEST(BambuFtps, ListLines) {
  const int64_t now = 1765116000;  // 2025-12-07 14:00 UTC
  std::optional<FtpEntry> f =
      ParseFtpListLine("-rw-r--r--   1 bblp     bblp       123456 Dec  7 13:02 a b.3mf\r", now);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->name, "a b.3mf");
  EXPECT_FALSE(f->is_dir);
  EXPECT_EQ(f->size, 123456);
  EXPECT_EQ(f->m_timestamp, 1765112520);
  std::optional<FtpEntry> d = ParseFtpListLine("drwxr-xr-x 2 u g 4096 Jan 31  2024 timelapse", now);
  ASSERT_TRUE(d);
  EXPECT_TRUE(d->is_dir);
  EXPECT_EQ(d->name, "timelapse");
  EXPECT_EQ(d->m_timestamp, 1706659200);
  // A date with a time but "in the future" is last year's.
  std::optional<FtpEntry> old = ParseFtpListLine("-rw-r--r-- 1 u g 1 Dec 31 10:00 x.gcode", now);
  ASSERT_TRUE(old);
  EXPECT_EQ(old->m_timestamp, 1735639200);
  for (const char* bad :
       {"total 12", "drwxr-xr-x 2 u g 4096 Jan 31  2024 .", "drwxr-xr-x 2 u g 4096 Jan 31  2024 ..",
        "-rw-r--r-- 1 u g", "-rw-r--r-- 1 u g big Jan 31 2024 x", "garbage", ""}) {
    EXPECT_FALSE(ParseFtpListLine(bad, now)) << bad;
  }
}

TEST(BridgeConfig, BambuPrinters) {
  BridgeConfig c;
  ASSERT_TRUE(ParseBridgeConfig(R"([[printer]]
name = "p1s"
host = "bambu"
address = "192.168.1.50"
serial = "01P00A000000001"
access_code = "12345678"
[[printer]]
name = "nocode"
host = "bambu"
address = "192.168.1.51"
serial = "01P00A000000002"
[[printer]]
name = "badserial"
host = "bambu"
address = "192.168.1.52"
serial = "../x"
access_code = "1"
[[printer]]
name = "badpin"
host = "bambu"
address = "192.168.1.53"
serial = "01P00A000000003"
access_code = "1"
fingerprint = "abc"
)",
                                "t.toml", &c)
                  .ok());
  ASSERT_EQ(c.printers.size(), 1u);
  const PrinterEntry& e = c.printers[0];
  EXPECT_EQ(e.storage_name, "sdcard");
  EXPECT_EQ(e.mqtt_port, 8883);
  EXPECT_EQ(e.ftps_port, 990);
  EXPECT_EQ(e.command_timeout_s, 10);
  ASSERT_EQ(c.printer_errors.size(), 3u);
  EXPECT_NE(c.printer_errors[0].find("t.toml:7: printer.access_code: missing"), std::string::npos)
      << c.printer_errors[0];
  EXPECT_NE(c.printer_errors[1].find("printer.serial: \"../x\" is not a serial number"),
            std::string::npos)
      << c.printer_errors[1];
  EXPECT_NE(c.printer_errors[2].find("printer.fingerprint: must be a SHA-256"), std::string::npos)
      << c.printer_errors[2];
}

TEST(BridgeConfig, CameraListsLeaveOutBadAndRepeatedCameras) {
  BridgeConfig c;
  ASSERT_TRUE(ParseBridgeConfig(R"([[camera]]
name = "door"
source = "file"
path = "/tmp/a.jpg"
token = "TOKEN-0001"
[[camera]]
name = "door"
source = "file"
path = "/tmp/b.jpg"
token = "TOKEN-0002"
[[printer]]
name = "mk3"
host = "virtual"
[[printer.camera]]
name = "nozzle"
source = "file"
path = "/tmp/c.jpg"
[[printer.camera]]
name = "nozzle"
source = "file"
path = "/tmp/d.jpg"
)",
                                "t.toml", &c)
                  .ok());
  ASSERT_EQ(c.cameras.size(), 1u) << ::testing::PrintToString(c.printer_errors);
  EXPECT_EQ(c.cameras[0].path, "/tmp/a.jpg");
  ASSERT_EQ(c.printers.size(), 1u);
  ASSERT_EQ(c.printers[0].camera_entries.size(), 1u);
  EXPECT_EQ(c.printers[0].camera_entries[0].path, "/tmp/c.jpg");
  ASSERT_EQ(c.printer_errors.size(), 2u);
  EXPECT_EQ(c.printer_errors[0],
            "t.toml:6: camera.name: \"door\" is used by an earlier camera (camera left out)");
  EXPECT_EQ(c.printer_errors[1],
            "t.toml:18: printer.camera.name: \"nozzle\" is used by an earlier camera of this "
            "printer (camera left out)");
}

TEST(HostIo, UrlWithoutCredentials) {
  EXPECT_EQ(hostio::UrlWithoutCredentials("http://user:secret@voron.local:7125/x@y"),
            "http://voron.local:7125/x@y");
  EXPECT_EQ(hostio::UrlWithoutCredentials("http://voron.local:7125"), "http://voron.local:7125");
  EXPECT_EQ(hostio::UrlWithoutCredentials("no url"), "no url");
}

}  // namespace
}  // namespace bridge
