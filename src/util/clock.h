// Copyright 2026 The libprusaconnect Authors.
//
// Time sources, behind one small interface so tests can substitute a
// FakeClock (as LevelDB does with Env), plus the two pieces of SDK logic that
// depend on time:
//
//   * FormatTimestamp(): the `Timestamp` header value (spec §1.2, §4.4);
//   * ClockWatcher: detects wall-clock jumps for the `Clock-Adjusted: 1`
//     header (spec §10.1, the SDK's `clock.py`).
//
// Thread safety: RealClock() and FakeClock may be used from any thread; a
// FakeClock may be changed while other threads read it. ClockWatcher is safe
// for concurrent use.

#ifndef PRUSACONNECT_UTIL_CLOCK_H_
#define PRUSACONNECT_UTIL_CLOCK_H_

#include <atomic>
#include <cstdint>
#include <string>

namespace prusaconnect::internal {

class Clock {
 public:
  virtual ~Clock() = default;

  // Microseconds since the Unix epoch (CLOCK_REALTIME, Python's time.time()).
  // May jump in either direction when the system time is set.
  virtual int64_t WallMicros() const = 0;

  // Microseconds since an arbitrary origin (CLOCK_MONOTONIC, Python's
  // time.monotonic()). Never goes backwards.
  virtual int64_t MonoMicros() const = 0;
};

// The system clocks. The object is never destroyed.
Clock* RealClock();

// A settable clock for tests. Starts at the given times and moves only when
// told to.
class FakeClock : public Clock {
 public:
  // 2023-11-14T22:13:20Z, a realistic wall time for tests.
  static constexpr int64_t kDefaultWallMicros = 1700000000LL * 1000000;

  explicit FakeClock(int64_t wall_micros = kDefaultWallMicros, int64_t mono_micros = 0)
      : wall_(wall_micros), mono_(mono_micros) {}

  int64_t WallMicros() const override { return wall_.load(); }
  int64_t MonoMicros() const override { return mono_.load(); }

  void SetWallMicros(int64_t micros) { wall_.store(micros); }
  // REQUIRES: `micros` is not smaller than the current monotonic time.
  void SetMonoMicros(int64_t micros) { mono_.store(micros); }

  // Lets time pass: moves both clocks forward. REQUIRES: micros >= 0.
  void Advance(int64_t micros) {
    mono_.fetch_add(micros);
    wall_.fetch_add(micros);
  }

  // Sets the system time: moves only the wall clock, by `micros` (which may
  // be negative).
  void AdjustWall(int64_t micros) { wall_.fetch_add(micros); }

 private:
  std::atomic<int64_t> wall_;
  std::atomic<int64_t> mono_;
};

// Formats a wall time as the SDK's `Timestamp` header value for "now",
// `int(time()*10) * 0.1`, without the float noise: the time floored to the
// 100 ms grid, printed as `<seconds>.<tenths>` with exactly one decimal.
// Examples: 1700000000123456 -> "1700000000.1", 0 -> "0.0",
// -1 -> "-0.1" (floored, where the SDK would truncate towards zero).
std::string FormatTimestamp(int64_t wall_micros);

// Detects that the wall clock was set (jumped) relative to the monotonic
// clock, so that exactly one request carries `Clock-Adjusted: 1`.
//
// It stores delta = wall - monotonic. The clock counts as adjusted when the
// current delta differs from the stored one by at least kToleranceMicros
// (the SDK's TOLERANCE = 1 s; the comparison is `>=`, as in the SDK).
class ClockWatcher {
 public:
  static constexpr int64_t kToleranceMicros = 1000000;

  // Stores the current delta of `clock`.
  // REQUIRES: `clock` is not null and outlives the watcher.
  explicit ClockWatcher(const Clock* clock);

  ClockWatcher(const ClockWatcher&) = delete;
  ClockWatcher& operator=(const ClockWatcher&) = delete;

  // True if the clock was adjusted since construction or the last reset
  // (the SDK's `clock_adjusted()`). Does not reset.
  bool ClockAdjusted() const;

  // Stores the current delta (the SDK's `reset()`).
  void Reset();

  // If the clock was adjusted, stores the new delta and returns true;
  // otherwise returns false. When several threads call it concurrently after
  // one adjustment, exactly one of them gets true. This is what building the
  // request headers uses.
  bool CheckAndReset();

  // The stored delta, wall - monotonic, in microseconds.
  int64_t delta_micros() const { return delta_.load(); }

 private:
  int64_t CurrentDelta() const;

  const Clock* const clock_;
  std::atomic<int64_t> delta_;
};

}  // namespace prusaconnect::internal

#endif  // PRUSACONNECT_UTIL_CLOCK_H_
