// Copyright 2026 The libprusaconnect Authors.
//
// telemetry_load: N printers in one process sending telemetry to an already
// running Connect emulator, measuring what the core performance targets of
// docs/PERFORMANCE.md are about.
//
//   telemetry_load --server http://127.0.0.1:PORT [--printers N] [--rate HZ]
//                  [--seconds S] [--warmup S] [--mode paced|flood]
//                  [--grace S] [--tick-ms MS] [--max-connections K]
//                  [--prefix P] [--label L]
//
// Printers are first pre-registered through the emulator's control API
// (POST /api/printers with a token of ours) over a tiny keep-alive HTTP
// client, so no libcurl state of ours pollutes the memory figures. Then:
//
//   paced  every printer calls Printer::telemetry() `rate` times a second.
//          Ticks are spread evenly across printers (printer i of N ticks at
//          t0 + i/(N*rate) + k/rate), driven by ONE host thread walking that
//          regular schedule (a degenerate timer wheel: the next tick is
//          always tick j+1), waking at most every --tick-ms.
//   flood  each printer sends its next telemetry as soon as the previous one
//          is acknowledged: the next Printer::telemetry() is called from the
//          request observer (Printer::set_request_observer) on the network
//          thread. That is safe: the observer runs without the session lock
//          and telemetry() only takes that lock and wakes the engine (a
//          mutex-protected op queue and an eventfd), never waiting for the
//          network thread.
//
// Measured over the window [warmup, warmup + seconds] only:
//   expected    ticks scheduled in the window (paced) — in flood mode the
//               number of acknowledged round-trips;
//   delivered   of those ticks, how many samples Connect acknowledged (2xx)
//               within the window plus --grace seconds (a sample replaced by
//               a newer one before it was sent is not delivered);
//   CPU         user+sys of this whole process (getrusage) — the emulator
//               runs in another process — and per thread (schedstat);
//   RSS         VmRSS/VmHWM of /proc/self/status: before any printer exists,
//               with the first printer running, at the end of the window;
//   lateness    done_us (answer received, monotonic) minus the scheduled tick
//               time of the sample, for every delivered sample of every
//               printer, in a log-linear histogram (< 1.6 % bucket error).
//
// Output: one JSON line (prefixed with nothing, starting with '{') and a
// human table. The run is bounded: a watchdog ends the process if it takes
// far longer than planned. Exit status 0 on success, 1 on setup failure,
// 3 on watchdog timeout.

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <dirent.h>
#include <malloc.h>
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "bench_common.h"
#include "prusaconnect/log.h"
#include "prusaconnect/printer.h"

namespace {

using prusaconnect::Printer;
using prusaconnect::PrinterOptions;
using prusaconnect::PrinterType;
using prusaconnect::Telemetry;
using prusaconnect::bench::StatusKb;
using prusaconnect::bench::TypicalSample;

// ---------------------------------------------------------------- time

int64_t MonoUs() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);  // the clock RequestRecord times are in
  return static_cast<int64_t>(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
}

void SleepUntilUs(int64_t mono_us) {
  struct timespec ts;
  ts.tv_sec = mono_us / 1000000;
  ts.tv_nsec = (mono_us % 1000000) * 1000;
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR) {
  }
}

// ---------------------------------------------------------------- process stats

struct Cpu {
  double user_s = 0;
  double sys_s = 0;
};

Cpu ProcessCpu() {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  Cpu c;
  c.user_s = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6;
  c.sys_s = ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
  return c;
}

// Busy and total jiffies of the whole machine (/proc/stat "cpu" line), to
// tell how loaded the machine was (the emulator and anything else running).
struct MachineCpu {
  uint64_t busy = 0;
  uint64_t total = 0;
};

MachineCpu ReadMachineCpu() {
  MachineCpu m;
  FILE* f = std::fopen("/proc/stat", "r");
  if (f == nullptr) return m;
  unsigned long long v[10] = {0};  // NOLINT(runtime/int)
  int got = std::fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1],
                        &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9]);
  std::fclose(f);
  if (got < 8) return m;
  for (int i = 0; i < 8; ++i) m.total += v[i];
  m.busy = m.total - v[3] - v[4];  // minus idle and iowait
  return m;
}

