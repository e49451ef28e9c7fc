// Copyright 2026 The libprusaconnect Authors.
//
// Benchmarks of the files feature (Google Benchmark), the figures of
// docs/PERFORMANCE.md "Files (issue #3)":
//
//   BM_MetadataLarge     metadata + preview of a 200 MB G-code (the file of
//                        tests/data/gcode/large_recipe.json, built once)
//   BM_ScanStorage       attach (list + watch every folder) and detach a
//                        storage of 10,000 files in 100 folders
//   BM_ScanOnly          the listing alone, without the MEDIUM_INSERTED dict
//   BM_LegacyTree        SEND_INFO's "files" tree of that storage, as Json
//   BM_LegacyTreeDump    that tree serialised (Json::Dump)
//   BM_LegacyTreeCopy    that tree built and copied once (as BuildInfo does)
//   BM_SendInfo          Printer::get_info() with that storage + Json::Dump
//                        (the 1.2 MB body); reports its size
//   BM_SendInfoEventBody the INFO event body rendered from get_info()
//                        (get_info + RenderEvent: null filtering, Dump)
//   BM_SendInfoAnswer    the built-in SEND_INFO answer as the session makes
//                        it (Session::InfoEventHead + the command's fields:
//                        the tree written as text, never built as Json)
//   BM_TreeMemory        heap held by that storage's tree (counter
//                        "bytes_held", "bytes_per_node")
//
// Run: build/bench/files_bench [--benchmark_min_time=1]
// The trees live in a temporary folder removed at exit.
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "facade/printer_session.h"
#include "files/commands.h"
#include "files/paths.h"
#include "files/storage.h"
#include "protocol/render.h"
#include "protocol/session.h"
#include "prusaconnect/files.h"
#include "prusaconnect/printer.h"

namespace {

using prusaconnect::Filesystem;
using prusaconnect::Json;

std::string CorpusDir() {
  std::string here = __FILE__;
  return here.substr(0, here.rfind("/bench/")) + "/tests/data/gcode";
}

std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The benchmark's temporary folder, removed at exit.
class Workspace {
 public:
  static Workspace& Get() {
    static Workspace w;
    return w;
  }
  const std::string& root() const { return root_; }

  // 200 MB G-code assembled from the corpus recipe.
  const std::string& LargeGcode() {
    if (!large_.empty()) return large_;
    StatusOrJson recipe = Json::Parse(ReadText(CorpusDir() + "/large_recipe.json"));
    large_ = root_ + "/" + recipe->find("name")->as_string();
    std::ofstream out(large_, std::ios::binary);
    out << ReadText(CorpusDir() + "/" + recipe->find("head")->as_string());
    std::string line = recipe->find("filler_line")->as_string();
    int64_t count = recipe->find("filler_count")->as_int();
    std::string block;
    for (int i = 0; i < 10000; ++i) block += line;
    for (int64_t i = 0; i < count / 10000; ++i) out << block;
    for (int64_t i = 0; i < count % 10000; ++i) out << line;
    out << ReadText(CorpusDir() + "/" + recipe->find("tail")->as_string());
    return large_;
  }

