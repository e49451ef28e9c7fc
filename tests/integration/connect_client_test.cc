// Copyright 2026 The libprusaconnect Authors.
//
// ConnectClient against the emulator's user API on 127.0.0.1, with real
// printers (the library's Printer) behind it: printers listed and read, the
// supported commands cached per printer (requests counted at the server),
// a refused command never reaching the printer, an accepted one reaching
// its handler with the defaults filled in, declared definitions winning
// over the standard ones, and errors that never show the token.
#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "emulator/emulator.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "prusaconnect/prusaconnect.h"

namespace prusaconnect {
namespace {

using emulator::Emulator;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr absl::Duration kWait = absl::Seconds(30);
constexpr char kUserToken[] = "user-token-0123456789";

class ConnectClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    emulator::EmulatorOptions eo;
    eo.user_token = kUserToken;
    emulator_ = std::make_unique<Emulator>(eo);
    ASSERT_TRUE(emulator_->Start().ok());
    network_ = std::make_shared<Network>();
  }
  void TearDown() override {
    printers_.clear();
    emulator_->Stop();
  }

  // A registered printer that has reported `state` to the emulator.
  Printer* MakePrinter(const std::string& sn, State state) {
    PrinterOptions options;
    options.network = network_;
    options.background_handlers = true;
    std::string fp = FingerprintFromSerial(sn);
    auto token = emulator_->PreregisterPrinter(fp, sn, "1.3.1");
    EXPECT_TRUE(token.ok());
    auto p = std::make_unique<Printer>(PrinterType::I3MK3S, sn, fp, options);
    p->set_software("test");
    p->set_connection(emulator_->url(), *token);
    p->set_state(state, Source::WUI);
    p->start();
    int64_t before = emulator_->GetPrinter(fp)->telemetry_count;
    p->telemetry(Json::MakeObject({{"temp_nozzle", 215.5}}));
    EXPECT_TRUE(emulator_->WaitForTelemetry(fp, before + 1, kWait));
    printers_.push_back(std::move(p));
    return printers_.back().get();
  }

  ConnectClientOptions Options() {
    ConnectClientOptions o;
    o.server = emulator_->url();
    o.token = kUserToken;
    return o;
  }

  // The requests the emulator answered on a normalized path.
  uint64_t Requests(const std::string& path) {
    uint64_t n = 0;
    emulator::EmulatorStats stats = emulator_->Stats();  // the loop reads into it
    for (const auto& [status, count] : stats.by_path[path]) n += count;
    return n;
  }

  std::string UuidOf(ConnectClient& client, const std::string& sn) {
    StatusOr<RemotePrinter> p = client.printer(sn);
    EXPECT_TRUE(p.ok()) << p.status().ToString();
    return p.ok() ? p->uuid : "";
  }

  std::unique_ptr<Emulator> emulator_;
  std::shared_ptr<Network> network_;
  std::vector<std::unique_ptr<Printer>> printers_;
};

TEST_F(ConnectClientTest, ListsPrintersAndFindsOneByUuidOrName) {
  MakePrinter("SN-LIST-1", State::IDLE);
  MakePrinter("SN-LIST-2", State::PRINTING);
  ConnectClient client(Options());
  StatusOr<std::vector<RemotePrinter>> all = client.printers();
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ(all->size(), 2u);
  StatusOr<RemotePrinter> by_name = client.printer("SN-LIST-2");
  ASSERT_TRUE(by_name.ok()) << by_name.status().ToString();
  EXPECT_EQ(by_name->state, "PRINTING");
  EXPECT_EQ(by_name->sn, "SN-LIST-2");
  EXPECT_EQ(by_name->raw.find("temp")->find("temp_nozzle")->as_double(), 215.5);
  StatusOr<RemotePrinter> by_uuid = client.printer(by_name->uuid);
  ASSERT_TRUE(by_uuid.ok());
  EXPECT_EQ(by_uuid->name, "SN-LIST-2");
  EXPECT_EQ(client.printer("SN-NONE").status().code(), StatusCode::kNotFound);
}

TEST_F(ConnectClientTest, SupportedCommandsAreFetchedOncePerPrinterPerTtl) {
  MakePrinter("SN-CACHE-1", State::IDLE);
  MakePrinter("SN-CACHE-2", State::IDLE);
  ConnectClient client(Options());
  std::string a = UuidOf(client, "SN-CACHE-1");
  std::string b = UuidOf(client, "SN-CACHE-2");
  const std::string path = "/app/printers/{uuid}/supported-commands";
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(client.send_command(a, "SEND_INFO").ok());
    ASSERT_TRUE(client.send_command(b, "SEND_INFO").ok());
  }
  EXPECT_EQ(Requests(path), 2u);  // one per printer for ten commands
  ASSERT_TRUE(client.supported_commands(a, /*refresh=*/true).ok());
  EXPECT_EQ(Requests(path), 3u);
  client.invalidate_commands();
  ASSERT_TRUE(client.supported_commands(b).ok());
  EXPECT_EQ(Requests(path), 4u);
  // A TTL of zero: every command asks again.
  ConnectClientOptions o = Options();
  o.commands_ttl_ms = 0;
  ConnectClient eager(o);
  ASSERT_TRUE(eager.send_command(a, "SEND_INFO").ok());
  ASSERT_TRUE(eager.send_command(a, "SEND_INFO").ok());
  EXPECT_EQ(Requests(path), 6u);
}

