// Copyright 2026 The libprusaconnect Authors.
//
// The built-in camera drivers: HTTP snapshot URL, external command, file.
// (V4L2 is in v4l2.cc.)
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "prusaconnect/camera.h"
#include "transport/http_client.h"
#include "util/posix.h"
#include "util/str_cat.h"

extern char** environ;  // NOLINT(readability-redundant-declaration)

namespace prusaconnect {
namespace {

using internal::HttpClient;
using internal::HttpRequest;
using internal::HttpResponse;
using internal::TransportError;

// The URL without user information or query (which may carry secrets).
std::string SafeUrl(const std::string& url) {
  std::string u = url.substr(0, url.find_first_of("?#"));
  size_t scheme = u.find("://");
  size_t at = u.find('@');
  if (scheme != std::string::npos && at != std::string::npos && at > scheme) {
    u.erase(scheme + 3, at + 1 - (scheme + 3));
  }
  return u;
}

class HttpSnapshotDriver : public CameraDriver {
 public:
  explicit HttpSnapshotDriver(HttpSnapshotOptions o)
      : options_(std::move(o)),
        http_(internal::MakeCurlHttpClient(
            options_.username.empty() ? "" : options_.username + ":" + options_.password)) {}

  StatusOr<std::string> Capture() override {
    HttpRequest r;
    r.method = "GET";
    r.url = options_.url;
    r.timeout_ms = options_.timeout_ms;
    r.verify_tls = options_.verify_tls;
    r.max_response_body = options_.max_bytes;
    std::lock_guard<std::mutex> lock(mu_);
    HttpResponse resp = http_->Send(r);
    switch (resp.error) {
      case TransportError::kNone:
        break;
      case TransportError::kTimeout:
        return DeadlineExceededError(
            internal::StrCat(Describe(), ": no image within ", options_.timeout_ms, " ms"));
      case TransportError::kTooLarge:
        return ResourceExhaustedError(
            internal::StrCat(Describe(), ": answer larger than ", options_.max_bytes,
                             " bytes (a stream URL, not a snapshot URL?)"));
      default:
        return UnavailableError(internal::StrCat(Describe(), ": ", resp.error_message));
    }
    if (resp.status == 401 || resp.status == 403) {
      return PermissionDeniedError(internal::StrCat(Describe(), ": HTTP ", resp.status,
                                                    " (check the camera's username/password)"));
    }
    if (resp.status != 200) {
      return UnavailableError(internal::StrCat(Describe(), ": HTTP ", resp.status));
    }
    if (resp.body.empty()) return UnavailableError(internal::StrCat(Describe(), ": empty image"));
    return std::move(resp.body);
  }

  std::string Describe() const override { return SafeUrl(options_.url); }

 private:
  const HttpSnapshotOptions options_;
  std::mutex mu_;
  std::unique_ptr<HttpClient> http_;
};

class CommandDriver : public CameraDriver {
 public:
  explicit CommandDriver(CommandOptions o) : options_(std::move(o)) {}

  StatusOr<std::string> Capture() override {
    if (options_.argv.empty() || options_.argv[0].empty()) {
      return InvalidArgumentError("camera command: empty argv");
    }
    int out[2];
    if (pipe2(out, O_CLOEXEC) != 0) {
      return UnavailableError(
          internal::StrCat("camera command: pipe: ", internal::ErrnoText(errno)));
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
    std::vector<char*> argv;
    argv.reserve(options_.argv.size() + 1);
    for (const std::string& a : options_.argv) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    pid_t pid = 0;
    int rc = posix_spawnp(&pid, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    close(out[1]);
    if (rc != 0) {
      close(out[0]);
      return UnavailableError(
          internal::StrCat("camera command ", options_.argv[0], ": ", internal::ErrnoText(rc)));
    }
    std::string data;
    Status error;
    auto deadline =
        std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.timeout_ms);
    char buf[65536];
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                      deadline - std::chrono::steady_clock::now())
                      .count();
      if (left <= 0) {
        error = DeadlineExceededError(internal::StrCat(
            "camera command ", options_.argv[0], ": no image within ", options_.timeout_ms, " ms"));
        break;
      }
      pollfd p{out[0], POLLIN, 0};
      int n = poll(&p, 1, static_cast<int>(left));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) continue;  // timeout: caught at the top
      ssize_t got = read(out[0], buf, sizeof(buf));
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) break;  // EOF (or error)
      if (data.size() + static_cast<size_t>(got) > options_.max_bytes) {
        error = ResourceExhaustedError(internal::StrCat(
            "camera command ", options_.argv[0], ": more than ", options_.max_bytes, " bytes"));
        break;
      }
      data.append(buf, static_cast<size_t>(got));
    }
    close(out[0]);
    if (!error.ok()) kill(pid, SIGKILL);
    int wstatus = 0;
    while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
    }
    if (!error.ok()) return error;
    if (!WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0) {
      return UnavailableError(internal::StrCat("camera command ", options_.argv[0], " failed (",
                                               WIFEXITED(wstatus)
                                                   ? internal::StrCat("exit ", WEXITSTATUS(wstatus))
                                                   : internal::StrCat("signal ", WTERMSIG(wstatus)),
                                               ")"));
    }
    if (data.empty()) {
      return UnavailableError(internal::StrCat("camera command ", options_.argv[0], ": no output"));
    }
    return data;
  }

  std::string Describe() const override {
    return options_.argv.empty() ? "command" : "command " + options_.argv[0];
  }

 private:
  const CommandOptions options_;
};

class FileDriver : public CameraDriver {
 public:
  explicit FileDriver(std::string path) : path_(std::move(path)) {}

  StatusOr<std::string> Capture() override {
    int fd = open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      return UnavailableError(
          internal::StrCat("camera file ", path_, ": ", internal::ErrnoText(errno)));
    }
    std::string data;
    char buf[65536];
    ssize_t got = 0;
    while ((got = read(fd, buf, sizeof(buf))) != 0) {
      if (got < 0 && errno == EINTR) continue;
      if (got < 0) {
        std::string err = internal::ErrnoText(errno);
        close(fd);
        return UnavailableError(internal::StrCat("camera file ", path_, ": ", err));
      }
      data.append(buf, static_cast<size_t>(got));
    }
    close(fd);
    if (data.empty()) return UnavailableError(internal::StrCat("camera file ", path_, ": empty"));
    return data;
  }

  std::string Describe() const override { return "file " + path_; }

 private:
  const std::string path_;
};

}  // namespace

std::shared_ptr<CameraDriver> MakeHttpSnapshotDriver(const HttpSnapshotOptions& options) {
  return std::make_shared<HttpSnapshotDriver>(options);
}

std::shared_ptr<CameraDriver> MakeCommandDriver(const CommandOptions& options) {
  return std::make_shared<CommandDriver>(options);
}

std::shared_ptr<CameraDriver> MakeFileDriver(const std::string& path) {
  return std::make_shared<FileDriver>(path);
}

}  // namespace prusaconnect
