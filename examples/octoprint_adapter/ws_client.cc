// Copyright 2026 The libprusaconnect Authors.
#include "ws_client.h"

#include <netdb.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "identity.h"           // ErrnoText
#include "octoprint_storage.h"  // Base64Encode

namespace octoprint_adapter {

namespace pc = prusaconnect;

namespace {

constexpr char kGuid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
constexpr size_t kMaxMessage = size_t{16} << 20;

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

WsClient::~WsClient() { Close(); }

std::string WsClient::AcceptKey(const std::string& key) {
  std::string in = key + kGuid;
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(in.data()), in.size(), digest);
  return Base64Encode(std::string(reinterpret_cast<char*>(digest), sizeof digest));
}

std::string WsClient::EncodeFrame(int opcode, const std::string& payload, uint32_t mask) {
  std::string f;
  f += static_cast<char>(0x80 | (opcode & 0x0f));
  size_t n = payload.size();
  if (n < 126) {
    f += static_cast<char>(0x80 | n);
  } else if (n <= 0xffff) {
    f += static_cast<char>(0x80 | 126);
    f += static_cast<char>((n >> 8) & 0xff);
    f += static_cast<char>(n & 0xff);
  } else {
    f += static_cast<char>(0x80 | 127);
    for (int i = 7; i >= 0; --i)
      f += static_cast<char>((static_cast<uint64_t>(n) >> (8 * i)) & 0xff);
  }
  unsigned char m[4] = {static_cast<unsigned char>(mask >> 24),
                        static_cast<unsigned char>(mask >> 16),
                        static_cast<unsigned char>(mask >> 8), static_cast<unsigned char>(mask)};
  f.append(reinterpret_cast<char*>(m), 4);
  for (size_t i = 0; i < n; ++i) f += static_cast<char>(payload[i] ^ static_cast<char>(m[i % 4]));
  return f;
}

int64_t WsClient::DecodeFrame(const std::string& buf, bool* fin, int* opcode,
                              std::string* payload) {
  if (buf.size() < 2) return 0;
  auto byte = [&](size_t i) { return static_cast<unsigned char>(buf[i]); };
  if ((byte(0) & 0x70) != 0) return -1;  // reserved bits: no extension negotiated
  *fin = (byte(0) & 0x80) != 0;
  *opcode = byte(0) & 0x0f;
  bool masked = (byte(1) & 0x80) != 0;
  uint64_t len = byte(1) & 0x7f;
  size_t pos = 2;
  if (len == 126) {
    if (buf.size() < 4) return 0;
    len = (static_cast<uint64_t>(byte(2)) << 8) | byte(3);
    pos = 4;
  } else if (len == 127) {
    if (buf.size() < 10) return 0;
    len = 0;
    for (size_t i = 2; i < 10; ++i) len = (len << 8) | byte(i);
    pos = 10;
  }
  if (len > kMaxMessage) return -1;
  if (*opcode >= 8 && (len > 125 || !*fin)) return -1;  // control frames are short and whole
  unsigned char mask[4] = {0, 0, 0, 0};
  if (masked) {
    if (buf.size() < pos + 4) return 0;
    for (int i = 0; i < 4; ++i) mask[i] = byte(pos + static_cast<size_t>(i));
    pos += 4;
  }
  if (buf.size() < pos + len) return 0;
  payload->assign(buf, pos, len);
  if (masked) {
    for (size_t i = 0; i < payload->size(); ++i) {
      (*payload)[i] = static_cast<char>((*payload)[i] ^ static_cast<char>(mask[i % 4]));
    }
  }
  return static_cast<int64_t>(pos + len);
}

pc::Status WsClient::WriteAll(const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::send(fd_, data.data() + done, data.size() - done, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return pc::UnavailableError(std::string("push socket write: ") + ErrnoText(errno));
    done += static_cast<size_t>(n);
  }
  return pc::Status();
}

pc::Status WsClient::Connect(const std::string& host, int port, const std::string& path,
                             int64_t timeout_ms) {
  Close();
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  std::string port_s = std::to_string(port);
  if (getaddrinfo(host.c_str(), port_s.c_str(), &hints, &res) != 0 || res == nullptr) {
    return pc::UnavailableError("push socket: cannot resolve " + host);
  }
  int fd = -1;
  for (addrinfo* a = res; a != nullptr; a = a->ai_next) {
    fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    if (::connect(fd, a->ai_addr, a->ai_addrlen) == 0) break;
    ::close(fd);
    fd = -1;
  }
  freeaddrinfo(res);
  if (fd < 0) {
    return pc::UnavailableError("push socket: cannot connect to " + host + ":" + port_s + ": " +
                                ErrnoText(errno));
  }
  {
    std::lock_guard<std::mutex> lock(write_mu_);
    fd_ = fd;
  }
  unsigned char nonce[16];
  RAND_bytes(nonce, sizeof nonce);
  std::string key = Base64Encode(std::string(reinterpret_cast<char*>(nonce), sizeof nonce));
  std::string req = "GET " + path + " HTTP/1.1\r\nHost: " + host + ":" + port_s +
                    "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + key +
                    "\r\nSec-WebSocket-Version: 13\r\n\r\n";
  if (pc::Status s = WriteAll(req); !s.ok()) return s;
  // Read the response head.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  buf_.clear();
  message_.clear();
  size_t end;
  while ((end = buf_.find("\r\n\r\n")) == std::string::npos) {
    int left = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                    deadline - std::chrono::steady_clock::now())
                                    .count());
    pollfd p{fd_, POLLIN, 0};
    if (left <= 0 || ::poll(&p, 1, left) <= 0) {
      return pc::UnavailableError("push socket: no handshake answer");
    }
    char tmp[4096];
    ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
    if (n <= 0) return pc::UnavailableError("push socket: closed during the handshake");
    buf_.append(tmp, static_cast<size_t>(n));
    if (buf_.size() > 65536) return pc::FailedPreconditionError("push socket: huge handshake");
  }
  std::string head = buf_.substr(0, end);
  buf_.erase(0, end + 4);
  if (head.compare(0, 12, "HTTP/1.1 101") != 0) {
    return pc::FailedPreconditionError("push socket: upgrade refused: " +
                                       head.substr(0, head.find("\r\n")));
  }
  std::string lower = Lower(head);
  size_t at = lower.find("\r\nsec-websocket-accept:");
  if (at == std::string::npos) {
    return pc::FailedPreconditionError("push socket: no Sec-WebSocket-Accept");
  }
  size_t vstart = at + 23;
  size_t vend = head.find("\r\n", vstart);
  std::string value =
      head.substr(vstart, vend == std::string::npos ? std::string::npos : vend - vstart);
  size_t b = value.find_first_not_of(" \t"), e = value.find_last_not_of(" \t");
  value = b == std::string::npos ? "" : value.substr(b, e - b + 1);
  if (value != AcceptKey(key)) {
    return pc::FailedPreconditionError("push socket: wrong Sec-WebSocket-Accept");
  }
  return pc::Status();
}

