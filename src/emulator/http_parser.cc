#include "emulator/http_parser.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "emulator/str_util.h"

namespace prusaconnect::emulator {
namespace {

constexpr size_t kMaxChunkSizeLine = 1024;

bool IsTokenChar(char c) {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
      return true;
    default:
      return false;
  }
}

bool IsToken(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), IsTokenChar);
}

std::string_view TrimOws(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// True when the comma-separated header list `value` contains `token`.
bool HasToken(std::string_view value, std::string_view token) {
  for (std::string_view part : Split(value, ',')) {
    if (EqualsIgnoreCase(TrimOws(part), token)) return true;
  }
  return false;
}

bool ParseHex64(std::string_view s, uint64_t* out) {
  if (s.empty() || s.size() > 16) return false;
  uint64_t v = 0;
  for (char c : s) {
    int d;
    if (c >= '0' && c <= '9') {
      d = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      d = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      d = c - 'A' + 10;
    } else {
      return false;
    }
    v = v * 16 + static_cast<uint64_t>(d);
  }
  *out = v;
  return true;
}

}  // namespace

size_t RequestParser::LineEnd(std::string_view data, size_t from) {
  size_t nl = data.find('\n', from);
  return nl == std::string_view::npos ? std::string_view::npos : nl + 1;
}

RequestParser::Result RequestParser::Fail(int status, std::string message) {
  error_status_ = status;
  error_message_ = std::move(message);
  return Result::kError;
}

HttpRequest RequestParser::TakeRequest() {
  HttpRequest r = std::move(request_);
  request_ = HttpRequest();
  state_ = State::kHead;
  scan_ = 0;
  remaining_ = 0;
  expect_continue_ = false;
  force_close_ = false;
  done_ = false;
  return r;
}

RequestParser::Result RequestParser::Parse(std::string_view data, size_t* consumed) {
  size_t pos = 0;
  *consumed = 0;
  for (;;) {
    switch (state_) {
      case State::kHead: {
        // Ignore empty lines before a request line (RFC 9112 §2.2).
        if (scan_ == 0) {
          while (pos < data.size() && (data[pos] == '\r' || data[pos] == '\n')) ++pos;
        }
        std::string_view d = data.substr(pos);
        for (;;) {
          size_t end = LineEnd(d, scan_);
          if (end == std::string_view::npos) {
            if (d.size() > limits_.max_header_bytes) {
              return Fail(431, "request header section too large");
            }
            *consumed = pos;
            return Result::kNeedMore;
          }
          if (end > limits_.max_header_bytes) return Fail(431, "request header section too large");
          size_t len = end - scan_;
          bool empty = len == 1 || (len == 2 && d[scan_] == '\r');
          if (empty) {
            Result r = ParseHead(d.substr(0, scan_));
            if (r == Result::kError) return r;
            pos += end;
            scan_ = 0;
            break;
          }
          scan_ = end;
        }
        continue;
      }
      case State::kFixedBody:
      case State::kChunkData: {
        size_t take = static_cast<size_t>(std::min<uint64_t>(data.size() - pos, remaining_));
        request_.body.append(data.data() + pos, take);
        pos += take;
        remaining_ -= take;
        if (remaining_ > 0) {
          *consumed = pos;
          return Result::kNeedMore;
        }
        state_ = state_ == State::kFixedBody ? State::kDone : State::kChunkDataEnd;
        continue;
      }
      case State::kChunkDataEnd: {
        std::string_view d = data.substr(pos);
        if (d.empty() || (d[0] == '\r' && d.size() < 2)) {
          *consumed = pos;
          return Result::kNeedMore;
        }
        if (d[0] == '\n') {
          pos += 1;
        } else if (d[0] == '\r' && d[1] == '\n') {
          pos += 2;
        } else {
          return Fail(400, "chunk data not followed by CRLF");
        }
        state_ = State::kChunkSize;
        continue;
      }
      case State::kChunkSize: {
        std::string_view d = data.substr(pos);
        size_t end = LineEnd(d, 0);
        if (end == std::string_view::npos) {
          if (d.size() > kMaxChunkSizeLine) return Fail(400, "chunk size line too long");
          *consumed = pos;
          return Result::kNeedMore;
        }
        if (end > kMaxChunkSizeLine) return Fail(400, "chunk size line too long");
        std::string_view line = d.substr(0, end - 1);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (size_t semi = line.find(';'); semi != std::string_view::npos) {
          line = line.substr(0, semi);  // Chunk extensions are ignored.
        }
        uint64_t size = 0;
        if (!ParseHex64(TrimOws(line), &size)) return Fail(400, "invalid chunk size");
        if (size > limits_.max_body_bytes || request_.body.size() > limits_.max_body_bytes - size) {
          return Fail(413, "request body too large");
        }
        pos += end;
        if (size == 0) {
          state_ = State::kTrailers;
          scan_ = 0;
        } else {
          remaining_ = size;
          state_ = State::kChunkData;
        }
        continue;
      }
      case State::kTrailers: {
        std::string_view d = data.substr(pos);
        for (;;) {
          size_t end = LineEnd(d, scan_);
          if (end == std::string_view::npos) {
            if (d.size() > limits_.max_header_bytes) return Fail(431, "trailer section too large");
            *consumed = pos;
            return Result::kNeedMore;
          }
          size_t len = end - scan_;
          if (len == 1 || (len == 2 && d[scan_] == '\r')) {
            pos += end;
            scan_ = 0;
            state_ = State::kDone;
            break;
          }
          scan_ = end;  // Trailer fields are accepted and ignored.
        }
        continue;
      }
      case State::kDone:
        done_ = true;
        *consumed = pos;
        return Result::kComplete;
    }
  }
}

