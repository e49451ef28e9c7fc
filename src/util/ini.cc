// Copyright 2026 The libprusaconnect Authors.
//
// The parser follows configparser.RawConfigParser._read() (Python 3.11) line
// by line; see ini.h for the supported syntax and the deliberate differences.

#include "util/ini.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <limits>
#include <system_error>
#include <utility>

#include "util/ascii.h"

namespace prusaconnect::internal {
namespace {

constexpr std::string_view kDefaultSection = "DEFAULT";
constexpr std::string_view kConnectSection = "service::connect";
// Lines are split already, so within a line only these can occur.
constexpr std::string_view kWhitespace = " \t\v\f";
// Joined multi-line values contain newlines too.
constexpr std::string_view kAllWhitespace = " \t\v\f\r\n";

std::string_view Strip(std::string_view s, std::string_view whitespace = kWhitespace) {
  const size_t begin = s.find_first_not_of(whitespace);
  if (begin == std::string_view::npos) return {};
  const size_t end = s.find_last_not_of(whitespace);
  return s.substr(begin, end - begin + 1);
}

std::string_view RStrip(std::string_view s) {
  const size_t end = s.find_last_not_of(kAllWhitespace);
  return end == std::string_view::npos ? std::string_view() : s.substr(0, end + 1);
}

// A short, printable excerpt of a line for error messages: lines may be huge
// or binary.
std::string Excerpt(std::string_view line) {
  constexpr size_t kMax = 40;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string result;
  for (char ch : line.substr(0, kMax)) {
    const auto c = static_cast<unsigned char>(ch);
    if (c >= 0x20 && c < 0x7F && c != '\\' && c != '\'') {
      result += ch;
    } else {
      result += "\\x";
      result += kHex[c >> 4];
      result += kHex[c & 0x0F];
    }
  }
  if (line.size() > kMax) result += "...";
  return result;
}

std::string Str(std::string_view s) { return std::string(s); }

bool IsValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    uint32_t cp;
    if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (s.size() - i < len) return false;
    for (size_t k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    static constexpr uint32_t kMinForLength[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMinForLength[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

bool HasControlCharacters(std::string_view s) {
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7F) return true;
  }
  return false;
}

// Yields the lines of a text, split on "\r\n", "\n" and "\r" (Python's
// universal newlines), without copying or materialising them all.
class LineReader {
 public:
  explicit LineReader(std::string_view text) : text_(text) {}

  bool Next(std::string_view* line) {
    if (pos_ >= text_.size()) return false;
    const size_t end = text_.find_first_of("\r\n", pos_);
    if (end == std::string_view::npos) {
      *line = text_.substr(pos_);
      pos_ = text_.size();
      return true;
    }
    *line = text_.substr(pos_, end - pos_);
    pos_ = end + 1;
    if (text_[end] == '\r' && pos_ < text_.size() && text_[pos_] == '\n') ++pos_;
    return true;
  }

 private:
  std::string_view text_;
  size_t pos_ = 0;
};

Status LineError(size_t lineno, std::string_view what, std::string_view line) {
  return InvalidArgumentError("line " + std::to_string(lineno) + ": " + Str(what) + ": '" +
                              Excerpt(line) + "'");
}

std::string KeyError(std::string_view section, std::string_view key, std::string_view what,
                     std::string_view value) {
  return "[" + Str(section) + "] " + Str(key) + ": " + Str(what) + ": '" + Excerpt(value) + "'";
}

Status FileError(const std::string& path, std::string_view what) {
  return InvalidArgumentError("ini file: `" + path + "`: " + Str(what));
}

// Status::message() is an std::string_view.
std::string Message(const Status& status) {
  return {status.message().data(), status.message().size()};
}

}  // namespace

StatusOr<IniFile> ParseIni(std::string_view text) {
  constexpr std::string_view kBom = "\xEF\xBB\xBF";
  if (text.substr(0, kBom.size()) == kBom) text.remove_prefix(kBom.size());

  // configparser collects the lines of a value in a list and joins them with
  // "\n" at the end; appending "\n" + line as we go is the same, and keeps
  // memory proportional to the input even for hostile files.
  IniFile ini;
  IniFile::Section* current_section = nullptr;
  std::string* current_value = nullptr;  // Of the last key line.
  size_t indent_level = 0;

  LineReader reader(text);
  std::string_view line;
  for (size_t lineno = 1; reader.Next(&line); ++lineno) {
    if (!IsValidUtf8(line)) return LineError(lineno, "invalid UTF-8", line);

    const std::string_view stripped = Strip(line);
    const bool comment = !stripped.empty() && (stripped.front() == '#' || stripped.front() == ';');
    if (stripped.empty() || comment) {
      // Blank lines belong to a multi-line value (trailing ones are dropped
      // when joining); comment lines are skipped entirely.
      if (!comment && current_value != nullptr) *current_value += '\n';
      continue;
    }

    const size_t indent = line.find_first_not_of(kWhitespace);
    if (current_value != nullptr && indent > indent_level) {
      *current_value += '\n';
      current_value->append(stripped);
      continue;
    }
    indent_level = indent;

    const size_t close = stripped.rfind(']');
    if (stripped.front() == '[' && close != std::string_view::npos && close >= 2) {
      const std::string_view name = stripped.substr(1, close - 1);
      current_section =
          name == kDefaultSection ? &ini.defaults_ : &ini.sections_[std::string(name)];
      current_value = nullptr;  // A section cannot start with a continuation.
      continue;
    }
    if (current_section == nullptr) {
      return LineError(lineno, "key line before the first [section] header", line);
    }
    const size_t delimiter = stripped.find_first_of("=:");
    if (delimiter == std::string_view::npos) {
      return LineError(lineno, "expected `key = value`, `key: value` or a [section]", line);
    }
    const std::string_view key = RStrip(stripped.substr(0, delimiter));
    if (key.empty()) return LineError(lineno, "empty key", line);
    std::string& value = (*current_section)[AsciiLower(key)];
    value = std::string(Strip(stripped.substr(delimiter + 1)));
    current_value = &value;
  }

  // Trailing blank lines of multi-line values are dropped (configparser's
  // rstrip() after joining).
  auto rstrip_values = [](IniFile::Section* section) {
    for (auto& entry : *section) entry.second.resize(RStrip(entry.second).size());
  };
  rstrip_values(&ini.defaults_);
  for (auto& entry : ini.sections_) rstrip_values(&entry.second);
  return ini;
}

std::optional<std::string> IniFile::Get(std::string_view section, std::string_view key) const {
  const Section* found = nullptr;
  if (section == kDefaultSection) {
    found = &defaults_;
  } else {
    auto it = sections_.find(section);
    if (it == sections_.end()) return std::nullopt;
    found = &it->second;
  }
  const std::string lower_key = AsciiLower(key);
  if (auto it = found->find(lower_key); it != found->end()) return it->second;
  if (auto it = defaults_.find(lower_key); it != defaults_.end()) return it->second;
  return std::nullopt;
}

StatusOr<bool> IniFile::GetBool(std::string_view section, std::string_view key,
                                bool fallback) const {
  const std::optional<std::string> value = Get(section, key);
  if (!value.has_value()) return fallback;
  const std::string lower = AsciiLower(*value);
  if (lower == "1" || lower == "yes" || lower == "true" || lower == "on") return true;
  if (lower == "0" || lower == "no" || lower == "false" || lower == "off") return false;
  return InvalidArgumentError(KeyError(section, key, "not a boolean", *value));
}

StatusOr<int64_t> IniFile::GetInt(std::string_view section, std::string_view key,
                                  int64_t fallback) const {
  const std::optional<std::string> value = Get(section, key);
  if (!value.has_value()) return fallback;
  auto bad = [&] { return InvalidArgumentError(KeyError(section, key, "not an integer", *value)); };
  // Python's int() also accepts surrounding whitespace, e.g. from a
  // continuation line.
  std::string_view text = Strip(*value, kAllWhitespace);
  bool negative = false;
  if (!text.empty() && (text.front() == '+' || text.front() == '-')) {
    negative = text.front() == '-';
    text.remove_prefix(1);
  }
  if (text.empty() || text.front() == '_' || text.back() == '_') return bad();
  // Accumulate negatively so that INT64_MIN is representable.
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  int64_t result = 0;
  char previous = '\0';
  for (char c : text) {
    if (c == '_') {
      if (previous == '_') return bad();
    } else if (c >= '0' && c <= '9') {
      const int digit = c - '0';
      if (result < (kMin + digit) / 10) return bad();
      result = result * 10 - digit;
    } else {
      return bad();
    }
    previous = c;
  }
  if (negative) return result;
  if (result == kMin) return bad();
  return -result;
}

bool IniFile::HasSection(std::string_view section) const {
  return sections_.find(section) != sections_.end();
}

std::vector<std::string> IniFile::Sections() const {
  std::vector<std::string> names;
  names.reserve(sections_.size());
  for (const auto& entry : sections_) names.push_back(entry.first);
  return names;
}

StatusOr<IniFile> ReadIniFile(const std::string& path) {
  const Status not_found = NotFoundError("ini file: `" + path + "` doesn't exist");
  // os.path.exists() is false for paths with NUL bytes too.
  if (path.find('\0') != std::string::npos) return not_found;
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return not_found;
  if (!S_ISREG(st.st_mode)) {
    return FailedPreconditionError("ini file: `" + path + "` is not a regular file");
  }

  // O_NONBLOCK: should the path have become a FIFO since stat(), open() must
  // not hang; fstat() below refuses it.
  int fd;
  do {
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) {
    const int err = errno;
    if (err == ENOENT) return not_found;
    const std::string message =
        "ini file: `" + path + "` can't be opened: " + std::generic_category().message(err);
    if (err == EACCES || err == EPERM) return PermissionDeniedError(message);
    return InternalError(message);
  }

  std::string text;
  Status status;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    status = FailedPreconditionError("ini file: `" + path + "` is not a regular file");
  } else {
    char buffer[64 * 1024];
    while (text.size() <= kMaxIniFileBytes) {
      const ssize_t n = ::read(fd, buffer, sizeof(buffer));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        status = InternalError("ini file: `" + path +
                               "` can't be read: " + std::generic_category().message(errno));
        break;
      }
      if (n == 0) break;
      text.append(buffer, static_cast<size_t>(n));
    }
    if (status.ok() && text.size() > kMaxIniFileBytes) {
      status = FileError(path, "larger than " + std::to_string(kMaxIniFileBytes) + " bytes");
    }
  }
  ::close(fd);
  if (!status.ok()) return status;