pc::Status WsClient::SendFrame(int opcode, const std::string& payload) {
  uint32_t mask = 0;
  RAND_bytes(reinterpret_cast<unsigned char*>(&mask), sizeof mask);
  std::lock_guard<std::mutex> lock(write_mu_);
  if (fd_ < 0) return pc::UnavailableError("push socket: not connected");
  return WriteAll(EncodeFrame(opcode, payload, mask));
}

pc::Status WsClient::SendText(const std::string& text) { return SendFrame(1, text); }
pc::Status WsClient::Ping() { return SendFrame(9, "k"); }

pc::StatusOr<std::string> WsClient::Receive(int64_t timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    bool fin = false;
    int opcode = 0;
    std::string payload;
    int64_t used = DecodeFrame(buf_, &fin, &opcode, &payload);
    if (used < 0) return pc::UnavailableError("push socket: malformed frame");
    if (used > 0) {
      buf_.erase(0, static_cast<size_t>(used));
      if (opcode == 8) return pc::UnavailableError("push socket: closed by OctoPrint");
      if (opcode == 9) {
        (void)SendFrame(10, payload);
        continue;
      }
      if (opcode == 10) continue;
      if (opcode == 1 || opcode == 2 || opcode == 0) {
        message_ += payload;
        if (message_.size() > kMaxMessage) return pc::UnavailableError("push socket: too big");
        if (fin) {
          std::string m;
          m.swap(message_);
          return m;
        }
        continue;
      }
      return pc::UnavailableError("push socket: unknown opcode");
    }
    int fd;
    {
      std::lock_guard<std::mutex> lock(write_mu_);
      fd = fd_;
    }
    if (fd < 0) return pc::UnavailableError("push socket: closed");
    int left = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                    deadline - std::chrono::steady_clock::now())
                                    .count());
    if (left <= 0) return pc::DeadlineExceededError("no message");
    pollfd p{fd, POLLIN, 0};
    int r = ::poll(&p, 1, left);
    if (r < 0 && errno == EINTR) continue;
    if (r == 0) return pc::DeadlineExceededError("no message");
    char tmp[16384];
    ssize_t n = ::recv(fd, tmp, sizeof tmp, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return pc::UnavailableError("push socket: connection lost");
    buf_.append(tmp, static_cast<size_t>(n));
  }
}

void WsClient::Close() {
  std::lock_guard<std::mutex> lock(write_mu_);
  if (fd_ >= 0) {
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    fd_ = -1;
  }
}

}  // namespace octoprint_adapter
