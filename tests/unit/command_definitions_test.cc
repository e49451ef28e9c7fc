// Copyright 2026 The libprusaconnect Authors.
//
// Command definitions (prusaconnect/commands.h): validation tables (each
// type, required and optional arguments, defaults, unknown arguments,
// states), the JSON form both ways, and the standard definitions.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "prusaconnect/commands.h"

namespace prusaconnect {
namespace {

using ::testing::HasSubstr;

CommandDefinition Move() {
  StatusOr<CommandDefinition> d = ParseCommandDefinition(*Json::Parse(R"({
    "command": "MOVE",
    "args": [
      {"name": "x", "type": "number", "unit": "mm"},
      {"name": "feedrate", "type": "integer", "default": 3000, "unit": "mm/min"},
      {"name": "label", "type": "string", "required": true},
      {"name": "relative", "type": "boolean", "default": false},
      {"name": "extra", "type": "object"},
      {"name": "id"}],
    "executable_from_state": ["IDLE", "READY"],
    "template": "G1 X{x} F{feedrate}"})"));
  EXPECT_TRUE(d.ok()) << d.status().message();
  return *d;
}

struct Case {
  const char* kwargs;  // JSON text, "" for absent (null)
  State state;
  const char* expected;  // "" when valid, else a substring of the reason
  const char* filled;    // kwargs after a valid check ("" when not checked)
};

TEST(CommandDefinitionsTest, ValidationTable) {
  const std::vector<Case> cases = {
      // Required, defaults filled in.
      {R"({"label":"a"})", State::IDLE, "", R"({"label":"a","feedrate":3000,"relative":false})"},
      {"", State::IDLE, "MOVE: missing required argument 'label' (string)", ""},
      {R"({"label":null})", State::IDLE, "missing required argument 'label'", ""},
      // Each type: right and wrong, nothing converted.
      {R"({"label":"a","x":1})", State::IDLE, "", nullptr},
      {R"({"label":"a","x":1.5})", State::IDLE, "", nullptr},
      {R"({"label":"a","x":"5"})", State::IDLE,
       "MOVE: argument 'x' must be a number, not a string (\"5\")", ""},
      {R"({"label":"a","feedrate":1500})", State::IDLE, "", nullptr},
      {R"({"label":"a","feedrate":1500.0})", State::IDLE,
       "argument 'feedrate' must be an integer, not a fraction (1500", ""},
      {R"({"label":"a","feedrate":"1500"})", State::IDLE, "must be an integer, not a string", ""},
      {R"({"label":"a","feedrate":true})", State::IDLE, "must be an integer, not a boolean", ""},
      {R"({"label":5})", State::IDLE, "argument 'label' must be a string, not an integer (5)", ""},
      {R"({"label":"a","relative":1})", State::IDLE, "'relative' must be a boolean, not an integer",
       ""},
      {R"({"label":"a","relative":true})", State::IDLE, "", nullptr},
      {R"({"label":"a","extra":{"k":1}})", State::IDLE, "", nullptr},
      {R"({"label":"a","extra":[1]})", State::IDLE, "'extra' must be an object, not a list", ""},
      // ANY (a bare name): whatever it is.
      {R"({"label":"a","id":[1,2]})", State::IDLE, "", nullptr},
      // Unknown arguments pass on printers (by default).
      {R"({"label":"a","path_sfn":"A~1.GCO"})", State::IDLE, "", nullptr},
      // States.
      {R"({"label":"a"})", State::READY, "", nullptr},
      {R"({"label":"a"})", State::PRINTING,
       "MOVE cannot run while the printer is PRINTING (only from IDLE, READY)", ""},
      // Not an object.
      {R"([1])", State::IDLE, "MOVE: the arguments (kwargs) must be an object, not a list", ""},
  };
  const CommandDefinition move = Move();
  for (const Case& c : cases) {
    SCOPED_TRACE(c.kwargs);
    Json kwargs = *c.kwargs ? *Json::Parse(c.kwargs) : Json();
    Status s = ValidateCommand(move, &kwargs, c.state);
    if (*c.expected == '\0') {
      EXPECT_TRUE(s.ok()) << s.message();
      if (c.filled != nullptr) {
        EXPECT_EQ(kwargs.Dump(), c.filled);
      }
    } else {
      EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
      EXPECT_THAT(s.message(), HasSubstr(c.expected));
    }
  }
}

TEST(CommandDefinitionsTest, ClientsRefuseUnknownArgumentsAndMaySkipTheState) {
  ValidationOptions client;
  client.refuse_unknown_arguments = true;
  Json kwargs = *Json::Parse(R"({"label":"a","lable":"b"})");
  Status s = ValidateCommand(Move(), &kwargs, State::IDLE, client);
  EXPECT_EQ(s.message(),
            "MOVE: unknown argument 'lable' (it takes x, feedrate, label, relative, extra, id)");
  CommandDefinition pause = StandardCommandDefinitions({Command::PAUSE_PRINT})[0];
  kwargs = Json::MakeObject({{"now", true}});
  EXPECT_EQ(ValidateCommand(pause, &kwargs, State::PRINTING, client).message(),
            "PAUSE_PRINT: unknown argument 'now' (it takes none)");
  client.check_state = false;
  kwargs = Json();
  EXPECT_TRUE(ValidateCommand(pause, &kwargs, State::IDLE, client).ok());
}

TEST(CommandDefinitionsTest, JsonRoundTripAndConnectsShortForm) {
  const CommandDefinition move = Move();
  Json json = ToJson(std::vector<CommandDefinition>{move});
  StatusOr<std::vector<CommandDefinition>> back = ParseCommandDefinitions(json);
  ASSERT_TRUE(back.ok()) << back.status().message();
  ASSERT_EQ(back->size(), 1u);
  EXPECT_EQ(ToJson((*back)[0]), ToJson(move));
  EXPECT_THAT(
      ToJson(move).Dump(),
      ::testing::StartsWith(
          R"({"command":"MOVE","args":[{"name":"x","type":"number","required":false,"unit":"mm"},)"));
  // A bare list, bare argument names, repeated commands (the first wins).
  back = ParseCommandDefinitions(*Json::Parse(
      R"([{"command":"CANCEL_OBJECT","args":["id"],"template":"M486 P{id}"},
          {"command":"CANCEL_OBJECT","args":[]}, {"command":"STOP_PRINT"}])"));
  ASSERT_TRUE(back.ok()) << back.status().message();
  ASSERT_EQ(back->size(), 2u);
  EXPECT_EQ((*back)[0].args[0].type, ArgType::ANY);
  EXPECT_EQ((*back)[0].gcode_template, "M486 P{id}");
  EXPECT_TRUE((*back)[1].executable_from_state.empty());
}

TEST(CommandDefinitionsTest, BadDefinitionsSayWhere) {
  auto error = [](const char* text) {
    return ParseCommandDefinitions(*Json::Parse(text)).status().message();
  };
  EXPECT_EQ(
      error(
          R"({"commands":[{"command":"A"},{"command":"B","args":[{"name":"x","type":"float"}]}]})"),
      "commands[1]: B.args[0]: unknown type \"float\" (string, integer, number, boolean, object)");
  EXPECT_EQ(error(R"([{"args":[]}])"),
            "commands[0]: a command definition needs a \"command\" (a string)");
  EXPECT_EQ(error(R"([{"command":"A","executable_from_state":["SLEEPING"]}])"),
            "commands[0]: A: unknown printer state \"SLEEPING\"");
  EXPECT_EQ(error(R"([{"command":"A","args":[{"name":"n","type":"integer","default":"5"}]}])"),
            "commands[0]: A.args[0]: the default of 'n' is a string (\"5\"), not an integer");
  EXPECT_EQ(error(R"([{"command":"A","args":["x","x"]}])"),
            "commands[0]: A: argument 'x' is listed twice");
  EXPECT_EQ(error(R"({"printers":[]})"), "no \"commands\" list");
}

TEST(CommandDefinitionsTest, StandardDefinitionsMatchWhatTheHandlersTake) {
  std::vector<CommandDefinition> all = StandardCommandDefinitions();
  for (const CommandDefinition& d : all) {
    Command c;
    EXPECT_TRUE(Parse(d.command, &c)) << d.command << " is not a protocol command";
    EXPECT_FALSE(d.description.empty()) << d.command;
  }
  const CommandDefinition* start = FindCommand(all, "START_PRINT");
  ASSERT_NE(start, nullptr);
  Json kwargs = Json::MakeObject({{"path", "/usb/a.gcode"}});
  EXPECT_TRUE(ValidateCommand(*start, &kwargs, State::IDLE).ok());
  EXPECT_FALSE(ValidateCommand(*start, &kwargs, State::PRINTING).ok());
  const CommandDefinition* download = FindCommand(all, "START_CONNECT_DOWNLOAD");
  ASSERT_NE(download, nullptr);
  kwargs = *Json::Parse(R"({"team_id":1,"hash":"abc","path":"/usb/a.gcode"})");
  ASSERT_TRUE(ValidateCommand(*download, &kwargs, State::PRINTING).ok());
  EXPECT_EQ(
      kwargs.Dump(),
      R"({"team_id":1,"hash":"abc","path":"/usb/a.gcode","printing":false,"selecting":false})");
  // Asked for by command, in that order, unknown ones left out.
  std::vector<CommandDefinition> some = StandardCommandDefinitions(
      {Command::RESUME_PRINT, Command::PAUSE_PRINT, Command::UPGRADE, Command::PAUSE_PRINT});
  ASSERT_EQ(some.size(), 2u);
  EXPECT_EQ(some[0].command, "RESUME_PRINT");
  EXPECT_EQ(some[1].command, "PAUSE_PRINT");
}

TEST(CommandDefinitionsTest, ArgTypeNames) {
  for (ArgType t : {ArgType::STRING, ArgType::INTEGER, ArgType::NUMBER, ArgType::BOOLEAN,
                    ArgType::OBJECT, ArgType::ANY}) {
    ArgType back = ArgType::ANY;
    EXPECT_TRUE(Parse(ToString(t), &back));
    EXPECT_EQ(back, t);
  }
  ArgType unchanged = ArgType::OBJECT;
  EXPECT_FALSE(Parse("float", &unchanged));
  EXPECT_EQ(unchanged, ArgType::OBJECT);
}

}  // namespace
}  // namespace prusaconnect
