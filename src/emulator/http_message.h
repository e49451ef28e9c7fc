// HTTP/1.1 message types shared by the emulator's HTTP server and its
// handlers: header lists, requests, responses and streamed response bodies.
//
// These are plain value types.  A given object is not safe for concurrent
// mutation, but distinct objects may be used from distinct threads.
// BodySource implementations are read only from the server's loop thread.

#ifndef PRUSACONNECT_SRC_EMULATOR_HTTP_MESSAGE_H_
#define PRUSACONNECT_SRC_EMULATOR_HTTP_MESSAGE_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "prusaconnect/status.h"

namespace prusaconnect::emulator {

// An ordered list of header fields.  Lookups compare names
// case-insensitively; names keep the spelling they were added with.
class HttpHeaders {
 public:
  using Field = std::pair<std::string, std::string>;

  // Appends a field (duplicates allowed).
  void Add(std::string name, std::string value);
  // Replaces every field called `name` by a single one.
  void Set(std::string name, std::string value);
  // Removes every field called `name`.
  void Remove(std::string_view name);

  // The value of the first field called `name`, or nullptr.
  const std::string* Find(std::string_view name) const;
  // The value of the first field called `name`, or `fallback`.
  std::string_view Get(std::string_view name, std::string_view fallback = {}) const;
  bool Has(std::string_view name) const { return Find(name) != nullptr; }

  bool empty() const { return fields_.empty(); }
  size_t size() const { return fields_.size(); }
  std::vector<Field>::const_iterator begin() const { return fields_.begin(); }
  std::vector<Field>::const_iterator end() const { return fields_.end(); }

 private:
  std::vector<Field> fields_;
};

// One parsed request.  `body` holds the complete, de-chunked body.
struct HttpRequest {
  std::string method;  // As sent, e.g. "GET".
  std::string target;  // Raw request-target, e.g. "/p/register?x=1".
  std::string path;    // Target up to '?', not percent-decoded.
  std::string query;   // Target after '?', not percent-decoded.
  int http_minor = 1;  // 0 for HTTP/1.0, 1 for HTTP/1.1.
  HttpHeaders headers;
  std::string body;

  uint64_t connection_id = 0;  // Unique per server for its lifetime.
  uint64_t request_index = 0;  // 0 for the first request on a connection.
  std::string peer;            // "address:port" of the client.
  bool keep_alive = true;      // Whether the client allows reuse.

  // The percent-decoded value of the first query parameter `name`.
  std::optional<std::string> QueryParam(std::string_view name) const;
};

// A response body produced on demand, for bodies too large (or too slow) to
// keep in memory.  Reads are positional so ranges and retries are trivial.
//
// Called only on the server's loop thread; ReadAt must not block for long.
class BodySource {
 public:
  virtual ~BodySource() = default;

  // Total number of bytes available.
  virtual uint64_t size() const = 0;

  // Copies up to `len` bytes starting at `offset` into `buf`.
  // REQUIRES: offset < size(), len > 0.
  // Returns the number of bytes copied (> 0), or an error, which aborts the
  // connection (the client sees a truncated body).
  virtual StatusOr<size_t> ReadAt(uint64_t offset, char* buf, size_t len) = 0;

  // A file descriptor the server may sendfile(2) from at any offset, or -1.
  virtual int fd() const { return -1; }
};

// A source reading a regular file (kept open until the source is destroyed).
StatusOr<std::shared_ptr<BodySource>> OpenFileBody(const std::string& path);

// A Status for the errno `err` of `what` ("bind 127.0.0.1:80: Address already
// in use"), its code chosen as absl::ErrnoToStatus does (ENOENT: NotFound,
// EADDRINUSE: Unavailable, EMFILE: ResourceExhausted...).
Status ErrnoToStatus(int err, std::string_view what);

// A source of `size` bytes produced by `fill(offset, buf, len)`, which must
// write exactly `len` bytes.  Used for deterministic generated downloads.
std::shared_ptr<BodySource> GeneratedBody(
    uint64_t size, std::function<void(uint64_t offset, char* buf, size_t len)> fill);

// How the server delimits a response body on the wire.
enum class BodyFraming {
  kContentLength,   // Content-Length header (the default).
  kChunked,         // Transfer-Encoding: chunked (HTTP/1.1 clients only;
                    // HTTP/1.0 clients get kCloseDelimited).
  kCloseDelimited,  // No length; the connection is closed after the body.
};

// A response.  The server owns framing: any Content-Length,
// Transfer-Encoding or Connection header set here is replaced.
struct HttpResponse {
  int status = 200;
  std::string reason;  // Empty: the standard reason phrase.
  HttpHeaders headers;

  // The body: `body`, unless `source` is set, in which case the bytes
  // [source_offset, source_offset + source_length) of `source` are sent
  // (source_length unset: up to the end of the source).
  std::string body;
  std::shared_ptr<BodySource> source;
  uint64_t source_offset = 0;
  std::optional<uint64_t> source_length;

  BodyFraming framing = BodyFraming::kContentLength;

  // Close the connection after this response ("respond then close").
  bool close_connection = false;

  // Fault hooks for clients' timeout and progress handling:
  // send the body at no more than this rate (0 = unlimited) ...
  uint64_t throttle_bytes_per_sec = 0;
  // ... and/or stop sending after this many body bytes, keeping the
  // connection open and silent until the client gives up.
  std::optional<uint64_t> stall_after_body_bytes;
  // ... and/or drop the connection (FIN) after this many body bytes.
  std::optional<uint64_t> drop_after_body_bytes;

  // Convenience constructors.
  static HttpResponse Text(int status, std::string body);
  static HttpResponse Json(int status, std::string body);
  static HttpResponse Html(int status, std::string body);
  static HttpResponse Empty(int status);
};

// The standard reason phrase for `status` ("Unknown" if none).
std::string_view StatusReason(int status);

// Decodes %XX escapes (and '+' as space when `plus_as_space`).  Invalid
// escapes are kept literally.
std::string UrlDecode(std::string_view in, bool plus_as_space);

// A single byte range [first, last] (inclusive) resolved against a body of
// `size` bytes, as parsed from a Range header value.
struct ByteRange {
  uint64_t first = 0;
  uint64_t last = 0;
};
enum class RangeParse { kNone, kSatisfiable, kUnsatisfiable };
// Parses "bytes=a-", "bytes=a-b" and "bytes=-n".  Anything else (other
// units, several ranges, garbage) is kNone, meaning "ignore the header".
RangeParse ParseByteRange(std::string_view header, uint64_t size, ByteRange* out);

// Builds the response for serving `source` to `request`: 200 with the whole
// body, 206 with Content-Range when a satisfiable single Range is requested,
// or 416 when it is unsatisfiable.  Adds Accept-Ranges and, unless empty,
// Content-Type.
HttpResponse MakeBodyResponse(const HttpRequest& request, std::shared_ptr<BodySource> source,
                              std::string_view content_type);

}  // namespace prusaconnect::emulator

#endif  // PRUSACONNECT_SRC_EMULATOR_HTTP_MESSAGE_H_
