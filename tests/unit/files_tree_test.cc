// Copyright 2026 The libprusaconnect Authors.
//
// Storages and their trees: attaching a folder (the SDK's from_dir + attach),
// the exact legacy and new dict shapes (test_files.py's expectations), file
// types, read_only from the mode bits, links, host-provided storages.
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <map>
#include <memory>
#include <string>

#include "files/tree.h"
#include "files_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "prusaconnect/files.h"

namespace prusaconnect {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing_files::EventLog;
using testing_files::JsonIdentical;
using testing_files::TempDir;
using testing_files::WriteText;

constexpr int64_t kTime = 1596120005;

void SetTime(const std::string& path) {
  struct timespec t[2] = {{kTime, 0}, {kTime, 0}};
  ASSERT_EQ(utimensat(AT_FDCWD, path.c_str(), t, AT_SYMLINK_NOFOLLOW), 0) << path;
}

// test_files.py's `nodes` tree: a/{1.gcode, b/, c/{2.sl1, 3.txt}} and hidden
// entries, each file 3044 bytes, every mtime 1596120005.
void MakeSdkTree(const std::string& root) {
  std::string content(3044, 'x');
  mkdir((root + "/a").c_str(), 0755);
  mkdir((root + "/a/b").c_str(), 0755);
  mkdir((root + "/a/c").c_str(), 0755);
  mkdir((root + "/.h").c_str(), 0755);
  WriteText(root + "/a/1.gcode", content);
  WriteText(root + "/a/c/2.sl1", content);
  WriteText(root + "/a/c/3.txt", content);
  WriteText(root + "/.h/hidden.gcode", content);
  WriteText(root + "/a/.hidden.gcode", content);
  for (const char* p : {"/a/1.gcode", "/a/c/2.sl1", "/a/c/3.txt", "/a/b", "/a/c", "/a", ""}) {
    SetTime(root + p);
  }
}

TEST(FilesystemTree, AttachEmitsMediumInsertedWithTheSdkLegacyTree) {
  TempDir dir;
  MakeSdkTree(dir.path());
  EventLog log;
  Filesystem fs(log.Sink());
  ASSERT_TRUE(fs.Attach(dir.path(), "test").ok());
  auto events = log.events();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].first, Event::MEDIUM_INSERTED);
  const Json& data = events[0].second;
  EXPECT_EQ(data.find("root")->as_string(), "/test");
  Json files = *data.find("files");
  ASSERT_TRUE(files.find("free_space") && files.find("total_space"));
  EXPECT_GT(files.find("free_space")->as_int(), 0);
  EXPECT_GE(files.find("total_space")->as_int(), files.find("free_space")->as_int());
  files.erase("free_space");
  files.erase("total_space");
  // Exactly what the SDK's to_dict_legacy gives, children in name order.
  StatusOr<Json> expected = Json::Parse(R"({"type":"DIR","name":"test","read_only":false,
    "m_timestamp":1596120005,"size":9132,"children":[
     {"type":"DIR","name":"a","read_only":false,"m_timestamp":1596120005,"size":9132,"children":[
      {"type":"FILE","name":"1.gcode","read_only":false,"m_timestamp":1596120005,"size":3044},
      {"type":"DIR","name":"b","read_only":false,"m_timestamp":1596120005,"size":0,"children":[]},
      {"type":"DIR","name":"c","read_only":false,"m_timestamp":1596120005,"size":6088,"children":[
       {"type":"FILE","name":"2.sl1","read_only":false,"m_timestamp":1596120005,"size":3044},
       {"type":"FILE","name":"3.txt","read_only":false,"m_timestamp":1596120005,"size":3044}]}]}]})");
  ASSERT_TRUE(expected.ok());
  EXPECT_TRUE(JsonIdentical(files, *expected));
  // The legacy dict has the 8 keys the SDK's inotify fixture counts.
  EXPECT_EQ(data.find("files")->size(), 8u);
}

