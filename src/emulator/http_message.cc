#include "emulator/http_message.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>

#include "absl/strings/str_cat.h"
#include "emulator/str_util.h"

namespace prusaconnect::emulator {

// ---- HttpHeaders ----

void HttpHeaders::Add(std::string name, std::string value) {
  fields_.emplace_back(std::move(name), std::move(value));
}

void HttpHeaders::Set(std::string name, std::string value) {
  Remove(name);
  fields_.emplace_back(std::move(name), std::move(value));
}

void HttpHeaders::Remove(std::string_view name) {
  fields_.erase(std::remove_if(fields_.begin(), fields_.end(),
                               [name](const Field& f) { return EqualsIgnoreCase(f.first, name); }),
                fields_.end());
}

const std::string* HttpHeaders::Find(std::string_view name) const {
  for (const Field& f : fields_) {
    if (EqualsIgnoreCase(f.first, name)) return &f.second;
  }
  return nullptr;
}

std::string_view HttpHeaders::Get(std::string_view name, std::string_view fallback) const {
  const std::string* v = Find(name);
  return v != nullptr ? std::string_view(*v) : fallback;
}

// ---- HttpRequest ----

std::optional<std::string> HttpRequest::QueryParam(std::string_view name) const {
  for (std::string_view part : Split(query, '&', /*skip_empty=*/true)) {
    std::string_view key = part;
    std::string_view value;
    if (size_t eq = part.find('='); eq != std::string_view::npos) {
      key = part.substr(0, eq);
      value = part.substr(eq + 1);
    }
    if (UrlDecode(key, true) == name) return UrlDecode(value, true);
  }
  return std::nullopt;
}

// ---- Body sources ----

namespace {

class FileBody final : public BodySource {
 public:
  FileBody(int fd, uint64_t size) : fd_(fd), size_(size) {}
  ~FileBody() override { ::close(fd_); }
  FileBody(const FileBody&) = delete;
  FileBody& operator=(const FileBody&) = delete;

  uint64_t size() const override { return size_; }
  int fd() const override { return fd_; }

  StatusOr<size_t> ReadAt(uint64_t offset, char* buf, size_t len) override {
    for (;;) {
      ssize_t n = ::pread(fd_, buf, len, static_cast<off_t>(offset));
      if (n > 0) return static_cast<size_t>(n);
      if (n == 0) return OutOfRangeError("file shrank while being served");
      if (errno != EINTR) return ErrnoToStatus(errno, "pread");
    }
  }

 private:
  int fd_;
  uint64_t size_;
};

class FunctionBody final : public BodySource {
 public:
  FunctionBody(uint64_t size, std::function<void(uint64_t, char*, size_t)> fill)
      : size_(size), fill_(std::move(fill)) {}

  uint64_t size() const override { return size_; }

  StatusOr<size_t> ReadAt(uint64_t offset, char* buf, size_t len) override {
    size_t n = static_cast<size_t>(std::min<uint64_t>(len, size_ - offset));
    fill_(offset, buf, n);
    return n;
  }

 private:
  uint64_t size_;
  std::function<void(uint64_t, char*, size_t)> fill_;
};

}  // namespace

StatusOr<std::shared_ptr<BodySource>> OpenFileBody(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoToStatus(errno, absl::StrCat("open ", path));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    return ErrnoToStatus(err, absl::StrCat("fstat ", path));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return FailedPreconditionError(absl::StrCat(path, " is not a regular file"));
  }
  return std::shared_ptr<BodySource>(
      std::make_shared<FileBody>(fd, static_cast<uint64_t>(st.st_size)));
}

std::shared_ptr<BodySource> GeneratedBody(
    uint64_t size, std::function<void(uint64_t offset, char* buf, size_t len)> fill) {
  return std::make_shared<FunctionBody>(size, std::move(fill));
}

// ---- HttpResponse ----

HttpResponse HttpResponse::Text(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.headers.Add("Content-Type", "text/plain; charset=utf-8");
  r.body = std::move(body);
  return r;
}

HttpResponse HttpResponse::Json(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.headers.Add("Content-Type", "application/json");
  r.body = std::move(body);
  return r;
}

HttpResponse HttpResponse::Html(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.headers.Add("Content-Type", "text/html; charset=utf-8");
  r.body = std::move(body);
  return r;
}

HttpResponse HttpResponse::Empty(int status) {
  HttpResponse r;
  r.status = status;
  return r;
}

