// Copyright 2026 The libprusaconnect Authors.
//
// Registration: the code Connect hands out for "Add printer" and the polling
// for the token that follows (sdk-spec §3.2). Single-threaded; times are
// arguments.
#ifndef PRUSACONNECT_PROTOCOL_REGISTRATION_H_
#define PRUSACONNECT_PROTOCOL_REGISTRATION_H_

#include <cstdint>
#include <string>

namespace prusaconnect::internal {

class Registration {
 public:
  Registration(int64_t poll_interval_ms, int64_t timeout_ms)
      : poll_interval_us_(poll_interval_ms * 1000), timeout_us_(timeout_ms * 1000) {}

  // Connect gave `code` at `now_us`: polling starts one interval later and
  // ends when the code's lifetime is over.
  void Begin(std::string code, int64_t now_us);
  // Polling for the token.
  bool active() const { return active_; }
  // The code; kept after the registration ends without a token (as the
  // SDK's printer.code: hosts show "code expired: ..."), cleared by a token.
  const std::string& code() const { return code_; }

  // Ends an active registration whose code has expired by `now_us`; true
  // when it ends now.
  bool ExpireIfDue(int64_t now_us);
  // True when a poll is due at `now_us`; otherwise *wake_at_us is when.
  bool PollDue(int64_t now_us, int64_t* wake_at_us) const;

  // What an answer to a poll means.
  enum class Outcome {
    kToken,    // 200 with a token: registered (code cleared, polling ends)
    kNoToken,  // 200 without one: poll again after an interval
    kPending,  // 202: not confirmed yet, poll again after an interval
    kRetry,    // worth repeating: poll again after the request backoff
    kEnded,    // refused for good: polling ends, the code is kept
  };
  // `retryable`: the status is one after which a request is repeated.
  Outcome Answered(int status, bool has_token, bool retryable, int64_t now_us);

 private:
  int64_t poll_interval_us_;
  int64_t timeout_us_;
  std::string code_;
  bool active_ = false;
  int64_t deadline_us_ = 0;
  int64_t next_poll_us_ = 0;
};

}  // namespace prusaconnect::internal

#endif  // PRUSACONNECT_PROTOCOL_REGISTRATION_H_
