// Copyright 2026 The libprusaconnect Authors.
//
// one_printer: the smallest real host, for the RSS target of issue #2 ("RSS
// of a process with one registered printer sending telemetry at 1 Hz").
//
//   one_printer --server http://127.0.0.1:PORT --token T [--sn SN]
//               [--seconds S] [--rate HZ]
//
// It does what a host with a saved token does and nothing else: makes one
// Printer with the public API (libprusaconnect.so), sets the connection,
// starts it and calls telemetry() with the 17 fields of telemetry_load's
// sample at --rate Hz from the main thread for --seconds. Then it prints one
// JSON line: VmRSS, VmHWM, RssAnon and RssFile from /proc/self/status, and
// the printer's counters (so a run that delivered nothing is visible).
//
// telemetry_load measures the same scenario with its own machinery around it
// (option parsing, a pre-registration client, lateness histograms, a request
// observer, a log counter); its figure is the harness plus the library, this
// one is the library plus a minimal host. bench/run_core_benchmarks.sh runs
// both; the token comes from the emulator's control API (POST /api/printers).
#include <prusaconnect/prusaconnect.h>
#include <time.h>

#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "bench_common.h"

namespace {

using prusaconnect::bench::StatusKb;

void SleepUntil(const timespec& t) {
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, nullptr) != 0) {
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::string server, token, sn = "SNONEPRINTER";
  double seconds = 30, rate = 1;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    const char* value = argv[i + 1];
    if (flag == "--server") {
      server = value;
    } else if (flag == "--token") {
      token = value;
    } else if (flag == "--sn") {
      sn = value;
    } else if (flag == "--seconds") {
      seconds = std::atof(value);
    } else if (flag == "--rate") {
      rate = std::atof(value);
    } else {
      std::fprintf(stderr, "one_printer: unknown option %s\n", flag.c_str());
      return 2;
    }
  }
  if (server.empty() || token.empty() || !(seconds > 0) || !(rate > 0)) {
    std::fprintf(stderr,
                 "usage: one_printer --server URL --token T [--sn SN] [--seconds S] "
                 "[--rate HZ]\n");
    return 2;
  }

  prusaconnect::Printer printer(prusaconnect::PrinterType::I3MK3S, sn,
                                prusaconnect::FingerprintFromSerial(sn));
  printer.set_firmware("3.14.1");
  printer.set_connection(server, token);
  printer.start();

  const prusaconnect::Telemetry t = prusaconnect::bench::TypicalSample();

  const auto period_ns = static_cast<int64_t>(1e9 / rate);
  const auto ticks = static_cast<int64_t>(seconds * rate);
  timespec next{};
  clock_gettime(CLOCK_MONOTONIC, &next);
  for (int64_t k = 0; k < ticks; ++k) {
    printer.telemetry(t);
    int64_t ns = next.tv_nsec + period_ns;
    next.tv_sec += static_cast<time_t>(ns / 1000000000);
    next.tv_nsec = static_cast<long>(ns % 1000000000);  // NOLINT(runtime/int)
    SleepUntil(next);
  }

  prusaconnect::PrinterStats stats = printer.stats();
  std::printf(
      "{\"bench\":\"one_printer\",\"seconds\":%g,\"rate_hz\":%g,\"vmrss_kb\":%ld,"
      "\"vmhwm_kb\":%ld,\"rss_anon_kb\":%ld,\"rss_file_kb\":%ld,\"telemetry_queued\":%" PRIu64
      ",\"telemetry_sent\":%" PRIu64 ",\"requests_failed\":%" PRIu64 "}\n",
      seconds, rate, StatusKb("VmRSS"), StatusKb("VmHWM"), StatusKb("RssAnon"), StatusKb("RssFile"),
      stats.telemetry_queued, stats.telemetry_sent, stats.requests_failed);
  printer.stop();
  return stats.telemetry_sent > 0 ? 0 : 1;
}
