// Copyright 2026 The libprusaconnect Authors.
#include "transfer/transfer.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <random>
#include <utility>
#include <vector>

#include "files/download_target.h"
#include "files/paths.h"
#include "transfer/headers.h"
#include "transport/fetch.h"
#include "util/ascii.h"
#include "util/clock.h"
#include "util/logging.h"

namespace prusaconnect {

double TransferInfo::progress() const {
  if (!size || *size <= 0) return 0.0;
  return static_cast<double>(transferred) / static_cast<double>(*size) * 100.0;
}

Json TransferInfo::ToJson() const {
  if (!in_progress) return Json::MakeObject({{"type", "NO_TRANSFER"}});
  // download.py to_dict(): these keys in this order; unset values left out
  // (the SDK's None, filtered on the wire).
  Json d = Json::MakeObject();
  d.set("transfer_id", static_cast<int64_t>(transfer_id));
  if (start_cmd_id) d.set("start_cmd_id", *start_cmd_id);
  d.set("type", ToString(type));
  d.set("path", path);
  d.set("url", url);
  if (size) d.set("size", *size);
  d.set("progress", std::round(progress() * 100.0) / 100.0);
  d.set("transferred", transferred);
  if (time_remaining) d.set("time_remaining", *time_remaining);
  d.set("time_transferring", time_transferring);
  d.set("to_print", to_print);
  return d;
}

namespace internal {
namespace {

constexpr char kComponent[] = "transfer";
constexpr int kMaxRedirects = 5;

uint32_t NewTransferId() {
  static std::mutex mu;
  static std::mt19937 rng{std::random_device{}()};
  std::lock_guard<std::mutex> lock(mu);
  uint32_t id = 0;
  while (id == 0) id = static_cast<uint32_t>(rng());  // 0 would not reach the wire
  return id;
}

const std::string* Header(const HeaderList& headers, std::string_view name) {
  for (const auto& [n, v] : headers) {
    if (n == name) return &v;
  }
  return nullptr;
}

std::string HumanBytes(int64_t n) {
  char buf[32];
  if (n >= (int64_t{1} << 30)) {
    snprintf(buf, sizeof buf, "%.1f GiB", static_cast<double>(n) / (1 << 30));
  } else if (n >= (int64_t{1} << 20)) {
    snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(n) / (1 << 20));
  } else {
    snprintf(buf, sizeof buf, "%lld bytes", static_cast<long long>(n));  // NOLINT
  }
  return buf;
}

bool WriteAll(int fd, const char* data, size_t size) {
  while (size > 0) {
    ssize_t n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

std::string StagingDir(const TransferOptions& o) {
  if (!o.staging_dir.empty()) return o.staging_dir;
  const char* tmp = getenv("TMPDIR");  // NOLINT(concurrency-mt-unsafe): read only
  return tmp != nullptr && *tmp != '\0' ? tmp : "/tmp";
}

}  // namespace

// The running download: what the thread needs besides the manager.
struct TransferManager::Job {
  StartRequest request;
  uint32_t id = 0;
  DownloadTarget target;
  // Where the bytes go: `.name.part` in target.dir, or a staging file.
  std::string part_name;     // local storages (relative to target.dir)
  std::string staging_path;  // provided storages
  UniqueFd file;
};

TransferManager::TransferManager(std::shared_ptr<Session> session, std::shared_ptr<Filesystem> fs,
                                 TransferOptions options, HttpClientFactory http,
                                 const Clock* clock)
    : session_(std::move(session)),
      fs_(std::move(fs)),
      options_(std::move(options)),
      http_(http ? std::move(http) : HttpClientFactory([] { return MakeCurlHttpClient(); })),
      clock_(clock != nullptr ? clock : RealClock()),
      rate_limit_(options_.max_bytes_per_second) {}

TransferManager::~TransferManager() { Shutdown(); }

void TransferManager::Shutdown() {
  std::thread worker;
  {
    std::lock_guard<std::mutex> lock(mu_);
    shutdown_ = true;
    cv_.notify_all();
    worker = std::move(worker_);
  }
  if (worker.joinable()) {
    if (worker.get_id() == std::this_thread::get_id()) {
      worker.detach();  // the finished callback dropped the last reference
    } else {
      worker.join();
    }
  }
}

StatusOr<TransferInfo> TransferManager::Start(const StartRequest& request) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (info_.in_progress) return AlreadyExistsError("Another transfer in progress");
    if (shutdown_) return FailedPreconditionError("The printer is shutting down");
  }
  // Everything is checked before the transfer is marked in progress (the SDK
  // did it after: quirk Q17).
  std::optional<std::string> origin = UrlOrigin(request.url);
  if (!origin) {
    return InvalidArgumentError("Invalid URL " + UrlForLog(request.url) +
                                ": only http and https URLs can be downloaded");
  }
  auto job = std::make_shared<Job>();
  job->request = request;
  StatusOr<DownloadTarget> target = PrepareDownload(*fs_, request.path);
  if (!target.ok()) return target.status();
  job->target = std::move(*target);

