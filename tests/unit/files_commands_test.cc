// Copyright 2026 The libprusaconnect Authors.
//
// The file commands on a Filesystem and through their handlers: what the SDK
// does (sdk-spec §5.3-5.6) and the path rules it lacked (quirks Q15, Q16,
// Q23): every path resolved inside its storage, hostile input refused with a
// reason a person understands, and nothing outside the storage touched.
#include <sys/stat.h>
#include <unistd.h>

#include <memory>
#include <string>

#include "files/commands.h"
#include "files/paths.h"
#include "files_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "prusaconnect/const.h"
#include "prusaconnect/files.h"

namespace prusaconnect {
namespace {

using ::testing::HasSubstr;
using testing_files::CorpusDir;
using testing_files::ReadText;
using testing_files::Snapshot;
using testing_files::TempDir;
using testing_files::WriteText;

class CommandsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs_ = std::make_shared<Filesystem>(nullptr);
    mkdir((usb_ / "a").c_str(), 0755);
    mkdir((usb_ / "ab").c_str(), 0755);
    WriteText(usb_ / "a/x.gcode", "G28\n");
    WriteText(usb_ / "ab/printed.gcode", "G28\n");
    WriteText(usb_ / "notes.txt", "hello");
    WriteText(outside_ / "victim.txt", "keep me");
    ASSERT_TRUE(fs_->Attach(usb_.path(), "usb").ok());
    outside_before_ = Snapshot(outside_.path());
  }
  void TearDown() override { EXPECT_EQ(Snapshot(outside_.path()), outside_before_); }

  // Runs a command's handler as Connect would send it.
  CommandResult RunKw(Command c, const Json& kwargs) {
    CommandRequest req;
    req.command_id = 7;
    req.command_name = ToString(c);
    req.command = c;
    req.kwargs = kwargs;
    StatusOr<CommandResult> r = internal::FileCommandHandler(c, fs_)(req);
    EXPECT_TRUE(r.ok());
    return r.ok() ? *r : CommandResult{};
  }
  CommandResult Run(Command c, const std::string& path) {
    return RunKw(c, Json::MakeObject({{"path", path}}));
  }
  // A refusal: FAILED from WUI with the reason in `reason` and data.error.
  std::string Refusal(const CommandResult& r) {
    EXPECT_EQ(r.event, Event::FAILED);
    EXPECT_EQ(r.source, Source::WUI);
    EXPECT_EQ(r.data.find("error")->as_string(), r.reason.value_or(""));
    return r.reason.value_or("");
  }

  TempDir usb_;
  TempDir outside_;
  std::string outside_before_;
  std::shared_ptr<Filesystem> fs_;
};

TEST_F(CommandsTest, DeleteFileRemovesItAndAnswersFinished) {
  CommandResult r = Run(Command::DELETE_FILE, "/usb/a/x.gcode");
  EXPECT_FALSE(r.event.has_value());  // FINISHED
  EXPECT_EQ(r.source, Source::CONNECT);
  EXPECT_NE(access((usb_ / "a/x.gcode").c_str(), F_OK), 0);
}

TEST_F(CommandsTest, DeleteFileRefusals) {
  EXPECT_EQ(Refusal(Run(Command::DELETE_FILE, "/usb/a/none.gcode")),
            "File does not exist: /usb/a/none.gcode");
  EXPECT_EQ(Refusal(Run(Command::DELETE_FILE, "/usb/nofolder/x.gcode")),
            "File does not exist: /usb/nofolder/x.gcode");
  EXPECT_THAT(Refusal(Run(Command::DELETE_FILE, "/usb/a")), HasSubstr("is a folder"));
  EXPECT_THAT(Refusal(Run(Command::DELETE_FILE, "/usb")), HasSubstr("is a storage"));
  chmod((usb_ / "notes.txt").c_str(), 0444);
  EXPECT_EQ(Refusal(Run(Command::DELETE_FILE, "/usb/notes.txt")), "File is read only");
  EXPECT_EQ(Refusal(RunKw(Command::DELETE_FILE, Json::MakeObject())),
            "DELETE_FILE requires kwargs");
  EXPECT_THAT(Refusal(RunKw(Command::DELETE_FILE, Json::MakeObject({{"path", 5}}))),
              HasSubstr("must be a string"));
}

