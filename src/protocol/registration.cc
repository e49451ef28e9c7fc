// Copyright 2026 The libprusaconnect Authors.
#include "protocol/registration.h"

#include <utility>

namespace prusaconnect::internal {

void Registration::Begin(std::string code, int64_t now_us) {
  code_ = std::move(code);
  active_ = true;
  deadline_us_ = now_us + timeout_us_;
  next_poll_us_ = now_us + poll_interval_us_;
}

bool Registration::ExpireIfDue(int64_t now_us) {
  if (!active_ || now_us < deadline_us_) return false;
  active_ = false;
  return true;
}

bool Registration::PollDue(int64_t now_us, int64_t* wake_at_us) const {
  if (now_us >= next_poll_us_) return true;
  *wake_at_us = next_poll_us_;
  return false;
}

Registration::Outcome Registration::Answered(int status, bool has_token, bool retryable,
                                             int64_t now_us) {
  if (status == 200 && has_token) {
    code_.clear();
    active_ = false;
    return Outcome::kToken;
  }
  if (status == 200 || status == 202) {
    next_poll_us_ = now_us + poll_interval_us_;
    return status == 200 ? Outcome::kNoToken : Outcome::kPending;
  }
  if (retryable && status != 401 && status != 403) {
    next_poll_us_ = 0;  // as soon as the request backoff allows
    return Outcome::kRetry;
  }
  active_ = false;
  return Outcome::kEnded;
}

}  // namespace prusaconnect::internal
