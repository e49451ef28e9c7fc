// Copyright 2026 The libprusaconnect Authors.
//
// Change watching with the real kernel inotify: the FILE_CHANGED sequence
// for create, modify, move, delete, nested folders and a storage folder that
// disappears; what the SDK got wrong (unknown nodes, hidden folders,
// unbounded memory); and one inotify instance for the whole process.
// Every wait is a bounded wait on a condition, never a sleep.
#include <fcntl.h>
#include <malloc.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "files/inotify.h"
#include "files_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "prusaconnect/files.h"

namespace prusaconnect {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using testing_files::EventLog;
using testing_files::RemoveAll;
using testing_files::TempDir;
using testing_files::WriteText;

constexpr int kWaitMs = 10000;

class WatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs_ = std::make_unique<Filesystem>(log_.Sink());
    ASSERT_TRUE(fs_->Attach(dir_.path(), "test").ok());
    SettleAndClear();
  }

  // Waits until `n` FILE_CHANGED events arrived.
  bool WaitChanges(size_t n) {
    return log_.WaitFor(
        [n](const auto& ev) {
          size_t c = 0;
          for (const auto& e : ev) c += e.first == Event::FILE_CHANGED;
          return c >= n;
        },
        kWaitMs);
  }
  Json LastData() { return log_.events().back().second; }
  // Clears the log once every event emitted so far has arrived.
  void SettleAndClear() {
    ASSERT_TRUE(log_.Settle(fs_->stats().events));
    log_.Clear();
  }

  TempDir dir_;
  EventLog log_;
  std::unique_ptr<Filesystem> fs_;
};

TEST_F(WatchTest, CreatedFileIsReportedWithItsAttributes) {
  WriteText(dir_ / "simple.gcode", "G28\n");
  ASSERT_TRUE(WaitChanges(1));
  Json d = LastData();
  EXPECT_EQ(d.find("new_path")->as_string(), "/test/simple.gcode");
  EXPECT_FALSE(d.contains("old_path"));
  const Json& file = *d.find("file");
  EXPECT_EQ(file.find("type")->as_string(), "PRINT_FILE");
  EXPECT_EQ(file.find("name")->as_string(), "simple.gcode");
  EXPECT_EQ(file.find("read_only")->as_bool(), false);
  EXPECT_EQ(std::to_string(file.find("m_timestamp")->as_int()).size(), 10u);
  EXPECT_EQ(file.find("size")->as_int(), 4);
  EXPECT_GT(d.find("free_space")->as_int(), 0);
  // Key order as the SDK's send_file_changed builds it.
  EXPECT_EQ(d.as_object()[0].key, "new_path");
  EXPECT_EQ(d.as_object()[1].key, "file");
  EXPECT_EQ(d.as_object()[2].key, "free_space");
  EXPECT_TRUE(fs_->Get("/test/simple.gcode"));
}

TEST_F(WatchTest, ProcessPendingChangesDeliversBeforeItReturns) {
  // The SDK's inotify_handler(): a change the kernel has queued (it is
  // queued by the time close() returns) is in the tree and reported as
  // FILE_CHANGED when the call returns, whoever read it first.
  for (int i = 0; i < 50; ++i) {
    std::string name = "p" + std::to_string(i) + ".gcode";
    WriteText(dir_ / name, "G28\n");
    fs_->ProcessPendingChanges();
    EXPECT_TRUE(fs_->Get("/test/" + name)) << name;
  }
  fs_->ProcessPendingChanges();  // nothing pending: returns at once
}

TEST_F(WatchTest, ProcessPendingChangesFromManyThreadsAtAnyRate) {
  std::atomic<bool> stop{false};
  std::vector<std::thread> callers;
  for (int t = 0; t < 4; ++t) {
    callers.emplace_back([&] {
      while (!stop) fs_->ProcessPendingChanges();
    });
  }
  for (int i = 0; i < 200; ++i) WriteText(dir_ / ("m" + std::to_string(i) + ".gcode"), "G1\n");
  fs_->ProcessPendingChanges();
  stop = true;
  for (std::thread& t : callers) t.join();
  for (int i = 0; i < 200; ++i) EXPECT_TRUE(fs_->Get("/test/m" + std::to_string(i) + ".gcode"));
  ASSERT_TRUE(WaitChanges(200));
}

TEST_F(WatchTest, ModifiedFileIsReportedWithOldAndNewPath) {
  WriteText(dir_ / "m.gcode", "G28\n");
  ASSERT_TRUE(WaitChanges(1));
  {
    FILE* f = fopen((dir_ / "m.gcode").c_str(), "a");
    fputs("G1 X1\n", f);
    fclose(f);
  }
  ASSERT_TRUE(WaitChanges(2));
  Json d = LastData();
  EXPECT_EQ(d.find("old_path")->as_string(), "/test/m.gcode");
  EXPECT_EQ(d.find("new_path")->as_string(), "/test/m.gcode");
  EXPECT_EQ(d.find("file")->find("size")->as_int(), 10);
  EXPECT_TRUE(d.contains("free_space"));
}

