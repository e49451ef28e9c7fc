// Copyright 2026 The libprusaconnect Authors.
#include "files/inotify.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <algorithm>
#include <memory>

#include "files/paths.h"
#include "util/logging.h"

namespace prusaconnect::internal {

static_assert(InotifyHub::kMask ==
                  (IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO | IN_CREATE | IN_DELETE |
                   IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR | IN_DONT_FOLLOW | IN_EXCL_UNLINK),
              "watch mask");

InotifyHub& InotifyHub::Instance() {
  // Never destroyed: storages of printers with static storage may outlive any
  // destruction order, and the thread must not run into a dead object.
  static auto* hub = new InotifyHub();
  return *hub;
}

InotifyHub::InotifyHub() {
  fd_ = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd_ < 0) {
    PC_LOG(kError, "files") << "inotify_init1 failed: " << ErrnoText(errno);
  }
}

void InotifyHub::EnsureThreadLocked() {
  if (started_ || fd_ < 0) return;
  std::thread thread([this] { Run(); });
  thread.detach();  // lives as long as the process, like the hub
  started_ = true;
}

StatusOr<int> InotifyHub::AddWatch(InotifyListener* listener, const std::string& dir) {
  if (fd_ < 0) return UnavailableError("inotify is not available");
  std::lock_guard<std::mutex> lock(mu_);
  EnsureThreadLocked();
  int wd = inotify_add_watch(fd_, dir.c_str(), kMask);
  if (wd < 0) {
    if (errno == ENOSPC) {
      return ResourceExhaustedError(
          StrCat("Cannot watch ", dir,
                 ": the inotify watch limit is reached (fs.inotify.max_user_watches)"));
    }
    return ErrnoStatus(errno, "Cannot watch " + dir);
  }
  if (generation_.try_emplace(listener, next_generation_).second) ++next_generation_;
  std::vector<InotifyListener*>& listeners = by_wd_[wd];
  if (std::find(listeners.begin(), listeners.end(), listener) == listeners.end()) {
    listeners.push_back(listener);
  }
  by_listener_[listener].insert(wd);
  return wd;
}

void InotifyHub::DropLocked(InotifyListener* listener, int wd) {
  auto it = by_wd_.find(wd);
  if (it == by_wd_.end()) return;
  auto& v = it->second;
  v.erase(std::remove(v.begin(), v.end(), listener), v.end());
  if (v.empty()) {
    inotify_rm_watch(fd_, wd);
    by_wd_.erase(it);
  }
}

void InotifyHub::RemoveWatch(InotifyListener* listener, int wd) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = by_listener_.find(listener);
  if (it == by_listener_.end() || it->second.erase(wd) == 0) return;
  DropLocked(listener, wd);
}

void InotifyHub::RemoveListener(InotifyListener* listener) {
  std::unique_lock<std::mutex> lock(mu_);
  auto it = by_listener_.find(listener);
  if (it != by_listener_.end()) {
    for (int wd : it->second) DropLocked(listener, wd);
    by_listener_.erase(it);
  }
  generation_.erase(listener);
  if (std::this_thread::get_id() != running_thread_) {
    idle_cv_.wait(lock, [&] { return running_ != listener; });
  }
}

size_t InotifyHub::watch_count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return by_wd_.size();
}

void InotifyHub::Run() {
  // On the heap of this one thread: a thread_local array would be part of the
  // static TLS block that glibc allocates and zeroes for every thread of a
  // process linking the library (64 KiB each). new[] is aligned for
  // struct inotify_event.
  constexpr size_t kBufSize = size_t{64} * 1024;
  std::unique_ptr<char[]> buf(new char[kBufSize]);
  pollfd pfd = {fd_, POLLIN, 0};
  for (;;) {
    int n = poll(&pfd, 1, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      PC_LOG(kError, "files") << "inotify poll failed: " << ErrnoText(errno);
      return;
    }
    std::lock_guard<std::mutex> reading(read_mu_);
    ReadAllLocked(buf.get(), kBufSize);
  }
}

void InotifyHub::ReadAllLocked(char* buf, size_t size) {
  for (;;) {
    ssize_t len = read(fd_, buf, size);
    if (len < 0 && errno == EINTR) continue;
    if (len <= 0) break;
    Dispatch(buf, static_cast<size_t>(len));
  }
}

void InotifyHub::Drain() {
  if (fd_ < 0) return;
  std::lock_guard<std::mutex> reading(read_mu_);
  // Room for one event with the longest name; the kernel hands out whole
  // events, so a small buffer only means more reads.
  alignas(struct inotify_event) char buf[sizeof(struct inotify_event) + NAME_MAX + 1];
  ReadAllLocked(buf, sizeof buf);
}

void InotifyHub::Dispatch(const char* buf, size_t len) {
  struct Batch {
    InotifyListener* listener;
    uint64_t generation;
    std::vector<InotifyEvent> events;
  };
  std::vector<Batch> batches;
  std::vector<int> ignored;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto batch_for = [&](InotifyListener* l) -> std::vector<InotifyEvent>& {
      for (Batch& b : batches) {
        if (b.listener == l) return b.events;
      }
      batches.push_back(Batch{l, generation_[l], {}});
      return batches.back().events;
    };
    for (size_t off = 0; off + sizeof(struct inotify_event) <= len;) {
      const auto* e = reinterpret_cast<const struct inotify_event*>(buf + off);
      off += sizeof(struct inotify_event) + e->len;
      InotifyEvent ev;
      ev.wd = e->wd;
      ev.mask = e->mask;
      ev.cookie = e->cookie;
      if (e->len > 0) ev.name = e->name;  // NUL-padded
      if (e->mask & IN_Q_OVERFLOW) {
        for (const auto& [listener, gen] : generation_) batch_for(listener).push_back(ev);
        continue;
      }
      auto it = by_wd_.find(e->wd);
      if (it == by_wd_.end()) continue;
      for (InotifyListener* l : it->second) batch_for(l).push_back(ev);
      if (e->mask & IN_IGNORED) ignored.push_back(e->wd);
    }
    // The kernel dropped these watches: forget them after delivery.
    for (int wd : ignored) {
      auto it = by_wd_.find(wd);
      if (it == by_wd_.end()) continue;
      for (InotifyListener* l : it->second) {
        auto bl = by_listener_.find(l);
        if (bl != by_listener_.end()) bl->second.erase(wd);
      }
      by_wd_.erase(it);
    }
  }
  for (Batch& b : batches) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto g = generation_.find(b.listener);
      if (g == generation_.end() || g->second != b.generation) continue;  // removed meanwhile
      running_ = b.listener;
      running_thread_ = std::this_thread::get_id();
    }
    b.listener->OnInotifyEvents(b.events);
    {
      std::lock_guard<std::mutex> lock(mu_);
      running_ = nullptr;
      running_thread_ = std::thread::id();
    }
    idle_cv_.notify_all();
  }
}

}  // namespace prusaconnect::internal