TEST_F(CommandsTest, ThePrintedFileIsProtectedByExactPathLogic) {
  fs_->set_printed_file_cb([] { return std::string("/usb/ab/printed.gcode"); });
  EXPECT_EQ(Refusal(Run(Command::DELETE_FILE, "/usb/ab/printed.gcode")),
            "This file is currently printed");
  EXPECT_EQ(Refusal(Run(Command::DELETE_FILE, "/usb//ab/printed.gcode/")),
            "This file is currently printed");
  EXPECT_EQ(Refusal(RunKw(Command::DELETE_FOLDER,
                          Json::MakeObject({{"path", "/usb/ab"}, {"force", true}}))),
            "The file inside of this folder is currently printed");
  // "/usb/a" is a text prefix of "/usb/ab/..." but not a folder above it
  // (the SDK's substring test refused it — quirk Q15).
  CommandResult r =
      RunKw(Command::DELETE_FOLDER, Json::MakeObject({{"path", "/usb/a"}, {"force", true}}));
  EXPECT_FALSE(r.event.has_value()) << r.reason.value_or("");
  EXPECT_NE(access((usb_ / "a").c_str(), F_OK), 0);
  // Another name for the same file, through a link inside the storage.
  ASSERT_EQ(symlink("ab", (usb_ / "alias").c_str()), 0);
  EXPECT_EQ(Refusal(Run(Command::DELETE_FILE, "/usb/alias/printed.gcode")),
            "This file is currently printed");
  EXPECT_EQ(access((usb_ / "ab/printed.gcode").c_str(), F_OK), 0);
}

TEST_F(CommandsTest, DeleteFolderAsTheSdkWithForce) {
  EXPECT_THAT(Refusal(Run(Command::DELETE_FOLDER, "/usb/a")), HasSubstr("is not empty"));
  EXPECT_EQ(access((usb_ / "a/x.gcode").c_str(), F_OK), 0);
  CommandResult r =
      RunKw(Command::DELETE_DIRECTORY, Json::MakeObject({{"path", "/usb/a"}, {"force", true}}));
  EXPECT_FALSE(r.event.has_value());
  EXPECT_NE(access((usb_ / "a").c_str(), F_OK), 0);
  mkdir((usb_ / "empty").c_str(), 0755);
  EXPECT_FALSE(Run(Command::DELETE_FOLDER, "/usb/empty").event.has_value());
  EXPECT_EQ(Refusal(Run(Command::DELETE_FOLDER, "/usb/nothing")),
            "Folder does not exist: /usb/nothing");
  EXPECT_THAT(Refusal(Run(Command::DELETE_FOLDER, "/usb/notes.txt")), HasSubstr("not a folder"));
  EXPECT_THAT(
      Refusal(RunKw(Command::DELETE_FOLDER, Json::MakeObject({{"path", "/usb"}, {"force", true}}))),
      HasSubstr("whole storage"));
  EXPECT_EQ(access(usb_.path().c_str(), F_OK), 0);
  EXPECT_EQ(Refusal(RunKw(Command::DELETE_DIRECTORY, Json())), "DELETE_DIRECTORY requires kwargs");
}

TEST_F(CommandsTest, ForceDeleteNeverFollowsLinksOut) {
  mkdir((usb_ / "trap").c_str(), 0755);
  ASSERT_EQ(symlink(outside_.path().c_str(), (usb_ / "trap/out").c_str()), 0);
  ASSERT_EQ(symlink((outside_ / "victim.txt").c_str(), (usb_ / "trap/v.txt").c_str()), 0);
  CommandResult r =
      RunKw(Command::DELETE_FOLDER, Json::MakeObject({{"path", "/usb/trap"}, {"force", true}}));
  EXPECT_FALSE(r.event.has_value()) << r.reason.value_or("");
  EXPECT_NE(access((usb_ / "trap").c_str(), F_OK), 0);
  // TearDown: the outside folder is untouched.
}