RequestParser::Result RequestParser::ParseHead(std::string_view head) {
  std::vector<std::string_view> lines;
  for (std::string_view line : Split(head, '\n')) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
  }
  // StrSplit yields a trailing empty piece after the final '\n'.
  if (!lines.empty() && lines.back().empty()) lines.pop_back();
  if (lines.empty()) return Fail(400, "empty request");

  // Request line: method SP request-target SP HTTP-version.
  std::string_view rl = lines[0];
  size_t sp1 = rl.find(' ');
  size_t sp2 = sp1 == std::string_view::npos ? sp1 : rl.find(' ', sp1 + 1);
  if (sp1 == std::string_view::npos || sp2 == std::string_view::npos ||
      rl.find(' ', sp2 + 1) != std::string_view::npos) {
    return Fail(400, "malformed request line");
  }
  std::string_view method = rl.substr(0, sp1);
  std::string_view target = rl.substr(sp1 + 1, sp2 - sp1 - 1);
  std::string_view version = rl.substr(sp2 + 1);
  if (!IsToken(method)) return Fail(400, "invalid method");
  if (target.empty() || std::any_of(target.begin(), target.end(), [](char c) {
        return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f;
      })) {
    return Fail(400, "invalid request target");
  }
  if (version == "HTTP/1.1") {
    request_.http_minor = 1;
  } else if (version == "HTTP/1.0") {
    request_.http_minor = 0;
  } else if (StartsWith(version, "HTTP/")) {
    return Fail(505, "unsupported HTTP version");
  } else {
    return Fail(400, "malformed HTTP version");
  }
  request_.method = std::string(method);
  request_.target = std::string(target);

  std::string_view path = target;
  if (StartsWithIgnoreCase(path, "http://") || StartsWithIgnoreCase(path, "https://")) {
    // Absolute form: drop scheme and authority.
    path.remove_prefix(path.find("//") + 2);
    size_t slash = path.find_first_of("/?");
    path = slash == std::string_view::npos ? std::string_view("/") : path.substr(slash);
  } else if (path != "*" && path.front() != '/') {
    return Fail(400, "invalid request target");
  }
  if (size_t q = path.find('?'); q != std::string_view::npos) {
    request_.query = std::string(path.substr(q + 1));
    path = path.substr(0, q);
  }
  request_.path = path.empty() ? std::string("/") : std::string(path);

  // Header fields.
  for (size_t i = 1; i < lines.size(); ++i) {
    std::string_view line = lines[i];
    if (line.front() == ' ' || line.front() == '\t') return Fail(400, "obsolete line folding");
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) return Fail(400, "malformed header field");
    std::string_view name = line.substr(0, colon);
    if (!IsToken(name)) return Fail(400, "invalid header field name");
    std::string_view value = TrimOws(line.substr(colon + 1));
    if (std::any_of(value.begin(), value.end(), [](char c) {
          return (static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f;
        })) {
      return Fail(400, "invalid header field value");
    }
    request_.headers.Add(std::string(name), std::string(value));
  }

  // Connection persistence.
  bool close = false;
  bool keep_alive = false;
  for (const auto& [name, value] : request_.headers) {
    if (EqualsIgnoreCase(name, "Connection")) {
      close = close || HasToken(value, "close");
      keep_alive = keep_alive || HasToken(value, "keep-alive");
    }
  }
  request_.keep_alive = request_.http_minor == 1 ? !close : (keep_alive && !close);

  // Expectations.
  if (const std::string* expect = request_.headers.Find("Expect"); expect != nullptr) {
    if (!EqualsIgnoreCase(TrimOws(*expect), "100-continue")) {
      return Fail(417, "unsupported expectation");
    }
    expect_continue_ = request_.http_minor == 1;
  }

  // Body framing (RFC 9112 §6.3).
  bool chunked = false;
  bool has_te = false;
  for (const auto& [name, value] : request_.headers) {
    if (!EqualsIgnoreCase(name, "Transfer-Encoding")) continue;
    has_te = true;
    for (std::string_view coding : Split(value, ',')) {
      coding = TrimOws(coding);
      if (coding.empty()) continue;
      if (!EqualsIgnoreCase(coding, "chunked") || chunked) {
        return Fail(501, "unsupported transfer coding");
      }
      chunked = true;
    }
  }
  if (has_te) {
    if (request_.http_minor == 0) return Fail(400, "Transfer-Encoding in an HTTP/1.0 request");
    if (!chunked) return Fail(501, "unsupported transfer coding");
    if (request_.headers.Has("Content-Length")) force_close_ = true;
    request_.headers.Remove("Content-Length");
    state_ = State::kChunkSize;
    return Result::kNeedMore;
  }

  bool have_length = false;
  uint64_t length = 0;
  for (const auto& [name, value] : request_.headers) {
    if (!EqualsIgnoreCase(name, "Content-Length")) continue;
    for (std::string_view part : Split(value, ',')) {
      part = TrimOws(part);
      uint64_t v = 0;
      if (part.empty() || part.size() > 19 || !IsAllDigits(part) || !ParseInt(part, &v)) {
        return Fail(400, "invalid Content-Length");
      }
      if (have_length && v != length) return Fail(400, "conflicting Content-Length values");
      have_length = true;
      length = v;
    }
  }
  if (length > limits_.max_body_bytes) return Fail(413, "request body too large");
  if (length > 0) {
    remaining_ = length;
    state_ = State::kFixedBody;
  } else {
    state_ = State::kDone;
  }
  return Result::kNeedMore;
}

}  // namespace prusaconnect::emulator