// On-CPU nanoseconds of every thread, summed by thread name (schedstat).
std::map<std::string, int64_t> ThreadCpuNs() {
  std::map<std::string, int64_t> out;
  DIR* dir = opendir("/proc/self/task");
  if (dir == nullptr) return out;
  while (struct dirent* d = readdir(dir)) {
    if (d->d_name[0] == '.') continue;
    std::string base = std::string("/proc/self/task/") + d->d_name;
    char name[64] = {0};
    if (FILE* f = std::fopen((base + "/comm").c_str(), "r")) {
      if (std::fgets(name, sizeof(name), f) == nullptr) name[0] = 0;
      std::fclose(f);
    }
    name[std::strcspn(name, "\n")] = 0;
    long long ns = 0;  // NOLINT(runtime/int)
    if (FILE* f = std::fopen((base + "/schedstat").c_str(), "r")) {
      if (std::fscanf(f, "%lld", &ns) != 1) ns = 0;
      std::fclose(f);
    }
    out[name] += ns;
  }
  closedir(dir);
  return out;
}

// ---------------------------------------------------------------- histogram

// Log-linear histogram of non-negative microsecond values: exact below 128,
// then 64 buckets per power of two. Updated with relaxed atomics (one writer:
// the network thread), read after the fact.
class Histogram {
 public:
  static constexpr int kSub = 64;
  static constexpr int kBuckets = kSub * 64;

  void Add(int64_t v) {
    if (v < 0) v = 0;
    counts_[Index(static_cast<uint64_t>(v))].fetch_add(1, std::memory_order_relaxed);
    count_.fetch_add(1, std::memory_order_relaxed);
    int64_t m = max_.load(std::memory_order_relaxed);
    while (v > m && !max_.compare_exchange_weak(m, v, std::memory_order_relaxed)) {
    }
  }
  uint64_t count() const { return count_.load(); }
  int64_t max() const { return max_.load(); }
  // The upper edge of the bucket holding the p-th percentile (0 < p <= 100).
  int64_t Percentile(double p) const {
    uint64_t n = count();
    if (n == 0) return 0;
    uint64_t rank = static_cast<uint64_t>(std::ceil(p / 100.0 * static_cast<double>(n)));
    if (rank == 0) rank = 1;
    uint64_t seen = 0;
    for (int i = 0; i < kBuckets; ++i) {
      seen += counts_[i].load(std::memory_order_relaxed);
      if (seen >= rank) return std::min<int64_t>(Upper(i), max());
    }
    return max();
  }

 private:
  static int Index(uint64_t v) {
    if (v < 2 * kSub) return static_cast<int>(v);
    int msb = 63 - __builtin_clzll(v);
    int shift = msb - 6;
    int idx = (shift + 1) * kSub + static_cast<int>((v >> shift) & (kSub - 1));
    return std::min(idx, kBuckets - 1);
  }
  static int64_t Upper(int idx) {
    if (idx < 2 * kSub) return idx;
    int shift = idx / kSub - 1;
    int64_t sub = idx % kSub;
    return ((kSub + sub + 1) << shift) - 1;
  }

  std::atomic<uint64_t> counts_[kBuckets] = {};
  std::atomic<uint64_t> count_{0};
  std::atomic<int64_t> max_{0};
};

// ---------------------------------------------------------------- control API client

// A minimal blocking HTTP/1.1 client with keep-alive, for the emulator's
// control API only (plain http, Content-Length bodies).
class ControlClient {
 public:
  bool Init(const std::string& url, std::string* error) {
    std::string_view u = url;
    if (u.substr(0, 7) != "http://") {
      *error = "--server must be an http:// URL";
      return false;
    }
    u.remove_prefix(7);
    size_t slash = u.find('/');
    if (slash != std::string_view::npos) u = u.substr(0, slash);
    size_t colon = u.rfind(':');
    host_ = std::string(u.substr(0, colon));
    port_ = colon == std::string_view::npos ? "80" : std::string(u.substr(colon + 1));
    host_header_ = std::string(u);
    return true;
  }
  ~ControlClient() { Close(); }