  std::thread previous;
  TransferInfo info;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (info_.in_progress) return AlreadyExistsError("Another transfer in progress");
    if (shutdown_) return FailedPreconditionError("The printer is shutting down");
    previous = std::move(worker_);
    job->id = NewTransferId();
    info_ = TransferInfo();
    info_.transfer_id = job->id;
    info_.type = request.type;
    info_.in_progress = true;
    info_.path = job->target.path;
    info_.url = request.url;
    info_.os_path = job->target.os_path;
    info_.to_print = request.to_print;
    info_.to_select = request.to_select;
    info_.start_cmd_id = request.start_cmd_id;
    info_.hash = request.hash;
    info_.team_id = request.team_id;
    written_.store(0);
    start_mono_us_ = clock_->MonoMicros();
    begin_mono_us_ = 0;
    stop_ = false;
    info = InfoLocked();
  }
  // The previous worker has reported its outcome already; let it go.
  if (previous.joinable()) {
    if (previous.get_id() == std::this_thread::get_id()) {
      previous.detach();
    } else {
      previous.join();
    }
  }
  PC_LOG(kInfo, kComponent) << "transfer " << job->id << ": " << ToString(request.type) << " "
                            << UrlForLog(request.url) << " -> " << job->target.path;
  std::lock_guard<std::mutex> lock(mu_);
  worker_ = std::thread([this, job] { Run(job); });
  return info;
}

Status TransferManager::Stop(std::optional<uint32_t> transfer_id) {
  std::lock_guard<std::mutex> lock(mu_);
  if (transfer_id && *transfer_id != info_.transfer_id) return NotFoundError("Wrong transfer_id");
  if (info_.in_progress) {
    stop_ = true;
    cv_.notify_all();
  }
  return Status();
}

TransferInfo TransferManager::InfoLocked() const {
  TransferInfo i = info_;
  i.transferred = written_.load();
  if (i.in_progress) {
    int64_t now = clock_->MonoMicros();
    i.time_transferring = (now - start_mono_us_) / 1000000;
    if (stop_) {
      i.time_remaining = 0;
    } else if (i.size && begin_mono_us_ != 0 && i.transferred > 0) {
      double elapsed = static_cast<double>(now - begin_mono_us_) / 1e6;
      i.time_remaining = static_cast<int64_t>(
          static_cast<double>(*i.size) / static_cast<double>(i.transferred) * elapsed - elapsed);
    }
  }
  return i;
}

TransferInfo TransferManager::Info() const {
  std::lock_guard<std::mutex> lock(mu_);
  return InfoLocked();
}

void TransferManager::SetFinishedCb(std::function<void(const TransferInfo&)> cb) {
  std::lock_guard<std::mutex> lock(mu_);
  finished_cb_ = std::move(cb);
}

void TransferManager::SetRateLimit(int64_t bytes_per_second) {
  rate_limit_.store(std::max<int64_t>(0, bytes_per_second));
  std::lock_guard<std::mutex> lock(mu_);
  cv_.notify_all();
}

bool TransferManager::WaitIdle(int64_t timeout_ms) const {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                      [this] { return !info_.in_progress; });
}

std::optional<Session::TransferStatus> TransferManager::Probe() const {
  std::lock_guard<std::mutex> lock(mu_);
  // As the SDK: only once the download has actually begun (start_ts).
  if (!info_.in_progress || begin_mono_us_ == 0) return std::nullopt;
  TransferInfo i = InfoLocked();
  Session::TransferStatus s;
  s.transfer_id = i.transfer_id;
  s.telemetry = Json::MakeObject();
  s.telemetry.set("transfer_id", static_cast<int64_t>(i.transfer_id));
  s.telemetry.set("transfer_progress", i.progress());
  if (i.time_remaining) s.telemetry.set("transfer_time_remaining", *i.time_remaining);
  s.telemetry.set("transfer_transferred", i.transferred);
  s.telemetry.set("time_transferring", i.time_transferring);
  return s;
}

