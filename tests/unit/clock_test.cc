// Copyright 2026 The libprusaconnect Authors.
//
// Tests for util/clock.h: the Timestamp header format, the clock watcher
// (the SDK's tests/test_clock.py) and the clocks themselves.

#include "util/clock.h"

#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace prusaconnect::internal {
namespace {

constexpr int64_t kSecond = 1000000;

TEST(FormatTimestampTest, FloorsToTenthsAndPrintsOneDecimal) {
  EXPECT_EQ(FormatTimestamp(1700000000123456), "1700000000.1");
  EXPECT_EQ(FormatTimestamp(1700000000199999), "1700000000.1");
  EXPECT_EQ(FormatTimestamp(1700000000200000), "1700000000.2");
  EXPECT_EQ(FormatTimestamp(1720000001000000), "1720000001.0");  // Python: "1720000001.0".
  EXPECT_EQ(FormatTimestamp(1720000001999999), "1720000001.9");
  EXPECT_EQ(FormatTimestamp(0), "0.0");
  EXPECT_EQ(FormatTimestamp(99999), "0.0");
  EXPECT_EQ(FormatTimestamp(100000), "0.1");
  EXPECT_EQ(FormatTimestamp(24 * kSecond), "24.0");
}

TEST(FormatTimestampTest, NegativeTimesAreFloored) {
  EXPECT_EQ(FormatTimestamp(-1), "-0.1");
  EXPECT_EQ(FormatTimestamp(-100000), "-0.1");
  EXPECT_EQ(FormatTimestamp(-150000), "-0.2");
  EXPECT_EQ(FormatTimestamp(INT64_MIN), "-9223372036854.8");
  EXPECT_EQ(FormatTimestamp(INT64_MAX), "9223372036854.7");
}

TEST(FormatTimestampTest, HasNoFloatNoiseAnywhereOnTheGrid) {
  // int(t*10) * 0.1 in Python prints e.g. "1700000000.1000001"; we never do.
  for (int64_t tenths = 17000000000; tenths < 17000000000 + 1000; ++tenths) {
    const std::string text = FormatTimestamp(tenths * 100000 + 54321);
    const std::string expected = std::to_string(tenths / 10) + "." + std::to_string(tenths % 10);
    ASSERT_EQ(text, expected);
  }
}

TEST(FakeClockTest, AdvanceMovesBothClocksAndAdjustWallOnlyTheWallClock) {
  FakeClock clock(1000 * kSecond, 5 * kSecond);
  EXPECT_EQ(clock.WallMicros(), 1000 * kSecond);
  EXPECT_EQ(clock.MonoMicros(), 5 * kSecond);
  clock.Advance(3 * kSecond);
  EXPECT_EQ(clock.WallMicros(), 1003 * kSecond);
  EXPECT_EQ(clock.MonoMicros(), 8 * kSecond);
  clock.AdjustWall(-10 * kSecond);
  EXPECT_EQ(clock.WallMicros(), 993 * kSecond);
  EXPECT_EQ(clock.MonoMicros(), 8 * kSecond);
  clock.SetWallMicros(42);
  clock.SetMonoMicros(9 * kSecond);
  EXPECT_EQ(clock.WallMicros(), 42);
  EXPECT_EQ(clock.MonoMicros(), 9 * kSecond);
}

TEST(RealClockTest, ReturnsPlausibleTimesAndMonotonicDoesNotGoBack) {
  Clock* clock = RealClock();
  ASSERT_NE(clock, nullptr);
  EXPECT_EQ(clock, RealClock());
  EXPECT_GT(clock->WallMicros(), 1600000000LL * kSecond);  // After September 2020.
  int64_t previous = clock->MonoMicros();
  for (int i = 0; i < 1000; ++i) {
    const int64_t now = clock->MonoMicros();
    ASSERT_GE(now, previous);
    previous = now;
  }
}

// test_clock_adjusted
TEST(ClockWatcherTest, DetectsAnAdjustmentOnceAndResetClearsIt) {
  FakeClock clock;
  ClockWatcher watcher(&clock);
  EXPECT_FALSE(watcher.ClockAdjusted());

  clock.AdjustWall(ClockWatcher::kToleranceMicros + kSecond);  // The SDK's 2 s shift.
  EXPECT_TRUE(watcher.ClockAdjusted());
  EXPECT_TRUE(watcher.ClockAdjusted());  // Checking does not reset.

  watcher.Reset();
  EXPECT_FALSE(watcher.ClockAdjusted());
}

TEST(ClockWatcherTest, CheckAndResetReportsAShiftExactlyOnce) {
  FakeClock clock;
  ClockWatcher watcher(&clock);
  const int64_t original = watcher.delta_micros();
  EXPECT_FALSE(watcher.CheckAndReset());

  clock.AdjustWall(2 * kSecond);
  EXPECT_TRUE(watcher.CheckAndReset());
  EXPECT_EQ(watcher.delta_micros(), original + 2 * kSecond);
  EXPECT_FALSE(watcher.CheckAndReset());
  EXPECT_FALSE(watcher.ClockAdjusted());
}

TEST(ClockWatcherTest, BackwardShiftsCountToo) {
  FakeClock clock;
  ClockWatcher watcher(&clock);
  clock.AdjustWall(-kSecond);  // Exactly the tolerance: `>=`.
  EXPECT_TRUE(watcher.CheckAndReset());
  EXPECT_FALSE(watcher.CheckAndReset());
}

TEST(ClockWatcherTest, ShiftsBelowOneSecondAreTolerated) {
  FakeClock clock;
  ClockWatcher watcher(&clock);
  clock.AdjustWall(999999);  // 0.999999 s
  EXPECT_FALSE(watcher.ClockAdjusted());
  EXPECT_FALSE(watcher.CheckAndReset());
  clock.AdjustWall(-2 * 999999);  // -0.999999 s from the stored delta.
  EXPECT_FALSE(watcher.CheckAndReset());
}

TEST(ClockWatcherTest, SmallShiftsAreMeasuredFromTheStoredDeltaAndAccumulate) {
  FakeClock clock;
  ClockWatcher watcher(&clock);
  clock.AdjustWall(600000);
  EXPECT_FALSE(watcher.CheckAndReset());  // Not reset: the stored delta stays.
  clock.AdjustWall(600000);
  EXPECT_TRUE(watcher.CheckAndReset());  // 1.2 s in total.
}

TEST(ClockWatcherTest, TimePassingIsNotAnAdjustment) {
  FakeClock clock;
  ClockWatcher watcher(&clock);
  clock.Advance(3600 * kSecond);
  EXPECT_FALSE(watcher.ClockAdjusted());
  EXPECT_FALSE(watcher.CheckAndReset());
}

TEST(ClockWatcherTest, ExtremeFakeTimesDoNotOverflow) {
  // The arithmetic wraps instead of overflowing (UBSan checks this), so a
  // shift is still measured correctly next to the int64 limits.
  FakeClock clock(INT64_MAX, INT64_MIN);
  ClockWatcher watcher(&clock);
  EXPECT_FALSE(watcher.CheckAndReset());
  clock.AdjustWall(-2 * kSecond);
  EXPECT_TRUE(watcher.CheckAndReset());
  EXPECT_FALSE(watcher.CheckAndReset());
}

TEST(ClockWatcherTest, RealClockIsNotAdjustedWithoutASystemTimeChange) {
  ClockWatcher watcher(RealClock());
  EXPECT_FALSE(watcher.ClockAdjusted());
}

TEST(ClockWatcherTest, ConcurrentCallersSeeOneAdjustmentOnce) {
  FakeClock clock;
  ClockWatcher watcher(&clock);
  for (int round = 0; round < 200; ++round) {
    clock.AdjustWall(2 * kSecond);
    std::atomic<int> reported{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&] {
        for (int i = 0; i < 50; ++i) {
          if (watcher.CheckAndReset()) ++reported;
        }
      });
    }
    for (std::thread& thread : threads) thread.join();
    ASSERT_EQ(reported.load(), 1) << "round " << round;
  }
}

}  // namespace
}  // namespace prusaconnect::internal
