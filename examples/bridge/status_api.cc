// Copyright 2026 The libprusaconnect Authors.
#include "status_api.h"

#include <arpa/inet.h>
#include <httplib.h>
#include <sys/socket.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <mutex>
#include <utility>

#include "adapter_log.h"
#include "dashboard_html.h"
#include "qr_terminal.h"

namespace bridge {

namespace pc = prusaconnect;
using octoprint_adapter::LogInfo;
using octoprint_adapter::LogWarning;

namespace {

// Heartbeat comment on an idle event stream: proxies keep it open, and a
// client that went away is noticed when the write fails.
constexpr int64_t kStreamHeartbeatMs = 10000;

bool ConstantTimeEqual(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  unsigned char d = 0;
  for (size_t i = 0; i < a.size(); ++i) d |= static_cast<unsigned char>(a[i] ^ b[i]);
  return d == 0;
}

// "/api/printer/NAME[/TAIL]" -> NAME, TAIL; false for anything else.
bool SplitPrinterPath(const std::string& path, std::string* name, std::string* tail) {
  const std::string prefix = "/api/printer/";
  if (path.compare(0, prefix.size(), prefix) != 0) return false;
  std::string rest = path.substr(prefix.size());
  size_t slash = rest.find('/');
  *name = rest.substr(0, slash);
  *tail = slash == std::string::npos ? "" : rest.substr(slash + 1);
  return !name->empty();
}

std::string ImageType(const std::string& bytes) {
  if (bytes.size() > 4 && bytes.compare(1, 3, "PNG") == 0) return "image/png";
  return "image/jpeg";
}

// The Host header without its port ("[::1]:8421" -> "::1").
std::string HostName(const std::string& host) {
  if (!host.empty() && host.front() == '[') {
    size_t close = host.find(']');
    return close == std::string::npos ? host : host.substr(1, close - 1);
  }
  size_t colon = host.find(':');
  return colon == std::string::npos ? host : host.substr(0, colon);
}

std::string HttpDate(int64_t t) {
  char buf[64];
  std::time_t tt = static_cast<std::time_t>(t);
  struct tm tm;
  gmtime_r(&tt, &tm);
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return buf;
}

}  // namespace

bool ParseListen(const std::string& listen, std::string* host, int* port) {
  size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon + 1 >= listen.size()) return false;
  std::string h = listen.substr(0, colon);
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  if (h.empty() || (h.find(':') != std::string::npos && listen.front() != '[')) return false;
  int p = 0;
  for (size_t i = colon + 1; i < listen.size(); ++i) {
    if (listen[i] < '0' || listen[i] > '9' || p > 65535) return false;
    p = p * 10 + (listen[i] - '0');
  }
  if (p > 65535) return false;
  *host = h;
  *port = p;
  return true;
}

bool IsLoopback(const std::string& host) {
  if (host == "localhost" || host == "::1") return true;
  in_addr a{};
  if (inet_pton(AF_INET, host.c_str(), &a) == 1) return (ntohl(a.s_addr) >> 24) == 127;
  return false;
}

struct StatusApi::Impl {
  struct Bucket {
    double tokens = 0;
    std::chrono::steady_clock::time_point at;
  };
  httplib::Server server;
  std::mutex mu;
  std::map<std::string, Bucket> buckets;
  std::atomic<int> streams{0};
  std::atomic<uint64_t> requests{0};
  std::atomic<uint64_t> errors{0};
  std::atomic<uint64_t> limited{0};
  std::atomic<bool> stopping{false};
};

StatusApi::StatusApi(StatusSource* source, StatusApiOptions options)
    : source_(source), options_(std::move(options)) {}

StatusApi::~StatusApi() { Stop(); }

std::string StatusApi::url() const {
  std::string h = host_.find(':') != std::string::npos ? "[" + host_ + "]" : host_;
  if (h == "0.0.0.0" || h == "[::]") h = "127.0.0.1";
  return "http://" + h + ":" + std::to_string(port_) + "/";
}

