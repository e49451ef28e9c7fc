// Copyright 2026 The libprusaconnect Authors.
//
// CondVar: a condition variable for std::mutex on CLOCK_MONOTONIC, inline over
// pthreads, with the subset of std::condition_variable's interface the
// library uses (wait, wait_for, notify_one, notify_all).
//
// Why not std::condition_variable: its constructor, destructor, wait and
// notify functions, and the steady_clock::now() its timed waits call, are out
// of line in libstdc++, in two 64 KiB windows of that library's code which a
// process that only sends telemetry would otherwise never fault in (128 kB of
// RSS in every host; docs/PERFORMANCE.md, issue #2). The behaviour is the
// same: libstdc++'s implementation is these pthread calls.
#ifndef PRUSACONNECT_UTIL_COND_VAR_H_
#define PRUSACONNECT_UTIL_COND_VAR_H_

#include <pthread.h>
#include <time.h>

#include <chrono>
#include <cstdint>
#include <mutex>

namespace prusaconnect::internal {

class CondVar {
 public:
  CondVar() {
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&cond_, &attr);
    pthread_condattr_destroy(&attr);
  }
  ~CondVar() { pthread_cond_destroy(&cond_); }
  CondVar(const CondVar&) = delete;
  CondVar& operator=(const CondVar&) = delete;

  void notify_one() noexcept { pthread_cond_signal(&cond_); }
  void notify_all() noexcept { pthread_cond_broadcast(&cond_); }

  // `lock` must hold its mutex, as for std::condition_variable.
  void wait(std::unique_lock<std::mutex>& lock) {
    pthread_cond_wait(&cond_, lock.mutex()->native_handle());
  }
  template <typename Predicate>
  void wait(std::unique_lock<std::mutex>& lock, Predicate pred) {
    while (!pred()) wait(lock);
  }

  // Waits until notified or `timeout` has passed (spurious wake-ups
  // possible); false when the time is up.
  template <typename Rep, typename Period>
  bool wait_for(std::unique_lock<std::mutex>& lock,
                const std::chrono::duration<Rep, Period>& timeout) {
    timespec deadline = DeadlineAfter(timeout);
    return WaitUntil(lock, deadline);
  }
  // Waits until `pred` holds or `timeout` has passed; returns pred().
  template <typename Rep, typename Period, typename Predicate>
  bool wait_for(std::unique_lock<std::mutex>& lock,
                const std::chrono::duration<Rep, Period>& timeout, Predicate pred) {
    timespec deadline = DeadlineAfter(timeout);
    while (!pred()) {
      if (!WaitUntil(lock, deadline)) return pred();
    }
    return true;
  }

 private:
  template <typename Rep, typename Period>
  static timespec DeadlineAfter(const std::chrono::duration<Rep, Period>& timeout) {
    // Longer waits are capped at a century, so that the conversion to
    // nanoseconds cannot overflow.
    constexpr std::chrono::hours kLongest(24 * 365 * 100);
    int64_t ns = 0;
    if (timeout > kLongest) {
      ns = std::chrono::duration_cast<std::chrono::nanoseconds>(kLongest).count();
    } else if (timeout > timeout.zero()) {
      ns = std::chrono::duration_cast<std::chrono::nanoseconds>(timeout).count();
    }
    timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    int64_t sec = static_cast<int64_t>(t.tv_sec) + ns / 1000000000;
    int64_t nsec = static_cast<int64_t>(t.tv_nsec) + ns % 1000000000;
    if (nsec >= 1000000000) {
      ++sec;
      nsec -= 1000000000;
    }
    t.tv_sec = static_cast<time_t>(sec);
    t.tv_nsec = static_cast<decltype(t.tv_nsec)>(nsec);
    return t;
  }
  // False when `deadline` passed.
  bool WaitUntil(std::unique_lock<std::mutex>& lock, const timespec& deadline) {
    return pthread_cond_timedwait(&cond_, lock.mutex()->native_handle(), &deadline) == 0;
  }

  pthread_cond_t cond_;
};

}  // namespace prusaconnect::internal

#endif  // PRUSACONNECT_UTIL_COND_VAR_H_
