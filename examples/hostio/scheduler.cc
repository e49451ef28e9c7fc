// Copyright 2026 The libprusaconnect Authors.
#include "scheduler.h"

#include <utility>

namespace hostio {

Scheduler::Scheduler(int threads) {
  if (threads < 1) threads = 1;
  for (int i = 0; i < threads; ++i) workers_.emplace_back([this] { Work(); });
}

Scheduler::~Scheduler() { Stop(); }

Scheduler::TaskId Scheduler::At(Clock::time_point when, Task task) {
  std::lock_guard<std::mutex> lock(mu_);
  if (stop_) return 0;
  TaskId id = next_id_++;
  tasks_.emplace(id, std::move(task));
  bool earliest = heap_.empty() || when < heap_.top().when;
  heap_.push(Entry{when, id});
  if (earliest) cv_.notify_one();
  return id;
}

bool Scheduler::Cancel(TaskId id) {
  std::lock_guard<std::mutex> lock(mu_);
  return tasks_.erase(id) > 0;
}

size_t Scheduler::due() const {
  std::lock_guard<std::mutex> lock(mu_);
  // An estimate: the heap may hold cancelled entries.
  size_t n = 0;
  auto copy = heap_;
  Clock::time_point now = Clock::now();
  while (!copy.empty() && copy.top().when <= now) {
    n += tasks_.count(copy.top().id);
    copy.pop();
  }
  return n;
}

void Scheduler::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_ && workers_.empty()) return;
    stop_ = true;
    tasks_.clear();
  }
  cv_.notify_all();
  for (std::thread& t : workers_) {
    if (t.joinable() && t.get_id() != std::this_thread::get_id()) t.join();
  }
  workers_.clear();
}

void Scheduler::Work() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    if (heap_.empty()) {
      cv_.wait(lock);
      continue;
    }
    Entry top = heap_.top();
    auto it = tasks_.find(top.id);
    if (it == tasks_.end()) {  // cancelled
      heap_.pop();
      continue;
    }
    if (top.when > Clock::now()) {
      cv_.wait_until(lock, top.when);
      continue;
    }
    heap_.pop();
    Task task = std::move(it->second);
    tasks_.erase(it);
    // Another worker may be needed for the next entry.
    if (!heap_.empty()) cv_.notify_one();
    lock.unlock();
    task();
    lock.lock();
  }
}

Periodic::Periodic(Scheduler* scheduler, std::function<int64_t()> step)
    : core_(std::make_shared<Core>()) {
  core_->scheduler = scheduler;
  core_->step = std::move(step);
}

Periodic::~Periodic() { Stop(); }

void Periodic::ScheduleLocked(const std::shared_ptr<Core>& core, int64_t delay_ms) {
  core->pending = core->scheduler->After(delay_ms, [core] { Run(core); });
}

void Periodic::Start(int64_t first_delay_ms) {
  std::lock_guard<std::mutex> lock(core_->mu);
  if (core_->started || core_->stopped) return;
  core_->started = true;
  ScheduleLocked(core_, first_delay_ms);
}

void Periodic::Wake() {
  std::lock_guard<std::mutex> lock(core_->mu);
  if (!core_->started || core_->stopped) return;
  if (core_->running) {
    core_->wake = true;  // Run() reschedules at once
    return;
  }
  if (core_->pending != 0 && core_->scheduler->Cancel(core_->pending)) ScheduleLocked(core_, 0);
}

void Periodic::Run(const std::shared_ptr<Core>& core) {
  {
    std::lock_guard<std::mutex> lock(core->mu);
    if (core->stopped) return;
    core->running = true;
    core->pending = 0;
    core->wake = false;
  }
  int64_t next = core->step();
  std::lock_guard<std::mutex> lock(core->mu);
  core->running = false;
  if (!core->stopped) ScheduleLocked(core, core->wake ? 0 : next);
  core->wake = false;
  core->cv.notify_all();
}

void Periodic::Stop() {
  std::unique_lock<std::mutex> lock(core_->mu);
  core_->stopped = true;
  if (core_->pending != 0) core_->scheduler->Cancel(core_->pending);
  core_->pending = 0;
  core_->cv.wait(lock, [this] { return !core_->running; });
}

}  // namespace hostio
