// Copyright 2026 The libprusaconnect Authors.
//
// Tests for util/ini.h: configparser-compatible parsing, the SDK's
// connection_from_config (test_load_lan_settings, test_from_lan_settings_not_found)
// and hostile input.

#include "util/ini.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

namespace prusaconnect::internal {
namespace {

// The SDK's lan_settings_ini fixture (tests/test_printer.py).
constexpr char kLanSettings[] = R"(

[printer]
name = SDK UnitTest
location = space
type = MK3S

[network]
hostname = MK3S

[service::local]
enable = 1
username =
password =
api_key =

[service::connect]
hostname = server
tls = False
port = 8000
token = a44b552a12d96d3155cb
)";

// A file in a fresh temporary directory, removed with it.
class TempFile {
 public:
  explicit TempFile(const std::string& contents) {
    char dir_template[] = "/tmp/ini_test.XXXXXX";
    const char* dir = ::mkdtemp(dir_template);
    EXPECT_NE(dir, nullptr);
    dir_ = dir == nullptr ? "/tmp" : dir;
    path_ = dir_ + "/prusa_printer_settings.ini";
    std::ofstream out(path_, std::ios::binary);
    out << contents;
  }
  ~TempFile() {
    std::remove(path_.c_str());
    ::rmdir(dir_.c_str());
  }
  const std::string& path() const { return path_; }
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
  std::string path_;
};

IniFile MustParse(std::string_view text) {
  prusaconnect::StatusOr<IniFile> ini = ParseIni(text);
  EXPECT_TRUE(ini.ok()) << ini.status();
  return ini.ok() ? *std::move(ini) : IniFile();
}

// test_load_lan_settings
TEST(ReadConnectSettingsTest, ReadsTheSdkLanSettingsFixture) {
  TempFile file(kLanSettings);
  prusaconnect::StatusOr<ConnectSettings> settings = ReadConnectSettings(file.path());
  ASSERT_TRUE(settings.ok()) << settings.status();
  EXPECT_EQ(settings->hostname, "server");
  EXPECT_FALSE(settings->tls);
  EXPECT_EQ(settings->port, 8000);
  EXPECT_EQ(settings->token, "a44b552a12d96d3155cb");
  EXPECT_EQ(ConnectUrl(settings->hostname, settings->tls, settings->port), "http://server:8000");
}

// test_from_lan_settings_not_found
TEST(ReadConnectSettingsTest, MissingFileIsNotFoundWithTheSdkMessage) {
  prusaconnect::StatusOr<ConnectSettings> settings = ReadConnectSettings("some_non-existing_file");
  EXPECT_EQ(settings.status().code(), prusaconnect::StatusCode::kNotFound);
  EXPECT_EQ(settings.status().message(), "ini file: `some_non-existing_file` doesn't exist");
}

TEST(ReadConnectSettingsTest, TlsAndPortHaveDefaults) {
  TempFile file("[service::connect]\nhostname = connect.prusa3d.com\ntoken = abc\n");
  prusaconnect::StatusOr<ConnectSettings> settings = ReadConnectSettings(file.path());
  ASSERT_TRUE(settings.ok()) << settings.status();
  EXPECT_FALSE(settings->tls);
  EXPECT_EQ(settings->port, 0);
  EXPECT_EQ(ConnectUrl(settings->hostname, settings->tls, settings->port),
            "http://connect.prusa3d.com");
}

TEST(ReadConnectSettingsTest, AcceptsEveryConfigparserBooleanSpelling) {
  for (const char* yes : {"1", "yes", "true", "on", "True", "YES", "On"}) {
    TempFile file(std::string("[service::connect]\nhostname = h\ntoken = t\ntls = ") + yes + "\n");
    prusaconnect::StatusOr<ConnectSettings> settings = ReadConnectSettings(file.path());
    ASSERT_TRUE(settings.ok()) << yes << ": " << settings.status();
    EXPECT_TRUE(settings->tls) << yes;
  }
  for (const char* no : {"0", "no", "false", "off", "FALSE", "Off"}) {
    TempFile file(std::string("[service::connect]\nhostname = h\ntoken = t\ntls = ") + no + "\n");
    prusaconnect::StatusOr<ConnectSettings> settings = ReadConnectSettings(file.path());
    ASSERT_TRUE(settings.ok()) << no << ": " << settings.status();
    EXPECT_FALSE(settings->tls) << no;
  }
}

TEST(ReadConnectSettingsTest, MissingSectionNamesSectionAndFile) {
  TempFile file("[printer]\nname = x\n");
  prusaconnect::StatusOr<ConnectSettings> settings = ReadConnectSettings(file.path());
  EXPECT_EQ(settings.status().code(), prusaconnect::StatusCode::kInvalidArgument);
  EXPECT_EQ(settings.status().message(),
            "ini file: `" + file.path() + "`: missing section [service::connect]");
}

TEST(ReadConnectSettingsTest, MissingHostnameOrTokenNamesTheKey) {
  {
    TempFile file("[service::connect]\ntoken = abc\n");
    prusaconnect::StatusOr<ConnectSettings> settings = ReadConnectSettings(file.path());
    EXPECT_EQ(settings.status().code(), prusaconnect::StatusCode::kInvalidArgument);
    EXPECT_EQ(
        settings.status().message(),
        "ini file: `" + file.path() + "`: missing key `hostname` in section [service::connect]");
  }
  {
    TempFile file("[service::connect]\nhostname = server\n");
    prusaconnect::StatusOr<ConnectSettings> settings = ReadConnectSettings(file.path());
    EXPECT_EQ(settings.status().code(), prusaconnect::StatusCode::kInvalidArgument);
    EXPECT_EQ(settings.status().message(),
              "ini file: `" + file.path() + "`: missing key `token` in section [service::connect]");
  }
}

TEST(ReadConnectSettingsTest, EmptyTokenIsAcceptedButEmptyHostnameIsNot) {
  {
    TempFile file("[service::connect]\nhostname = server\ntoken =\n");
    prusaconnect::StatusOr<ConnectSettings> settings = ReadConnectSettings(file.path());
    ASSERT_TRUE(settings.ok()) << settings.status();
    EXPECT_EQ(settings->token, "");
  }
  {
    TempFile file("[service::connect]\nhostname =\ntoken = t\n");
    EXPECT_EQ(ReadConnectSettings(file.path()).status().code(),
              prusaconnect::StatusCode::kInvalidArgument);
  }
}

TEST(ReadConnectSettingsTest, BadBooleanNamesSectionKeyAndValue) {
  TempFile file("[service::connect]\nhostname = server\ntoken = t\ntls = maybe\n");
  prusaconnect::StatusOr<ConnectSettings> settings = ReadConnectSettings(file.path());
  EXPECT_EQ(settings.status().code(), prusaconnect::StatusCode::kInvalidArgument);
  EXPECT_EQ(settings.status().message(),
            "ini file: `" + file.path() + "`: [service::connect] tls: not a boolean: 'maybe'");
}

TEST(ReadConnectSettingsTest, BadPortIsRefused) {
  for (const char* port : {"abc", "80.0", "8_0_", "", "99999999999999999999", "65536", "-1"}) {
    TempFile file(std::string("[service::connect]\nhostname = h\ntoken = t\nport = ") + port +
                  "\n");
    prusaconnect::StatusOr<ConnectSettings> settings = ReadConnectSettings(file.path());
    EXPECT_EQ(settings.status().code(), prusaconnect::StatusCode::kInvalidArgument) << port;
    EXPECT_NE(settings.status().message().find("[service::connect] port"), std::string::npos)
        << settings.status();
  }
}

TEST(ReadConnectSettingsTest, ControlCharactersInTokenAreRefusedWithoutQuotingIt) {
  // A continuation line puts a newline into the value: header injection.
  TempFile file("[service::connect]\nhostname = h\ntoken = secret\n  Evil: 1\n");
  prusaconnect::StatusOr<ConnectSettings> settings = ReadConnectSettings(file.path());
  EXPECT_EQ(settings.status().code(), prusaconnect::StatusCode::kInvalidArgument);
  EXPECT_EQ(settings.status().message().find("secret"), std::string::npos);
}

TEST(ReadConnectSettingsTest, DefaultSectionValuesApply) {
  TempFile file("[DEFAULT]\ntoken = from-default\n[service::connect]\nhostname = h\n");
  prusaconnect::StatusOr<ConnectSettings> settings = ReadConnectSettings(file.path());
  ASSERT_TRUE(settings.ok()) << settings.status();
  EXPECT_EQ(settings->token, "from-default");
}

TEST(ConnectUrlTest, BuildsSchemeHostAndOptionalPort) {
  EXPECT_EQ(ConnectUrl("server", false, 8000), "http://server:8000");
  EXPECT_EQ(ConnectUrl("server", true, 8443), "https://server:8443");
  EXPECT_EQ(ConnectUrl("connect.prusa3d.com", true, 0), "https://connect.prusa3d.com");
  EXPECT_EQ(ConnectUrl("10.0.0.1", false, 0), "http://10.0.0.1");
}

TEST(ReadIniFileTest, DirectoryIsNotARegularFile) {
  TempFile file("");
  prusaconnect::StatusOr<IniFile> ini = ReadIniFile(file.dir());
  EXPECT_EQ(ini.status().code(), prusaconnect::StatusCode::kFailedPrecondition);
}

TEST(ReadIniFileTest, PathWithNulIsNotFound) {
  EXPECT_EQ(ReadIniFile(std::string("/tmp\0/x", 7)).status().code(),
            prusaconnect::StatusCode::kNotFound);
}

TEST(ReadIniFileTest, ParseErrorNamesTheFileAndLine) {
  TempFile file("[s]\nkey = 1\nnonsense\n");
  prusaconnect::StatusOr<IniFile> ini = ReadIniFile(file.path());
  EXPECT_EQ(ini.status().code(), prusaconnect::StatusCode::kInvalidArgument);
  EXPECT_EQ(ini.status().message().rfind("ini file: `" + file.path() + "`: line 3: ", 0), 0u)
      << ini.status();
}

TEST(ReadIniFileTest, FileLargerThanTheLimitIsRefused) {
  TempFile file("[s]\nkey = " + std::string(10 << 20, 'x') + "\n");
  prusaconnect::StatusOr<IniFile> ini = ReadIniFile(file.path());
  EXPECT_EQ(ini.status().code(), prusaconnect::StatusCode::kInvalidArgument);
  EXPECT_NE(ini.status().message().find("larger than"), std::string::npos);
}

TEST(ReadIniFileTest, DevZeroIsRefusedWithoutReadingForever) {
  EXPECT_EQ(ReadIniFile("/dev/zero").status().code(),
            prusaconnect::StatusCode::kFailedPrecondition);
}

TEST(ParseIniTest, ReadsSectionsKeysAndBothDelimiters) {
  IniFile ini = MustParse(kLanSettings);
  EXPECT_EQ(ini.Sections(),
            (std::vector<std::string>{"network", "printer", "service::connect", "service::local"}));
  EXPECT_EQ(ini.Get("printer", "name"), "SDK UnitTest");
  EXPECT_EQ(ini.Get("service::local", "username"), "");
  EXPECT_EQ(ini.Get("service::local", "missing"), std::nullopt);
  EXPECT_EQ(ini.Get("missing", "name"), std::nullopt);

  IniFile colon = MustParse("[a]\nkey: value: with colon\nother=x=y\n");
  EXPECT_EQ(colon.Get("a", "key"), "value: with colon");
  EXPECT_EQ(colon.Get("a", "other"), "x=y");
}

TEST(ParseIniTest, KeysAreCaseInsensitiveButSectionsAreNot) {
  IniFile ini = MustParse("[Sec]\nHostName = Server\n");
  EXPECT_EQ(ini.Get("Sec", "hostname"), "Server");
  EXPECT_EQ(ini.Get("Sec", "HOSTNAME"), "Server");
  EXPECT_EQ(ini.Get("sec", "hostname"), std::nullopt);
  EXPECT_TRUE(ini.HasSection("Sec"));
  EXPECT_FALSE(ini.HasSection("sec"));
}

TEST(ParseIniTest, TrimsKeysAndValuesAndKeepsInlineSemicolons) {
  IniFile ini = MustParse("[s]\n   spaced key   =   spaced value  \t\nk = v ; not a comment\n");
  EXPECT_EQ(ini.Get("s", "spaced key"), "spaced value");
  EXPECT_EQ(ini.Get("s", "k"), "v ; not a comment");
}

TEST(ParseIniTest, SkipsCommentsEmptyLinesCrlfAndBom) {
  IniFile ini = MustParse(
      "\xEF\xBB\xBF# leading comment\r\n; another\r\n\r\n[s]\r\n  # indented comment\r\n"
      "a = 1\r\nb = 2\rc = 3\n");
  EXPECT_EQ(ini.Get("s", "a"), "1");
  EXPECT_EQ(ini.Get("s", "b"), "2");
  EXPECT_EQ(ini.Get("s", "c"), "3");
  EXPECT_EQ(ini.Get("s", "# indented comment"), std::nullopt);
}

TEST(ParseIniTest, SectionNameRunsToTheLastClosingBracket) {
  IniFile ini = MustParse("[camera::a]b] trailing\nk = v\n[ spaced ]\nx = y\n");
  EXPECT_EQ(ini.Get("camera::a]b", "k"), "v");
  EXPECT_EQ(ini.Get(" spaced ", "x"), "y");
}

TEST(ParseIniTest, LastDuplicateWins) {
  IniFile ini = MustParse("[s]\na = 1\nA = 2\n[t]\nx = 1\n[s]\nb = 3\n");
  EXPECT_EQ(ini.Get("s", "a"), "2");
  EXPECT_EQ(ini.Get("s", "b"), "3");
  EXPECT_EQ(ini.Get("t", "x"), "1");
}

TEST(ParseIniTest, IndentedLinesContinueTheValue) {
  IniFile ini = MustParse("[s]\nkey = first\n  second\n\n  third\n\nnext = x\n  [not a section]\n");
  EXPECT_EQ(ini.Get("s", "key"), "first\nsecond\n\nthird");
  EXPECT_EQ(ini.Get("s", "next"), "x\n[not a section]");
  EXPECT_FALSE(ini.HasSection("not a section"));
}

TEST(ParseIniTest, IndentedKeysAfterAHeaderAreKeysNotContinuations) {
  IniFile ini = MustParse("[s]\n  a = 1\n  b = 2\n");
  EXPECT_EQ(ini.Get("s", "a"), "1");
  EXPECT_EQ(ini.Get("s", "b"), "2");
}

TEST(ParseIniTest, DefaultSectionIsVisibleEverywhereButIsNotASection) {
  IniFile ini = MustParse("[DEFAULT]\nshared = d\nk = default\n[s]\nk = own\n");
  EXPECT_EQ(ini.Get("s", "shared"), "d");
  EXPECT_EQ(ini.Get("s", "k"), "own");
  EXPECT_EQ(ini.Get("DEFAULT", "k"), "default");
  EXPECT_FALSE(ini.HasSection("DEFAULT"));
  EXPECT_EQ(ini.Get("other", "shared"), std::nullopt);  // No such section.
}

TEST(ParseIniTest, KeyBeforeAnySectionIsAnErrorWithLineNumber) {
  prusaconnect::StatusOr<IniFile> ini = ParseIni("# comment\n\nkey = value\n[s]\n");
  EXPECT_EQ(ini.status().code(), prusaconnect::StatusCode::kInvalidArgument);
  EXPECT_EQ(ini.status().message().rfind("line 3: ", 0), 0u) << ini.status();
}

TEST(ParseIniTest, LinesWithoutDelimiterOrKeyAreErrors) {
  EXPECT_EQ(ParseIni("[s]\njust words\n").status().code(),
            prusaconnect::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseIni("[s]\n= value\n").status().code(), prusaconnect::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseIni("[s]\n[]\n").status().code(), prusaconnect::StatusCode::kInvalidArgument);
}

TEST(ParseIniTest, EmptyInputIsAnEmptyFile) {
  IniFile ini = MustParse("");
  EXPECT_TRUE(ini.Sections().empty());
  EXPECT_TRUE(MustParse("\xEF\xBB\xBF").Sections().empty());
}

TEST(IniFileTest, GetBoolFollowsConfigparser) {
  IniFile ini = MustParse("[s]\nyes = YeS\nno = off\nbad = 2\n");
  EXPECT_EQ(ini.GetBool("s", "yes", false).value(), true);
  EXPECT_EQ(ini.GetBool("s", "no", true).value(), false);
  EXPECT_EQ(ini.GetBool("s", "absent", true).value(), true);
  prusaconnect::StatusOr<bool> bad = ini.GetBool("s", "bad", false);
  EXPECT_EQ(bad.status().code(), prusaconnect::StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.status().message(), "[s] bad: not a boolean: '2'");
}

TEST(IniFileTest, GetIntFollowsPythonInt) {
  IniFile ini = MustParse(
      "[s]\na = 8000\nb = -42\nc = +7\nd = 1_000\ne = 0800\nmax = 9223372036854775807\n"
      "min = -9223372036854775808\nover = 9223372036854775808\nhex = 0x10\nfloat = 1.5\n"
      "double_underscore = 1__0\nspace = 1 0\n");
  EXPECT_EQ(ini.GetInt("s", "a", 0).value(), 8000);
  EXPECT_EQ(ini.GetInt("s", "b", 0).value(), -42);
  EXPECT_EQ(ini.GetInt("s", "c", 0).value(), 7);
  EXPECT_EQ(ini.GetInt("s", "d", 0).value(), 1000);
  EXPECT_EQ(ini.GetInt("s", "e", 0).value(), 800);
  EXPECT_EQ(ini.GetInt("s", "max", 0).value(), INT64_MAX);
  EXPECT_EQ(ini.GetInt("s", "min", 0).value(), INT64_MIN);
  EXPECT_EQ(ini.GetInt("s", "absent", 5).value(), 5);
  for (const char* key : {"over", "hex", "float", "double_underscore", "space"}) {
    EXPECT_EQ(ini.GetInt("s", key, 0).status().code(), prusaconnect::StatusCode::kInvalidArgument)
        << key;
  }
}

// Hostile input: errors, never crashes.

TEST(ParseIniTest, BinaryGarbageIsAnError) {
  std::string garbage;
  uint32_t state = 12345;
  for (int i = 0; i < 4096; ++i) {
    state = state * 1103515245 + 12345;
    garbage.push_back(static_cast<char>(state >> 24));
  }
  EXPECT_FALSE(ParseIni(garbage).ok());
  EXPECT_FALSE(ParseIni("[s]\n" + garbage).ok());
  EXPECT_FALSE(ParseIni(std::string("[s]\nk = \xC0\xAF\n")).ok());          // Overlong '/'.
  EXPECT_FALSE(ParseIni(std::string("[s]\nk = \xED\xA0\x80\n")).ok());      // Surrogate.
  EXPECT_FALSE(ParseIni(std::string("[s]\nk = \xF4\x90\x80\x80\n")).ok());  // > U+10FFFF.
  EXPECT_FALSE(ParseIni(std::string("[s]\nk = \xE2\x82")).ok());            // Truncated.
}

TEST(ParseIniTest, ValidUtf8AndNulBytesInValuesAreKept) {
  constexpr char kText[] =
      "[s]\nname = Pr\xC5\xAF\xC5\xA1"
      "a \xF0\x9F\x96\xA8\nnul = a\0b\n";
  IniFile ini = MustParse(std::string(kText, sizeof(kText) - 1));
  EXPECT_EQ(ini.Get("s", "name"),
            "Pr\xC5\xAF\xC5\xA1"
            "a \xF0\x9F\x96\xA8");
  EXPECT_EQ(ini.Get("s", "nul"), std::string("a\0b", 3));
}

TEST(ParseIniTest, TenMegabyteLinesGiveErrorsOrValuesWithoutCrashing) {
  const std::string huge(10 << 20, 'x');
  prusaconnect::StatusOr<IniFile> no_section = ParseIni(huge);
  EXPECT_EQ(no_section.status().code(), prusaconnect::StatusCode::kInvalidArgument);
  EXPECT_LT(no_section.status().message().size(), 200u);  // Only an excerpt.

  EXPECT_EQ(ParseIni("[s]\n" + huge).status().code(), prusaconnect::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseIni("[" + huge).status().code(), prusaconnect::StatusCode::kInvalidArgument);

  IniFile ini = MustParse("[s]\nk = " + huge + "\n");
  EXPECT_EQ(ini.Get("s", "k")->size(), huge.size());

  // Ten million blank lines after a key all belong to its value until the
  // final rstrip(); they must not cost memory per line.
  IniFile blank = MustParse("[s]\nk = v\n" + std::string(10 << 20, '\n') + "j = w\n");
  EXPECT_EQ(blank.Get("s", "k"), "v");
  EXPECT_EQ(blank.Get("s", "j"), "w");
}

TEST(ParseIniTest, ManyShortLinesParse) {
  std::string text = "[s]\n";
  for (int i = 0; i < 100000; ++i)
    text += "k" + std::to_string(i) + " = " + std::to_string(i) + "\n";
  IniFile ini = MustParse(text);
  EXPECT_EQ(ini.GetInt("s", "k99999", -1).value(), 99999);
}

}  // namespace
}  // namespace prusaconnect::internal
