// Copyright 2026 The libprusaconnect Authors.
//
// Files over the wire, against the local Connect emulator: the file commands
// (a table of ordinary and hostile cases, each checked on the wire and for
// nothing changed outside the storage), storages in SEND_INFO,
// MEDIUM_INSERTED / MEDIUM_EJECTED, and the FILE_CHANGED sequence the
// watcher reports. Waits are bounded condition waits, never sleeps.
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "../unit/files_test_util.h"
#include "absl/time/time.h"
#include "emulator/emulator.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "prusaconnect/prusaconnect.h"

namespace prusaconnect {
namespace {

using emulator::Emulator;
using emulator::RecordedEvent;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing_files::CorpusDir;
using testing_files::ReadText;
using testing_files::Snapshot;
using testing_files::TempDir;
using testing_files::WriteText;

constexpr absl::Duration kWait = absl::Seconds(30);
constexpr const char* kPrinted = "/usb/ab/printed.gcode";
constexpr const char* kPrintFile = "prusaslicer_box_0.4n_0.2mm_PLA_MK4IS_1h2m.gcode";

// One printer with a storage "usb" (and a folder "outside" next to it that
// nothing may touch), connected to its own emulator.
class FilesWire {
 public:
  explicit FilesWire(const std::string& sn) : sn_(sn) {
    emulator_ = std::make_unique<Emulator>();
    EXPECT_TRUE(emulator_->Start().ok());
    network_ = std::make_shared<Network>();
    fp_ = FingerprintFromSerial(sn);
    auto token = emulator_->PreregisterPrinter(fp_, sn, "1.3.1");
    EXPECT_TRUE(token.ok());
    PrinterOptions o;
    o.network = network_;
    printer_ = std::make_unique<Printer>(PrinterType::I3MK3S, sn, fp_, o);
    printer_->set_software("test");
    printer_->set_connection(emulator_->url(), *token);
    printer_->set_printed_file_cb([] { return std::string(kPrinted); });

    mkdir((usb_ / "a").c_str(), 0755);
    mkdir((usb_ / "ab").c_str(), 0755);
    mkdir((usb_ / "full").c_str(), 0755);
    WriteText(usb_ / "a/x.gcode", "G28\n");
    WriteText(usb_ / "ab/printed.gcode", "G28\n");
    WriteText(usb_ / "full/keep.txt", "x");
    WriteText(usb_ / "locked.gcode", "G28\n");
    chmod((usb_ / "locked.gcode").c_str(), 0444);
    WriteText(usb_ / kPrintFile, ReadText(CorpusDir() + "/" + kPrintFile));
    WriteText(outside_ / "victim.txt", "keep me");
    EXPECT_EQ(symlink("/", (usb_ / "rootlink").c_str()), 0);
    EXPECT_EQ(symlink((outside_ / "victim.txt").c_str(), (usb_ / "victim-link.txt").c_str()), 0);
  }
  ~FilesWire() {
    done_ = true;
    if (runner_.joinable()) runner_.join();
    printer_.reset();
    emulator_->Stop();
  }

  // Attaches the storage and waits for its MEDIUM_INSERTED on the wire.
  void AttachAndStart() {
    ASSERT_TRUE(printer_->attach(usb_.path(), "usb").ok());
    printer_->start();
    // The host's command thread, as the SDK's README has it (joined before
    // the printer goes, so no handler outlives it).
    runner_ = std::thread([this] {
      while (!done_) {
        if (printer_->wait_for_command(20)) printer_->command();
      }
    });
    ASSERT_TRUE(emulator_->WaitForEvent(fp_, "MEDIUM_INSERTED", kWait));
  }

  // Sends a command and returns its terminal event.
  std::optional<RecordedEvent> Command(const std::string& name, const std::string& kwargs) {
    auto id = emulator_->QueueCommand(fp_, emulator::Command::Json(name, "", kwargs));
    EXPECT_TRUE(id.ok());
    if (!id.ok()) return std::nullopt;
    printer_->telemetry(Json::MakeObject());
    std::optional<RecordedEvent> found;
    emulator_->WaitFor(
        [&] {
          for (const RecordedEvent& e : emulator_->GetEvents(fp_)) {
            if (e.command_id == *id && e.event != "ACCEPTED") {
              found = e;
              return true;
            }
          }
          return false;
        },
        kWait);
    return found;
  }

