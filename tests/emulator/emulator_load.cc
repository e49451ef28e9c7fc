// emulator_load: a closed-loop HTTP load generator for the emulator and the
// HTTP server (not a ctest test; run by hand or from benchmarks).
//
//   emulator_load --port P [--connections 10000] [--seconds 10]
//                 [--mode telemetry|get]
//   emulator_load --inproc [--connections 9000] ...   (starts an HttpServer
//                 with a trivial handler in this process)
//
// Every connection keeps exactly one request in flight over keep-alive.
// In telemetry mode it first pre-registers one printer per connection
// through the control API and then posts SDK-shaped telemetry, so the full
// emulator path (auth, header checks, JSON parse, logging) is measured.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "emulator/http_server.h"
#include "emulator/str_util.h"
#include "test_client.h"

namespace {

using prusaconnect::emulator::ParseInt;
using Clock = std::chrono::steady_clock;

struct Conn {
  int fd = -1;
  std::string request;
  std::string in;
  uint64_t done = 0;
};

int ConnectBlocking(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return -1;
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return fd;
}

// Consumes complete responses from c->in; returns how many.
int ConsumeResponses(Conn* c, int* bad_status) {
  int n = 0;
  for (;;) {
    size_t end = c->in.find("\r\n\r\n");
    if (end == std::string::npos) return n;
    std::string_view head(c->in.data(), end);
    size_t length = 0;
    size_t cl = head.find("Content-Length: ");
    if (cl != std::string_view::npos) {
      size_t eol = head.find("\r\n", cl);
      std::string_view v =
          head.substr(cl + 16, eol == std::string_view::npos ? eol : eol - cl - 16);
      if (!ParseInt(v, &length)) length = 0;
    }
    if (c->in.size() < end + 4 + length) return n;
    int status = 0;
    if (head.size() > 12 && !ParseInt(head.substr(9, 3), &status)) status = 0;
    if (status >= 400) ++*bad_status;
    c->in.erase(0, end + 4 + length);
    ++n;
  }
}

}  // namespace

