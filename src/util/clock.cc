// Copyright 2026 The libprusaconnect Authors.

#include "util/clock.h"

#include <time.h>

namespace prusaconnect::internal {
namespace {

class PosixClock final : public Clock {
 public:
  int64_t WallMicros() const override { return Now(CLOCK_REALTIME); }
  int64_t MonoMicros() const override { return Now(CLOCK_MONOTONIC); }

 private:
  static int64_t Now(clockid_t id) {
    struct timespec ts;
    ::clock_gettime(id, &ts);  // Cannot fail for these clock ids.
    return static_cast<int64_t>(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
  }
};

// Distance between two deltas, saturated instead of overflowing: deltas of a
// FakeClock may be arbitrary.
uint64_t Distance(int64_t a, int64_t b) {
  return a >= b ? static_cast<uint64_t>(a) - static_cast<uint64_t>(b)
                : static_cast<uint64_t>(b) - static_cast<uint64_t>(a);
}

}  // namespace

Clock* RealClock() {
  static Clock* const clock = new PosixClock();  // Never destroyed, by design.
  return clock;
}

std::string FormatTimestamp(int64_t wall_micros) {
  int64_t tenths = wall_micros / 100000;
  if (wall_micros % 100000 < 0) --tenths;  // Floor, not truncate.
  const bool negative = tenths < 0;
  const uint64_t magnitude =
      negative ? 0 - static_cast<uint64_t>(tenths) : static_cast<uint64_t>(tenths);
  std::string result = negative ? "-" : "";
  result += std::to_string(magnitude / 10);
  result += '.';
  result += static_cast<char>('0' + magnitude % 10);
  return result;
}

ClockWatcher::ClockWatcher(const Clock* clock) : clock_(clock), delta_(CurrentDelta()) {}

int64_t ClockWatcher::CurrentDelta() const {
  // Wrapping subtraction: no undefined behaviour for extreme fake times.
  return static_cast<int64_t>(static_cast<uint64_t>(clock_->WallMicros()) -
                              static_cast<uint64_t>(clock_->MonoMicros()));
}

bool ClockWatcher::ClockAdjusted() const {
  return Distance(CurrentDelta(), delta_.load()) >= static_cast<uint64_t>(kToleranceMicros);
}

void ClockWatcher::Reset() { delta_.store(CurrentDelta()); }

bool ClockWatcher::CheckAndReset() {
  int64_t stored = delta_.load();
  const int64_t current = CurrentDelta();
  if (Distance(current, stored) < static_cast<uint64_t>(kToleranceMicros)) return false;
  // Only the caller that replaces the value it compared against reports the
  // adjustment; a concurrent caller sees the new delta (or fails the swap).
  return delta_.compare_exchange_strong(stored, current);
}

}  // namespace prusaconnect::internal
