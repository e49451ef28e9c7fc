// Incremental HTTP/1.x request parser used by HttpServer.
//
// Feed it the bytes received so far; it reports how many it consumed and
// whether a complete request (head + Content-Length or chunked body) is
// available.  It enforces size limits and rejects ambiguous framing (the
// classic request-smuggling cases) with a status code for the error
// response.
//
// Thread-compatible: one parser per connection, used by one thread.

#ifndef PRUSACONNECT_SRC_EMULATOR_HTTP_PARSER_H_
#define PRUSACONNECT_SRC_EMULATOR_HTTP_PARSER_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "emulator/http_message.h"

namespace prusaconnect::emulator {

class RequestParser {
 public:
  struct Limits {
    size_t max_header_bytes = 64 * 1024;         // Request line + headers (and trailers).
    uint64_t max_body_bytes = 64 * 1024 * 1024;  // Decoded body.
  };

  enum class Result {
    kNeedMore,  // Everything given was consumed or must be kept; feed more.
    kComplete,  // A request is ready: TakeRequest(), then keep parsing.
    kError,     // Malformed or too large: see error_status()/error_message().
  };

  explicit RequestParser(Limits limits) : limits_(limits) {}

  // Parses `data`, the received bytes not consumed by earlier calls.
  // Sets `*consumed` to the number of leading bytes of `data` the caller must
  // drop before the next call.  After kComplete the remaining bytes belong
  // to the next (pipelined) request.  After kError the parser must not be
  // used again.
  Result Parse(std::string_view data, size_t* consumed);

  // True once the request head has been parsed (the body may be pending).
  bool head_complete() const { return state_ != State::kHead; }
  // True when the head asked for "Expect: 100-continue" and the body has not
  // been fully received.
  bool wants_continue() const { return expect_continue_ && state_ != State::kHead && !done_; }
  // True when the connection must be closed after responding, because the
  // framing was suspicious (both Transfer-Encoding and Content-Length).
  bool force_close() const { return force_close_; }

  // The current request; complete after kComplete.
  const HttpRequest& request() const { return request_; }
  // Moves out the completed request and resets for the next one.
  HttpRequest TakeRequest();

  int error_status() const { return error_status_; }
  const std::string& error_message() const { return error_message_; }

 private:
  enum class State { kHead, kFixedBody, kChunkSize, kChunkData, kChunkDataEnd, kTrailers, kDone };

  Result Fail(int status, std::string message);
  Result ParseHead(std::string_view head);
  // Finds the end of a line starting at `from` in `data`; returns the index
  // just past '\n' or npos.
  static size_t LineEnd(std::string_view data, size_t from);

  Limits limits_;
  State state_ = State::kHead;
  HttpRequest request_;
  size_t scan_ = 0;         // Head/trailer scan position within unconsumed data.
  uint64_t remaining_ = 0;  // Bytes left in the fixed body or current chunk.
  bool expect_continue_ = false;
  bool force_close_ = false;
  bool done_ = false;
  int error_status_ = 0;
  std::string error_message_;
};

}  // namespace prusaconnect::emulator

#endif  // PRUSACONNECT_SRC_EMULATOR_HTTP_PARSER_H_