int main(int argc, char** argv) {
  uint16_t port = 0;
  int connections = 10000;
  int seconds = 10;
  std::string mode = "telemetry";
  bool inproc = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    auto next = [&]() -> std::string_view {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", argv[i]);
        std::exit(2);
      }
      return argv[++i];
    };
    int v = 0;
    if (a == "--port" && ParseInt(next(), &v)) {
      port = static_cast<uint16_t>(v);
    } else if (a == "--connections" && ParseInt(next(), &v)) {
      connections = v;
    } else if (a == "--seconds" && ParseInt(next(), &v)) {
      seconds = v;
    } else if (a == "--mode") {
      mode = std::string(next());
    } else if (a == "--inproc") {
      inproc = true;
      mode = "get";
    } else {
      std::fprintf(stderr,
                   "usage: %s (--port P | --inproc) [--connections N] [--seconds S] "
                   "[--mode telemetry|get]\n",
                   argv[0]);
      return 2;
    }
  }
  struct rlimit rl {};
  ::getrlimit(RLIMIT_NOFILE, &rl);
  rl.rlim_cur = rl.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &rl);

  std::unique_ptr<prusaconnect::emulator::HttpServer> server;
  if (inproc) {
    server = std::make_unique<prusaconnect::emulator::HttpServer>(
        prusaconnect::emulator::HttpServerOptions{},
        [](const prusaconnect::emulator::HttpRequest&, prusaconnect::emulator::HttpResponder r) {
          r.Respond(prusaconnect::emulator::HttpResponse::Text(200, "ok"));
        });
    if (!server->Start().ok()) return 1;
    port = server->port();
  }
  if (port == 0) {
    std::fprintf(stderr, "--port or --inproc required\n");
    return 2;
  }

  std::vector<Conn> conns(static_cast<size_t>(connections));
  if (mode == "telemetry") {
    std::printf("pre-registering %d printers...\n", connections);
    std::fflush(stdout);
    prusaconnect::emulator::testing::CurlClient api;
    for (int i = 0; i < connections; ++i) {
      std::string fp = absl::StrCat("load-fp-", i);
      std::string token = absl::StrCat("loadtoken", 10000000 + i, "x");
      auto r = api.Request(
          "POST", absl::StrCat("http://127.0.0.1:", port, "/api/printers"), {},
          absl::StrCat(R"({"fingerprint":")", fp, R"(","sn":"SN","token":")", token, R"("})"));
      if (r.response.status != 200) {
        std::fprintf(stderr, "pre-registration failed: %d %s\n", r.response.status,
                     r.response.body.c_str());
        return 1;
      }
      std::string body =
          R"({"temp_nozzle":215.3,"temp_bed":60.1,"target_nozzle":215,"target_bed":60,"axis_z":0.2,"fan_extruder":3400,"state":"PRINTING"})";
      conns[static_cast<size_t>(i)].request = absl::StrCat(
          "POST /p/telemetry HTTP/1.1\r\nHost: 127.0.0.1\r\n"
          "User-Agent: Prusa-Connect-SDK-Printer/0.8.1\r\nAccept-Encoding: gzip, deflate\r\n"
          "Accept: */*\r\nConnection: keep-alive\r\nFingerprint: ",
          fp,
          "\r\nTimestamp: 1700000000.1\r\nUser-Agent-Printer: 1.3.1\r\n"
          "User-Agent-Version: 4.7.0\r\nToken: ",
          token, "\r\nContent-Type: application/json\r\nContent-Length: ", body.size(), "\r\n\r\n",
          body);
    }
  } else {
    for (Conn& c : conns) c.request = "GET /p/ping HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  }

  std::printf("connecting %d connections...\n", connections);
  std::fflush(stdout);
  int ep = ::epoll_create1(EPOLL_CLOEXEC);
  for (size_t i = 0; i < conns.size(); ++i) {
    conns[i].fd = ConnectBlocking(port);
    if (conns[i].fd < 0) {
      std::fprintf(stderr, "connect %zu failed: %s\n", i, std::strerror(errno));
      return 1;
    }
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = i;
    ::epoll_ctl(ep, EPOLL_CTL_ADD, conns[i].fd, &ev);
  }

  auto send_request = [](Conn& c) {
    ssize_t n = ::send(c.fd, c.request.data(), c.request.size(), MSG_NOSIGNAL);
    if (n != static_cast<ssize_t>(c.request.size())) {
      std::fprintf(stderr, "short send\n");
      std::exit(1);
    }
  };
  // Warm-up: one request per connection.
  for (Conn& c : conns) send_request(c);

  uint64_t total = 0;
  int bad = 0;
  auto start = Clock::now();
  auto end = start + std::chrono::seconds(seconds);
  std::vector<epoll_event> events(4096);
  char buf[65536];
  auto last_report = start;
  uint64_t last_total = 0;
  while (Clock::now() < end) {
    int n = ::epoll_wait(ep, events.data(), static_cast<int>(events.size()), 100);
    for (int k = 0; k < n; ++k) {
      Conn& c = conns[events[static_cast<size_t>(k)].data.u64];
      ssize_t r = ::recv(c.fd, buf, sizeof(buf), 0);
      if (r <= 0) {
        std::fprintf(stderr, "connection closed by server\n");
        return 1;
      }
      c.in.append(buf, static_cast<size_t>(r));
      int got = ConsumeResponses(&c, &bad);
      for (int g = 0; g < got; ++g) {
        ++total;
        ++c.done;
        send_request(c);
      }
    }
    auto now = Clock::now();
    if (now - last_report >= std::chrono::seconds(1)) {
      double dt = std::chrono::duration<double>(now - last_report).count();
      std::printf("  %.0f req/s\n", static_cast<double>(total - last_total) / dt);
      std::fflush(stdout);
      last_report = now;
      last_total = total;
    }
  }
  double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  uint64_t min_done = UINT64_MAX;
  for (const Conn& c : conns) min_done = std::min(min_done, c.done);
  std::printf(
      "%s: %d connections, %llu responses in %.1f s = %.0f req/s; errors %d; "
      "slowest connection completed %llu\n",
      mode.c_str(), connections, static_cast<unsigned long long>(total), elapsed,
      static_cast<double>(total) / elapsed, bad, static_cast<unsigned long long>(min_done));
  for (Conn& c : conns) ::close(c.fd);
  ::close(ep);
  return bad == 0 ? 0 : 1;
}