TEST_F(CommandsTest, LinksLeadingOutAreRefused) {
  ASSERT_EQ(symlink(outside_.path().c_str(), (usb_ / "out").c_str()), 0);
  ASSERT_EQ(symlink("/", (usb_ / "root").c_str()), 0);
  std::string victim = "/usb/root" + outside_.path() + "/victim.txt";
  EXPECT_THAT(Refusal(Run(Command::DELETE_FILE, victim)), HasSubstr("leads outside its storage"));
  EXPECT_THAT(Refusal(Run(Command::DELETE_FILE, "/usb/out/victim.txt")),
              HasSubstr("leads outside its storage"));
  EXPECT_THAT(
      Refusal(RunKw(Command::DELETE_FOLDER,
                    Json::MakeObject({{"path", "/usb/root" + outside_.path()}, {"force", true}}))),
      HasSubstr("leads outside its storage"));
  EXPECT_THAT(Refusal(RunKw(Command::DELETE_FOLDER,
                            Json::MakeObject({{"path", "/usb/out"}, {"force", true}}))),
              HasSubstr("symbolic link"));
  EXPECT_THAT(Refusal(Run(Command::CREATE_FOLDER, "/usb/out/new")), HasSubstr("leads outside"));
  EXPECT_THAT(Refusal(Run(Command::SEND_FILE_INFO, "/usb/root/etc/passwd")),
              HasSubstr("leads outside"));
  ASSERT_EQ(symlink((outside_ / "victim.txt").c_str(), (usb_ / "v.gcode").c_str()), 0);
  EXPECT_THAT(Refusal(Run(Command::SEND_FILE_INFO, "/usb/v.gcode")), HasSubstr("leads outside"));
  EXPECT_EQ(fs_->OsPath("/usb/out/victim.txt").status().code(), StatusCode::kPermissionDenied);
}

TEST_F(CommandsTest, HostilePathsAreRefusedBeforeTouchingTheDisk) {
  std::string before = Snapshot(usb_.path());
  const std::pair<std::string, std::string> cases[] = {
      {"../../etc/passwd", "must be absolute"},
      {"/usb/../../etc/passwd", "\"..\""},
      {"/usb/./a", "\".\""},
      {"/etc", "Storage \"etc\" does not exist"},
      {"/etc/passwd", "Storage \"etc\" does not exist"},
      {"usb/a", "must be absolute"},
      {"", "must be absolute"},
      {"/", "names no storage"},
      {std::string("/usb/a\0b", 8), "NUL"},
      {"/usb/.ssh", "hidden"},
      {"/usb/" + std::string(300, 'n'), "300 characters"},
  };
  for (const auto& [path, why] : cases) {
    SCOPED_TRACE(path);
    for (Command c : {Command::CREATE_FOLDER, Command::DELETE_FILE, Command::DELETE_FOLDER,
                      Command::SEND_FILE_INFO}) {
      EXPECT_THAT(Refusal(Run(c, path)), HasSubstr(why)) << ToString(c);
    }
  }
  EXPECT_EQ(Snapshot(usb_.path()), before);
}

TEST_F(CommandsTest, CreateFolderChecksEveryComponentForForbiddenCharacters) {
  std::string before = Snapshot(usb_.path());
  for (const std::string& bad : ForbiddenCharacters()) {
    SCOPED_TRACE(bad);
    EXPECT_THAT(Refusal(Run(Command::CREATE_FOLDER, "/usb/x" + bad + "y/z")),
                HasSubstr("Forbidden character '" + bad + "'"));
    EXPECT_THAT(Refusal(Run(Command::CREATE_FOLDER, "/usb/ok/z" + bad)),
                HasSubstr("Forbidden character"));
  }
  EXPECT_THAT(Refusal(Run(Command::CREATE_FOLDER, "/usb/tab\there")), HasSubstr("control"));
  // 255 characters is the limit; so are 255 bytes ("ž" takes two).
  EXPECT_FALSE(Run(Command::CREATE_FOLDER, "/usb/" + std::string(255, 'l')).event.has_value());
  std::string z;
  for (int i = 0; i < 128; ++i) z += "\xC5\xBE";
  EXPECT_THAT(Refusal(Run(Command::CREATE_FOLDER, "/usb/" + z)), HasSubstr("256 bytes"));
  EXPECT_NE(Snapshot(usb_.path()), before);
  EXPECT_EQ(Snapshot(usb_.path()).find("?"), std::string::npos);
}

