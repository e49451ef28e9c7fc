// Copyright 2026 The libprusaconnect Authors.
#include "adapter_log.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <memory>
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

std::string ConnectProblem(const pc::Condition& broken) {
  const pc::Condition* cause = &broken;
  while (cause->parent() != nullptr && cause->parent()->state() == pc::CondState::kNok) {
    cause = cause->parent();
  }
  std::string reason = cause->reason();
  return cause->name() + ": " + (reason.empty() ? cause->long_msg() : reason);
}

void LogConnectHealth(pc::Conditions* conditions) {
  // "Again" only after a break was logged: at start the chain may go from
  // NOK (no token yet, not initialised) to OK without anything to report.
  auto broken = std::make_shared<std::atomic<bool>>(false);
  conditions->API.add_broke_callback([broken](const pc::Condition& c, pc::CondState) {
    broken->store(true);
    LogWarning("the link to Prusa Connect is broken at " + ConnectProblem(c));
  });
  conditions->API.add_fixed_callback([broken](const pc::Condition&, pc::CondState) {
    if (broken->exchange(false)) LogInfo("Prusa Connect is reachable again");
  });
}

}  // namespace octoprint_adapter
