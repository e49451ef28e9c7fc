// Copyright 2026 The libprusaconnect Authors.
//
// transfer_load: one printer downloads one file from a running Connect
// (emulator) with START_CONNECT_DOWNLOAD's URL, while it sends telemetry at
// 1 Hz. Reports wall time, throughput, the process's CPU time and peak RSS,
// and the telemetry lateness seen meanwhile (queued → answered), as one JSON
// line. bench/transfer_bench.sh runs it next to `curl -o` of the same file.
//
//   transfer_load --server URL --token T --sn SN --team 1 --hash H --dir DIR
//                 [--rate BYTES_PER_S]
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "prusaconnect/prusaconnect.h"

namespace pc = prusaconnect;

namespace {

double Seconds(const timeval& tv) {
  return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6;
}

}  // namespace

int main(int argc, char** argv) {
  std::string server, token, sn = "BENCH-TRANSFER-1", team = "1", hash, dir;
  int64_t rate = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    std::string v = argv[i + 1];
    if (k == "--server")
      server = v;
    else if (k == "--token")
      token = v;
    else if (k == "--sn")
      sn = v;
    else if (k == "--team")
      team = v;
    else if (k == "--hash")
      hash = v;
    else if (k == "--dir")
      dir = v;
    else if (k == "--rate")
      rate = std::atoll(v.c_str());
    else {
      std::fprintf(stderr, "unknown flag %s\n", k.c_str());
      return 2;
    }
  }
  if (server.empty() || token.empty() || hash.empty() || dir.empty()) {
    std::fprintf(stderr,
                 "usage: transfer_load --server URL --token T --sn SN --team 1 --hash H "
                 "--dir DIR [--rate BYTES_PER_S]\n");
    return 2;
  }
  pc::PrinterOptions o;
  o.transfer.max_bytes_per_second = rate;
  pc::Printer printer(pc::PrinterType::I3MK3S, sn, pc::FingerprintFromSerial(sn), o);
  printer.set_software("bench");
  printer.set_connection(server, token);
  std::mutex mu;
  std::vector<int64_t> lateness_us;
  std::atomic<bool> downloading{false};
  printer.set_request_observer([&](const pc::RequestRecord& r) {
    if (r.kind != pc::RequestKind::kTelemetry || r.http_status < 200 || r.http_status >= 300)
      return;
    if (!downloading.load()) return;
    std::lock_guard<std::mutex> lock(mu);
    lateness_us.push_back(r.done_us - r.queued_us);
  });
  if (!printer.attach(dir, "usb").ok()) {
    std::fprintf(stderr, "cannot attach %s\n", dir.c_str());
    return 1;
  }
  printer.start();
  std::string url = server + "/p/teams/" + team + "/files/" + hash + "/raw";

  auto start = std::chrono::steady_clock::now();
  downloading = true;
  auto started = printer.start_download(pc::TransferType::FROM_CONNECT, "/usb/bench.bin", url);
  if (!started.ok()) {
    std::fprintf(stderr, "start: %s\n", started.status().message().c_str());
    return 1;
  }
  std::thread telemetry([&] {
    while (downloading.load()) {
      printer.telemetry(pc::Json::MakeObject({{"temp_nozzle", 215}, {"temp_bed", 60}}));
      for (int i = 0; i < 100 && downloading.load(); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
    }
  });
  while (printer.transfer_info().in_progress) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  auto end = std::chrono::steady_clock::now();
  downloading = false;
  telemetry.join();
  pc::TransferInfo info = printer.transfer_info();
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  double wall = std::chrono::duration<double>(end - start).count();
  std::vector<int64_t> late;
  {
    std::lock_guard<std::mutex> lock(mu);
    late = lateness_us;
  }
  std::sort(late.begin(), late.end());
  double late_max = late.empty() ? 0 : static_cast<double>(late.back()) / 1000.0;
  double late_p50 = late.empty() ? 0 : static_cast<double>(late[late.size() / 2]) / 1000.0;
  std::printf(
      "{\"outcome\":\"%s\",\"bytes\":%lld,\"wall_s\":%.3f,\"mb_per_s\":%.1f,"
      "\"cpu_user_s\":%.3f,\"cpu_sys_s\":%.3f,\"cpu_s\":%.3f,\"max_rss_mb\":%.1f,"
      "\"telemetry_samples\":%zu,\"telemetry_lateness_p50_ms\":%.2f,"
      "\"telemetry_lateness_max_ms\":%.2f}\n",
      info.outcome ? pc::ToString(*info.outcome) : "none", static_cast<long long>(info.transferred),
      wall,  // NOLINT
      static_cast<double>(info.transferred) / 1e6 / wall, Seconds(ru.ru_utime),
      Seconds(ru.ru_stime), Seconds(ru.ru_utime) + Seconds(ru.ru_stime),
      static_cast<double>(ru.ru_maxrss) / 1024.0, late.size(), late_p50, late_max);
  return info.outcome == pc::Event::TRANSFER_FINISHED ? 0 : 1;
}