TEST_F(CommandsTest, CreateFolderMakesNestedFoldersAndAcceptsExistingOnes) {
  EXPECT_FALSE(Run(Command::CREATE_FOLDER, "/usb/n/m/o").event.has_value());
  struct stat st;
  ASSERT_EQ(stat((usb_ / "n/m/o").c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_FALSE(Run(Command::CREATE_DIRECTORY, "/usb/n/m").event.has_value());
  EXPECT_FALSE(Run(Command::CREATE_FOLDER, "/usb/Žluťoučký kůň 🐴").event.has_value());
  EXPECT_EQ(access((usb_ / "Žluťoučký kůň 🐴").c_str(), F_OK), 0);
  EXPECT_THAT(Refusal(Run(Command::CREATE_FOLDER, "/usb/notes.txt/sub")),
              HasSubstr("not a folder"));
  EXPECT_EQ(Refusal(RunKw(Command::CREATE_FOLDER, Json::MakeObject({{"paths", "/usb/x"}}))),
            "CREATE_FOLDER requires kwargs");
}

TEST_F(CommandsTest, FileInfoOfAPrintFileCarriesMetadataAndThePngPreview) {
  std::string name = "prusaslicer_box_0.4n_0.2mm_PLA_MK4IS_1h2m.gcode";
  WriteText(usb_ / name, ReadText(CorpusDir() + "/" + name));
  CommandResult r = Run(Command::SEND_FILE_INFO, "/usb/" + name);
  ASSERT_EQ(r.event, Event::FILE_INFO);
  EXPECT_EQ(r.source, Source::CONNECT);
  const Json::Object& o = r.data.as_object();
  ASSERT_GE(o.size(), 5u);
  EXPECT_EQ(o[0].key, "path");
  EXPECT_EQ(o[1].key, "read_only");
  EXPECT_EQ(o[2].key, "size");
  EXPECT_EQ(o[3].key, "m_timestamp");
  EXPECT_EQ(r.data.find("path")->as_string(), "/usb/" + name);
  EXPECT_EQ(r.data.find("temperature")->as_int(), 215);
  EXPECT_EQ(r.data.find("printer_model")->as_string(), "MK4IS");
  StatusOr<GcodeMetadata> meta = ReadGcodeMetadata(usb_ / name);
  ASSERT_TRUE(meta.ok());
  EXPECT_EQ(r.data.find("preview")->as_string(), meta->Preview()->data);
  EXPECT_EQ(o.back().key, "preview");
  // The same answer every time, and no cache file next to the G-code.
  EXPECT_EQ(Run(Command::SEND_FILE_INFO, "/usb/" + name).data.Dump(), r.data.Dump());
  EXPECT_EQ(Snapshot(usb_.path()).find(".cache"), std::string::npos);
}

TEST_F(CommandsTest, FileInfoOfOtherFilesAndFolders) {
  CommandResult txt = Run(Command::SEND_FILE_INFO, "/usb/notes.txt");
  ASSERT_EQ(txt.event, Event::FILE_INFO);
  EXPECT_THAT(txt.data.Dump(), HasSubstr(R"("path":"/usb/notes.txt","read_only":false,"size":5)"));
  EXPECT_FALSE(txt.data.contains("preview"));
  // A folder answers with its children (the Buddy firmware's answer).
  CommandResult folder = Run(Command::SEND_FILE_INFO, "/usb/a");
  ASSERT_EQ(folder.event, Event::FILE_INFO);
  EXPECT_EQ(folder.data.find("type")->as_string(), "FOLDER");
  EXPECT_EQ(folder.data.find("file_count")->as_int(), 1);
  EXPECT_EQ((*folder.data.find("children"))[0].find("name")->as_string(), "x.gcode");
  EXPECT_EQ((*folder.data.find("children"))[0].find("type")->as_string(), "PRINT_FILE");
  CommandResult root = Run(Command::SEND_FILE_INFO, "/usb");
  EXPECT_EQ(root.data.find("file_count")->as_int(), 3);
  EXPECT_EQ(Refusal(Run(Command::SEND_FILE_INFO, "/N/A/file.txt")), "Storage \"N\" does not exist");
  EXPECT_EQ(Refusal(Run(Command::SEND_FILE_INFO, "/usb/none.gcode")),
            "File does not exist: /usb/none.gcode");
  EXPECT_EQ(Refusal(RunKw(Command::SEND_FILE_INFO, Json())), "SEND_FILE_INFO requires kwargs");
}

TEST_F(CommandsTest, OsPathResolvesInsideTheStorage) {
  StatusOr<std::string> p = fs_->OsPath("/usb/a/x.gcode");
  ASSERT_TRUE(p.ok());
  char real[PATH_MAX];
  ASSERT_NE(realpath((usb_ / "a/x.gcode").c_str(), real), nullptr);
  EXPECT_EQ(*p, real);
  EXPECT_TRUE(fs_->OsPath("/usb/new/file.gcode").ok());  // need not exist
  EXPECT_EQ(fs_->OsPath("/usb/../x").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(fs_->OsPath("/nope/x").status().code(), StatusCode::kNotFound);
}

TEST(PathRules, VirtualPathsAndComponents) {
  using internal::NameUse;
  using internal::ParseVirtualPath;
  auto vp = ParseVirtualPath("//usb///a/b/", NameUse::kExisting);
  ASSERT_TRUE(vp.ok());
  EXPECT_EQ(vp->ToString(), "/usb/a/b");
  EXPECT_EQ(vp->Relative(), "a/b");
  // Existing entries may carry characters a new name must not.
  EXPECT_TRUE(ParseVirtualPath("/usb/part #2.gcode", NameUse::kExisting).ok());
  EXPECT_FALSE(ParseVirtualPath("/usb/part #2.gcode", NameUse::kCreate).ok());
  EXPECT_FALSE(ParseVirtualPath("/usb/\xff", NameUse::kExisting).ok());
  EXPECT_TRUE(internal::CheckName(std::string(248, 'a'), NameUse::kCreate, FILENAME_LENGTH).ok());
  EXPECT_FALSE(internal::CheckName(std::string(249, 'a'), NameUse::kCreate, FILENAME_LENGTH).ok());
  auto a = ParseVirtualPath("/usb/a", NameUse::kExisting);
  auto ab = ParseVirtualPath("/usb/ab/x", NameUse::kExisting);
  auto ax = ParseVirtualPath("/usb/a/x", NameUse::kExisting);
  EXPECT_FALSE(internal::SameOrAncestor(*a, *ab));
  EXPECT_TRUE(internal::SameOrAncestor(*a, *ax));
  EXPECT_TRUE(internal::SameOrAncestor(*a, *a));
  EXPECT_TRUE(internal::IsInside("/tmp/x", "/tmp/x/y"));
  EXPECT_FALSE(internal::IsInside("/tmp/x", "/tmp/xy"));
  EXPECT_TRUE(internal::IsInside("/", "/etc"));
  EXPECT_FALSE(internal::IsValidUtf8("\xC0\x80"));         // overlong
  EXPECT_FALSE(internal::IsValidUtf8("\xED\xA0\x80"));     // surrogate
  EXPECT_TRUE(internal::IsValidUtf8("\xF0\x9F\x90\xB4"));  // 🐴
}

}  // namespace
}  // namespace prusaconnect