TEST(FilesystemTree, SendInfoTreeListsEveryStorageUnderTheRoot) {
  TempDir a, b;
  WriteText(a / "x.gcode", "G28\n");
  Filesystem fs(nullptr);
  Json empty = fs.ToDictLegacy();
  EXPECT_EQ(empty.Dump(), R"({"type":"DIR","name":"/","read_only":true,"children":[]})");
  ASSERT_TRUE(fs.Attach(a.path(), "usb").ok());
  ASSERT_TRUE(fs.Attach(b.path(), "local").ok());
  Json tree = fs.ToDictLegacy();
  const Json& children = *tree.find("children");
  ASSERT_EQ(children.size(), 2u);
  EXPECT_EQ(children[0].find("name")->as_string(), "usb");  // attach order
  EXPECT_EQ(children[1].find("name")->as_string(), "local");
  EXPECT_EQ(children[0].find("children")->size(), 1u);
  EXPECT_THAT(fs.storages(), ElementsAre("usb", "local"));
}

TEST(FilesystemTree, NewFormatDictHasOneLevelOfChildren) {
  TempDir dir;
  MakeSdkTree(dir.path());
  Filesystem fs(nullptr);
  ASSERT_TRUE(fs.Attach(dir.path(), "test").ok());
  std::optional<Node> a = fs.Get("/test/a");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->type, FileType::FOLDER);
  EXPECT_EQ(a->size, 9132);
  ASSERT_EQ(a->children.size(), 3u);
  EXPECT_EQ(a->children[0].type, FileType::PRINT_FILE);
  EXPECT_EQ(a->children[2].children.size(), 2u);
  std::optional<Node> shallow = fs.Get("/test/a", 1);
  ASSERT_TRUE(shallow);
  EXPECT_TRUE(shallow->children[2].children.empty());
  EXPECT_EQ(shallow->children[2].size, 6088);
  EXPECT_FALSE(fs.Get("/test/a/nope"));
  EXPECT_FALSE(fs.Get("/test/.h"));
  EXPECT_FALSE(fs.Get("/nope"));
  EXPECT_EQ(fs.Get("/test/a/c/2.sl1")->m_timestamp, kTime);

  // to_dict() of the folder: children without grandchildren.
  internal::FileTyper typer(FilesystemOptions().print_extensions);
  auto folder = std::make_unique<internal::TreeNode>();
  folder->name = "a";
  folder->is_dir = true;
  auto sub = std::make_unique<internal::TreeNode>();
  sub->name = "c";
  sub->is_dir = true;
  auto file = std::make_unique<internal::TreeNode>();
  file->name = "2.sl1";
  file->size = 3044;
  sub->Insert(std::move(file));
  folder->Insert(std::move(sub));
  EXPECT_EQ(internal::ToDict(*folder, typer, true).Dump(),
            R"({"type":"FOLDER","name":"a","size":3044,"children":[)"
            R"({"type":"FOLDER","name":"c","size":3044}]})");
  EXPECT_EQ(internal::ToDict(*folder, typer, false).Dump(),
            R"({"type":"FOLDER","name":"a","size":3044})");
}

