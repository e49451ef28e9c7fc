// Copyright 2026 The libprusaconnect Authors.
//
// Helpers shared by the files tests: temporary folders, file writing, the
// golden corpus location, a strict JSON comparison and an event recorder.
#ifndef PRUSACONNECT_TESTS_UNIT_FILES_TEST_UTIL_H_
#define PRUSACONNECT_TESTS_UNIT_FILES_TEST_UTIL_H_

#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <functional>
#include <mutex>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "prusaconnect/const.h"
#include "prusaconnect/files.h"
#include "prusaconnect/json.h"

namespace prusaconnect::testing_files {

// tests/data/gcode, found from this file's own path.
inline std::string CorpusDir() {
  std::string here = __FILE__;
  return here.substr(0, here.rfind("/unit/")) + "/data/gcode";
}

inline std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void WriteText(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

inline void RemoveAll(const std::string& path) {
  struct stat st;
  if (lstat(path.c_str(), &st) != 0) return;
  if (S_ISDIR(st.st_mode)) {
    chmod(path.c_str(), 0755);
    if (DIR* d = opendir(path.c_str())) {
      std::vector<std::string> names;
      while (struct dirent* e = readdir(d)) {
        std::string n = e->d_name;
        if (n != "." && n != "..") names.push_back(n);
      }
      closedir(d);
      for (const std::string& n : names) RemoveAll(path + "/" + n);
    }
    rmdir(path.c_str());
  } else {
    unlink(path.c_str());
  }
}

// A fresh temporary folder, removed with everything in it at the end.
class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/pc-files-XXXXXX";
    path_ = mkdtemp(tmpl);
  }
  ~TempDir() { RemoveAll(path_); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& rel) const { return path_ + "/" + rel; }

 private:
  std::string path_;
};

// Every name below `root` with its kind, size and mtime: a fingerprint of a
// folder to prove that nothing in it changed.
inline std::string Snapshot(const std::string& root) {
  std::string out;
  std::function<void(const std::string&, const std::string&)> walk = [&](const std::string& dir,
                                                                         const std::string& rel) {
    DIR* d = opendir(dir.c_str());
    if (d == nullptr) return;
    std::vector<std::string> names;
    while (struct dirent* e = readdir(d)) {
      std::string n = e->d_name;
      if (n != "." && n != "..") names.push_back(n);
    }
    closedir(d);
    std::sort(names.begin(), names.end());
    for (const std::string& n : names) {
      struct stat st;
      std::string p = dir + "/" + n;
      if (lstat(p.c_str(), &st) != 0) continue;
      out += rel + n + " " + std::to_string(st.st_mode) + " " + std::to_string(st.st_size) + " " +
             std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec) + "\n";
      if (S_ISDIR(st.st_mode)) walk(p, rel + n + "/");
    }
  };
  walk(root, "");
  return out;
}

// Exact comparison: same types (1 is not 1.0), same member order.
inline ::testing::AssertionResult JsonIdentical(const Json& a, const Json& b,
                                                const std::string& where = "$") {
  if (a.type() != b.type()) {
    return ::testing::AssertionFailure()
           << where << ": " << a.Dump() << " differs in type from " << b.Dump();
  }
  switch (a.type()) {
    case Json::Type::kArray:
      if (a.size() != b.size()) {
        return ::testing::AssertionFailure() << where << ": " << a.size() << " vs " << b.size()
                                             << " items: " << a.Dump() << " vs " << b.Dump();
      }
      for (size_t i = 0; i < a.size(); ++i) {
        auto r = JsonIdentical(a[i], b[i], where + "[" + std::to_string(i) + "]");
        if (!r) return r;
      }
      return ::testing::AssertionSuccess();
    case Json::Type::kObject: {
      const Json::Object& x = a.as_object();
      const Json::Object& y = b.as_object();
      for (size_t i = 0; i < std::max(x.size(), y.size()); ++i) {
        if (i >= x.size() || i >= y.size() || x[i].key != y[i].key) {
          return ::testing::AssertionFailure()
                 << where << ": keys differ at #" << i << ": " << a.Dump() << "\n vs " << b.Dump();
        }
        auto r = JsonIdentical(x[i].value, y[i].value, where + "." + x[i].key);
        if (!r) return r;
      }
      return ::testing::AssertionSuccess();
    }
    case Json::Type::kDouble:
      if (a.as_double() == b.as_double()) return ::testing::AssertionSuccess();
      break;
    default:
      if (a == b) return ::testing::AssertionSuccess();
      break;
  }
  return ::testing::AssertionFailure() << where << ": " << a.Dump() << " != " << b.Dump();
}

// Records what a Filesystem emits; waits are bounded condition waits.
class EventLog {
 public:
  Filesystem::EventSink Sink() {
    return [this](Event e, const Json& data) {
      std::lock_guard<std::mutex> l(mu_);
      events_.emplace_back(e, data);
      ++total_;
      cv_.notify_all();
    };
  }
  std::vector<std::pair<Event, Json>> events() const {
    std::lock_guard<std::mutex> l(mu_);
    return events_;
  }
  size_t size() const {
    std::lock_guard<std::mutex> l(mu_);
    return events_.size();
  }
  void Clear() {
    std::lock_guard<std::mutex> l(mu_);
    events_.clear();
  }
  // Every event received, cleared or not.
  uint64_t total() const {
    std::lock_guard<std::mutex> l(mu_);
    return total_;
  }
  // Waits until the sink has received all `emitted` events (a Filesystem's
  // stats().events), so that nothing is still on its way.
  bool Settle(uint64_t emitted, int ms = 10000) {
    std::unique_lock<std::mutex> l(mu_);
    return cv_.wait_for(l, std::chrono::milliseconds(ms), [&] { return total_ >= emitted; });
  }
  // Waits until `pred(events)` holds, up to `ms`.
  bool WaitFor(const std::function<bool(const std::vector<std::pair<Event, Json>>&)>& pred,
               int ms = 10000) {
    std::unique_lock<std::mutex> l(mu_);
    return cv_.wait_for(l, std::chrono::milliseconds(ms), [&] { return pred(events_); });
  }
  bool WaitForCount(size_t n, int ms = 10000) {
    return WaitFor([n](const auto& ev) { return ev.size() >= n; }, ms);
  }
  // The FILE_CHANGED events as compact strings: "+/usb/a" (new_path only),
  // "-/usb/a" (old_path only), "~/usb/a" (both).
  std::vector<std::string> Changes() const {
    std::vector<std::string> out;
    for (const auto& [e, d] : events()) {
      if (e != Event::FILE_CHANGED) continue;
      const Json* o = d.find("old_path");
      const Json* n = d.find("new_path");
      if (o && n) {
        out.push_back("~" + n->as_string());
      } else if (n) {
        out.push_back("+" + n->as_string());
      } else if (o) {
        out.push_back("-" + o->as_string());
      }
    }
    return out;
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::pair<Event, Json>> events_;
  uint64_t total_ = 0;
};

}  // namespace prusaconnect::testing_files

#endif  // PRUSACONNECT_TESTS_UNIT_FILES_TEST_UTIL_H_