  // Sends one request; returns the status (0 on failure) and the body.
  int Request(const std::string& method, const std::string& path, const std::string& body,
              std::string* response_body) {
    for (int attempt = 0; attempt < 2; ++attempt) {
      if (fd_ < 0 && !Connect()) return 0;
      std::string req =
          method + " " + path + " HTTP/1.1\r\nHost: " + host_header_ +
          "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
          "\r\n\r\n" + body;
      if (!WriteAll(req)) {
        Close();
        continue;  // a kept-alive connection may have been closed: retry once
      }
      int status = ReadResponse(response_body);
      if (status == 0) {
        Close();
        continue;
      }
      return status;
    }
    return 0;
  }

 private:
  bool Connect() {
    struct addrinfo hints {};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    struct addrinfo* res = nullptr;
    if (getaddrinfo(host_.c_str(), port_.c_str(), &hints, &res) != 0) return false;
    for (struct addrinfo* a = res; a != nullptr; a = a->ai_next) {
      int fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
      if (fd < 0) continue;
      if (connect(fd, a->ai_addr, a->ai_addrlen) == 0) {
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        fd_ = fd;
        break;
      }
      close(fd);
    }
    freeaddrinfo(res);
    buf_.clear();
    return fd_ >= 0;
  }
  void Close() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
    buf_.clear();
  }
  bool WriteAll(const std::string& data) {
    size_t off = 0;
    while (off < data.size()) {
      ssize_t n = send(fd_, data.data() + off, data.size() - off, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      off += static_cast<size_t>(n);
    }
    return true;
  }
  bool Fill() {
    char tmp[16384];
    for (;;) {
      ssize_t n = recv(fd_, tmp, sizeof(tmp), 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      buf_.append(tmp, static_cast<size_t>(n));
      return true;
    }
  }
  int ReadResponse(std::string* body) {
    size_t end;
    while ((end = buf_.find("\r\n\r\n")) == std::string::npos) {
      if (!Fill()) return 0;
    }
    std::string head = buf_.substr(0, end);
    buf_.erase(0, end + 4);
    int status = 0;
    if (std::sscanf(head.c_str(), "HTTP/1.%*d %d", &status) != 1) return 0;
    size_t length = 0;
    bool close_after = false;
    std::string lower = head;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    size_t cl = lower.find("\r\ncontent-length:");
    if (cl != std::string::npos) length = std::strtoull(lower.c_str() + cl + 17, nullptr, 10);
    if (lower.find("\r\nconnection: close") != std::string::npos) close_after = true;
    while (buf_.size() < length) {
      if (!Fill()) return 0;
    }
    *body = buf_.substr(0, length);
    buf_.erase(0, length);
    if (close_after) Close();
    return status;
  }

  std::string host_, port_, host_header_;
  int fd_ = -1;
  std::string buf_;
};

// ---------------------------------------------------------------- options

enum class Mode { kPaced, kFlood };

struct Options {
  std::string server;
  int printers = 1;
  double rate = 1.0;
  double seconds = 10.0;
  double warmup = 2.0;
  double grace = 2.0;
  double tick_ms = 1.0;
  long max_connections = 0;  // NOLINT(runtime/int) 0: the library's default
  Mode mode = Mode::kPaced;
  std::string prefix;
  std::string label;
};

[[noreturn]] void Usage(const char* error) {
  if (error != nullptr) std::fprintf(stderr, "telemetry_load: %s\n\n", error);
  std::fprintf(stderr,
               "usage: telemetry_load --server URL [--printers N] [--rate HZ] [--seconds S]\n"
               "                      [--warmup S] [--mode paced|flood] [--grace S]\n"
               "                      [--tick-ms MS] [--max-connections K] [--prefix P]\n"
               "                      [--label L]\n");
  std::exit(2);
}

Options ParseArgs(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    std::string value;
    size_t eq = arg.find('=');
    if (arg.rfind("--", 0) == 0 && eq != std::string::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
    } else if (arg == "--help" || arg == "-h") {
      Usage(nullptr);
    } else {
      if (i + 1 >= argc) Usage(("missing value for " + arg).c_str());
      value = argv[++i];
    }
    char* end = nullptr;
    auto num = [&]() {
      double v = std::strtod(value.c_str(), &end);
      if (end == value.c_str() || *end != 0) Usage(("bad number for " + arg).c_str());
      return v;
    };
    if (arg == "--server") {
      o.server = value;
    } else if (arg == "--printers") {
      o.printers = static_cast<int>(num());
    } else if (arg == "--rate") {
      o.rate = num();
    } else if (arg == "--seconds") {
      o.seconds = num();
    } else if (arg == "--warmup") {
      o.warmup = num();
    } else if (arg == "--grace") {
      o.grace = num();
    } else if (arg == "--tick-ms") {
      o.tick_ms = num();
    } else if (arg == "--mode") {
      if (value == "paced") {
        o.mode = Mode::kPaced;
      } else if (value == "flood") {
        o.mode = Mode::kFlood;
      } else {
        Usage("--mode must be paced or flood");
      }
    } else if (arg == "--max-connections") {
      o.max_connections = static_cast<long>(num());  // NOLINT(runtime/int)
    } else if (arg == "--prefix") {
      o.prefix = value;
    } else if (arg == "--label") {
      o.label = value;
    } else {
      Usage(("unknown flag " + arg).c_str());
    }
  }
  if (o.server.empty()) Usage("--server is required");
  if (o.printers < 1) Usage("--printers must be >= 1");
  if (o.rate <= 0 || o.seconds <= 0 || o.warmup < 0 || o.grace < 0 || o.tick_ms <= 0) {
    Usage("rates and durations must be positive");
  }
  while (!o.server.empty() && o.server.back() == '/') o.server.pop_back();
  if (o.prefix.empty()) o.prefix = "bench" + std::to_string(getpid()) + "-";
  return o;
}

