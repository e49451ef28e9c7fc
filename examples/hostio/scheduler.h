// Copyright 2026 The libprusaconnect Authors.
//
// Scheduler: a fixed pool of worker threads running timed tasks — the
// bridge's host polling, driver ticks and blocking host requests for every
// printer. The number of threads is chosen once and never grows with the
// number of printers.
//
// A task runs at most once, on one worker, no earlier than its time.
// Periodic work reschedules itself when it finishes (see Periodic), so a
// slow step is never run twice at once and never piles up.
//
// Hand-written: a timer heap and a condition variable are all it takes;
// Debian has no small library for this (Boost.Asio would bring all of
// Boost's build for one class).
#ifndef PRUSACONNECT_EXAMPLES_HOSTIO_SCHEDULER_H_
#define PRUSACONNECT_EXAMPLES_HOSTIO_SCHEDULER_H_

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <queue>
#include <thread>
#include <vector>

namespace hostio {

class Scheduler {
 public:
  using Clock = std::chrono::steady_clock;
  using Task = std::function<void()>;
  using TaskId = uint64_t;

  explicit Scheduler(int threads);
  ~Scheduler();  // Stop()
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  TaskId At(Clock::time_point when, Task task);
  TaskId After(int64_t delay_ms, Task task) {
    return At(Clock::now() + std::chrono::milliseconds(delay_ms), std::move(task));
  }
  TaskId Post(Task task) { return At(Clock::now(), std::move(task)); }
  // True when the task was removed before it started.
  bool Cancel(TaskId id);
  // Runs nothing more; waits for running tasks and joins the workers.
  void Stop();

  int threads() const { return static_cast<int>(workers_.size()); }
  // Tasks due but not started (a backlog means the pool is too small).
  size_t due() const;

 private:
  void Work();

  struct Entry {
    Clock::time_point when;
    TaskId id;
    bool operator>(const Entry& o) const { return when != o.when ? when > o.when : id > o.id; }
  };
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::priority_queue<Entry, std::vector<Entry>, std::greater<Entry>> heap_;
  std::map<TaskId, Task> tasks_;  // cancelled ones are missing
  TaskId next_id_ = 1;
  bool stop_ = false;
  std::vector<std::thread> workers_;
};

// Periodic: `step` runs on the scheduler, then again after the delay it
// returns (milliseconds), until Stop(). Never two steps at once; Wake()
// brings the next step forward to now.
class Periodic {
 public:
  Periodic(Scheduler* scheduler, std::function<int64_t()> step);
  ~Periodic();  // Stop()
  Periodic(const Periodic&) = delete;
  Periodic& operator=(const Periodic&) = delete;

  void Start(int64_t first_delay_ms = 0);
  void Wake();
  // No step starts after it returns; waits for a running one (not callable
  // from the step itself).
  void Stop();

 private:
  // Shared with the scheduled task, so that a task a worker took just
  // before Stop() finds it stopped instead of a destroyed Periodic.
  struct Core {
    Scheduler* scheduler;
    std::function<int64_t()> step;
    std::mutex mu;
    std::condition_variable cv;
    bool started = false;
    bool stopped = false;
    bool running = false;
    bool wake = false;
    Scheduler::TaskId pending = 0;
  };
  static void Run(const std::shared_ptr<Core>& core);
  static void ScheduleLocked(const std::shared_ptr<Core>& core, int64_t delay_ms);

  std::shared_ptr<Core> core_;
};

}  // namespace hostio

#endif  // PRUSACONNECT_EXAMPLES_HOSTIO_SCHEDULER_H_