TEST_F(WatchTest, DeletedFileIsReportedWithItsOldPath) {
  WriteText(dir_ / "gone.gcode", "x");
  WriteText(dir_ / "stays.gcode", "x");
  ASSERT_TRUE(WaitChanges(2));
  unlink((dir_ / "gone.gcode").c_str());
  ASSERT_TRUE(WaitChanges(3));
  Json d = LastData();
  EXPECT_EQ(d.Dump().find("new_path"), std::string::npos);
  EXPECT_EQ(d.find("old_path")->as_string(), "/test/gone.gcode");
  EXPECT_FALSE(fs_->Get("/test/gone.gcode"));
  EXPECT_TRUE(fs_->Get("/test/stays.gcode"));
}

TEST_F(WatchTest, MoveIsADeleteThenACreate) {
  mkdir((dir_ / "a").c_str(), 0755);
  mkdir((dir_ / "a/c").c_str(), 0755);
  ASSERT_TRUE(WaitChanges(1));  // "a" (with c inside, listed at once or later)
  ASSERT_TRUE(fs_->WaitUntilPath("/test/a/c", kWaitMs));
  WriteText(dir_ / "a/1.gcode", "x");
  ASSERT_TRUE(fs_->WaitUntilPath("/test/a/1.gcode", kWaitMs));
  SettleAndClear();
  ASSERT_EQ(rename((dir_ / "a/1.gcode").c_str(), (dir_ / "a/c/1.gcode").c_str()), 0);
  ASSERT_TRUE(WaitChanges(2));
  EXPECT_THAT(log_.Changes(), ElementsAre("-/test/a/1.gcode", "+/test/a/c/1.gcode"));
  // A renamed folder: its old name goes, the new one comes with its content.
  SettleAndClear();
  ASSERT_EQ(rename((dir_ / "a/c").c_str(), (dir_ / "a/d").c_str()), 0);
  ASSERT_TRUE(WaitChanges(3));
  EXPECT_THAT(log_.Changes(), ElementsAre("-/test/a/c", "+/test/a/d/1.gcode", "+/test/a/d"));
  // The moved folder is watched under its new name.
  WriteText(dir_ / "a/d/2.gcode", "x");
  ASSERT_TRUE(fs_->WaitUntilPath("/test/a/d/2.gcode", kWaitMs));
}

TEST_F(WatchTest, CreateFolderMakesTheWholeChainAppearAsOneChange) {
  ASSERT_TRUE(fs_->CreateFolder("/test/n1/n2/n3").ok());
  ASSERT_TRUE(WaitChanges(1));
  ASSERT_TRUE(fs_->WaitUntilPath("/test/n1/n2/n3", kWaitMs));
  EXPECT_THAT(log_.Changes(), ElementsAre("+/test/n1"));
  Json last = LastData();
  const Json& file = *last.find("file");
  EXPECT_EQ(file.find("type")->as_string(), "FOLDER");
  ASSERT_EQ(file.find("children")->size(), 1u);
  EXPECT_EQ((*file.find("children"))[0].find("name")->as_string(), "n2");
  EXPECT_FALSE((*file.find("children"))[0].contains("children"));
  // Existing folders are fine; a deeper one below them is again one change.
  ASSERT_TRUE(fs_->CreateFolder("/test/n1/n2").ok());
  ASSERT_TRUE(fs_->CreateFolder("/test/n1/x/y").ok());
  ASSERT_TRUE(WaitChanges(2));
  EXPECT_THAT(log_.Changes(), ElementsAre("+/test/n1", "+/test/n1/x"));
  // No temporary folder is left behind.
  std::string listing = testing_files::Snapshot(dir_.path());
  EXPECT_EQ(listing.find(".pc-mkdir"), std::string::npos) << listing;
}

TEST_F(WatchTest, NestedMkdirOutsideTheLibraryEndsWithTheWholeTree) {
  // mkdir -p races the watcher: the outer folder is reported first, inner
  // ones either inside it or as their own changes.
  ASSERT_EQ(mkdir((dir_ / "p").c_str(), 0755), 0);
  ASSERT_EQ(mkdir((dir_ / "p/q").c_str(), 0755), 0);
  ASSERT_EQ(mkdir((dir_ / "p/q/r").c_str(), 0755), 0);
  WriteText(dir_ / "p/q/r/deep.gcode", "x");
  ASSERT_TRUE(fs_->WaitUntilPath("/test/p/q/r/deep.gcode", kWaitMs));
  ASSERT_TRUE(log_.Settle(fs_->stats().events));
  std::vector<std::string> changes = log_.Changes();
  EXPECT_THAT(changes, Contains("+/test/p"));
  EXPECT_THAT(changes, Contains("+/test/p/q/r/deep.gcode"));
}

