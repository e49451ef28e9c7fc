// Copyright 2026 The libprusaconnect Authors.
//
// InotifyHub: the process's one inotify instance and the one thread that
// reads it, shared by every storage of every printer. (The SDK created a new
// INotify per attach and left the reading to the application.)
//
// Listeners (one per watched storage) add watches on folders; the kernel
// gives one watch descriptor per folder per instance, so two storages on the
// same folder share it and the hub keeps a listener list per descriptor. It
// delivers each batch it reads to every listener concerned, in kernel order,
// on its thread. A listener is told about IN_Q_OVERFLOW (events were lost:
// rescan) and IN_IGNORED (the watch is gone).
//
// Thread safety: all methods may be called from any thread, including from a
// listener's callback (but Drain()). RemoveListener() waits until no
// callback to that listener is running (unless called from the thread
// running it), so a listener may be destroyed as soon as it returns.
#ifndef PRUSACONNECT_FILES_INOTIFY_H_
#define PRUSACONNECT_FILES_INOTIFY_H_

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "prusaconnect/status.h"
#include "util/cond_var.h"

namespace prusaconnect::internal {

struct InotifyEvent {
  int wd = -1;  // -1 with IN_Q_OVERFLOW
  uint32_t mask = 0;
  uint32_t cookie = 0;
  std::string name;  // empty for events on the watched folder itself
};

class InotifyListener {
 public:
  virtual ~InotifyListener() = default;
  // This listener's events from one read, in kernel order, on the hub thread.
  virtual void OnInotifyEvents(const std::vector<InotifyEvent>& events) = 0;
};

class InotifyHub {
 public:
  // What every watch asks for: the SDK's WATCH_FLAGS, never following a link.
  static constexpr uint32_t kMask = 0x00000008 /*IN_CLOSE_WRITE*/ | 0x00000040 /*IN_MOVED_FROM*/ |
                                    0x00000080 /*IN_MOVED_TO*/ | 0x00000100 /*IN_CREATE*/ |
                                    0x00000200 /*IN_DELETE*/ | 0x00000400 /*IN_DELETE_SELF*/ |
                                    0x00000800 /*IN_MOVE_SELF*/ | 0x01000000 /*IN_ONLYDIR*/ |
                                    0x02000000 /*IN_DONT_FOLLOW*/ | 0x04000000 /*IN_EXCL_UNLINK*/;

  // The process-wide hub (created on first use, never destroyed).
  static InotifyHub& Instance();

  // Watches the folder `dir` for `listener`; returns the watch descriptor.
  StatusOr<int> AddWatch(InotifyListener* listener, const std::string& dir);
  // Stops delivering `wd` to `listener`; the kernel watch goes when no
  // listener is left on it.
  void RemoveWatch(InotifyListener* listener, int wd);
  // Removes all of the listener's watches and the listener.
  void RemoveListener(InotifyListener* listener);
  // Reads and delivers, on the calling thread, every event the kernel has
  // queued and the hub thread has not read yet (the SDK's
  // Printer.inotify_handler()); returns when they are delivered. Reads are
  // serialised with the hub thread's, so kernel order is kept. Cheap when
  // nothing is pending: one non-blocking read(). Not from a listener's
  // callback.
  void Drain();

  // Kernel watches held, all listeners together; the inotify descriptor.
  size_t watch_count() const;
  int fd() const { return fd_; }

 private:
  InotifyHub();
  void Run();
  void Dispatch(const char* buf, size_t len);
  // Reads until the kernel has nothing more, delivering each read.
  // REQUIRES: read_mu_ held.
  void ReadAllLocked(char* buf, size_t size);
  void EnsureThreadLocked();
  void DropLocked(InotifyListener* listener, int wd);

  int fd_ = -1;
  std::mutex read_mu_;  // one reader of fd_ at a time (hub thread or Drain())
  mutable std::mutex mu_;
  internal::CondVar idle_cv_;
  bool started_ = false;
  // wd → listeners, and the reverse for RemoveListener.
  std::unordered_map<int, std::vector<InotifyListener*>> by_wd_;
  std::unordered_map<InotifyListener*, std::unordered_set<int>> by_listener_;
  // Listener registrations: a removed then re-created listener at the same
  // address gets a new generation and never sees the old one's events.
  std::unordered_map<InotifyListener*, uint64_t> generation_;
  uint64_t next_generation_ = 1;
  InotifyListener* running_ = nullptr;  // the callback in progress
  std::thread::id running_thread_;      // and the thread running it
};

}  // namespace prusaconnect::internal

#endif  // PRUSACONNECT_FILES_INOTIFY_H_
