// Copyright 2026 The libprusaconnect Authors.
#include "util/posix.h"

#include <string.h>
#include <unistd.h>

namespace prusaconnect::internal {

UniqueFd::~UniqueFd() {
  if (fd_ >= 0) close(fd_);
}

UniqueFd& UniqueFd::operator=(UniqueFd&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) close(fd_);
    fd_ = o.release();
  }
  return *this;
}

std::string ErrnoText(int err) {
  char buf[256];
  return strerror_r(err, buf, sizeof buf);  // the GNU variant: returns the text
}

}  // namespace prusaconnect::internal
