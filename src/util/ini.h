// Copyright 2026 The libprusaconnect Authors.
//
// A small INI reader, compatible with what Python's `configparser` (default
// settings) does with the files the SDK reads, chiefly
// `prusa_printer_settings.ini`, and the `connection_from_config` logic built
// on it (spec §1.1).
//
// Supported, as in configparser:
//   * `[section]` headers; the name is everything between the first `[` and
//     the last `]` on the line, so `[service::connect]` works. Section names
//     are case-sensitive.
//   * `key = value` and `key: value`; the key ends at the first `=` or `:`.
//     Keys are lower-cased (ASCII); keys and values are trimmed; empty values
//     are allowed.
//   * Continuation lines: a line indented deeper than its key line is appended
//     to the value with a `\n` (blank lines inside are kept, trailing ones
//     dropped).
//   * Whole-line comments: the trimmed line starts with `#` or `;`. There are
//     no inline comments: `a = 1 ; x` has the value `1 ; x`.
//   * Values of a `[DEFAULT]` section are visible in every section.
//   * `\n`, `\r\n` and `\r` line ends.
// Differences from configparser:
//   * A repeated section or key is merged / overwritten (last wins) instead of
//     raising DuplicateSectionError / DuplicateOptionError.
//   * No `%(name)s` interpolation: values are returned verbatim.
//   * A leading UTF-8 byte-order mark is skipped.
//   * Input must be valid UTF-8 (configparser would fail to decode it too).
//
// Thread safety: IniFile is immutable after parsing; const methods may be
// called concurrently.

#ifndef PRUSACONNECT_UTIL_INI_H_
#define PRUSACONNECT_UTIL_INI_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "prusaconnect/status.h"

namespace prusaconnect::internal {

class IniFile {
 public:
  IniFile() = default;

  // Returns the trimmed value of `key` (matched case-insensitively) in
  // `section`, falling back to the `[DEFAULT]` section. Returns nullopt if the
  // section does not exist (unless it is "DEFAULT") or has no such key.
  std::optional<std::string> Get(std::string_view section, std::string_view key) const;

  // Like configparser's getboolean(): "1", "yes", "true", "on" are true and
  // "0", "no", "false", "off" are false, case-insensitively. Returns
  // `fallback` if the key is absent, and InvalidArgument (naming section, key
  // and value) for any other value.
  StatusOr<bool> GetBool(std::string_view section, std::string_view key, bool fallback) const;

  // Like configparser's getint(): an optionally signed decimal integer, with
  // single `_` allowed between digits as Python's int() does. Returns
  // `fallback` if the key is absent, and InvalidArgument (naming section, key
  // and value) if the value is not an integer or does not fit in int64_t.
  StatusOr<int64_t> GetInt(std::string_view section, std::string_view key, int64_t fallback) const;

  // True if `section` was present in the text. "DEFAULT" is not a section.
  bool HasSection(std::string_view section) const;
  // The section names, sorted.
  std::vector<std::string> Sections() const;

 private:
  friend StatusOr<IniFile> ParseIni(std::string_view text);
  using Section = std::map<std::string, std::string, std::less<>>;

  std::map<std::string, Section, std::less<>> sections_;
  Section defaults_;
};

// Parses INI text. Returns InvalidArgument naming the 1-based line for a key
// line before the first section header, a line that is neither a header, a
// `key = value` line nor a comment, an empty key, or invalid UTF-8.
StatusOr<IniFile> ParseIni(std::string_view text);

// Files larger than this are refused; the settings file is a few hundred
// bytes, and the bound keeps e.g. `/dev/zero` from exhausting memory.
inline constexpr size_t kMaxIniFileBytes = 1 << 20;

// Reads and parses the file at `path`. Returns:
//   * NotFound "ini file: `<path>` doesn't exist" if it cannot be stat()ed
//     (the SDK's FileNotFoundError, raised when os.path.exists() is false);
//   * FailedPrecondition if it is not a regular file;
//   * PermissionDenied / Internal if it cannot be opened or read;
//   * InvalidArgument if it is larger than kMaxIniFileBytes or does not
//     parse (the message names the file).
StatusOr<IniFile> ReadIniFile(const std::string& path);

// The connection settings of section `[service::connect]` (the SDK's
// `Printer.connection_from_config`).
struct ConnectSettings {
  std::string hostname;
  bool tls = false;
  int port = 0;  // 0 means "the scheme's default port".
  std::string token;
};

// Reads `hostname` (required), `tls` (bool, default false), `port` (int,
// default 0) and `token` (required) from `[service::connect]` of the INI file
// at `path`. Errors from ReadIniFile are returned as they are; otherwise
// InvalidArgument naming the file and the missing section or key, or the bad
// value. Beyond the SDK, a port outside 0..65535, an empty hostname and
// control characters in the hostname or token (which a continuation line
// could smuggle into an HTTP header) are refused.
StatusOr<ConnectSettings> ReadConnectSettings(const std::string& path);

// Builds the server URL `http[s]://host[:port]`; port 0 is left out (the
// SDK's `Printer.connect_url`). The host is used verbatim.
std::string ConnectUrl(std::string_view host, bool tls, int port);

}  // namespace prusaconnect::internal

#endif  // PRUSACONNECT_UTIL_INI_H_