TEST_F(WatchTest, FolderMovedInReportsItsFilesThenItself) {
  TempDir outside;
  mkdir((outside / "new").c_str(), 0755);
  mkdir((outside / "new/inner").c_str(), 0755);
  WriteText(outside / "new/top.gcode", "x");
  WriteText(outside / "new/inner/deep.gcode", "x");
  ASSERT_EQ(rename((outside / "new").c_str(), (dir_ / "new").c_str()), 0);
  ASSERT_TRUE(WaitChanges(3));
  EXPECT_THAT(log_.Changes(),
              ElementsAre("+/test/new/top.gcode", "+/test/new/inner/deep.gcode", "+/test/new"));
}

TEST_F(WatchTest, StorageFolderRemovedWhileWatched) {
  mkdir((dir_ / "a").c_str(), 0755);
  WriteText(dir_ / "a/x.gcode", "x");
  ASSERT_TRUE(fs_->WaitUntilPath("/test/a/x.gcode", kWaitMs));
  SettleAndClear();
  RemoveAll(dir_.path());
  ASSERT_TRUE(log_.WaitFor(
      [](const auto& ev) {
        return !ev.empty() && ev.back().second.contains("old_path") &&
               ev.back().second.find("old_path")->as_string() == "/test/";
      },
      kWaitMs));
  Json d = LastData();
  EXPECT_EQ(d.find("new_path")->as_string(), "/test/");
  EXPECT_EQ(d.find("file")->Dump(), R"({"type":"FOLDER","name":"test","size":0,"children":[]})");
  EXPECT_FALSE(d.contains("free_space"));
  EXPECT_THAT(log_.Changes(), Contains("-/test/a/x.gcode"));
  EXPECT_TRUE(fs_->Get("/test")->children.empty());
  // It stays attached (empty) until detached, which works as usual.
  EXPECT_TRUE(fs_->Detach("test").ok());
  EXPECT_EQ(fs_->stats().watches, 0u);
}

TEST_F(WatchTest, HiddenEntriesAreNeitherListedNorWatched) {
  mkdir((dir_ / ".hidden").c_str(), 0755);
  WriteText(dir_ / ".hidden/x.gcode", "x");
  WriteText(dir_ / ".dot.gcode", "x");
  WriteText(dir_ / "visible.gcode", "x");  // a marker that the others were seen first
  ASSERT_TRUE(WaitChanges(1));
  EXPECT_THAT(log_.Changes(), ElementsAre("+/test/visible.gcode"));
  EXPECT_EQ(fs_->stats().watches, 1u);  // the storage folder only
}

TEST_F(WatchTest, ChangeToAnUnknownNodeIsIgnored) {
  // Created and deleted before its CLOSE_WRITE: the delete names a node the
  // tree never had (the SDK raised AttributeError out of its handler).
  int fd = open((dir_ / "ghost.gcode").c_str(), O_CREAT | O_RDONLY, 0644);
  ASSERT_GE(fd, 0);
  unlink((dir_ / "ghost.gcode").c_str());
  close(fd);
  WriteText(dir_ / "after.gcode", "x");
  ASSERT_TRUE(WaitChanges(1));
  EXPECT_THAT(log_.Changes(), ElementsAre("+/test/after.gcode"));
  EXPECT_GE(fs_->stats().ignored_changes, 1u);
}

size_t HeapInUse() { return mallinfo2().uordblks; }

