// Copyright 2026 The libprusaconnect Authors.
//
// Internal logging helpers: PC_LOG(kWarning, "printer") << "text";
// Formatting happens only when the level is enabled and a sink is set.
// Tokens must never be logged; use RedactToken() where one could appear.
#ifndef PRUSACONNECT_UTIL_LOGGING_H_
#define PRUSACONNECT_UTIL_LOGGING_H_

#include <sstream>
#include <string>
#include <string_view>

#include "prusaconnect/log.h"

namespace prusaconnect::internal {

bool LogEnabled(LogLevel level);
void LogMessage(LogLevel level, const char* component, const std::string& message);
// A token's safe stand-in for logs: its first two characters and length.
std::string RedactToken(std::string_view token);

class LogLine {
 public:
  LogLine(LogLevel level, const char* component) : level_(level), component_(component) {}
  ~LogLine() { LogMessage(level_, component_, stream_.str()); }
  LogLine(const LogLine&) = delete;
  LogLine& operator=(const LogLine&) = delete;
  std::ostream& stream() { return stream_; }

 private:
  LogLevel level_;
  const char* component_;
  std::ostringstream stream_;
};

}  // namespace prusaconnect::internal

#define PC_LOG(level, component)                                              \
  if (!::prusaconnect::internal::LogEnabled(::prusaconnect::LogLevel::level)) \
    ;                                                                         \
  else                                                                        \
    ::prusaconnect::internal::LogLine(::prusaconnect::LogLevel::level, component).stream()

#endif  // PRUSACONNECT_UTIL_LOGGING_H_
