// Copyright 2026 The libprusaconnect Authors.
//
// The adapter's log: one line per message on stderr, with its level. Under
// systemd (JOURNAL_STREAM set) each line starts with the syslog priority
// ("<3>" error ... "<7>" debug) so journald records the level.
#ifndef PRUSACONNECT_EXAMPLES_OCTOPRINT_ADAPTER_ADAPTER_LOG_H_
#define PRUSACONNECT_EXAMPLES_OCTOPRINT_ADAPTER_ADAPTER_LOG_H_

#include <prusaconnect/log.h>

#include <string>

namespace octoprint_adapter {

void SetupLogging(prusaconnect::LogLevel level);
void Log(prusaconnect::LogLevel level, const std::string& message);
inline void LogInfo(const std::string& m) { Log(prusaconnect::LogLevel::kInfo, m); }
inline void LogWarning(const std::string& m) { Log(prusaconnect::LogLevel::kWarning, m); }
inline void LogError(const std::string& m) { Log(prusaconnect::LogLevel::kError, m); }
inline void LogDebug(const std::string& m) { Log(prusaconnect::LogLevel::kDebug, m); }

}  // namespace octoprint_adapter

#endif  // PRUSACONNECT_EXAMPLES_OCTOPRINT_ADAPTER_ADAPTER_LOG_H_