bool TransferManager::SleepFor(int64_t ms) {
  std::unique_lock<std::mutex> lock(mu_);
  return !cv_.wait_for(lock, std::chrono::milliseconds(ms), [this] { return stop_ || shutdown_; });
}

void TransferManager::Emit(Event event, Source source, const Json& data,
                           const std::optional<std::string>& reason) {
  EventFields f;
  f.transfer_id = Info().transfer_id;
  f.reason = reason;
  session_->event_cb(event, source, f, data);
}

void TransferManager::Run(const std::shared_ptr<Job>& job) {
  // The command that started this (if any) answers first, as in the SDK.
  if (job->request.start_cmd_id) session_->WaitCommandEnded(*job->request.start_cmd_id, 5000);

  std::string failure;  // why it is aborted; "" while fine
  bool local = !job->target.provider;
  // Open where the bytes go.
  if (local) {
    job->part_name = "." + job->target.name + ".part";
    unlinkat(job->target.dir.get(), job->part_name.c_str(), 0);  // a stale one of ours
    job->file = UniqueFd(openat(job->target.dir.get(), job->part_name.c_str(),
                                O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644));
  } else {
    std::string pattern =
        StagingDir(options_) + "/.prusaconnect-download-" + std::to_string(job->id) + "-XXXXXX";
    std::vector<char> buf(pattern.begin(), pattern.end());
    buf.push_back('\0');
    int fd = mkostemp(buf.data(), O_CLOEXEC);
    if (fd >= 0) job->staging_path = buf.data();
    job->file = UniqueFd(fd);
  }
  if (!job->file.valid()) failure = "Cannot create the temporary file: " + ErrnoText(errno);

  auto stopped = [this] {
    std::lock_guard<std::mutex> lock(mu_);
    return stop_;
  };
  auto shutting_down = [this] {
    std::lock_guard<std::mutex> lock(mu_);
    return shutdown_;
  };

  std::unique_ptr<HttpClient> http = http_();
  std::string url = job->request.url;
  int redirects = 0;
  int failures = 0;
  int64_t backoff_ms = std::max<int64_t>(1, options_.retry_backoff_min_ms);
  bool announced = false;  // TRANSFER_INFO (WUI) sent
  bool ranges = true;      // the server honours Range
  std::optional<int64_t> size;
  // Throughput limit: bytes counted since `window_us`.
  int64_t window_us = 0;
  int64_t window_bytes = 0;

  while (failure.empty() && !stopped() && !shutting_down()) {
    std::optional<std::string> origin = UrlOrigin(url);
    std::optional<std::string> connect = UrlOrigin(session_->server());
    bool to_connect = origin && connect && *origin == *connect;
    FetchRequest fr;
    fr.url = url;
    fr.headers = session_->HeadersForDownload(to_connect);
    fr.offset = ranges ? written_.load() : 0;
    fr.connect_timeout_ms = options_.connect_timeout_ms;
    fr.stall_timeout_ms = options_.stall_timeout_ms;
    fr.verify_tls = session_->options().verify_tls;
    fr.ca_file = session_->options().ca_file;
    // A limit known now is paced by libcurl in small pieces; a change
    // during the attempt is applied by the writer below.
    fr.max_bytes_per_second = rate_limit_.load();
    if (fr.max_bytes_per_second > 0) {
      fr.buffer_size = static_cast<size_t>(
          std::clamp<int64_t>(fr.max_bytes_per_second / 10, int64_t{16} << 10, int64_t{256} << 10));
    }
    if (!ranges && written_.load() > 0) {
      // Starting over: drop what was written.
      if (ftruncate(job->file.get(), 0) != 0 || lseek(job->file.get(), 0, SEEK_SET) != 0) {
        failure = "Cannot rewind the temporary file: " + ErrnoText(errno);
        break;
      }
      written_.store(0);
    }
    int64_t attempt_start = written_.load();
    std::string fatal;  // a refusal no retry can fix
    std::string retry;  // a server error worth retrying
    FetchCallbacks cb;
    cb.cancelled = [&] { return stopped() || shutting_down(); };
    cb.on_head = [&](int status, const HeaderList& headers) -> bool {
      if (status == 200 && fr.offset > 0) {
        // The server ignored the range: start over from zero.
        if (ftruncate(job->file.get(), 0) != 0 || lseek(job->file.get(), 0, SEEK_SET) != 0) {
          fatal = "Cannot rewind the temporary file: " + ErrnoText(errno);
          return false;
        }
        written_.store(0);
        attempt_start = 0;
        ranges = false;
      }
      if (status != 200 && status != 206) {
        if (status >= 500 || status == 408 || status == 429) {
          retry = "Invalid status code: " + std::to_string(status);
        } else {
          fatal = "Invalid status code: " + std::to_string(status);
        }
        return false;
      }
      if (const std::string* type = Header(headers, "content-type")) {
        std::string media = MediaType(*type);
        bool allowed = std::any_of(options_.content_types.begin(), options_.content_types.end(),
                                   [&](const std::string& t) { return AsciiLower(t) == media; });
        if (!allowed) {
          fatal = "Invalid content type: " + *type;
          return false;
        }
      }
      std::optional<int64_t> announced_size;
      int64_t n = 0;
      if (status == 206) {
        int64_t first = 0;
        int64_t total = 0;
        const std::string* range = Header(headers, "content-range");
        if (range == nullptr || !ParseContentRange(*range, &first, &total) || first != fr.offset) {
          // Not the part asked for: start over without ranges.
          ranges = false;
          retry = "unusable partial response";
          return false;
        }
        if (total >= 0) announced_size = total;
      } else if (const std::string* length = Header(headers, "content-length");
                 length != nullptr && ParseSize(*length, &n)) {
        announced_size = n;
      }
      if (announced_size) {
        if (size && *size != *announced_size) {
          fatal = "The file changed on the server during the download";
          return false;
        }
        if (options_.max_size > 0 && *announced_size > options_.max_size) {
          fatal = "File too big: " + HumanBytes(*announced_size) + " (the limit is " +
                  HumanBytes(options_.max_size) + ")";
          return false;
        }
        std::optional<int64_t> free = job->target.free_space;
        if (!local) {
          struct statvfs vfs;
          if (fstatvfs(job->file.get(), &vfs) == 0) {
            int64_t staging_free =
                static_cast<int64_t>(vfs.f_bavail) * static_cast<int64_t>(vfs.f_frsize);
            free = free ? std::min(*free, staging_free) : staging_free;
          }
        }
        if (free && *announced_size - written_.load() > *free) {
          fatal = "Not enough space: the file needs " + HumanBytes(*announced_size) + ", " +
                  HumanBytes(*free) + " free";
          return false;
        }
        size = announced_size;
      }
      {
        std::lock_guard<std::mutex> lock(mu_);
        info_.size = size;
        if (begin_mono_us_ == 0) begin_mono_us_ = clock_->MonoMicros();
      }
      if (!announced) {
        announced = true;
        Json data = Info().ToJson();
        data.erase("transfer_id");
        Emit(Event::TRANSFER_INFO, Source::WUI, data, std::nullopt);
      }
      window_us = clock_->MonoMicros();
      window_bytes = 0;
      return true;
    };
    cb.on_data = [&](const char* data, size_t len) -> bool {
      if (stopped() || shutting_down()) return false;
      int64_t total = written_.load() + static_cast<int64_t>(len);
      if (options_.max_size > 0 && total > options_.max_size) {
        fatal = "File too big: more than " + HumanBytes(options_.max_size) + " (the limit)";
        return false;
      }
      if (size && total > *size) {
        fatal = "The server sent more data than announced";
        return false;
      }
      if (!WriteAll(job->file.get(), data, len)) {
        fatal = "Cannot write " + job->target.path + ": " + ErrnoText(errno);
        return false;
      }
      written_.store(total);
      int64_t limit = rate_limit_.load();
      if (limit > 0) {
        window_bytes += static_cast<int64_t>(len);
        int64_t due_us = window_us + window_bytes * 1000000 / limit;
        int64_t wait_ms = (due_us - clock_->MonoMicros()) / 1000;
        if (wait_ms > 0 && !SleepFor(wait_ms)) return false;
      }
      return true;
    };
    FetchResult r = http->Stream(fr, cb);
    if (!fatal.empty()) {
      failure = fatal;
      break;
    }
    if (stopped() || shutting_down()) break;
    if (!r.redirect_url.empty()) {
      if (++redirects > kMaxRedirects) {
        failure = "Too many redirects";
        break;
      }
      if (!UrlOrigin(r.redirect_url)) {
        failure = "Invalid redirect to " + UrlForLog(r.redirect_url);
        break;
      }
      PC_LOG(kDebug, kComponent) << "transfer " << job->id << ": redirected to "
                                 << UrlForLog(r.redirect_url);
      url = r.redirect_url;
      continue;
    }
    if (r.status >= 300 && r.status < 400) {
      failure = "Invalid status code: " + std::to_string(r.status);
      break;
    }
    bool complete = r.error == TransportError::kNone && retry.empty() &&
                    (r.status == 200 || r.status == 206) && (!size || written_.load() == *size);
    if (complete) {
      if (written_.load() == 0) failure = "Empty response";
      break;
    }
    // Lost midway (or a server error): resume after a pause.
    std::string cause = !retry.empty()                     ? retry
                        : r.error != TransportError::kNone ? r.message
                                                           : "Connection closed early";
    if (written_.load() > attempt_start) {
      failures = 0;  // it moved: a fresh set of retries
      backoff_ms = std::max<int64_t>(1, options_.retry_backoff_min_ms);
    }
    if (++failures > options_.max_retries) {
      failure = cause;
      break;
    }
    PC_LOG(kWarning, kComponent) << "transfer " << job->id << ": " << cause << " after "
                                 << written_.load() << " bytes; retrying in " << backoff_ms
                                 << " ms (" << failures << "/" << options_.max_retries << ")";
    if (!SleepFor(backoff_ms)) break;
    backoff_ms = std::min(backoff_ms * 2, std::max<int64_t>(1, options_.retry_backoff_max_ms));
  }

  // ---- outcome ----
  Event outcome = Event::TRANSFER_FINISHED;
  std::string reason;
  if (stopped()) {
    outcome = Event::TRANSFER_STOPPED;
  } else if (!failure.empty()) {
    outcome = Event::TRANSFER_ABORTED;
    reason = failure;
  } else if (shutting_down()) {
    outcome = Event::TRANSFER_ABORTED;
    reason = "Transfer was aborted";
  }
  if (outcome == Event::TRANSFER_FINISHED && fdatasync(job->file.get()) != 0) {
    outcome = Event::TRANSFER_ABORTED;
    reason = "Cannot write " + job->target.path + ": " + ErrnoText(errno);
  }
  job->file = UniqueFd();
  if (outcome == Event::TRANSFER_FINISHED && IsPrintedFile(*fs_, job->target)) {
    outcome = Event::TRANSFER_ABORTED;
    reason = "The file being printed would be overwritten by the downloaded file";
  }
  if (outcome == Event::TRANSFER_FINISHED) {
    if (local) {
      if (renameat(job->target.dir.get(), job->part_name.c_str(), job->target.dir.get(),
                   job->target.name.c_str()) != 0) {
        outcome = Event::TRANSFER_ABORTED;
        reason = "Cannot move the download into place: " + ErrnoText(errno);
      } else {
        job->part_name.clear();
      }
    } else {
      Status stored = StoreDownload(*fs_, job->target, job->staging_path);
      if (!stored.ok()) {
        outcome = Event::TRANSFER_ABORTED;
        reason = "Cannot store " + job->target.path + ": " + stored.message();
      }
    }
  }
  // Nothing half-written stays behind.
  if (!job->part_name.empty()) unlinkat(job->target.dir.get(), job->part_name.c_str(), 0);
  if (!job->staging_path.empty()) unlink(job->staging_path.c_str());

  Json data = Json::MakeObject();
  if (outcome == Event::TRANSFER_STOPPED) {
    data.set("path", job->target.path);
    if (job->request.start_cmd_id) data.set("start_cmd_id", *job->request.start_cmd_id);
  } else {
    if (job->request.start_cmd_id) data.set("start_cmd_id", *job->request.start_cmd_id);
    data.set("path", job->target.path);
  }
  if (outcome == Event::TRANSFER_ABORTED) {
    PC_LOG(kWarning, kComponent) << "transfer " << job->id << " aborted: " << reason;
  } else {
    PC_LOG(kInfo, kComponent) << "transfer " << job->id << " "
                              << (outcome == Event::TRANSFER_FINISHED ? "finished" : "stopped")
                              << ": " << written_.load() << " bytes";
  }
  Emit(outcome, Source::CONNECT, data,
       reason.empty() ? std::nullopt : std::optional<std::string>(reason));

  TransferInfo done;
  std::function<void(const TransferInfo&)> cb;
  {
    std::lock_guard<std::mutex> lock(mu_);
    info_.outcome = outcome;
    info_.reason = reason;
    done = InfoLocked();  // with the final times, taken while still in progress
    done.in_progress = false;
    info_.transferred = done.transferred;
    info_.in_progress = false;
    if (outcome == Event::TRANSFER_FINISHED) cb = finished_cb_;
    cv_.notify_all();
  }
  if (!cb) return;
  try {
    cb(done);
  } catch (const std::exception& e) {
    PC_LOG(kError, kComponent) << "download finished callback threw: " << e.what();
  }
}

}  // namespace internal
}  // namespace prusaconnect