  // The FILE_CHANGED events on the wire, as "+path", "-path" or "~path".
  std::vector<std::string> Changes() {
    std::vector<std::string> out;
    for (const RecordedEvent& e : emulator_->GetEvents(fp_)) {
      if (e.event != "FILE_CHANGED") continue;
      StatusOr<Json> body = Json::Parse(e.json);
      if (!body.ok()) continue;
      const Json* data = body->find("data");
      const Json* o = data->find("old_path");
      const Json* n = data->find("new_path");
      out.push_back(o && n ? "~" + n->as_string()
                           : (n ? "+" + n->as_string() : "-" + o->as_string()));
    }
    return out;
  }
  bool WaitChanges(size_t n) {
    return emulator_->WaitFor([&] { return Changes().size() >= n; }, kWait);
  }

  std::string sn_, fp_;
  TempDir usb_, outside_;
  std::unique_ptr<Emulator> emulator_;
  std::shared_ptr<Network> network_;
  std::unique_ptr<Printer> printer_;
  std::atomic<bool> done_{false};
  std::thread runner_;
};

std::string Kw(const std::string& path) { return Json::MakeObject({{"path", path}}).Dump(); }
std::string KwForce(const std::string& path) {
  return Json::MakeObject({{"path", path}, {"force", true}}).Dump();
}

struct Case {
  std::string name;
  std::string command;
  // kwargs JSON, given the outside folder's path.
  std::function<std::string(const std::string& outside)> kwargs;
  std::string event;   // the terminal event on the wire
  std::string reason;  // a substring of its reason ("" for success)
  bool storage_changes = false;
};

std::vector<Case> Cases() {
  auto k = [](std::string p) { return [p](const std::string&) { return Kw(p); }; };
  std::vector<Case> c = {
      {"RelativeEscape", "DELETE_FILE", k("../../etc/passwd"), "FAILED", "must be absolute"},
      {"DotDotEscape", "DELETE_FILE", k("/usb/../../etc/passwd"), "FAILED", "\"..\""},
      {"DotDotInCreate", "CREATE_FOLDER", k("/usb/a/../../../tmp/escape"), "FAILED", "\"..\""},
      {"AbsoluteOutsideFolder", "DELETE_FOLDER", [](const std::string&) { return KwForce("/etc"); },
       "FAILED", "Storage \"etc\" does not exist"},
      {"AbsoluteOutsideFile", "DELETE_FILE", k("/etc/passwd"), "FAILED", "Storage \"etc\""},
      {"RootLinkDeleteFile", "DELETE_FILE",
       [](const std::string& out) { return Kw("/usb/rootlink" + out + "/victim.txt"); }, "FAILED",
       "leads outside its storage"},
      {"RootLinkDeleteFolder", "DELETE_FOLDER",
       [](const std::string& out) { return KwForce("/usb/rootlink" + out); }, "FAILED",
       "leads outside its storage"},
      {"RootLinkCreateFolder", "CREATE_FOLDER",
       [](const std::string& out) { return Kw("/usb/rootlink" + out + "/new"); }, "FAILED",
       "leads outside its storage"},
      {"RootLinkFileInfo", "SEND_FILE_INFO", k("/usb/rootlink/etc/passwd"), "FAILED",
       "leads outside its storage"},
      {"NulByte", "DELETE_FILE", k(std::string("/usb/a\0/x.gcode", 15)), "FAILED", "NUL"},
      {"NulByteCreate", "CREATE_FOLDER", k(std::string("/usb/n\0w", 8)), "FAILED", "NUL"},
      {"TooLongName", "CREATE_FOLDER", k("/usb/" + std::string(300, 'n')), "FAILED",
       "300 characters"},
      {"TooLongNameDelete", "DELETE_FILE", k("/usb/" + std::string(300, 'n')), "FAILED",
       "300 characters"},
      {"ControlCharacter", "CREATE_FOLDER", k("/usb/tab\tbed"), "FAILED", "control character"},
      {"HiddenName", "CREATE_FOLDER", k("/usb/.hidden"), "FAILED", "hidden"},
      {"EmptyPath", "DELETE_FILE", k(""), "FAILED", "must be absolute"},
      {"MissingKwargs", "DELETE_FILE", [](const std::string&) { return std::string(); }, "FAILED",
       "DELETE_FILE requires kwargs"},
      {"UnknownStorage", "SEND_FILE_INFO", k("/N/A/file.txt"), "FAILED",
       "Storage \"N\" does not exist"},
      {"MissingFile", "DELETE_FILE", k("/usb/a/none.gcode"), "FAILED",
       "File does not exist: /usb/a/none.gcode"},
      {"ReadOnlyFile", "DELETE_FILE", k("/usb/locked.gcode"), "FAILED", "File is read only"},
      {"PrintedFile", "DELETE_FILE", k(kPrinted), "FAILED", "This file is currently printed"},
      {"FolderOfPrintedFile", "DELETE_FOLDER",
       [](const std::string&) { return KwForce("/usb/ab"); }, "FAILED",
       "The file inside of this folder is currently printed"},
      {"PrefixOfPrintedFolderIsNotItsParent", "DELETE_FOLDER",
       [](const std::string&) { return KwForce("/usb/a"); }, "FINISHED", "", true},
      {"NonEmptyFolderWithoutForce", "DELETE_FOLDER", k("/usb/full"), "FAILED", "not empty"},
      {"WholeStorage", "DELETE_DIRECTORY", [](const std::string&) { return KwForce("/usb"); },
       "FAILED", "whole storage"},
      {"FileAsFolder", "DELETE_FOLDER", k("/usb/locked.gcode"), "FAILED", "not a folder"},
      {"DeleteFile", "DELETE_FILE", k("/usb/a/x.gcode"), "FINISHED", "", true},
      {"DeleteLinkNotItsTarget", "DELETE_FILE", k("/usb/victim-link.txt"), "FINISHED", "", true},
      {"CreateNested", "CREATE_FOLDER", k("/usb/n1/n2/n3"), "FINISHED", "", true},
      {"CreateExisting", "CREATE_DIRECTORY", k("/usb/a"), "FINISHED", ""},
      {"CreateUnicode", "CREATE_FOLDER", k("/usb/Žluťoučký kůň 🐴"), "FINISHED", "", true},
      {"FileInfoPrintFile", "SEND_FILE_INFO", k(std::string("/usb/") + kPrintFile), "FILE_INFO",
       ""},
      {"FileInfoFolder", "SEND_FILE_INFO", k("/usb/a"), "FILE_INFO", ""},
  };
  for (const std::string& bad : ForbiddenCharacters()) {
    c.push_back({"Forbidden" + std::to_string(c.size()), "CREATE_FOLDER",
                 k("/usb/bad" + bad + "name/sub"), "FAILED", "Forbidden character '" + bad + "'"});
  }
  return c;
}

class FileCommandWireTest : public ::testing::TestWithParam<Case> {};

TEST_P(FileCommandWireTest, AnswersOnTheWireAndTouchesNothingOutside) {
  const Case& c = GetParam();
  FilesWire w("SN-FILES-" + c.name.substr(0, 20));
  w.AttachAndStart();
  std::string outside_before = Snapshot(w.outside_.path());
  std::string usb_before = Snapshot(w.usb_.path());
  struct stat passwd;
  ASSERT_EQ(stat("/etc/passwd", &passwd), 0);

  std::optional<RecordedEvent> e = w.Command(c.command, c.kwargs(w.outside_.path()));
  ASSERT_TRUE(e) << "no answer";
  EXPECT_EQ(e->event, c.event) << e->json;
  if (c.event == "FAILED") {
    // The SDK's handler-error envelope, with a reason a person can read.
    EXPECT_EQ(e->source, "WUI");
    EXPECT_THAT(e->reason, HasSubstr(c.reason));
    StatusOr<Json> body = Json::Parse(e->json);
    ASSERT_TRUE(body.ok());
    EXPECT_EQ(body->find("data")->find("error")->as_string(), e->reason);
  } else {
    EXPECT_EQ(e->source, "CONNECT");
  }
  ASSERT_TRUE(w.printer_->flush(30000));
  EXPECT_EQ(Snapshot(w.outside_.path()), outside_before);
  struct stat after;
  ASSERT_EQ(stat("/etc/passwd", &after), 0);
  EXPECT_EQ(after.st_mtim.tv_sec, passwd.st_mtim.tv_sec);
  if (!c.storage_changes) {
    EXPECT_EQ(Snapshot(w.usb_.path()), usb_before);
  }
  EXPECT_EQ(w.emulator_->GetPrinter(w.fp_)->protocol_error_count, 0);
}

INSTANTIATE_TEST_SUITE_P(Files, FileCommandWireTest, ::testing::ValuesIn(Cases()),
                         [](const ::testing::TestParamInfo<Case>& p) { return p.param.name; });

TEST(FilesWireTest, FileInfoCarriesMetadataAndPreview) {
  FilesWire w("SN-FILES-INFO");
  w.AttachAndStart();
  std::optional<RecordedEvent> e =
      w.Command("SEND_FILE_INFO", Kw(std::string("/usb/") + kPrintFile));
  ASSERT_TRUE(e);
  ASSERT_EQ(e->event, "FILE_INFO");
  StatusOr<Json> body = Json::Parse(e->json);
  ASSERT_TRUE(body.ok());
  const Json& data = *body->find("data");
  StatusOr<GcodeMetadata> meta = ReadGcodeMetadata(CorpusDir() + "/" + kPrintFile);
  ASSERT_TRUE(meta.ok());
  for (const Json::Member& m : meta->data.as_object()) {
    ASSERT_TRUE(data.contains(m.key)) << m.key;
    EXPECT_EQ(data.find(m.key)->Dump(), m.value.Dump()) << m.key;
  }
  EXPECT_EQ(data.find("preview")->as_string(), meta->Preview()->data);
  EXPECT_EQ(data.find("path")->as_string(), std::string("/usb/") + kPrintFile);
  EXPECT_FALSE(data.find("read_only")->as_bool());
}

TEST(FilesWireTest, SendInfoCarriesTheStoragesAndMediumEventsFollowAttachAndDetach) {
  FilesWire w("SN-FILES-SENDINFO");
  w.AttachAndStart();
  auto inserted = w.emulator_->WaitForEvent(w.fp_, "MEDIUM_INSERTED", kWait);
  ASSERT_TRUE(inserted);
  EXPECT_EQ(inserted->source, "WUI");
  EXPECT_THAT(inserted->json, HasSubstr(R"("root":"/usb")"));
  std::optional<RecordedEvent> info = w.Command("SEND_INFO", "");
  ASSERT_TRUE(info);
  StatusOr<Json> body = Json::Parse(info->json);
  ASSERT_TRUE(body.ok());
  const Json& files = *body->find("data")->find("files");
  EXPECT_EQ(files.find("name")->as_string(), "/");
  EXPECT_EQ(files.find("type")->as_string(), "DIR");
  const Json& usb = (*files.find("children"))[0];
  EXPECT_EQ(usb.find("name")->as_string(), "usb");
  EXPECT_TRUE(usb.contains("free_space"));
  EXPECT_TRUE(usb.contains("total_space"));
  std::vector<std::string> names;
  for (const Json& child : usb.find("children")->as_array())
    names.push_back(child.find("name")->as_string());
  EXPECT_THAT(names, ElementsAre("a", "ab", "full", "locked.gcode", kPrintFile));
  ASSERT_TRUE(w.printer_->detach("usb").ok());
  auto ejected = w.emulator_->WaitForEvent(w.fp_, "MEDIUM_EJECTED", kWait);
  ASSERT_TRUE(ejected);
  EXPECT_THAT(ejected->json, HasSubstr(R"("data":{"root":"/usb"})"));
}

TEST(FilesWireTest, WatcherReportsEachChangeAsFileChanged) {
  FilesWire w("SN-FILES-WATCH");
  w.AttachAndStart();
  const std::string& usb = w.usb_.path();
  size_t n = 0;
  auto step = [&](const std::function<void()>& change, size_t events) {
    change();
    n += events;
    ASSERT_TRUE(w.WaitChanges(n)) << "after " << n - events << ": "
                                  << ::testing::PrintToString(w.Changes());
  };
  step([&] { WriteText(usb + "/new.gcode", "G28\n"); }, 1);       // create
  step([&] { WriteText(usb + "/new.gcode", "G28\nG29\n"); }, 1);  // modify
  step([&] { rename((usb + "/new.gcode").c_str(), (usb + "/a/moved.gcode").c_str()); }, 2);  // move
  step([&] { unlink((usb + "/a/moved.gcode").c_str()); }, 1);                   // delete
  step([&] { ASSERT_TRUE(w.Command("CREATE_FOLDER", Kw("/usb/p/q/r"))); }, 1);  // nested
  EXPECT_THAT(w.Changes(), ElementsAre("+/usb/new.gcode", "~/usb/new.gcode", "-/usb/new.gcode",
                                       "+/usb/a/moved.gcode", "-/usb/a/moved.gcode", "+/usb/p"));
  // The storage folder disappears while watched: its contents go, then the
  // root is reported empty (old_path == new_path == "/usb/").
  testing_files::RemoveAll(usb);
  ASSERT_TRUE(w.emulator_->WaitFor(
      [&] {
        auto c = w.Changes();
        return !c.empty() && c.back() == "~/usb/";
      },
      kWait));
  auto last = w.emulator_->GetEvents(w.fp_).back();
  EXPECT_THAT(last.json,
              HasSubstr(R"("file":{"type":"FOLDER","name":"usb","size":0,"children":[]})"));
  EXPECT_EQ(w.emulator_->GetPrinter(w.fp_)->protocol_error_count, 0);
}

}  // namespace
}  // namespace prusaconnect
