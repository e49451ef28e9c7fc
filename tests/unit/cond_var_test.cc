// Copyright 2026 The libprusaconnect Authors.
//
// Tests for util/cond_var.h: the library's condition variable on
// CLOCK_MONOTONIC (the std::condition_variable subset it replaces).

#include "util/cond_var.h"

#include <chrono>
#include <mutex>
#include <thread>

#include "gtest/gtest.h"
#include "util/clock.h"

namespace prusaconnect::internal {
namespace {

TEST(CondVarTest, WaitForTimesOutWithoutANotification) {
  std::mutex mu;
  CondVar cv;
  std::unique_lock<std::mutex> lock(mu);
  const int64_t before = RealClock()->MonoMicros();
  EXPECT_FALSE(cv.wait_for(lock, std::chrono::milliseconds(30), [] { return false; }));
  EXPECT_GE(RealClock()->MonoMicros() - before, 30000);
  EXPECT_TRUE(lock.owns_lock());
}

TEST(CondVarTest, WaitForReturnsAtOnceWhenThePredicateHolds) {
  std::mutex mu;
  CondVar cv;
  std::unique_lock<std::mutex> lock(mu);
  EXPECT_TRUE(cv.wait_for(lock, std::chrono::hours(1), [] { return true; }));
  EXPECT_TRUE(cv.wait_for(lock, std::chrono::milliseconds(-5), [] { return true; }));
  EXPECT_FALSE(cv.wait_for(lock, std::chrono::milliseconds(-5), [] { return false; }));
}

TEST(CondVarTest, NotifyAllWakesEveryWaiter) {
  std::mutex mu;
  CondVar cv;
  bool go = false;
  int woken = 0;
  std::thread waiters[3];
  for (auto& t : waiters) {
    t = std::thread([&] {
      std::unique_lock<std::mutex> lock(mu);
      cv.wait(lock, [&] { return go; });
      ++woken;
    });
  }
  {
    std::lock_guard<std::mutex> lock(mu);
    go = true;
  }
  cv.notify_all();
  for (auto& t : waiters) t.join();
  EXPECT_EQ(woken, 3);
}

TEST(CondVarTest, TimedWaitSeesANotificationBeforeItsDeadline) {
  std::mutex mu;
  CondVar cv;
  bool ready = false;
  std::thread notifier([&] {
    std::lock_guard<std::mutex> lock(mu);
    ready = true;
    cv.notify_one();
  });
  std::unique_lock<std::mutex> lock(mu);
  // A day: only the notification can end this wait.
  EXPECT_TRUE(cv.wait_for(lock, std::chrono::hours(24), [&] { return ready; }));
  lock.unlock();
  notifier.join();
}

TEST(CondVarTest, AFarDeadlineDoesNotOverflow) {
  std::mutex mu;
  CondVar cv;
  std::unique_lock<std::mutex> lock(mu);
  bool flag = true;
  EXPECT_TRUE(cv.wait_for(lock, std::chrono::seconds::max(), [&] { return flag; }));
}

}  // namespace
}  // namespace prusaconnect::internal