TEST(WatchChurnTest, TenThousandChangesLeaveNothingBehind) {
  TempDir dir;
  std::mutex mu;
  std::condition_variable cv;
  uint64_t received = 0;
  Filesystem fs([&](Event, const Json&) {  // keeps nothing
    std::lock_guard<std::mutex> l(mu);
    ++received;
    cv.notify_all();
  });
  // Everything emitted so far has been handed over (nothing is in flight).
  auto settle = [&] {
    std::unique_lock<std::mutex> l(mu);
    uint64_t emitted = fs.stats().events;
    return cv.wait_for(l, std::chrono::milliseconds(kWaitMs), [&] { return received >= emitted; });
  };
  mkdir((dir / "churn").c_str(), 0755);
  ASSERT_TRUE(fs.Attach(dir.path(), "test").ok());
  Filesystem::Stats before = fs.stats();
  size_t hub_before = internal::InotifyHub::Instance().watch_count();
  // Warm up allocator caches before measuring.
  for (int i = 0; i < 200; ++i) {
    std::string p = dir / ("churn/w" + std::to_string(i) + ".gcode");
    WriteText(p, "x");
    unlink(p.c_str());
  }
  WriteText(dir / "churn/warm.done", "x");
  ASSERT_TRUE(fs.WaitUntilPath("/test/churn/warm.done", kWaitMs));
  // 5000 files appear, then go: 10,000 changes (and 100 more for folders).
  // Done twice: what the second round leaves must equal what the first left.
  auto churn = [&](int round) {
    std::string prefix = "churn/r" + std::to_string(round) + "_";
    // The folders come first: inotify reports one watch's changes in order,
    // so once the last file is seen every folder has come and gone. (After
    // the files, the watcher could still be between a folder's mkdir and
    // rmdir when the count below is read.)
    for (int i = 0; i < 50; ++i) {
      std::string p = dir / (prefix + "d" + std::to_string(i));
      mkdir(p.c_str(), 0755);
      rmdir(p.c_str());
    }
    for (int i = 0; i < 5000; ++i)
      WriteText(dir / (prefix + std::to_string(i) + ".gcode"), "G28\n");
    std::string last = "/test/" + prefix + "4999.gcode";
    ASSERT_TRUE(fs.WaitUntilPath(last, kWaitMs));
    EXPECT_EQ(fs.stats().nodes, before.nodes + 5001);  // with warm.done
    for (int i = 0; i < 5000; ++i) unlink((dir / (prefix + std::to_string(i) + ".gcode")).c_str());
    ASSERT_TRUE(fs.WaitUntilPath(last, kWaitMs, /*exists=*/false));
    ASSERT_TRUE(fs.WaitUntilPath("/test/" + prefix + "0.gcode", kWaitMs, /*exists=*/false));
  };
  churn(1);
  ASSERT_TRUE(settle());
  Filesystem::Stats mid = fs.stats();
  size_t heap_mid = HeapInUse();
  churn(2);
  ASSERT_TRUE(settle());
  Filesystem::Stats after = fs.stats();
  size_t heap_after = HeapInUse();
  EXPECT_EQ(mid.nodes, before.nodes + 1);
  EXPECT_EQ(after.nodes, before.nodes + 1);
  EXPECT_EQ(after.watches, before.watches);
  EXPECT_EQ(internal::InotifyHub::Instance().watch_count(), hub_before);
  // Every change was seen (or, after a queue overflow, caught up by a rescan).
  EXPECT_TRUE(after.events >= mid.events + 10000 || after.rescans > mid.rescans)
      << after.events - mid.events << " events";
  // Bounded: a second round of 10,000 changes holds nothing more than the
  // first left behind (capacities of the largest folder and batch seen).
  EXPECT_LT(heap_after, heap_mid + 64 * 1024) << heap_mid << " -> " << heap_after;
}

int InotifyDescriptors() {
  int count = 0;
  for (int fd = 0; fd < 4096; ++fd) {
    char link[64], target[256];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, target, sizeof target - 1);
    if (n <= 0) continue;
    target[n] = 0;
    if (std::string(target) == "anon_inode:inotify") ++count;
  }
  return count;
}

TEST(InotifyHubTest, OneInstanceForEveryPrinterAndStorage) {
  TempDir a, b;
  std::vector<std::unique_ptr<Filesystem>> printers;
  for (int i = 0; i < 3; ++i) {
    printers.push_back(std::make_unique<Filesystem>(nullptr));
    ASSERT_TRUE(printers.back()->Attach(a.path(), "usb").ok());
    ASSERT_TRUE(printers.back()->Attach(b.path(), "local").ok());
  }
  EXPECT_EQ(InotifyDescriptors(), 1);
}

TEST(InotifyHubTest, TwoStoragesOnOneFolderShareItsWatch) {
  TempDir dir;
  EventLog first_log, second_log;
  auto first = std::make_unique<Filesystem>(first_log.Sink());
  Filesystem second(second_log.Sink());
  ASSERT_TRUE(first->Attach(dir.path(), "a").ok());
  ASSERT_TRUE(second.Attach(dir.path(), "b").ok());
  WriteText(dir / "one.gcode", "x");
  ASSERT_TRUE(first->WaitUntilPath("/a/one.gcode", kWaitMs));
  ASSERT_TRUE(second.WaitUntilPath("/b/one.gcode", kWaitMs));
  first.reset();  // the other keeps the shared watch
  WriteText(dir / "two.gcode", "x");
  ASSERT_TRUE(second.WaitUntilPath("/b/two.gcode", kWaitMs));
  ASSERT_TRUE(second_log.Settle(second.stats().events));
  EXPECT_THAT(second_log.Changes(), Contains("+/b/two.gcode"));
}

}  // namespace
}  // namespace prusaconnect
