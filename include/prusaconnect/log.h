// Copyright 2026 The libprusaconnect Authors.
//
// Logging. The library never writes to stdout or stderr: every message goes
// to a sink the host installs (OctoPrint's logger, journald, a file...).
// Without a sink, messages are discarded.
//
// Messages never contain a printer or camera token: the library redacts them
// before they reach the sink.
//
// Thread safety: SetLogSink() and SetLogLevel() may be called at any time from
// any thread. The sink is called from library threads (the network thread
// included), possibly concurrently, and must be thread-safe and quick; it
// must not call back into the library.
#ifndef PRUSACONNECT_LOG_H_
#define PRUSACONNECT_LOG_H_

#include <functional>
#include <string>

#include "prusaconnect/export.h"

namespace prusaconnect {

enum class LogLevel { kDebug = 10, kInfo = 20, kWarning = 30, kError = 40 };

// "DEBUG", "INFO", "WARNING", "ERROR".
PRUSACONNECT_API const char* LogLevelName(LogLevel level);

// `component` names the part of the library ("printer", "transport", ...);
// `message` is one line of text without a trailing newline.
using LogSink =
    std::function<void(LogLevel level, const std::string& component, const std::string& message)>;

// Installs the process-wide sink (an empty function removes it).
PRUSACONNECT_API void SetLogSink(LogSink sink);
// Messages below `level` are not formatted nor delivered. Default: kInfo.
PRUSACONNECT_API void SetLogLevel(LogLevel level);
PRUSACONNECT_API LogLevel GetLogLevel();

// A ready-made sink writing "LEVEL component: message" lines to stderr, for
// command-line programs and examples.
PRUSACONNECT_API LogSink StderrLogSink();

}  // namespace prusaconnect

#endif  // PRUSACONNECT_LOG_H_
