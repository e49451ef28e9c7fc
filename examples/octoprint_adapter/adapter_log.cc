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
std::string g_component = "octoprint-adapter";  // set before any thread
thread_local std::string t_scope;

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

void SetupLogging(pc::LogLevel level, const std::string& component) {
  g_component = component;
  g_level = static_cast<int>(level);
  // Read once at startup, before any other thread exists.
  g_journal = std::getenv("JOURNAL_STREAM") != nullptr;  // NOLINT(concurrency-mt-unsafe)
  pc::SetLogLevel(level);
  pc::SetLogSink([](pc::LogLevel l, const std::string& part, const std::string& message) {
    Write(l, "libprusaconnect." + part, message);
  });
}

void Log(pc::LogLevel level, const std::string& message) {
  if (static_cast<int>(level) < g_level) return;
  Write(level, g_component, t_scope.empty() ? message : "[" + t_scope + "] " + message);
}

LogScope::LogScope(const std::string& name) : saved_(t_scope) { t_scope = name; }

LogScope::~LogScope() { t_scope = saved_; }

std::string ConnectProblem(const pc::Condition& broken) {
  const pc::Condition* cause = &broken;
  while (cause->parent() != nullptr && cause->parent()->state() == pc::CondState::kNok) {
    cause = cause->parent();
  }
  std::string reason = cause->reason();
  return cause->name() + ": " + (reason.empty() ? cause->long_msg() : reason);
}

void LogConnectHealth(pc::Conditions* conditions, const std::string& name) {
  // "Again" only after a break was logged: at start the chain may go from
  // NOK (no token yet, not initialised) to OK without anything to report.
  auto broken = std::make_shared<std::atomic<bool>>(false);
  conditions->API.add_broke_callback([broken, name](const pc::Condition& c, pc::CondState) {
    LogScope scope(name);
    broken->store(true);
    LogWarning("the link to Prusa Connect is broken at " + ConnectProblem(c));
  });
  conditions->API.add_fixed_callback([broken, name](const pc::Condition&, pc::CondState) {
    LogScope scope(name);
    if (broken->exchange(false)) LogInfo("Prusa Connect is reachable again");
  });
}

}  // namespace octoprint_adapter
