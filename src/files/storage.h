// Copyright 2026 The libprusaconnect Authors.
//
// One attached storage and what happens to its tree: listing a local folder
// (with watches on every listed folder), turning inotify events into tree
// changes and FILE_CHANGED events the way the SDK's InotifyHandler reports
// them, and rescanning (after a lost-events overflow, or Refresh) by
// comparing the old tree with a fresh listing.
//
// Differences from the SDK (docs/FILES.md, quirk Q39): hidden folders are
// neither listed nor watched; a change to a node the tree does not know is
// ignored (and counted) instead of raising; nothing grows without bound (no
// `checked_files` list); a folder moved out of the storage stops being
// watched; a whole new folder tree is listed at once, so its files are all
// reported (the SDK missed files two levels down).
//
// Thread safety: none. The Filesystem calls everything here with its lock
// held.
#ifndef PRUSACONNECT_FILES_STORAGE_H_
#define PRUSACONNECT_FILES_STORAGE_H_

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "files/inotify.h"
#include "files/tree.h"
#include "prusaconnect/const.h"
#include "prusaconnect/files.h"
#include "prusaconnect/json.h"

namespace prusaconnect::internal {

struct StorageState {
  uint64_t id = 0;
  std::string name;
  std::unique_ptr<TreeNode> root;

  // A local folder: its canonical path, the listener receiving its events and
  // the watched folders.
  std::string os_root;
  std::unique_ptr<InotifyListener> watcher;
  std::unordered_map<int, TreeNode*> wds;
  bool readonly_mount = false;

  // A host-provided storage, its lock (providers are never called
  // concurrently) and the space it reported with its last listing.
  std::shared_ptr<StorageProvider> provider;
  std::shared_ptr<std::mutex> provider_mu;
  SpaceInfo provider_space;

  bool local() const { return provider == nullptr; }
};

// Where the storage code puts what it decided: events to emit (in order) and
// counters.
struct StorageContext {
  const FileTyper* typer = nullptr;
  std::vector<std::pair<Event, Json>>* events = nullptr;
  uint64_t* rescans = nullptr;
  uint64_t* ignored = nullptr;
};

// Free and total space (statvfs, f_frsize: quirk Q47); refreshes
// readonly_mount. Unset fields when the folder is gone.
SpaceInfo StorageSpace(StorageState& s);

// The storage's legacy dict for SEND_INFO and MEDIUM_INSERTED, with
// free_space and total_space when non-zero.
Json StorageLegacy(StorageState& s);
// The text of StorageLegacy(s).Dump(), written without building the Json.
void AppendStorageLegacyJson(StorageState& s, std::string* out);

// Lists the local folder open as `fd` (node `dir`, at `os_path`) into the
// tree, adding a watch on every folder listed and recording it in `wds`.
void ScanFolder(StorageState& s, TreeNode* dir, int fd, const std::string& os_path,
                std::unordered_map<int, TreeNode*>* wds, int depth = 0);

// Applies one batch of inotify events to a local storage.
void ApplyInotifyEvents(StorageState& s, const std::vector<InotifyEvent>& events,
                        const StorageContext& ctx);

// Lists the local folder again and reports the differences.
void RescanLocal(StorageState& s, const StorageContext& ctx);

// Replaces the tree with `fresh`, reporting the differences as FILE_CHANGED.
void ReplaceTree(StorageState& s, std::unique_ptr<TreeNode> fresh, const StorageContext& ctx);

// Drops every watch of the subtree at `node` (it is being removed).
void Unwatch(StorageState& s, TreeNode* node);

}  // namespace prusaconnect::internal

#endif  // PRUSACONNECT_FILES_STORAGE_H_