// ---------------------------------------------------------------- the load

// What the observers (network thread) and the driver share.
struct Shared {
  Mode mode = Mode::kPaced;
  int n = 1;
  int64_t period_us = 1000000;
  int64_t t0 = 0;            // tick 0 of printer 0
  int64_t window_begin = 0;  // measurement window [begin, end)
  int64_t window_end = 0;
  std::atomic<bool> stop_flood{false};

  std::atomic<uint64_t> acked{0};      // every 2xx telemetry answer
  std::atomic<uint64_t> delivered{0};  // in-window samples acknowledged
  std::atomic<uint64_t> failed{0};     // non-2xx or transport failure
  std::atomic<uint64_t> non_telemetry{0};
  Histogram lateness;  // paced: done - tick; flood: done - queued (round trip)

  std::shared_ptr<prusaconnect::Network> network;  // null: Network::Default()
  std::vector<std::unique_ptr<Printer>> printers;
  Telemetry sample;

  // Scheduled time of tick k of printer i (integer µs, non-decreasing in
  // the global tick order j = k * n + i).
  int64_t TickUs(int i, int64_t k) const {
    return t0 + (static_cast<int64_t>(i) * period_us) / n + k * period_us;
  }
};

void Observe(Shared* s, int i, const prusaconnect::RequestRecord& r) {
  const int status = r.http_status;
  const int64_t queued_us = r.queued_us;
  const int64_t done_us = r.done_us;
  if (r.kind != prusaconnect::RequestKind::kTelemetry) {
    s->non_telemetry.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  if (status < 200 || status >= 300) {
    s->failed.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  s->acked.fetch_add(1, std::memory_order_relaxed);
  if (s->mode == Mode::kFlood) {
    if (done_us >= s->window_begin && done_us < s->window_end) {
      s->delivered.fetch_add(1, std::memory_order_relaxed);
      s->lateness.Add(done_us - queued_us);
    }
    // The next sample, at once (see the file comment for why this is safe).
    if (!s->stop_flood.load(std::memory_order_relaxed)) s->printers[i]->telemetry(s->sample);
    return;
  }
  // Paced: queued_us is when the oldest unsent sample was queued, i.e. just
  // after its tick; the tick is the last grid point of printer i at or
  // before it (exact while the driver lags less than one period, which the
  // report checks).
  int64_t base = s->TickUs(i, 0);
  if (queued_us < base) return;  // the first printer's warm-up sample
  int64_t k = (queued_us - base) / s->period_us;
  int64_t tick = s->TickUs(i, k);
  if (tick >= s->window_begin && tick < s->window_end) {
    s->delivered.fetch_add(1, std::memory_order_relaxed);
    s->lateness.Add(done_us - tick);
  }
}

std::unique_ptr<Printer> MakePrinter(Shared* s, const Options& o, int i,
                                     const std::vector<std::string>& tokens) {
  std::string idx = std::to_string(i);
  PrinterOptions options;
  options.network = s->network;
  auto p = std::make_unique<Printer>(PrinterType::I3MK3S, "SN" + o.prefix + idx, o.prefix + idx,
                                     options);
  p->set_firmware("3.14.1");
  p->set_connection(o.server, tokens[static_cast<size_t>(i)]);
  p->set_request_observer([s, i](const prusaconnect::RequestRecord& r) { Observe(s, i, r); });
  return p;
}

// Library warnings and errors, counted by their first words (bounded).
struct LogCounter {
  std::mutex mu;
  std::map<std::string, uint64_t> by_kind;
  uint64_t total = 0;
  void Add(const std::string& message) {
    std::string kind = message.substr(0, 72);
    for (char& c : kind) {
      if (c >= '0' && c <= '9') c = '#';  // group messages differing in numbers
      if (c == '"' || c == '\\' || c < ' ') c = ' ';
    }
    std::lock_guard<std::mutex> lock(mu);
    ++total;
    if (by_kind.size() < 20 || by_kind.count(kind)) ++by_kind[kind];
  }
};

double Ms(int64_t us) { return static_cast<double>(us) / 1000.0; }

}  // namespace

int main(int argc, char** argv) {
  Options o = ParseArgs(argc, argv);
  const int n = o.printers;

  // Watchdog: the whole run must end by itself.
  const double budget_s = 120 + o.warmup + o.seconds + o.grace + n * 0.002;
  std::thread([budget_s] {
    std::this_thread::sleep_for(std::chrono::duration<double>(budget_s));
    std::fprintf(stderr, "telemetry_load: watchdog: still running after %.0f s, giving up\n",
                 budget_s);
    std::fflush(stdout);
    _exit(3);
  }).detach();

  static LogCounter log_counter;
  prusaconnect::SetLogLevel(prusaconnect::LogLevel::kWarning);
  prusaconnect::SetLogSink(
      [](prusaconnect::LogLevel, const std::string&, const std::string& m) { log_counter.Add(m); });

  // ---- pre-registration through the control API
  int64_t setup_begin = MonoUs();
  std::vector<std::string> tokens;
  tokens.reserve(static_cast<size_t>(n));
  {
    ControlClient control;
    std::string error;
    if (!control.Init(o.server, &error)) {
      std::fprintf(stderr, "telemetry_load: %s\n", error.c_str());
      return 1;
    }
    for (int i = 0; i < n; ++i) {
      std::string idx = std::to_string(i);
      std::string token = "tk" + o.prefix + idx;
      std::string body = "{\"fingerprint\":\"" + o.prefix + idx + "\",\"sn\":\"SN" + o.prefix +
                         idx + "\",\"printer_type\":\"1.3.1\",\"token\":\"" + token + "\"}";
      std::string response;
      int status = control.Request("POST", "/api/printers", body, &response);
      if (status != 200) {
        std::fprintf(stderr, "telemetry_load: POST %s/api/printers answered %d: %s\n",
                     o.server.c_str(), status, response.c_str());
        return 1;
      }
      tokens.push_back(std::move(token));
    }
  }
  int64_t registered = MonoUs();

  auto shared = std::make_unique<Shared>();
  Shared* s = shared.get();
  s->mode = o.mode;
  s->n = n;
  s->period_us = std::max<int64_t>(1, static_cast<int64_t>(std::llround(1e6 / o.rate)));
  s->sample = TypicalSample();
  if (o.max_connections > 0) {
    prusaconnect::NetworkOptions network_options;
    network_options.max_connections = o.max_connections;
    s->network = std::make_shared<prusaconnect::Network>(network_options);
  }
  s->printers.reserve(static_cast<size_t>(n));

  // ---- RSS before any printer, then with the first one running
  const long rss_base_kb = StatusKb("VmRSS");  // NOLINT(runtime/int)
  s->t0 = INT64_MAX / 4;  // no tick grid yet: the warm-up sample is not counted
  s->printers.push_back(MakePrinter(s, o, 0, tokens));
  s->printers[0]->start();
  uint64_t before = s->acked.load();
  s->stop_flood = true;  // the first sample must not start flooding yet
  s->printers[0]->telemetry(s->sample);
  for (int w = 0; w < 10000 && s->acked.load() == before; ++w) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (s->acked.load() == before) {
    std::fprintf(stderr,
                 "telemetry_load: the first printer's telemetry was not acknowledged "
                 "within 10 s (failed answers: %" PRIu64 ")\n",
                 s->failed.load());
    return 1;
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  const long rss_one_kb = StatusKb("VmRSS");  // NOLINT(runtime/int)

  // ---- the other printers
  for (int i = 1; i < n; ++i) s->printers.push_back(MakePrinter(s, o, i, tokens));
  for (int i = 1; i < n; ++i) s->printers[static_cast<size_t>(i)]->start();
  int64_t started = MonoUs();

  // ---- run
  s->t0 = MonoUs() + 20000;
  s->window_begin = s->t0 + static_cast<int64_t>(o.warmup * 1e6);
  s->window_end = s->window_begin + static_cast<int64_t>(o.seconds * 1e6);
  Cpu cpu_begin{}, cpu_end{};
  std::map<std::string, int64_t> threads_begin, threads_end;
  MachineCpu machine_begin, machine_end;
  long rss_end_kb = 0, hwm_end_kb = 0;    // NOLINT(runtime/int)
  long anon_end_kb = 0, file_end_kb = 0;  // NOLINT(runtime/int)
  uint64_t expected = 0;
  Histogram driver_lag;  // paced: telemetry() returned - tick
  uint64_t acked_begin = 0, acked_end = 0;

  if (o.mode == Mode::kPaced) {
    const int64_t tick_gran_us = std::max<int64_t>(1, static_cast<int64_t>(o.tick_ms * 1000));
    bool window_started = false;
    int64_t j = 0;  // global tick index: printer j % n, its tick j / n
    int64_t last_wake = 0;
    for (;;) {
      int i = static_cast<int>(j % n);
      int64_t k = j / n;
      int64_t due = s->TickUs(i, k);
      if (due >= s->window_end) break;
      int64_t now = MonoUs();
      if (due > now) {
        SleepUntilUs(std::max(due, last_wake + tick_gran_us));
        last_wake = MonoUs();
        continue;
      }
      if (!window_started && due >= s->window_begin) {
        window_started = true;
        cpu_begin = ProcessCpu();
        threads_begin = ThreadCpuNs();
        machine_begin = ReadMachineCpu();
        acked_begin = s->acked.load();
      }
      s->printers[static_cast<size_t>(i)]->telemetry(s->sample);
      if (due >= s->window_begin) {
        ++expected;
        driver_lag.Add(MonoUs() - due);
      }
      ++j;
    }
    SleepUntilUs(s->window_end);
    if (!window_started) {  // (only with a window shorter than one tick)
      cpu_begin = ProcessCpu();
      threads_begin = ThreadCpuNs();
      machine_begin = ReadMachineCpu();
    }
    cpu_end = ProcessCpu();
    threads_end = ThreadCpuNs();
    machine_end = ReadMachineCpu();
    acked_end = s->acked.load();
    rss_end_kb = StatusKb("VmRSS");
    hwm_end_kb = StatusKb("VmHWM");
    anon_end_kb = StatusKb("RssAnon");
    file_end_kb = StatusKb("RssFile");
    // Let in-flight samples of the window arrive.
    SleepUntilUs(s->window_end + static_cast<int64_t>(o.grace * 1e6));
  } else {
    s->stop_flood = false;
    for (int i = 0; i < n; ++i) s->printers[static_cast<size_t>(i)]->telemetry(s->sample);
    SleepUntilUs(s->window_begin);
    cpu_begin = ProcessCpu();
    threads_begin = ThreadCpuNs();
    machine_begin = ReadMachineCpu();
    acked_begin = s->acked.load();
    SleepUntilUs(s->window_end);
    cpu_end = ProcessCpu();
    threads_end = ThreadCpuNs();
    machine_end = ReadMachineCpu();
    acked_end = s->acked.load();
    rss_end_kb = StatusKb("VmRSS");
    hwm_end_kb = StatusKb("VmHWM");
    anon_end_kb = StatusKb("RssAnon");
    file_end_kb = StatusKb("RssFile");
    s->stop_flood = true;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    expected = s->delivered.load();  // every round-trip completed in the window
  }

  // ---- report
  const double window_s = static_cast<double>(s->window_end - s->window_begin) / 1e6;
  const uint64_t delivered = s->delivered.load();
  const double user_s = cpu_end.user_s - cpu_begin.user_s;
  const double sys_s = cpu_end.sys_s - cpu_begin.sys_s;
  const double cpu_s = user_s + sys_s;
  const double share = cpu_s / window_s;
  const uint64_t roundtrips = acked_end - acked_begin;  // answers received in the window
  const double cpu_per_rt_ms = roundtrips ? cpu_s * 1000.0 / static_cast<double>(roundtrips) : 0;
  const double pct =
      expected ? 100.0 * static_cast<double>(delivered) / static_cast<double>(expected) : 0.0;
  const double per_printer_b = 1024.0 * static_cast<double>(rss_end_kb - rss_base_kb) / n;
  const double marginal_b =
      n > 1 ? 1024.0 * static_cast<double>(rss_end_kb - rss_one_kb) / (n - 1) : 0.0;
  const Histogram& lat = s->lateness;
  const double machine_busy_cores =
      machine_end.total > machine_begin.total
          ? static_cast<double>(sysconf(_SC_NPROCESSORS_ONLN)) *
                static_cast<double>(machine_end.busy - machine_begin.busy) /
                static_cast<double>(machine_end.total - machine_begin.total)
          : 0.0;
  // Diagnostic only: how much of the RSS is memory malloc holds but no
  // longer uses (freed after the start-up burst); the figures above are
  // taken before this.
  malloc_trim(0);
  const long rss_trimmed_kb = StatusKb("VmRSS");  // NOLINT(runtime/int)
  const char* mode = o.mode == Mode::kPaced ? "paced" : "flood";

  uint64_t log_total;
  std::map<std::string, uint64_t> log_kinds;
  {
    std::lock_guard<std::mutex> lock(log_counter.mu);
    log_total = log_counter.total;
    log_kinds = log_counter.by_kind;
  }
  std::string threads_json;
  for (const auto& [name, ns] : threads_end) {
    auto it = threads_begin.find(name);
    int64_t d = ns - (it == threads_begin.end() ? 0 : it->second);
    if (!threads_json.empty()) threads_json += ",";
    char buf[128];
    std::snprintf(buf, sizeof(buf), "\"%s\":%.3f", name.c_str(), static_cast<double>(d) / 1e9);
    threads_json += buf;
  }

  std::printf(
      "{\"tool\":\"telemetry_load\",\"label\":\"%s\",\"mode\":\"%s\",\"printers\":%d,"
      "\"max_connections\":%ld,\"rate_hz\":%.3f,\"seconds\":%.3f,\"warmup_s\":%.3f,\"expected\":"
      "%" PRIu64 ",\"delivered\":%" PRIu64
      ",\"delivered_pct\":%.3f,\"roundtrips_in_window\":%" PRIu64 ",\"failed_answers\":%" PRIu64
      ",\"other_requests\":%" PRIu64
      ",\"cpu_user_s\":%.3f,\"cpu_sys_s\":%.3f,\"cpu_s\":%.3f,\"cpu_share_core\":%.4f,"
      "\"cpu_per_roundtrip_ms\":%.5f,\"rss_base_kb\":%ld,\"rss_one_printer_kb\":%ld,"
      "\"vmrss_kb\":%ld,\"vmhwm_kb\":%ld,\"rss_per_printer_bytes\":%.0f,"
      "\"marginal_rss_per_printer_bytes\":%.0f,\"lateness_ms\":{\"samples\":%" PRIu64
      ",\"p50\":%.3f,\"p90\":%.3f,\"p99\":%.3f,\"max\":%.3f},\"driver_lag_ms\":{\"p99\":%.3f,"
      "\"max\":%.3f},\"thread_cpu_s\":{%s},\"register_s\":%.3f,\"start_s\":%.3f,"
      "\"library_warnings\":%" PRIu64
      ",\"machine_busy_cores\":%.3f,"
      "\"rss_after_malloc_trim_kb\":%ld,\"rss_anon_kb\":%ld,\"rss_file_kb\":%ld}\n",
      o.label.c_str(), mode, n, o.max_connections, o.rate, o.seconds, o.warmup, expected, delivered,
      pct, roundtrips, s->failed.load(), s->non_telemetry.load(), user_s, sys_s, cpu_s, share,
      cpu_per_rt_ms, rss_base_kb, rss_one_kb, rss_end_kb, hwm_end_kb, per_printer_b, marginal_b,
      lat.count(), Ms(lat.Percentile(50)), Ms(lat.Percentile(90)), Ms(lat.Percentile(99)),
      Ms(lat.max()), Ms(driver_lag.Percentile(99)), Ms(driver_lag.max()), threads_json.c_str(),
      static_cast<double>(registered - setup_begin) / 1e6,
      static_cast<double>(started - registered) / 1e6, log_total, machine_busy_cores,
      rss_trimmed_kb, anon_end_kb, file_end_kb);

  std::printf("\ntelemetry_load %s%s%s: %d printer(s), %s", o.label.c_str(),
              o.label.empty() ? "" : " ", mode, n, o.mode == Mode::kPaced ? "" : "back to back, ");
  if (o.mode == Mode::kPaced) std::printf("%.3g Hz each, ", o.rate);
  std::printf("window %.1f s after %.1f s warm-up\n", window_s, o.warmup);
  std::printf("  %-34s %" PRIu64 " / %" PRIu64 " (%.2f %%)\n", "delivered / expected", delivered,
              expected, pct);
  std::printf("  %-34s %" PRIu64 "\n", "failed answers", s->failed.load());
  std::printf("  %-34s %.2f of %ld cores (client + emulator + anything else)\n",
              "machine busy during the window", machine_busy_cores, sysconf(_SC_NPROCESSORS_ONLN));
  std::printf("  %-34s %.3f s (user %.3f, sys %.3f) = %.2f %% of one core\n", "client CPU", cpu_s,
              user_s, sys_s, 100 * share);
  std::printf("  %-34s %.4f ms over %" PRIu64 " round-trips\n", "CPU per round-trip", cpu_per_rt_ms,
              roundtrips);
  for (const auto& [name, ns] : threads_end) {
    auto it = threads_begin.find(name);
    int64_t d = ns - (it == threads_begin.end() ? 0 : it->second);
    if (d > 0) {
      std::printf("    thread %-27s %.3f s\n", name.c_str(), static_cast<double>(d) / 1e9);
    }
  }
  std::printf("  %-34s %.1f MB (VmHWM %.1f MB)\n", "RSS at end of window", rss_end_kb / 1024.0,
              hwm_end_kb / 1024.0);
  std::printf("  %-34s anonymous %.1f MB, file-backed %.1f MB\n", "RSS split", anon_end_kb / 1024.0,
              file_end_kb / 1024.0);
  std::printf("  %-34s %.1f MB (diagnostic: after malloc_trim(0))\n", "RSS, free heap returned",
              rss_trimmed_kb / 1024.0);
  std::printf("  %-34s %.1f MB before printers, %.1f MB with the first\n", "RSS baseline",
              rss_base_kb / 1024.0, rss_one_kb / 1024.0);
  std::printf("  %-34s %.0f B (all), %.0f B (each printer after the first)\n", "RSS per printer",
              per_printer_b, marginal_b);
  std::printf("  %-34s p50 %.2f  p90 %.2f  p99 %.2f  max %.2f ms (%" PRIu64 " samples)\n",
              o.mode == Mode::kPaced ? "lateness (done - tick)" : "round-trip (done - queued)",
              Ms(lat.Percentile(50)), Ms(lat.Percentile(90)), Ms(lat.Percentile(99)), Ms(lat.max()),
              lat.count());
  if (o.mode == Mode::kPaced) {
    std::printf(
        "  %-34s p99 %.2f  max %.2f ms%s\n", "driver lag (telemetry() - tick)",
        Ms(driver_lag.Percentile(99)), Ms(driver_lag.max()),
        driver_lag.max() >= s->period_us ? "  (>= one period: lateness UNDER-estimated)" : "");
  }
  if (log_total > 0) {
    std::printf("  %-34s %" PRIu64 "\n", "library warnings (whole run)", log_total);
    for (const auto& [kind, count] : log_kinds) {
      std::printf("    %8" PRIu64 "  %s\n", count, kind.c_str());
    }
  }
  std::printf("  %-34s register %.2f s, start %.2f s\n", "setup",
              static_cast<double>(registered - setup_begin) / 1e6,
              static_cast<double>(started - registered) / 1e6);
  std::fflush(stdout);

  // ---- teardown (bounded by the watchdog)
  s->stop_flood = true;
  s->printers.clear();
  return 0;
}