  // 10,000 files in 100 folders, names as slicers write them.
  const std::string& Storage() {
    if (!storage_.empty()) return storage_;
    storage_ = root_ + "/storage";
    mkdir(storage_.c_str(), 0755);
    for (int d = 0; d < 100; ++d) {
      char dir[64];
      snprintf(dir, sizeof dir, "/project_%03d_prints", d);
      std::string dpath = storage_ + dir;
      mkdir(dpath.c_str(), 0755);
      for (int f = 0; f < 100; ++f) {
        char name[96];
        snprintf(name, sizeof name, "/part_%03d_%03d_0.2mm_PLA_MK4IS_1h23m.gcode", d, f);
        int fd = open((dpath + name).c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        std::string body(static_cast<size_t>(100 + f * 7), 'G');
        if (write(fd, body.data(), body.size()) < 0) abort();
        close(fd);
      }
    }
    return storage_;
  }

 private:
  using StatusOrJson = prusaconnect::StatusOr<Json>;
  Workspace() {
    char tmpl[] = "/tmp/pc-files-bench-XXXXXX";
    root_ = mkdtemp(tmpl);
  }
  ~Workspace() {
    std::string cmd = "rm -rf '" + root_ + "'";
    if (system(cmd.c_str()) != 0) fprintf(stderr, "could not remove %s\n", root_.c_str());
  }
  std::string root_, large_, storage_;
};

void BM_MetadataLarge(benchmark::State& state) {
  const std::string& path = Workspace::Get().LargeGcode();
  prusaconnect::ReadGcodeMetadata(path);  // page cache warm, as for the reference
  for (auto _ : state) {
    auto meta = prusaconnect::ReadGcodeMetadata(path);
    const prusaconnect::Thumbnail* preview = meta->Preview();
    benchmark::DoNotOptimize(preview);
  }
  struct stat st;
  stat(path.c_str(), &st);
  state.counters["file_MB"] = static_cast<double>(st.st_size) / 1e6;
}
BENCHMARK(BM_MetadataLarge)->Unit(benchmark::kMillisecond);

void BM_ScanStorage(benchmark::State& state) {
  const std::string& dir = Workspace::Get().Storage();
  Filesystem fs(nullptr);
  for (auto _ : state) {
    if (!fs.Attach(dir, "usb").ok()) state.SkipWithError("attach failed");
    state.PauseTiming();
    size_t nodes = fs.stats().nodes;
    if (!fs.Detach("usb").ok()) state.SkipWithError("detach failed");
    state.ResumeTiming();
    benchmark::DoNotOptimize(nodes);
  }
}
BENCHMARK(BM_ScanStorage)->Unit(benchmark::kMillisecond);

void BM_ScanOnly(benchmark::State& state) {
  using prusaconnect::internal::InotifyHub;
  using prusaconnect::internal::StorageState;
  using prusaconnect::internal::TreeNode;
  const std::string& dir = Workspace::Get().Storage();
  struct NullListener : prusaconnect::internal::InotifyListener {
    void OnInotifyEvents(const std::vector<prusaconnect::internal::InotifyEvent>&) override {}
  };
  for (auto _ : state) {
    StorageState s;
    s.name = "usb";
    s.os_root = dir;
    s.watcher = std::make_unique<NullListener>();
    s.root = std::make_unique<TreeNode>();
    s.root->is_dir = true;
    prusaconnect::internal::UniqueFd fd(open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    prusaconnect::internal::ScanFolder(s, s.root.get(), fd.get(), dir, &s.wds);
    state.PauseTiming();
    InotifyHub::Instance().RemoveListener(s.watcher.get());
    state.ResumeTiming();
  }
}
BENCHMARK(BM_ScanOnly)->Unit(benchmark::kMillisecond);

void BM_LegacyTree(benchmark::State& state) {
  Filesystem fs(nullptr);
  if (!fs.Attach(Workspace::Get().Storage(), "usb").ok()) state.SkipWithError("attach failed");
  for (auto _ : state) {
    Json tree = fs.ToDictLegacy();
    benchmark::DoNotOptimize(tree);
  }
}
BENCHMARK(BM_LegacyTree)->Unit(benchmark::kMillisecond);

void BM_LegacyTreeDump(benchmark::State& state) {
  Filesystem fs(nullptr);
  if (!fs.Attach(Workspace::Get().Storage(), "usb").ok()) state.SkipWithError("attach failed");
  for (auto _ : state) {
    std::string body = fs.ToDictLegacy().Dump();
    benchmark::DoNotOptimize(body);
  }
}
BENCHMARK(BM_LegacyTreeDump)->Unit(benchmark::kMillisecond);

void BM_LegacyTreeCopy(benchmark::State& state) {
  Filesystem fs(nullptr);
  if (!fs.Attach(Workspace::Get().Storage(), "usb").ok()) state.SkipWithError("attach failed");
  for (auto _ : state) {
    Json tree = fs.ToDictLegacy();
    Json copy = tree;
    benchmark::DoNotOptimize(copy);
  }
}
BENCHMARK(BM_LegacyTreeCopy)->Unit(benchmark::kMillisecond);

void BM_SendInfo(benchmark::State& state) {
  prusaconnect::Printer printer(prusaconnect::PrinterType::I3MK3S, "SN-BENCH", "fp");
  if (!printer.attach(Workspace::Get().Storage(), "usb").ok()) state.SkipWithError("attach failed");
  size_t bytes = 0;
  for (auto _ : state) {
    std::string body = printer.get_info().Dump();
    bytes = body.size();
    benchmark::DoNotOptimize(body);
  }
  state.counters["json_bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_SendInfo)->Unit(benchmark::kMillisecond);

// What goes on the wire: the INFO event body as the session renders it.
void BM_SendInfoEventBody(benchmark::State& state) {
  prusaconnect::Printer printer(prusaconnect::PrinterType::I3MK3S, "SN-BENCH", "fp");
  if (!printer.attach(Workspace::Get().Storage(), "usb").ok()) state.SkipWithError("attach failed");
  prusaconnect::EventFields fields;
  fields.command_id = 42;
  fields.state = prusaconnect::State::IDLE;
  size_t bytes = 0;
  for (auto _ : state) {
    std::string body = prusaconnect::internal::RenderEvent(
        prusaconnect::Event::INFO, prusaconnect::Source::CONNECT, fields, printer.get_info());
    bytes = body.size();
    benchmark::DoNotOptimize(body);
  }
  state.counters["json_bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_SendInfoEventBody)->Unit(benchmark::kMillisecond);

void BM_SendInfoAnswer(benchmark::State& state) {
  auto session = std::make_shared<prusaconnect::internal::PrinterSession>(
      prusaconnect::PrinterType::I3MK3S, "SN-BENCH", "fp", prusaconnect::PrinterOptions{},
      prusaconnect::internal::RealClock());
  auto fs = std::make_shared<Filesystem>(nullptr);
  if (!fs->Attach(Workspace::Get().Storage(), "usb").ok()) state.SkipWithError("attach failed");
  prusaconnect::internal::InstallFileCommands(session.get(), fs);
  prusaconnect::EventFields fields;
  fields.command_id = 42;
  fields.state = prusaconnect::State::IDLE;
  size_t bytes = 0;
  for (auto _ : state) {
    std::string body = session->InfoEventHead();
    prusaconnect::internal::AppendEventTail(fields, &body);
    bytes = body.size();
    benchmark::DoNotOptimize(body);
  }
  state.counters["json_bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_SendInfoAnswer)->Unit(benchmark::kMillisecond);

void BM_TreeMemory(benchmark::State& state) {
  const std::string& dir = Workspace::Get().Storage();
  size_t held = 0, nodes = 0;
  for (auto _ : state) {
    malloc_trim(0);
    size_t before = mallinfo2().uordblks;
    Filesystem fs(nullptr);
    if (!fs.Attach(dir, "usb").ok()) state.SkipWithError("attach failed");
    held = mallinfo2().uordblks - before;
    nodes = fs.stats().nodes;
  }
  state.counters["bytes_held"] = static_cast<double>(held);
  state.counters["bytes_per_node"] = static_cast<double>(held) / static_cast<double>(nodes);
  state.counters["nodes"] = static_cast<double>(nodes);
}
BENCHMARK(BM_TreeMemory)->Unit(benchmark::kMillisecond)->Iterations(3);

}  // namespace

BENCHMARK_MAIN();
