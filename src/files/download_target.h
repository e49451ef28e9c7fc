// Copyright 2026 The libprusaconnect Authors.
//
// Where a download lands (src/transfer): a file about to be created in one of
// a Filesystem's storages, checked as every hostile path is (files/paths.h)
// and held open so that nothing can move it outside the storage meanwhile.
//
// Thread safety: free functions; a DownloadTarget belongs to one transfer.
#ifndef PRUSACONNECT_FILES_DOWNLOAD_TARGET_H_
#define PRUSACONNECT_FILES_DOWNLOAD_TARGET_H_

#include <memory>
#include <mutex>
#include <string>

#include "files/paths.h"
#include "prusaconnect/files.h"
#include "prusaconnect/status.h"

namespace prusaconnect::internal {

struct DownloadTarget {
  std::string path;      // the normalised virtual path, "/usb/a/b.gcode"
  std::string storage;   // "usb"
  std::string relative;  // "a/b.gcode"
  std::string name;      // "b.gcode"
  // A local storage: the destination's folder, opened inside the storage,
  // and the destination's OS path.
  UniqueFd dir;
  std::string os_path;
  // A host-provided storage.
  std::shared_ptr<StorageProvider> provider;
  std::shared_ptr<std::mutex> provider_mu;
  // Free bytes where the data is written (the folder's file system, or the
  // provider's storage when it tells).
  std::optional<int64_t> free_space;
};

// Checks `path` as a file about to be created (no forbidden character, name
// at most FILENAME_LENGTH bytes, not hidden, storage known, inside it), refuses
// the file being printed (FailedPrecondition) and a provided storage that
// cannot store files (FailedPrecondition), then creates missing folders
// above it. Messages are for people.
StatusOr<DownloadTarget> PrepareDownload(Filesystem& fs, const std::string& path);

// True when `t` is the file being printed now (asked again just before a
// finished download replaces it).
bool IsPrintedFile(Filesystem& fs, const DownloadTarget& t);

// Hands a complete download in `local_file` to the target's provider
// (StoreFile), then lists the storage again so FILE_CHANGED follows.
Status StoreDownload(Filesystem& fs, const DownloadTarget& t, const std::string& local_file);

// Gives these functions the Filesystem's implementation.
struct FilesystemAccess {
  static Filesystem::Core* core(Filesystem& fs) { return fs.core_.get(); }
};

}  // namespace prusaconnect::internal

#endif  // PRUSACONNECT_FILES_DOWNLOAD_TARGET_H_