std::string_view StatusReason(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 101:
      return "Switching Protocols";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 206:
      return "Partial Content";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 303:
      return "See Other";
    case 304:
      return "Not Modified";
    case 307:
      return "Temporary Redirect";
    case 308:
      return "Permanent Redirect";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 410:
      return "Gone";
    case 411:
      return "Length Required";
    case 413:
      return "Content Too Large";
    case 414:
      return "URI Too Long";
    case 415:
      return "Unsupported Media Type";
    case 416:
      return "Range Not Satisfiable";
    case 417:
      return "Expectation Failed";
    case 422:
      return "Unprocessable Content";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "Unknown";
  }
}

namespace {
int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

std::string UrlDecode(std::string_view in, bool plus_as_space) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%' && i + 2 < in.size()) {
      int hi = HexValue(in[i + 1]);
      int lo = HexValue(in[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(plus_as_space && c == '+' ? ' ' : c);
  }
  return out;
}

RangeParse ParseByteRange(std::string_view header, uint64_t size, ByteRange* out) {
  std::string_view v = TrimAscii(header);
  if (!StartsWith(v, "bytes=")) return RangeParse::kNone;
  v = TrimAscii(v.substr(6));
  if (v.find(',') != std::string_view::npos) return RangeParse::kNone;
  size_t dash = v.find('-');
  if (dash == std::string_view::npos) return RangeParse::kNone;
  std::string_view a = TrimAscii(v.substr(0, dash));
  std::string_view b = TrimAscii(v.substr(dash + 1));
  auto digits = [](std::string_view s) { return IsAllDigits(s) && s.size() <= 19; };
  uint64_t first = 0;
  uint64_t last = 0;
  if (a.empty()) {
    // Suffix range: the last `b` bytes.
    uint64_t n = 0;
    if (!digits(b) || !ParseInt(b, &n)) return RangeParse::kNone;
    if (n == 0 || size == 0) return RangeParse::kUnsatisfiable;
    first = n >= size ? 0 : size - n;
    last = size - 1;
  } else {
    if (!digits(a) || !ParseInt(a, &first)) return RangeParse::kNone;
    if (b.empty()) {
      last = std::numeric_limits<uint64_t>::max();
    } else if (!digits(b) || !ParseInt(b, &last)) {
      return RangeParse::kNone;
    }
    if (last < first) return RangeParse::kNone;  // Syntactically invalid: ignore.
    if (first >= size) return RangeParse::kUnsatisfiable;
    last = std::min(last, size - 1);
  }
  out->first = first;
  out->last = last;
  return RangeParse::kSatisfiable;
}

HttpResponse MakeBodyResponse(const HttpRequest& request, std::shared_ptr<BodySource> source,
                              std::string_view content_type) {
  HttpResponse r;
  const uint64_t size = source->size();
  r.headers.Add("Accept-Ranges", "bytes");
  if (!content_type.empty()) r.headers.Add("Content-Type", std::string(content_type));
  ByteRange range;
  RangeParse parse = RangeParse::kNone;
  if (const std::string* h = request.headers.Find("Range"); h != nullptr) {
    parse = ParseByteRange(*h, size, &range);
  }
  switch (parse) {
    case RangeParse::kUnsatisfiable:
      r.status = 416;
      r.headers.Add("Content-Range", absl::StrCat("bytes */", size));
      return r;
    case RangeParse::kSatisfiable:
      r.status = 206;
      r.headers.Add("Content-Range",
                    absl::StrCat("bytes ", range.first, "-", range.last, "/", size));
      r.source_offset = range.first;
      r.source_length = range.last - range.first + 1;
      break;
    case RangeParse::kNone:
      r.status = 200;
      r.source_length = size;
      break;
  }
  r.source = std::move(source);
  return r;
}

Status ErrnoToStatus(int err, std::string_view what) {
  std::string message = std::string(what) + ": " + std::strerror(err);  // NOLINT
  switch (err) {
    case ENOENT:
    case ENOTDIR:
      return NotFoundError(std::move(message));
    case EEXIST:
      return AlreadyExistsError(std::move(message));
    case EACCES:
    case EPERM:
    case EROFS:
      return PermissionDeniedError(std::move(message));
    case EINVAL:
    case ENAMETOOLONG:
      return InvalidArgumentError(std::move(message));
    case EMFILE:
    case ENFILE:
    case ENOMEM:
    case ENOSPC:
      return ResourceExhaustedError(std::move(message));
    case ETIMEDOUT:
      return DeadlineExceededError(std::move(message));
    case EADDRINUSE:
    case EADDRNOTAVAIL:
    case EAGAIN:
    case ECONNREFUSED:
    case EINTR:
      return UnavailableError(std::move(message));
    default:
      return Status(StatusCode::kUnknown, std::move(message));
  }
}

}  // namespace prusaconnect::emulator