TEST(FilesystemTree, FileTypesFollowTheSdkAndAreConfigurable) {
  TempDir dir;
  for (const char* name :
       {"a.gcode", "B.GCO", "c.g", "d.gc", "fw.hex", "e.bgcode", "f.sl1", "g.txt"}) {
    WriteText(dir / name, "x");
  }
  mkdir((dir / "folder.gcode").c_str(), 0755);
  Filesystem sdk(nullptr);
  ASSERT_TRUE(sdk.Attach(dir.path(), "s").ok());
  std::map<std::string, FileType> types;
  std::optional<Node> root = sdk.Get("/s");
  ASSERT_TRUE(root);
  for (const Node& n : root->children) types[n.name] = n.type;
  EXPECT_EQ(types["a.gcode"], FileType::PRINT_FILE);
  EXPECT_EQ(types["B.GCO"], FileType::PRINT_FILE);
  EXPECT_EQ(types["c.g"], FileType::PRINT_FILE);
  EXPECT_EQ(types["d.gc"], FileType::PRINT_FILE);
  EXPECT_EQ(types["fw.hex"], FileType::FIRMWARE);
  EXPECT_EQ(types["e.bgcode"], FileType::FILE);  // as the SDK (quirk Q38)
  EXPECT_EQ(types["f.sl1"], FileType::FILE);
  EXPECT_EQ(types["g.txt"], FileType::FILE);
  EXPECT_EQ(types["folder.gcode"], FileType::FOLDER);

  FilesystemOptions options;
  options.print_extensions.push_back(".bgcode");
  Filesystem mk4(nullptr, options);
  ASSERT_TRUE(mk4.Attach(dir.path(), "s").ok());
  EXPECT_EQ(mk4.Get("/s/e.bgcode")->type, FileType::PRINT_FILE);
}

TEST(FilesystemTree, ReadOnlyComesFromTheModeBitsEvenForRoot) {
  TempDir dir;
  WriteText(dir / "locked.gcode", "x");
  WriteText(dir / "open.gcode", "x");
  chmod((dir / "locked.gcode").c_str(), 0444);
  Filesystem fs(nullptr);
  ASSERT_TRUE(fs.Attach(dir.path(), "s").ok());
  EXPECT_EQ(fs.Get("/s/locked.gcode")->read_only, true);
  EXPECT_EQ(fs.Get("/s/open.gcode")->read_only, false);
}

TEST(FilesystemTree, LinksAreListedOnlyWhenTheyStayInsideAndLeadToFiles) {
  TempDir dir, outside;
  WriteText(dir / "real.gcode", "G28\n");
  WriteText(outside / "secret.gcode", "G28\n");
  mkdir((dir / "sub").c_str(), 0755);
  ASSERT_EQ(symlink("real.gcode", (dir / "alias.gcode").c_str()), 0);
  ASSERT_EQ(symlink((outside / "secret.gcode").c_str(), (dir / "escape.gcode").c_str()), 0);
  ASSERT_EQ(symlink("/", (dir / "root").c_str()), 0);
  ASSERT_EQ(symlink("sub", (dir / "subalias").c_str()), 0);
  ASSERT_EQ(symlink("missing", (dir / "dangling.gcode").c_str()), 0);
  Filesystem fs(nullptr);
  ASSERT_TRUE(fs.Attach(dir.path(), "s").ok());
  std::vector<std::string> names;
  std::optional<Node> root = fs.Get("/s");
  ASSERT_TRUE(root);
  for (const Node& n : root->children) names.push_back(n.name);
  EXPECT_THAT(names, ElementsAre("alias.gcode", "real.gcode", "sub"));
  EXPECT_EQ(fs.Get("/s/alias.gcode")->size, 4);
}

TEST(FilesystemTree, StorageNamesAreCheckedAsTheSdkAndMore) {
  TempDir dir;
  Filesystem fs(nullptr);
  EXPECT_EQ(fs.Attach(dir.path(), "").message(), "Storage cannot be empty");
  EXPECT_THAT(fs.Attach(dir.path(), "/").message(), HasSubstr("ROOT"));
  EXPECT_EQ(fs.Attach(dir.path(), "a/b").message(), "Storage cannot contain /");
  EXPECT_EQ(fs.Attach(dir.path(), ".hidden").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(fs.Attach(dir.path(), "a#b").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(fs.Attach(dir / "missing", "x").code(), StatusCode::kNotFound);
  WriteText(dir / "file", "x");
  EXPECT_EQ(fs.Attach(dir / "file", "x").code(), StatusCode::kFailedPrecondition);
  ASSERT_TRUE(fs.Attach(dir.path(), "usb").ok());
  EXPECT_EQ(fs.Attach(dir.path(), "usb").message(), "`usb` is already used");
  EXPECT_EQ(fs.Attach(dir.path(), "usb").code(), StatusCode::kAlreadyExists);
}

TEST(FilesystemTree, DetachEmitsMediumEjected) {
  TempDir dir;
  EventLog log;
  Filesystem fs(log.Sink());
  ASSERT_TRUE(fs.Attach(dir.path(), "usb").ok());
  ASSERT_TRUE(fs.Detach("usb").ok());
  auto events = log.events();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].first, Event::MEDIUM_EJECTED);
  EXPECT_EQ(events[1].second.Dump(), R"({"root":"/usb"})");
  EXPECT_EQ(fs.Detach("usb").code(), StatusCode::kNotFound);
  EXPECT_EQ(fs.stats().watches, 0u);
  EXPECT_TRUE(fs.storages().empty());
}