TEST_F(ConnectClientTest, ARefusedCommandNeverLeavesTheClient) {
  Printer* p = MakePrinter("SN-REFUSE-1", State::IDLE);
  std::atomic<int> runs{0};
  p->set_handler(Command::START_PRINT, [&](const CommandRequest&) -> StatusOr<CommandResult> {
    ++runs;
    return CommandResult{};
  });
  ConnectClient client(Options());
  std::string uuid = UuidOf(client, "SN-REFUSE-1");
  struct Refusal {
    std::string command;
    Json kwargs;
    std::string reason;
  };
  const std::vector<Refusal> refusals = {
      {"START_PRINT", Json(), "START_PRINT: missing required argument 'path' (string)"},
      {"START_PRINT", Json::MakeObject({{"path", 5}}),
       "argument 'path' must be a string, not an integer (5)"},
      {"START_PRINT", Json::MakeObject({{"path", "/a.gcode"}, {"pth", "/b"}}),
       "unknown argument 'pth'"},
      {"PAUSE_PRINT", Json(),
       "PAUSE_PRINT cannot run while the printer is IDLE (only from PRINTING)"},
      {"LEVITATE", Json(), "does not support LEVITATE (it supports SEND_INFO, GCODE"},
  };
  for (const Refusal& r : refusals) {
    SCOPED_TRACE(r.command + " " + r.kwargs.Dump());
    StatusOr<Json> sent = client.send_command(uuid, r.command, r.kwargs);
    EXPECT_EQ(sent.status().code(), StatusCode::kInvalidArgument);
    EXPECT_THAT(sent.status().message(), HasSubstr(r.reason));
  }
  EXPECT_EQ(Requests("/app/printers/{uuid}/commands/sync"), 0u);
  EXPECT_TRUE(emulator_->GetPrinter(p->fingerprint())->delivered_commands.empty());
  EXPECT_EQ(runs.load(), 0);
}

TEST_F(ConnectClientTest, AnAcceptedCommandReachesTheHandlerWithItsDefaults) {
  Printer* p = MakePrinter("SN-SEND-1", State::IDLE);
  std::mutex mu;
  Json seen;
  p->set_handler(Command::DELETE_FOLDER, [&](const CommandRequest& req) -> StatusOr<CommandResult> {
    std::lock_guard<std::mutex> lock(mu);
    seen = req.kwargs;
    return CommandResult{};
  });
  ConnectClient client(Options());
  std::string uuid = UuidOf(client, "SN-SEND-1");
  StatusOr<Json> sent =
      client.send_command(uuid, "DELETE_FOLDER", Json::MakeObject({{"path", "/usb/old"}}));
  ASSERT_TRUE(sent.ok()) << sent.status().ToString();
  const Json* command = sent->find("command");
  ASSERT_NE(command, nullptr);
  EXPECT_EQ(command->find("state")->as_string(), "CREATED");
  int64_t before = emulator_->GetPrinter(p->fingerprint())->telemetry_count;
  p->telemetry(Json::MakeObject());
  ASSERT_TRUE(emulator_->WaitForTelemetry(p->fingerprint(), before + 1, kWait));
  auto finished = emulator_->WaitForEvent(p->fingerprint(), "FINISHED", kWait);
  ASSERT_TRUE(finished);
  EXPECT_EQ(finished->command_id, command->find("id")->as_int());
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_EQ(seen.Dump(), R"({"path":"/usb/old","force":false})");
}

TEST_F(ConnectClientTest, APrintersDeclaredDefinitionsWinAndItChecksThemToo) {
  Printer* p = MakePrinter("SN-DECL-1", State::IDLE);
  StatusOr<CommandDefinition> move = ParseCommandDefinition(*Json::Parse(
      R"({"command":"GCODE","args":[{"name":"gcode","type":"string","required":true}],
          "executable_from_state":["IDLE"],"description":"G-code while idle"})"));
  ASSERT_TRUE(move.ok());
  p->set_supported_commands({*move});
  // Connect learns them from the printer's INFO.
  p->event_cb(Event::INFO, Source::WUI, {}, p->get_info());
  ASSERT_TRUE(emulator_->WaitForEvent(p->fingerprint(), "INFO", kWait));
  ConnectClient client(Options());
  std::string uuid = UuidOf(client, "SN-DECL-1");
  StatusOr<std::vector<CommandDefinition>> commands = client.supported_commands(uuid);
  ASSERT_TRUE(commands.ok()) << commands.status().ToString();
  ASSERT_EQ(commands->size(), 1u);
  EXPECT_EQ((*commands)[0].description, "G-code while idle");
  EXPECT_THAT(client.send_command(uuid, "SEND_INFO").status().message(),
              HasSubstr("does not support SEND_INFO (it supports GCODE)"));
  EXPECT_TRUE(client.send_command(uuid, "GCODE", Json::MakeObject({{"gcode", "G28"}})).ok());
}

TEST_F(ConnectClientTest, ErrorsAreMappedAndNeverShowTheToken) {
  MakePrinter("SN-ERR-1", State::IDLE);
  ConnectClientOptions o = Options();
  o.token = "wrong-secret-token-xyz";
  ConnectClient wrong(o);
  Status s = wrong.printers().status();
  EXPECT_EQ(s.code(), StatusCode::kPermissionDenied);
  EXPECT_THAT(s.message(), HasSubstr("Missing or invalid security token"));
  EXPECT_THAT(s.message(), Not(HasSubstr("wrong-secret")));
  ConnectClient client(Options());
  EXPECT_EQ(client.supported_commands("no-such-uuid").status().code(), StatusCode::kNotFound);
  o = Options();
  o.server = "http://127.0.0.1:1";
  ConnectClient unreachable(o);
  EXPECT_EQ(unreachable.printers().status().code(), StatusCode::kUnavailable);
  o.token.clear();
  ConnectClient no_token(o);
  EXPECT_EQ(no_token.printers().status().code(), StatusCode::kPermissionDenied);
}

}  // namespace
}  // namespace prusaconnect
