// Copyright 2026 The libprusaconnect Authors.
//
// Small POSIX helpers every layer may use: an owned file descriptor and
// strerror() that is safe from any thread.
#ifndef PRUSACONNECT_UTIL_POSIX_H_
#define PRUSACONNECT_UTIL_POSIX_H_

#include <string>

namespace prusaconnect::internal {

// An owned file descriptor, closed when the object goes.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd();
  UniqueFd(UniqueFd&& o) noexcept : fd_(o.release()) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  int get() const { return fd_; }
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }
  bool valid() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

// strerror(), thread-safe ("Permission denied").
std::string ErrnoText(int err);

}  // namespace prusaconnect::internal

#endif  // PRUSACONNECT_UTIL_POSIX_H_
