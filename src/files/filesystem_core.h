// Copyright 2026 The libprusaconnect Authors.
//
// Filesystem::Core, the implementation behind prusaconnect::Filesystem
// (files.h): the storages of one printer, their trees, and the file
// commands. One lock guards the trees; events decided under it go to an
// outbox and are handed to the sink after it is released, in order.
//
// Its methods live in two files: filesystem.cc (storages: attaching,
// watching, refreshing, reading, and the public Filesystem) and
// file_operations.cc (the file commands and downloads' destinations).
// Included only by those two.
#ifndef PRUSACONNECT_FILES_FILESYSTEM_CORE_H_
#define PRUSACONNECT_FILES_FILESYSTEM_CORE_H_

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <deque>
#include <mutex>

#include "files/download_target.h"
#include "files/inotify.h"
#include "files/metadata.h"
#include "files/paths.h"
#include "files/storage.h"
#include "files/tree.h"
#include "prusaconnect/files.h"
#include "util/cond_var.h"
#include "util/logging.h"

namespace prusaconnect {

using internal::InotifyEvent;
using internal::InotifyHub;
using internal::NameUse;
using internal::StorageContext;
using internal::StorageState;
using internal::StrCat;
using internal::TreeNode;
using internal::UniqueFd;
using internal::VirtualPath;

class Filesystem::Core {
 public:
  Core(EventSink sink, const FilesystemOptions& options)
      : sink_(std::move(sink)), typer_(options.print_extensions) {}

  // The storage a command addresses, copied out of the lock.
  struct Target {
    uint64_t id = 0;
    std::string name;
    std::string os_root;  // local storages
    std::shared_ptr<StorageProvider> provider;
    std::shared_ptr<std::mutex> provider_mu;
    VirtualPath vp;
    std::string shown;  // the path as the user gave it
  };

  Status Attach(const std::string& folder, const std::string& name);
  Status AttachProvider(std::shared_ptr<StorageProvider> provider);
  Status Detach(const std::string& name);
  Status Refresh(const std::string& name);
  void Close();
  void OnInotifyEvents(uint64_t id, const std::vector<InotifyEvent>& events);

  std::vector<std::string> Storages() const;
  SpaceInfo Space(const std::string& name);
  std::optional<Node> Get(const std::string& path, int depth) const;
  Json ToDictLegacy();
  void AppendLegacyJson(std::string* out);
  StatusOr<Json> FileInfo(const std::string& path);
  StatusOr<std::string> OsPath(const std::string& path);
  bool WaitUntilPath(const std::string& path, int64_t timeout_ms, bool exists) const;
  Status CreateFolder(const std::string& path);
  Status DeleteFile(const std::string& path);
  Status DeleteFolder(const std::string& path, bool force);
  void SetPrintedFileCb(std::function<std::string()> cb);
  std::string PrintedFile() const;
  Filesystem::Stats GetStats() const;
  // Downloads (files/download_target.h).
  StatusOr<internal::DownloadTarget> PrepareDownload(const std::string& path);
  bool IsPrinted(const internal::DownloadTarget& d);

 private:
  static Status CheckStorageName(const std::string& name);
  StorageState* FindLocked(const std::string& name) const;
  StorageState* FindByIdLocked(uint64_t id) const;
  StorageContext ContextLocked();
  void FlushLocked();
  void Drain();
  StatusOr<Target> Resolve(const std::string& path, NameUse use) const;
  Status RefreshById(uint64_t id);
  Json FolderInfo(const TreeNode& node, const std::string& path) const;
  Status RefusePrinted(const Target& t, bool folder, const std::string& real) const;
  // The entry a local delete acts on: its parent folder opened inside the
  // storage, its lstat() and its real path (for the printed-file check).
  // `noun` ("File", "Folder") words the not-found error.
  struct LocalEntry {
    UniqueFd parent;
    struct stat st;
    std::string real;
  };
  static Status OpenLocalEntry(const Target& t, const std::string& path, const char* noun,
                               LocalEntry* out);
  Status CreateLocalFolder(const Target& t, int attempt);

  const EventSink sink_;
  const internal::FileTyper typer_;

  mutable std::mutex mu_;
  mutable internal::CondVar changed_;
  std::vector<std::unique_ptr<StorageState>> storages_;
  uint64_t next_id_ = 1;
  bool closed_ = false;
  std::vector<std::pair<Event, Json>> pending_;  // decided, not yet in the outbox
  std::deque<std::pair<Event, Json>> outbox_;
  uint64_t events_ = 0;
  uint64_t rescans_ = 0;
  uint64_t ignored_ = 0;

  std::mutex emit_mu_;

  mutable std::mutex cb_mu_;
  std::function<std::string()> printed_cb_;
};

}  // namespace prusaconnect

#endif  // PRUSACONNECT_FILES_FILESYSTEM_CORE_H_
