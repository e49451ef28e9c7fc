#include "test_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "emulator/str_util.h"

namespace prusaconnect::emulator::testing {

std::optional<std::string> ClientResponse::Header(std::string_view name) const {
  for (const auto& [n, v] : headers) {
    if (EqualsIgnoreCase(n, name)) return v;
  }
  return std::nullopt;
}

// ---- RawConnection ----

std::unique_ptr<RawConnection> RawConnection::Connect(uint16_t port, int* error) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    if (error != nullptr) *error = errno;
    return nullptr;
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    if (error != nullptr) *error = errno;
    ::close(fd);
    return nullptr;
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  if (error != nullptr) *error = 0;
  return std::unique_ptr<RawConnection>(new RawConnection(fd));
}

RawConnection::~RawConnection() { ::close(fd_); }

bool RawConnection::Send(std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

void RawConnection::ShutdownWrite() { ::shutdown(fd_, SHUT_WR); }

bool RawConnection::Fill(absl::Time deadline, Outcome* outcome) {
  for (;;) {
    absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) {
      if (outcome != nullptr) *outcome = Outcome::kTimeout;
      return false;
    }
    pollfd p{fd_, POLLIN, 0};
    int rc = ::poll(&p, 1, static_cast<int>(absl::ToInt64Milliseconds(left)) + 1);
    if (rc < 0 && errno == EINTR) continue;
    if (rc == 0) continue;  // Re-check the deadline.
    char tmp[65536];
    ssize_t n = ::recv(fd_, tmp, sizeof(tmp), 0);
    if (n > 0) {
      buf_.append(tmp, static_cast<size_t>(n));
      if (outcome != nullptr) *outcome = Outcome::kData;
      return true;
    }
    if (n < 0 && errno == EINTR) continue;
    if (outcome != nullptr) *outcome = n == 0 ? Outcome::kEof : Outcome::kReset;
    return false;
  }
}

std::optional<std::string> RawConnection::ReadBytes(size_t n, absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  while (buf_.size() < n) {
    if (!Fill(deadline)) return std::nullopt;
  }
  std::string out = buf_.substr(0, n);
  buf_.erase(0, n);
  return out;
}

RawConnection::Outcome RawConnection::WaitClosed(absl::Duration timeout) {
  if (!buf_.empty()) return Outcome::kData;
  Outcome outcome = Outcome::kTimeout;
  Fill(absl::Now() + timeout, &outcome);
  return outcome;
}

std::optional<ClientResponse> RawConnection::ReadResponse(absl::Duration timeout, bool head) {
  absl::Time deadline = absl::Now() + timeout;
  size_t end;
  while ((end = buf_.find("\r\n\r\n")) == std::string::npos) {
    if (!Fill(deadline)) return std::nullopt;
  }
  std::string_view head_text(buf_.data(), end);
  std::vector<std::string_view> lines;
  for (std::string_view line : Split(head_text, '\n')) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
  }
  ClientResponse r;
  if (lines.empty() || lines[0].size() < 12 || !StartsWith(lines[0], "HTTP/1.")) {
    return std::nullopt;
  }
  if (!ParseInt(lines[0].substr(9, 3), &r.status)) return std::nullopt;
  for (size_t i = 1; i < lines.size(); ++i) {
    size_t colon = lines[i].find(':');
    if (colon == std::string_view::npos) return std::nullopt;
    r.headers.emplace_back(std::string(lines[i].substr(0, colon)),
                           std::string(TrimAscii(lines[i].substr(colon + 1))));
  }
  buf_.erase(0, end + 4);
  if (head || r.status == 204 || r.status == 304 || (r.status >= 100 && r.status < 200)) return r;

  std::optional<std::string> te = r.Header("Transfer-Encoding");
  std::optional<std::string> cl = r.Header("Content-Length");
  if (te.has_value() && EqualsIgnoreCase(*te, "chunked")) {
    for (;;) {
      size_t eol;
      while ((eol = buf_.find("\r\n")) == std::string::npos) {
        if (!Fill(deadline)) return std::nullopt;
      }
      uint64_t size = 0;
      if (!absl::SimpleHexAtoi(AV(std::string_view(buf_).substr(0, eol)), &size)) {
        return std::nullopt;
      }
      buf_.erase(0, eol + 2);
      while (buf_.size() < size + 2) {
        if (!Fill(deadline)) return std::nullopt;
      }
      r.body.append(buf_, 0, static_cast<size_t>(size));
      buf_.erase(0, static_cast<size_t>(size) + 2);
      if (size == 0) return r;  // No trailers from our server.
    }
  }
  if (cl.has_value()) {
    size_t length = 0;
    if (!ParseInt(*cl, &length)) return std::nullopt;
    while (buf_.size() < length) {
      if (!Fill(deadline)) return std::nullopt;
    }
    r.body = buf_.substr(0, length);
    buf_.erase(0, length);
    return r;
  }
  // Close-delimited.
  Outcome outcome = Outcome::kData;
  while (outcome == Outcome::kData) Fill(deadline, &outcome);
  if (outcome == Outcome::kTimeout) return std::nullopt;
  r.body = std::move(buf_);
  buf_.clear();
  return r;
}

