// Copyright 2026 The libprusaconnect Authors.
#include "prusaconnect/log.h"

#include <atomic>
#include <cstdio>
#include <memory>
#include <mutex>

#include "util/logging.h"

namespace prusaconnect {
namespace {

std::atomic<int> g_level{static_cast<int>(LogLevel::kInfo)};
std::mutex g_sink_mu;
// Held by shared_ptr so that a sink being replaced stays alive while another
// thread is still calling it.
std::shared_ptr<const LogSink> g_sink;  // guarded by g_sink_mu
std::atomic<bool> g_has_sink{false};

}  // namespace

const char* LogLevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "DEBUG";
    case LogLevel::kInfo:
      return "INFO";
    case LogLevel::kWarning:
      return "WARNING";
    case LogLevel::kError:
      return "ERROR";
  }
  return "INFO";
}

void SetLogSink(LogSink sink) {
  std::lock_guard<std::mutex> lock(g_sink_mu);
  g_has_sink = static_cast<bool>(sink);
  g_sink = sink ? std::make_shared<const LogSink>(std::move(sink)) : nullptr;
}

void SetLogLevel(LogLevel level) { g_level = static_cast<int>(level); }
LogLevel GetLogLevel() { return static_cast<LogLevel>(g_level.load()); }

LogSink StderrLogSink() {
  return [](LogLevel level, const std::string& component, const std::string& message) {
    std::fprintf(stderr, "%-7s %s: %s\n", LogLevelName(level), component.c_str(), message.c_str());
  };
}

namespace internal {

bool LogEnabled(LogLevel level) {
  return g_has_sink.load(std::memory_order_relaxed) &&
         static_cast<int>(level) >= g_level.load(std::memory_order_relaxed);
}

void LogMessage(LogLevel level, const char* component, const std::string& message) {
  std::shared_ptr<const LogSink> sink;
  {
    std::lock_guard<std::mutex> lock(g_sink_mu);
    sink = g_sink;
  }
  if (sink) (*sink)(level, component, message);
}

std::string RedactToken(std::string_view token) {
  if (token.empty()) return "<none>";
  if (token.size() <= 4) return "****";
  return std::string(token.substr(0, 2)) + "…(" + std::to_string(token.size()) + " chars)";
}

}  // namespace internal
}  // namespace prusaconnect