  StatusOr<IniFile> ini = ParseIni(text);
  if (!ini.ok()) return FileError(path, Message(ini.status()));
  return ini;
}

StatusOr<ConnectSettings> ReadConnectSettings(const std::string& path) {
  StatusOr<IniFile> ini = ReadIniFile(path);
  if (!ini.ok()) return ini.status();
  if (!ini->HasSection(kConnectSection)) {
    return FileError(path, "missing section [" + Str(kConnectSection) + "]");
  }
  auto missing_key = [&](std::string_view key) {
    return FileError(path,
                     "missing key `" + Str(key) + "` in section [" + Str(kConnectSection) + "]");
  };

  ConnectSettings settings;
  std::optional<std::string> hostname = ini->Get(kConnectSection, "hostname");
  if (!hostname.has_value()) return missing_key("hostname");
  if (hostname->empty()) {
    return FileError(path, "empty `hostname` in section [" + Str(kConnectSection) + "]");
  }
  if (HasControlCharacters(*hostname)) {
    return FileError(path,
                     "control characters in `hostname` in section [" + Str(kConnectSection) + "]");
  }
  settings.hostname = *std::move(hostname);

  StatusOr<bool> tls = ini->GetBool(kConnectSection, "tls", false);
  if (!tls.ok()) return FileError(path, Message(tls.status()));
  settings.tls = *tls;

  StatusOr<int64_t> port = ini->GetInt(kConnectSection, "port", 0);
  if (!port.ok()) return FileError(path, Message(port.status()));
  if (*port < 0 || *port > 65535) {
    return FileError(path, KeyError(kConnectSection, "port", "not in 0..65535",
                                    *ini->Get(kConnectSection, "port")));
  }
  settings.port = static_cast<int>(*port);

  std::optional<std::string> token = ini->Get(kConnectSection, "token");
  if (!token.has_value()) return missing_key("token");
  // The token is a secret: never quote it in messages.
  if (HasControlCharacters(*token)) {
    return FileError(path,
                     "control characters in `token` in section [" + Str(kConnectSection) + "]");
  }
  settings.token = *std::move(token);
  return settings;
}

std::string ConnectUrl(std::string_view host, bool tls, int port) {
  std::string url = (tls ? "https://" : "http://") + Str(host);
  if (port != 0) url += ":" + std::to_string(port);
  return url;
}

}  // namespace prusaconnect::internal