// ---- CurlClient ----

namespace {

size_t WriteBody(char* data, size_t size, size_t nmemb, void* user) {
  static_cast<std::string*>(user)->append(data, size * nmemb);
  return size * nmemb;
}

size_t WriteHeader(char* data, size_t size, size_t nmemb, void* user) {
  auto* headers = static_cast<std::vector<std::pair<std::string, std::string>>*>(user);
  std::string_view line(data, size * nmemb);
  if (StartsWith(line, "HTTP/")) {
    headers->clear();  // A new response (e.g. after 100 Continue).
  } else if (size_t colon = line.find(':'); colon != std::string_view::npos) {
    headers->emplace_back(std::string(TrimAscii(line.substr(0, colon))),
                          std::string(TrimAscii(line.substr(colon + 1))));
  }
  return size * nmemb;
}

}  // namespace

CurlClient::CurlClient() : curl_(curl_easy_init()) {}
CurlClient::~CurlClient() { curl_easy_cleanup(curl_); }

CurlResult CurlClient::Request(const std::string& method, const std::string& url,
                               const std::vector<std::string>& headers,
                               const std::optional<std::string>& body, absl::Duration timeout) {
  CurlResult result;
  curl_easy_reset(curl_);
  curl_easy_setopt(curl_, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl_, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl_, CURLOPT_TIMEOUT_MS,
                   static_cast<long>(absl::ToInt64Milliseconds(timeout)));
  if (method == "HEAD") {
    curl_easy_setopt(curl_, CURLOPT_NOBODY, 1L);
  } else if (method != "GET") {
    curl_easy_setopt(curl_, CURLOPT_CUSTOMREQUEST, method.c_str());
  }
  if (body.has_value()) {
    curl_easy_setopt(curl_, CURLOPT_POSTFIELDS, body->data());
    curl_easy_setopt(curl_, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body->size()));
  }
  curl_slist* list = nullptr;
  for (const std::string& h : headers) list = curl_slist_append(list, h.c_str());
  // libcurl adds "Expect: 100-continue" for large bodies; requests does not.
  list = curl_slist_append(list, "Expect:");
  curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, WriteBody);
  curl_easy_setopt(curl_, CURLOPT_WRITEDATA, &result.response.body);
  curl_easy_setopt(curl_, CURLOPT_HEADERFUNCTION, WriteHeader);
  curl_easy_setopt(curl_, CURLOPT_HEADERDATA, &result.response.headers);
  result.code = curl_easy_perform(curl_);
  long status = 0;
  curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &status);
  result.response.status = static_cast<int>(status);
  curl_easy_getinfo(curl_, CURLINFO_NUM_CONNECTS, &result.new_connections);
  curl_slist_free_all(list);
  return result;
}

std::vector<std::string> PrinterHeaders(std::string_view fingerprint, std::string_view token,
                                        std::string_view timestamp) {
  std::vector<std::string> h = {
      absl::StrCat("Fingerprint: ", AV(fingerprint)),
      absl::StrCat("Timestamp: ", AV(timestamp)),
      "User-Agent: Prusa-Connect-SDK-Printer/0.8.1",
      "User-Agent-Printer: 1.3.1",
      "User-Agent-Version: 4.7.0",
      "Content-Type: application/json",
  };
  if (!token.empty()) h.push_back(absl::StrCat("Token: ", AV(token)));
  return h;
}

}  // namespace prusaconnect::emulator::testing