// A host-provided storage, e.g. OctoPrint's file list.
class FakeProvider : public StorageProvider {
 public:
  std::string name() const override { return "local"; }
  StatusOr<Node> List() override {
    ++lists;
    return tree;
  }
  SpaceInfo Space() override { return {1000, 5000}; }
  Status DeleteFile(const std::string& path) override {
    deleted.push_back(path);
    auto& kids = tree.children;
    kids.erase(
        std::remove_if(kids.begin(), kids.end(), [&](const Node& n) { return n.name == path; }),
        kids.end());
    return Status();
  }
  StatusOr<GcodeMetadata> Metadata(const std::string& path) override {
    GcodeMetadata m;
    m.data.set("printer_model", "MK4");
    m.data.set("asked", path);
    return m;
  }

  Node tree;
  int lists = 0;
  std::vector<std::string> deleted;
};

Node FileNode(const std::string& name, int64_t size) {
  Node n;
  n.name = name;
  n.size = size;
  n.m_timestamp = kTime;
  n.read_only = false;
  return n;
}

TEST(FilesystemTree, ProvidedStorageWorksLikeALocalOne) {
  auto provider = std::make_shared<FakeProvider>();
  provider->tree.is_dir = true;
  provider->tree.children = {FileNode("a.gcode", 10), FileNode(".hidden.gcode", 1)};
  EventLog log;
  Filesystem fs(log.Sink());
  ASSERT_TRUE(fs.AttachProvider(provider).ok());
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log.events()[0].second.Dump(),
            R"({"root":"/local","files":{"type":"DIR","name":"local","size":10,"children":[)"
            R"({"type":"FILE","name":"a.gcode","read_only":false,"m_timestamp":1596120005,)"
            R"("size":10}],"free_space":1000,"total_space":5000}})");

  // The host tells about a change: Refresh reports the differences.
  provider->tree.children.push_back(FileNode("b.gcode", 20));
  provider->tree.children[0].size = 11;
  ASSERT_TRUE(fs.Refresh("local").ok());
  EXPECT_THAT(log.Changes(), ElementsAre("~/local/a.gcode", "+/local/b.gcode"));

  StatusOr<Json> info = fs.FileInfo("/local/b.gcode");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->Dump(),
            R"({"path":"/local/b.gcode","read_only":false,"size":20,"m_timestamp":1596120005,)"
            R"("printer_model":"MK4","asked":"b.gcode"})");

  ASSERT_TRUE(fs.DeleteFile("/local/a.gcode").ok());
  EXPECT_THAT(provider->deleted, ElementsAre("a.gcode"));
  EXPECT_THAT(log.Changes(), ElementsAre("~/local/a.gcode", "+/local/b.gcode", "-/local/a.gcode"));
  Status unsupported = fs.CreateFolder("/local/new");
  EXPECT_EQ(unsupported.code(), StatusCode::kUnimplemented);
  EXPECT_THAT(unsupported.message(), HasSubstr("not supported by this storage"));
  EXPECT_EQ(fs.OsPath("/local/b.gcode").status().code(), StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace prusaconnect
