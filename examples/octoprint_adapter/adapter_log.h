// Copyright 2026 The libprusaconnect Authors.
//
// The adapter's log: one line per message on stderr, with its level. Under
// systemd (JOURNAL_STREAM set) each line starts with the syslog priority
// ("<3>" error ... "<7>" debug) so journald records the level.
#ifndef PRUSACONNECT_EXAMPLES_OCTOPRINT_ADAPTER_ADAPTER_LOG_H_
#define PRUSACONNECT_EXAMPLES_OCTOPRINT_ADAPTER_ADAPTER_LOG_H_

#include <prusaconnect/conditions.h>
#include <prusaconnect/log.h>

#include <string>

namespace octoprint_adapter {

// `component` names the program in each line ("octoprint-adapter",
// "bridge").
void SetupLogging(prusaconnect::LogLevel level, const std::string& component = "octoprint-adapter");
void Log(prusaconnect::LogLevel level, const std::string& message);
inline void LogInfo(const std::string& m) { Log(prusaconnect::LogLevel::kInfo, m); }
inline void LogWarning(const std::string& m) { Log(prusaconnect::LogLevel::kWarning, m); }
inline void LogError(const std::string& m) { Log(prusaconnect::LogLevel::kError, m); }
inline void LogDebug(const std::string& m) { Log(prusaconnect::LogLevel::kDebug, m); }

// While one lives, this thread's lines start with "[name] " — the printer a
// bridge thread is working for. Nests.
class LogScope {
 public:
  explicit LogScope(const std::string& name);
  ~LogScope();
  LogScope(const LogScope&) = delete;
  LogScope& operator=(const LogScope&) = delete;

 private:
  std::string saved_;
};

// What is wrong with the link to Connect, given a broken node of the chain
// INTERNET -> HTTP -> TOKEN -> API: the broken link nearest the root (API
// breaks whenever any link does) and what happened to it ("HTTP: connection
// refused (...)"), else the SDK's description of that link.
std::string ConnectProblem(const prusaconnect::Condition& broken);
// Logs a warning when the link to Connect breaks (ConnectProblem) and a
// line when Connect is reachable again.
// `name` prefixes those lines as LogScope does ("" = none).
void LogConnectHealth(prusaconnect::Conditions* conditions, const std::string& name = "");

}  // namespace octoprint_adapter

#endif  // PRUSACONNECT_EXAMPLES_OCTOPRINT_ADAPTER_ADAPTER_LOG_H_
