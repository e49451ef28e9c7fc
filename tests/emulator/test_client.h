// HTTP clients for the emulator tests: a raw-socket connection (for
// keep-alive, pipelining, chunked uploads and fault checks at the byte
// level) and a small libcurl wrapper (a real client, as the SDK uses).
//
// Every blocking call takes a timeout, used only as an upper bound.

#ifndef PRUSACONNECT_TESTS_EMULATOR_TEST_CLIENT_H_
#define PRUSACONNECT_TESTS_EMULATOR_TEST_CLIENT_H_

#include <curl/curl.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/time/time.h"

namespace prusaconnect::emulator::testing {

struct ClientResponse {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  // First header called `name` (case-insensitive), or nullopt.
  std::optional<std::string> Header(std::string_view name) const;
};

// A blocking TCP connection to 127.0.0.1.
class RawConnection {
 public:
  // Connects; returns nullptr and sets *error (an errno) on failure.
  static std::unique_ptr<RawConnection> Connect(uint16_t port, int* error = nullptr);
  ~RawConnection();
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  bool Send(std::string_view data);
  void ShutdownWrite();

  // Reads one complete response (Content-Length, chunked, or until close).
  // `head`: the request was HEAD, so there is no body.
  std::optional<ClientResponse> ReadResponse(absl::Duration timeout = absl::Seconds(10),
                                             bool head = false);

  // Reads exactly `n` raw bytes.
  std::optional<std::string> ReadBytes(size_t n, absl::Duration timeout = absl::Seconds(10));

  enum class Outcome { kEof, kReset, kTimeout, kData };
  // Waits for the peer to close; kData if bytes arrive instead (they are
  // kept for later reads).
  Outcome WaitClosed(absl::Duration timeout);

  // Bytes received but not consumed yet.
  const std::string& buffered() const { return buf_; }

 private:
  explicit RawConnection(int fd) : fd_(fd) {}
  // Reads more into buf_; returns false on EOF/error/timeout.
  bool Fill(absl::Time deadline, Outcome* outcome = nullptr);

  int fd_;
  std::string buf_;
};

struct CurlResult {
  CURLcode code = CURLE_OK;
  ClientResponse response;
  long new_connections = 0;  // CURLINFO_NUM_CONNECTS of this transfer.
};

// One reused easy handle: consecutive requests share a keep-alive
// connection, as a requests.Session does.
class CurlClient {
 public:
  CurlClient();
  ~CurlClient();
  CurlClient(const CurlClient&) = delete;
  CurlClient& operator=(const CurlClient&) = delete;

  CurlResult Request(const std::string& method, const std::string& url,
                     const std::vector<std::string>& headers = {},
                     const std::optional<std::string>& body = std::nullopt,
                     absl::Duration timeout = absl::Seconds(10));

 private:
  CURL* curl_;
};

// The SDK's printer headers (sdk-spec.md §1.2).
std::vector<std::string> PrinterHeaders(std::string_view fingerprint, std::string_view token = {},
                                        std::string_view timestamp = "1700000000.1");

}  // namespace prusaconnect::emulator::testing

#endif  // PRUSACONNECT_TESTS_EMULATOR_TEST_CLIENT_H_
