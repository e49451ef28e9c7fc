// Copyright 2026 The libprusaconnect Authors.
//
// What the C++ benchmark tools share: the telemetry sample they send and a
// reader of /proc/self/status. Public API only, so that tools linking the
// shared library (telemetry_load, one_printer) and those linking the
// internals (micro_bench) can both include it.
#ifndef PRUSACONNECT_BENCH_BENCH_COMMON_H_
#define PRUSACONNECT_BENCH_BENCH_COMMON_H_

#include <prusaconnect/models.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace prusaconnect::bench {

// A typical telemetry sample of a printing MK3S: 17 fields.
inline Telemetry TypicalSample() {
  Telemetry t;
  t.temp_nozzle = 214.8;
  t.temp_bed = 59.9;
  t.target_nozzle = 215.0;
  t.target_bed = 60.0;
  t.axis_x = 120.25;
  t.axis_y = 98.5;
  t.axis_z = 2.4;
  t.fan_extruder = 4500;
  t.fan_hotend = 3200;
  t.fan_print = 5100;
  t.speed = 100;
  t.flow = 95;
  t.progress = 37;
  t.time_printing = 1834;
  t.time_remaining = 3120;
  t.filament = 1523.7;
  t.material = "PLA";
  return t;
}

// The value in kB of a "Name:   1234 kB" line of /proc/self/status, or -1.
inline long StatusKb(const char* name) {  // NOLINT(runtime/int): /proc's unit
  FILE* f = std::fopen("/proc/self/status", "r");
  if (f == nullptr) return -1;
  char line[256];
  size_t len = std::strlen(name);
  long kb = -1;  // NOLINT(runtime/int)
  while (std::fgets(line, sizeof(line), f) != nullptr) {
    if (std::strncmp(line, name, len) == 0 && line[len] == ':') {
      kb = std::strtol(line + len + 1, nullptr, 10);
      break;
    }
  }
  std::fclose(f);
  return kb;
}

}  // namespace prusaconnect::bench

#endif  // PRUSACONNECT_BENCH_BENCH_COMMON_H_