pc::Status StatusApi::Start() {
  int port = 0;
  if (!ParseListen(options_.listen, &host_, &port)) {
    return pc::InvalidArgumentError("api_listen: \"" + options_.listen +
                                    "\" is not HOST:PORT (e.g. \"127.0.0.1:8421\")");
  }
  if (!IsLoopback(host_) && options_.token.empty()) {
    return pc::InvalidArgumentError(
        "api_listen: " + options_.listen +
        " is reachable from other machines: set api_token (any long random text) so that "
        "only those who know it can read the printers");
  }
  impl_ = std::make_unique<Impl>();
  Impl* impl = impl_.get();
  int threads = options_.threads;
  impl->server.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  impl->server.set_keep_alive_max_count(100);
  impl->server.set_keep_alive_timeout(5);
  impl->server.set_read_timeout(5, 0);
  impl->server.set_write_timeout(5, 0);
  impl->server.set_payload_max_length(4096);
  // cpp-httplib sets SO_REUSEPORT by default: a second bridge on the same
  // port would then share it silently. Only SO_REUSEADDR (restart at once).
  impl->server.set_socket_options([](int sock) {
    int yes = 1;
    (void)setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });

  impl->server.set_pre_routing_handler([this, impl](const httplib::Request& req,
                                                    httplib::Response& res) {
    ++impl->requests;
    auto json_error = [&](int status, const std::string& text) {
      ++impl->errors;
      res.status = status;
      pc::Json j = pc::Json::MakeObject({{"error", text}, {"status", status}});
      res.set_content(j.Dump() + "\n", "application/json");
    };
    // Rate: a token bucket per client address.
    {
      std::lock_guard<std::mutex> lock(impl->mu);
      auto now = std::chrono::steady_clock::now();
      auto found = impl->buckets.find(req.remote_addr);
      if (found == impl->buckets.end()) {
        if (impl->buckets.size() > 4096) impl->buckets.clear();  // bounded
        found = impl->buckets
                    .emplace(req.remote_addr, Impl::Bucket{2.0 * options_.rate_per_second, now})
                    .first;
      }
      Impl::Bucket& b = found->second;
      double dt = std::chrono::duration<double>(now - b.at).count();
      b.at = now;
      b.tokens = std::min(2.0 * options_.rate_per_second, b.tokens + dt * options_.rate_per_second);
      if (b.tokens < 1.0) {
        ++impl->limited;
        res.set_header("Retry-After", "1");
        json_error(429, "too many requests: at most " + std::to_string(options_.rate_per_second) +
                            " per second per client");
        return httplib::Server::HandlerResponse::Handled;
      }
      b.tokens -= 1.0;
    }
    // Without a token, a web page the user visits could rebind its own name
    // to 127.0.0.1 and read the printers (registration codes included):
    // only loopback names and the listen address are served.
    if (options_.token.empty()) {
      std::string host = HostName(req.get_header_value("Host"));
      if (!host.empty() && !IsLoopback(host) && host != host_) {
        json_error(403, "Host \"" + host +
                            "\" is not served: open the dashboard as http://127.0.0.1:PORT/ "
                            "(or set api_token to use other names)");
        return httplib::Server::HandlerResponse::Handled;
      }
    }
    if (!options_.token.empty()) {
      std::string given;
      const std::string auth = req.get_header_value("Authorization");
      if (auth.compare(0, 7, "Bearer ") == 0) {
        given = auth.substr(7);
      } else if (req.has_param("access_token")) {
        given = req.get_param_value("access_token");
      }
      if (!ConstantTimeEqual(given, options_.token)) {
        res.set_header("WWW-Authenticate", "Bearer realm=\"prusaconnect-bridge\"");
        json_error(401, given.empty() ? "a bearer token is required (api_token)"
                                      : "the bearer token is wrong");
        return httplib::Server::HandlerResponse::Handled;
      }
    }
    const std::string& path = req.path;
    std::string name, tail;
    bool known = path == "/" || path == "/api/" || path == "/api" || path == "/api/printers" ||
                 path == "/api/events" || path == "/metrics" ||
                 (SplitPrinterPath(path, &name, &tail) &&
                  (tail.empty() || tail == "image" || tail == "qr.svg"));
    if (!known) {
      json_error(404, "no such path: " + path);
      return httplib::Server::HandlerResponse::Handled;
    }
    if (req.method != "GET" && req.method != "HEAD") {
      res.set_header("Allow", "GET, HEAD");
      // Its body is never read: the connection cannot carry another request.
      res.set_header("Connection", "close");
      json_error(405, req.method + " is not allowed here: the status API is read-only (GET)");
      return httplib::Server::HandlerResponse::Handled;
    }
    res.set_header("Cache-Control", "no-cache");
    if (path == "/") {
      res.status = 200;
      res.set_header("Content-Security-Policy",
                     "default-src 'self'; style-src 'self' 'unsafe-inline'; "
                     "script-src 'self' 'unsafe-inline'; img-src 'self' data:");
      res.set_content(kDashboardHtml, "text/html; charset=utf-8");
    } else if (path == "/api/" || path == "/api") {
      res.status = 200;
      res.set_content("OK\n", "text/plain");
    } else if (path == "/api/printers") {
      res.status = 200;
      res.set_content(source_->Printers().Dump() + "\n", "application/json");
    } else if (path == "/metrics") {
      res.status = 200;
      std::string out = source_->PrinterMetrics();
      out += "# HELP prusaconnect_bridge_api_requests_total Requests to the status API.\n";
      out += "# TYPE prusaconnect_bridge_api_requests_total counter\n";
      out +=
          "prusaconnect_bridge_api_requests_total " + std::to_string(impl->requests.load()) + "\n";
      out += "# HELP prusaconnect_bridge_api_errors_total Status API answers 4xx/5xx.\n";
      out += "# TYPE prusaconnect_bridge_api_errors_total counter\n";
      out += "prusaconnect_bridge_api_errors_total " + std::to_string(impl->errors.load()) + "\n";
      out += "# HELP prusaconnect_bridge_api_event_streams Open /api/events streams.\n";
      out += "# TYPE prusaconnect_bridge_api_event_streams gauge\n";
      out += "prusaconnect_bridge_api_event_streams " + std::to_string(impl->streams.load()) + "\n";
      res.set_content(out, "text/plain; version=0.0.4");
    } else if (path == "/api/events") {
      if (impl->streams.fetch_add(1) >= options_.max_streams) {
        --impl->streams;
        res.set_header("Retry-After", "10");
        json_error(503, "too many event streams open (at most " +
                            std::to_string(options_.max_streams) + ")");
        return httplib::Server::HandlerResponse::Handled;
      }
      uint64_t now_id = source_->hub()->last_event_id();
      uint64_t start = now_id;
      bool reset = false;
      if (req.has_header("Last-Event-ID")) {
        start = std::strtoull(req.get_header_value("Last-Event-ID").c_str(), nullptr, 10);
        // An id from before a restart (ids start again at 1): say so, and
        // go on from now.
        if (start > now_id) {
          start = now_id;
          reset = true;
        }
      }
      auto cursor = std::make_shared<uint64_t>(start);
      auto hello = std::make_shared<bool>(true);
      res.status = 200;
      res.set_header("X-Accel-Buffering", "no");
      StatusHub* hub = source_->hub();
      res.set_chunked_content_provider(
          "text/event-stream",
          [impl, hub, cursor, hello, reset](size_t, httplib::DataSink& sink) {
            if (impl->stopping || hub->closed()) return false;
            std::string out;
            if (*hello) {
              *hello = false;
              out = "retry: 2000\n: prusaconnect-bridge events\n\n";
              if (reset) out += "event: reset\ndata: {}\n\n";
            }
            bool lost = false;
            std::vector<HubEvent> events =
                hub->EventsAfter(*cursor, out.empty() ? kStreamHeartbeatMs : 0, &lost);
            if (impl->stopping || hub->closed()) return false;
            if (lost) out += "event: reset\ndata: {}\n\n";
            for (const HubEvent& e : events) {
              out += "id: " + std::to_string(e.id) + "\nevent: " + e.type +
                     "\ndata: " + e.data.Dump() + "\n\n";
              *cursor = e.id;
            }
            if (out.empty()) out = ": heartbeat\n\n";
            return sink.write(out.data(), out.size());
          },
          [impl](bool) { --impl->streams; });
    } else {
      std::optional<pc::Json> p = source_->Printer(name);
      if (!p) {
        json_error(404, "no printer named \"" + name + "\"");
        return httplib::Server::HandlerResponse::Handled;
      }
      if (tail.empty()) {
        res.status = 200;
        res.set_content(p->Dump() + "\n", "application/json");
      } else if (tail == "image") {
        std::shared_ptr<const Image> image = source_->hub()->LastImage(name);
        if (!image) {
          json_error(404, "printer \"" + name + "\" has no camera image yet");
          return httplib::Server::HandlerResponse::Handled;
        }
        res.status = 200;
        res.set_header("Last-Modified", HttpDate(image->time));
        res.set_content(image->bytes, ImageType(image->bytes));
      } else {
        const pc::Json* reg = p->find("registration");
        const pc::Json* url = reg != nullptr ? reg->find("url") : nullptr;
        std::string svg = url != nullptr && url->is_string() && !url->as_string().empty()
                              ? octoprint_adapter::QrSvg(url->as_string())
                              : std::string();
        if (svg.empty()) {
          json_error(404, "printer \"" + name + "\" waits for no registration code");
          return httplib::Server::HandlerResponse::Handled;
        }
        res.status = 200;
        res.set_content(svg, "image/svg+xml");
      }
    }
    return httplib::Server::HandlerResponse::Handled;
  });

  if (port == 0) {
    port = impl->server.bind_to_any_port(host_);
    if (port < 0) port = 0;
  } else if (!impl->server.bind_to_port(host_, port)) {
    port = 0;
  }
  if (port <= 0) {
    impl_.reset();
    return pc::UnavailableError("cannot listen on " + options_.listen +
                                " (in use, or not an address of this machine); set "
                                "[bridge] api_listen");
  }
  port_ = port;
  thread_ = std::thread([impl] { impl->server.listen_after_bind(); });
  // cpp-httplib's stop() does nothing until the server runs: wait for it,
  // so that a Stop() right after Start() (SIGTERM at start) cannot hang.
  for (int i = 0; i < 500 && !impl->server.is_running(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  LogInfo("status API and dashboard on " + url() +
          (options_.token.empty() ? "" : " (bearer token required)"));
  return pc::Status::OK();
}

void StatusApi::Stop() {
  if (!impl_) return;
  impl_->stopping = true;
  source_->hub()->Close();
  impl_->server.stop();
  if (thread_.joinable()) thread_.join();
  impl_.reset();
}

}  // namespace bridge
