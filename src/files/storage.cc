// Copyright 2026 The libprusaconnect Authors.
#include "files/storage.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <utility>

#include "files/paths.h"
#include "util/json_writer.h"
#include "util/logging.h"

namespace prusaconnect::internal {
namespace {

constexpr int kMaxDepth = 128;

void FillAttrs(TreeNode* node, const struct stat& st, bool readonly_mount) {
  node->has_attrs = true;
  node->read_only = ModeReadOnly(st, readonly_mount);
  node->mtime = static_cast<int64_t>(st.st_mtime);
  if (!node->is_dir) node->size = static_cast<int64_t>(st.st_size);
}

std::string OsPathOf(const StorageState& s, const TreeNode& node) {
  std::string path = s.os_root;
  for (const std::string& p : node.Parts()) {
    if (path.back() != '/') path += '/';
    path += p;
  }
  return path;
}

std::string Join(const std::string& dir, const std::string& name) {
  return dir.back() == '/' ? dir + name : dir + "/" + name;
}

// A node for the entry `name` of the folder `dirfd` (at `os_path`), or null
// when it is not listed: hidden or unnamable, not a file or folder, or a
// symbolic link that is broken, leads outside the storage or to a folder.
std::unique_ptr<TreeNode> MakeNode(const StorageState& s, int dirfd, const std::string& os_path,
                                   const char* name, struct stat* st) {
  if (!CheckName(name, NameUse::kExisting).ok()) return nullptr;
  if (fstatat(dirfd, name, st, AT_SYMLINK_NOFOLLOW) != 0) return nullptr;
  if (S_ISLNK(st->st_mode)) {
    StatusOr<std::string> real = RealPath(Join(os_path, name));
    if (!real.ok() || !IsInside(s.os_root, *real) || stat(real->c_str(), st) != 0 ||
        !S_ISREG(st->st_mode)) {
      return nullptr;
    }
  } else if (!S_ISDIR(st->st_mode) && !S_ISREG(st->st_mode)) {
    return nullptr;
  }
  auto node = std::make_unique<TreeNode>();
  node->name = name;
  node->is_dir = S_ISDIR(st->st_mode);
  FillAttrs(node.get(), *st, s.readonly_mount);
  return node;
}

int64_t FreeSpaceOr(StorageState& s, bool* known) {
  SpaceInfo space = StorageSpace(s);
  *known = space.free_space.has_value();
  return space.free_space.value_or(0);
}

void AddFreeSpace(StorageState& s, Json* data) {
  bool known;
  int64_t free_space = FreeSpaceOr(s, &known);
  if (known) data->set("free_space", free_space);
}

// FILE_CHANGED as send_file_changed() builds it.
void EmitCreated(StorageState& s, const TreeNode& node, const StorageContext& ctx) {
  Json data = Json::MakeObject();
  data.set("new_path", VirtualPathOf(node, s.name));
  data.set("file", ToDict(node, *ctx.typer, true));
  AddFreeSpace(s, &data);
  ctx.events->emplace_back(Event::FILE_CHANGED, std::move(data));
}

void EmitModified(StorageState& s, const TreeNode& node, const StorageContext& ctx) {
  Json data = Json::MakeObject();
  std::string path = VirtualPathOf(node, s.name);
  data.set("old_path", path);
  data.set("new_path", path);
  data.set("file", ToDict(node, *ctx.typer, true));
  AddFreeSpace(s, &data);
  ctx.events->emplace_back(Event::FILE_CHANGED, std::move(data));
}

void EmitDeleted(StorageState& s, const std::string& path, const StorageContext& ctx) {
  Json data = Json::MakeObject();
  data.set("old_path", path);
  AddFreeSpace(s, &data);
  ctx.events->emplace_back(Event::FILE_CHANGED, std::move(data));
}

// A new file, or a new folder with everything in it: first its files, folder
// by folder from the top (as the SDK walks a new folder), then the folder.
void EmitFilesBelow(StorageState& s, const TreeNode& dir, const StorageContext& ctx) {
  for (const auto& c : dir.children) {
    if (!c->is_dir) EmitCreated(s, *c, ctx);
  }
  for (const auto& c : dir.children) {
    if (c->is_dir) EmitFilesBelow(s, *c, ctx);
  }
}

void EmitCreatedTree(StorageState& s, const TreeNode& node, const StorageContext& ctx) {
  if (node.is_dir) EmitFilesBelow(s, node, ctx);
  EmitCreated(s, node, ctx);
}

// The storage folder itself was deleted, moved away or unmounted: the SDK
// empties the tree and reports the root with old_path == new_path.
void ResetRoot(StorageState& s, const StorageContext& ctx) {
  TreeNode* root = s.root.get();
  for (auto& c : root->children) Unwatch(s, c.get());
  root->children.clear();
  root->has_attrs = false;
  if (root->wd >= 0) {
    InotifyHub::Instance().RemoveWatch(s.watcher.get(), root->wd);
    s.wds.erase(root->wd);
    root->wd = -1;
  }
  Json data = Json::MakeObject();
  std::string path = VirtualPathOf(*root, s.name);
  data.set("old_path", path);
  data.set("new_path", path);
  data.set("file", ToDict(*root, *ctx.typer, true));
  AddFreeSpace(s, &data);
  ctx.events->emplace_back(Event::FILE_CHANGED, std::move(data));
  PC_LOG(kWarning, "files") << "storage " << s.name << ": its folder " << s.os_root
                            << " is gone; attach it again when it is back";
}

void Create(StorageState& s, TreeNode* dir, const std::string& name, bool replace,
            const StorageContext& ctx) {
  TreeNode* existing = dir->Find(name);
  if (existing != nullptr && !replace) return;  // already listed (a folder scan was faster)
  std::string dir_path = OsPathOf(s, *dir);
  UniqueFd dirfd(open(dir_path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!dirfd.valid()) return;
  struct stat st;
  std::unique_ptr<TreeNode> node = MakeNode(s, dirfd.get(), dir_path, name.c_str(), &st);
  if (!node) return;  // gone again, or not something we list
  if (existing != nullptr) {
    Unwatch(s, existing);
    dir->Remove(name);
  }
  TreeNode* added = dir->Insert(std::move(node));
  if (added->is_dir) {
    UniqueFd fd(openat(dirfd.get(), name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (fd.valid()) {
      StatusOr<std::string> real = FdPath(fd.get());
      if (real.ok() && IsInside(s.os_root, *real)) {
        ScanFolder(s, added, fd.get(), Join(dir_path, name), &s.wds, 1);
      }
    }
  }
  EmitCreatedTree(s, *added, ctx);
}

void Modify(StorageState& s, TreeNode* node, const StorageContext& ctx) {
  std::string path = OsPathOf(s, *node);
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return;
  FillAttrs(node, st, s.readonly_mount);
  EmitModified(s, *node, ctx);
}

void Delete(StorageState& s, TreeNode* dir, const std::string& name, const StorageContext& ctx) {
  TreeNode* node = dir->Find(name);
  if (node == nullptr) {
    ++*ctx.ignored;  // the SDK raised AttributeError here (quirk Q39)
    return;
  }
  std::string path = VirtualPathOf(*node, s.name);
  Unwatch(s, node);
  dir->Remove(name);
  EmitDeleted(s, path, ctx);
}

void Diff(StorageState& s, const TreeNode& old_dir, const TreeNode& new_dir,
          const StorageContext& ctx) {
  size_t i = 0, j = 0;
  const auto& a = old_dir.children;
  const auto& b = new_dir.children;
  while (i < a.size() || j < b.size()) {
    if (j == b.size() || (i < a.size() && a[i]->name < b[j]->name)) {
      EmitDeleted(s, VirtualPathOf(*a[i], s.name), ctx);
      ++i;
    } else if (i == a.size() || b[j]->name < a[i]->name) {
      EmitCreatedTree(s, *b[j], ctx);
      ++j;
    } else {
      if (a[i]->is_dir != b[j]->is_dir) {
        EmitDeleted(s, VirtualPathOf(*a[i], s.name), ctx);
        EmitCreatedTree(s, *b[j], ctx);
      } else if (a[i]->is_dir) {
        Diff(s, *a[i], *b[j], ctx);
      } else if (!a[i]->SameAttrs(*b[j])) {
        EmitModified(s, *b[j], ctx);
      }
      ++i;
      ++j;
    }
  }
}

}  // namespace

SpaceInfo StorageSpace(StorageState& s) {
  if (!s.local()) return s.provider_space;
  SpaceInfo space;
  struct statvfs v;
  if (statvfs(s.os_root.c_str(), &v) == 0) {
    space.free_space = static_cast<int64_t>(v.f_bavail) * static_cast<int64_t>(v.f_frsize);
    space.total_space = static_cast<int64_t>(v.f_blocks) * static_cast<int64_t>(v.f_frsize);
    s.readonly_mount = (v.f_flag & ST_RDONLY) != 0;
  }
  return space;
}

Json StorageLegacy(StorageState& s) {
  Json tree = ToDictLegacy(*s.root);
  SpaceInfo space = StorageSpace(s);
  if (space.free_space.value_or(0) != 0) tree.set("free_space", *space.free_space);
  if (space.total_space.value_or(0) != 0) tree.set("total_space", *space.total_space);
  return tree;
}

void AppendStorageLegacyJson(StorageState& s, std::string* out) {
  SpaceInfo space = StorageSpace(s);
  std::string extra;
  if (space.free_space.value_or(0) != 0) {
    extra += R"(,"free_space":)";
    AppendJsonInt(*space.free_space, &extra);
  }
  if (space.total_space.value_or(0) != 0) {
    extra += R"(,"total_space":)";
    AppendJsonInt(*space.total_space, &extra);
  }
  AppendLegacyJson(*s.root, extra, out);
}

void ScanFolder(StorageState& s, TreeNode* dir, int fd, const std::string& os_path,
                std::unordered_map<int, TreeNode*>* wds, int depth) {
  // Watch first, list second: whatever changes after the listing is reported.
  StatusOr<int> wd = InotifyHub::Instance().AddWatch(s.watcher.get(), os_path);
  if (wd.ok()) {
    dir->wd = *wd;
    (*wds)[*wd] = dir;
  } else {
    PC_LOG(kWarning, "files") << "storage " << s.name << ": " << wd.status().message();
  }
  int dup_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (dup_fd < 0) return;
  DIR* d = fdopendir(dup_fd);
  if (d == nullptr) {
    close(dup_fd);
    return;
  }
  // List this folder completely first (one allocation for its children, no
  // directory stream held open while descending), then descend.
  std::vector<std::unique_ptr<TreeNode>> entries;
  // NOLINTNEXTLINE(concurrency-mt-unsafe): this DIR stream is used by one thread only.
  while (struct dirent* e = readdir(d)) {
    if (e->d_name[0] == '.') continue;  // ".", ".." and hidden names
    struct stat st;
    std::unique_ptr<TreeNode> node = MakeNode(s, fd, os_path, e->d_name, &st);
    if (node) entries.push_back(std::move(node));
  }
  closedir(d);
  dir->children.reserve(dir->children.size() + entries.size());
  for (auto& node : entries) dir->Append(std::move(node));
  dir->SortChildren();
  if (depth >= kMaxDepth) return;
  for (auto& child : dir->children) {
    if (!child->is_dir) continue;
    UniqueFd sub(openat(fd, child->name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (sub.valid()) {
      ScanFolder(s, child.get(), sub.get(), Join(os_path, child->name), wds, depth + 1);
    }
  }
}

void Unwatch(StorageState& s, TreeNode* node) {
  if (!node->is_dir) return;
  if (node->wd >= 0) {
    InotifyHub::Instance().RemoveWatch(s.watcher.get(), node->wd);
    auto it = s.wds.find(node->wd);
    if (it != s.wds.end() && it->second == node) s.wds.erase(it);
    node->wd = -1;
  }
  for (auto& c : node->children) Unwatch(s, c.get());
}

void ApplyInotifyEvents(StorageState& s, const std::vector<InotifyEvent>& events,
                        const StorageContext& ctx) {
  for (const InotifyEvent& ev : events) {
    if (ev.mask & IN_Q_OVERFLOW) {
      // Events were lost: list again and report what differs. Later events
      // of this batch are already reflected in the listing.
      RescanLocal(s, ctx);
      return;
    }
    auto it = s.wds.find(ev.wd);
    if (ev.mask & IN_IGNORED) {
      if (it != s.wds.end()) {
        it->second->wd = -1;
        s.wds.erase(it);
      }
      continue;
    }
    if (it == s.wds.end()) continue;  // a watch already dropped
    TreeNode* dir = it->second;
    if (ev.mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_UNMOUNT)) {
      // Other folders are reported by their parent's DELETE/MOVED_FROM.
      if (dir == s.root.get()) ResetRoot(s, ctx);
      continue;
    }
    if (ev.name.empty() || !CheckName(ev.name, NameUse::kExisting).ok()) continue;
    if (ev.mask & (IN_DELETE | IN_MOVED_FROM)) {
      Delete(s, dir, ev.name, ctx);
    } else if (ev.mask & IN_MOVED_TO) {
      Create(s, dir, ev.name, /*replace=*/true, ctx);
    } else if (ev.mask & IN_CREATE) {
      // Files wait for their CLOSE_WRITE (as in the SDK); folders and links
      // never get one.
      struct stat st;
      std::string path = Join(OsPathOf(s, *dir), ev.name);
      if ((ev.mask & IN_ISDIR) || (lstat(path.c_str(), &st) == 0 && S_ISLNK(st.st_mode))) {
        Create(s, dir, ev.name, /*replace=*/false, ctx);
      }
    } else if (ev.mask & IN_CLOSE_WRITE) {
      TreeNode* node = dir->Find(ev.name);
      if (node != nullptr && !node->is_dir) {
        Modify(s, node, ctx);
      } else {
        Create(s, dir, ev.name, /*replace=*/node != nullptr, ctx);
      }
    }
  }
}

void RescanLocal(StorageState& s, const StorageContext& ctx) {
  ++*ctx.rescans;
  UniqueFd fd(open(s.os_root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) {
    if (s.root->has_attrs || !s.root->children.empty()) ResetRoot(s, ctx);
    return;
  }
  StorageSpace(s);  // refreshes readonly_mount
  auto fresh = std::make_unique<TreeNode>();
  fresh->name = s.name;
  fresh->is_dir = true;
  struct stat st;
  if (fstat(fd.get(), &st) == 0) FillAttrs(fresh.get(), st, s.readonly_mount);
  std::unordered_map<int, TreeNode*> wds;
  ScanFolder(s, fresh.get(), fd.get(), s.os_root, &wds);
  Diff(s, *s.root, *fresh, ctx);
  for (const auto& [wd, node] : s.wds) {
    if (wds.find(wd) == wds.end()) InotifyHub::Instance().RemoveWatch(s.watcher.get(), wd);
  }
  s.wds = std::move(wds);
  s.root = std::move(fresh);
}

void ReplaceTree(StorageState& s, std::unique_ptr<TreeNode> fresh, const StorageContext& ctx) {
  fresh->name = s.name;
  fresh->is_dir = true;
  Diff(s, *s.root, *fresh, ctx);
  s.root = std::move(fresh);
}

}  // namespace prusaconnect::internal
