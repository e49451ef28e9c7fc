// Copyright 2026 The libprusaconnect Authors.
#include "adapter_log.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <mutex>

namespace octoprint_adapter {

namespace pc = prusaconnect;

namespace {

std::atomic<int> g_level{static_cast<int>(pc::LogLevel::kInfo)};
std::atomic<bool> g_journal{false};

void Write(pc::LogLevel level, const std::string& component, const std::string& message) {
  static std::mutex mu;
  const char* prio = "<6>";
  const char* name = "info";
  switch (level) {
    case pc::LogLevel::kDebug:
      prio = "<7>";
      name = "debug";
      break;
    case pc::LogLevel::kInfo:
      break;
    case pc::LogLevel::kWarning:
      prio = "<4>";
      name = "warning";
      break;
    case pc::LogLevel::kError:
      prio = "<3>";
      name = "error";
      break;
  }
  std::lock_guard<std::mutex> lock(mu);
  std::fprintf(stderr, "%s%s %s: %s\n", g_journal ? prio : "", name, component.c_str(),
               message.c_str());
  std::fflush(stderr);
}

}  // namespace

void SetupLogging(pc::LogLevel level) {
  g_level = static_cast<int>(level);
  // Read once at startup, before any other thread exists.
  g_journal = std::getenv("JOURNAL_STREAM") != nullptr;  // NOLINT(concurrency-mt-unsafe)
  pc::SetLogLevel(level);
  pc::SetLogSink([](pc::LogLevel l, const std::string& component, const std::string& message) {
    Write(l, "libprusaconnect." + component, message);
  });
}

void Log(pc::LogLevel level, const std::string& message) {
  if (static_cast<int>(level) < g_level) return;
  Write(level, "octoprint-adapter", message);
}

}  // namespace octoprint_adapter
