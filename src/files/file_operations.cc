// Copyright 2026 The libprusaconnect Authors.
//
// The file commands of a printer's storages (Filesystem::Core,
// filesystem_core.h) — SEND_FILE_INFO, CREATE_FOLDER, DELETE_FILE,
// DELETE_FOLDER — with their refusals (the printed file, read-only,
// outside the storage), and where a download may go (download_target.h).
#include "files/filesystem_core.h"

namespace prusaconnect {
namespace {

std::string Quoted(const std::string& s) { return "\"" + s + "\""; }

}  // namespace

// ---------------------------------------------------------------- commands

StatusOr<Filesystem::Core::Target> Filesystem::Core::Resolve(const std::string& path,
                                                             NameUse use) const {
  StatusOr<VirtualPath> vp = internal::ParseVirtualPath(path, use);
  if (!vp.ok()) return vp.status();
  std::lock_guard<std::mutex> lock(mu_);
  StorageState* s = FindLocked(vp->storage);
  if (s == nullptr) {
    return NotFoundError(StrCat("Storage ", Quoted(vp->storage), " does not exist"));
  }
  Target t;
  t.id = s->id;
  t.name = s->name;
  t.os_root = s->os_root;
  t.provider = s->provider;
  t.provider_mu = s->provider_mu;
  t.vp = std::move(*vp);
  t.shown = path;
  return t;
}

// Refuses to delete the printed file (or a folder holding it): by virtual
// path components, and by real path for local storages (a link inside the
// storage is another name for the same file). `real` is the target's
// canonical OS path, "" for providers. (The SDK compared folders as
// substrings — quirk Q15.)
Status Filesystem::Core::RefusePrinted(const Target& t, bool folder,
                                       const std::string& real) const {
  std::string printed = PrintedFile();
  if (printed.empty()) return Status();
  StatusOr<VirtualPath> pvp = internal::ParseVirtualPath(printed, NameUse::kExisting);
  if (!pvp.ok()) return Status();
  bool hit = folder ? internal::SameOrAncestor(t.vp, *pvp)
                    : (t.vp.storage == pvp->storage && t.vp.parts == pvp->parts);
  if (!hit && !real.empty() && pvp->storage == t.vp.storage && !pvp->parts.empty()) {
    StatusOr<UniqueFd> pdir =
        internal::OpenDirInside(t.os_root, pvp->parts, pvp->parts.size() - 1, printed);
    if (pdir.ok()) {
      StatusOr<std::string> pdir_path = internal::FdPath(pdir->get());
      if (pdir_path.ok()) {
        std::string preal = *pdir_path + (pdir_path->back() == '/' ? "" : "/") + pvp->parts.back();
        hit = folder ? internal::IsInside(real, preal) : preal == real;
      }
    }
  }
  if (!hit) return Status();
  return FailedPreconditionError(folder ? "The file inside of this folder is currently printed"
                                        : "This file is currently printed");
}

Status Filesystem::Core::DeleteFile(const std::string& path) {
  StatusOr<Target> t = Resolve(path, NameUse::kExisting);
  if (!t.ok()) return t.status();
  if (t->vp.parts.empty()) {
    return FailedPreconditionError(path + " is a storage, not a file");
  }
  if (t->provider) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      StorageState* s = FindByIdLocked(t->id);
      TreeNode* node = s ? s->root->Descend(t->vp.parts, t->vp.parts.size()) : nullptr;
      if (node == nullptr) return NotFoundError("File does not exist: " + path);
      if (node->is_dir) return FailedPreconditionError(path + " is a folder (use DELETE_FOLDER)");
      if (node->has_attrs && node->read_only) return FailedPreconditionError("File is read only");
    }
    Status printed = RefusePrinted(*t, false, "");
    if (!printed.ok()) return printed;
    Status s;
    {
      std::lock_guard<std::mutex> plock(*t->provider_mu);
      s = t->provider->DeleteFile(t->vp.Relative());
    }
    if (!s.ok()) return Status(s.code(), "Cannot delete " + path + ": " + s.message());
    RefreshById(t->id);
    return Status();
  }
  const std::string& name = t->vp.parts.back();
  LocalEntry e;
  Status opened = OpenLocalEntry(*t, path, "File", &e);
  if (!opened.ok()) return opened;
  if (S_ISDIR(e.st.st_mode))
    return FailedPreconditionError(path + " is a folder (use DELETE_FOLDER)");
  if (S_ISREG(e.st.st_mode) && internal::ModeReadOnly(e.st, false)) {
    return FailedPreconditionError("File is read only");
  }
  Status printed = RefusePrinted(*t, false, e.real);
  if (!printed.ok()) return printed;
  if (unlinkat(e.parent.get(), name.c_str(), 0) != 0) {
    return internal::ErrnoStatus(errno, "Cannot delete " + path);
  }
  return Status();
}

Status Filesystem::Core::OpenLocalEntry(const Target& t, const std::string& path, const char* noun,
                                        LocalEntry* out) {
  const std::string& name = t.vp.parts.back();
  const std::string missing = std::string(noun) + " does not exist: " + path;
  StatusOr<UniqueFd> parent =
      internal::OpenDirInside(t.os_root, t.vp.parts, t.vp.parts.size() - 1, path);
  if (!parent.ok()) {
    if (parent.status().code() == StatusCode::kNotFound) return NotFoundError(missing);
    return parent.status();
  }
  if (fstatat(parent->get(), name.c_str(), &out->st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return NotFoundError(missing);
    return internal::ErrnoStatus(errno, path);
  }
  StatusOr<std::string> dir_real = internal::FdPath(parent->get());
  out->real = dir_real.ok() ? *dir_real + (dir_real->back() == '/' ? "" : "/") + name : "";
  out->parent = std::move(*parent);
  return Status();
}

Status Filesystem::Core::DeleteFolder(const std::string& path, bool force) {
  StatusOr<Target> t = Resolve(path, NameUse::kExisting);
  if (!t.ok()) return t.status();
  if (t->vp.parts.empty()) {
    return FailedPreconditionError(path + " is a whole storage; it cannot be deleted");
  }
  if (t->provider) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      StorageState* s = FindByIdLocked(t->id);
      TreeNode* node = s ? s->root->Descend(t->vp.parts, t->vp.parts.size()) : nullptr;
      if (node == nullptr) return NotFoundError("Folder does not exist: " + path);
      if (!node->is_dir)
        return FailedPreconditionError(path + " is not a folder (use DELETE_FILE)");
      if (node->has_attrs && node->read_only) return FailedPreconditionError("Folder is read only");
    }
    Status printed = RefusePrinted(*t, true, "");
    if (!printed.ok()) return printed;
    Status s;
    {
      std::lock_guard<std::mutex> plock(*t->provider_mu);
      s = t->provider->DeleteFolder(t->vp.Relative(), force);
    }
    if (!s.ok()) return Status(s.code(), "Cannot delete " + path + ": " + s.message());
    RefreshById(t->id);
    return Status();
  }
  const std::string& name = t->vp.parts.back();
  LocalEntry e;
  Status opened = OpenLocalEntry(*t, path, "Folder", &e);
  if (!opened.ok()) return opened;
  if (S_ISLNK(e.st.st_mode)) {
    return FailedPreconditionError(path + " is a symbolic link, not a folder");
  }
  if (!S_ISDIR(e.st.st_mode))
    return FailedPreconditionError(path + " is not a folder (use DELETE_FILE)");
  if (internal::ModeReadOnly(e.st, false)) return FailedPreconditionError("Folder is read only");
  Status printed = RefusePrinted(*t, true, e.real);
  if (!printed.ok()) return printed;
  if (force) {
    Status s = internal::RemoveTree(e.parent.get(), name);
    if (!s.ok()) return Status(s.code(), "Cannot delete " + path + ": " + s.message());
    return Status();
  }
  if (unlinkat(e.parent.get(), name.c_str(), AT_REMOVEDIR) != 0) {
    if (errno == ENOTEMPTY || errno == EEXIST) {
      return FailedPreconditionError("Folder " + path + " is not empty (delete it with force)");
    }
    return internal::ErrnoStatus(errno, "Cannot delete " + path);
  }
  return Status();
}

Status Filesystem::Core::CreateLocalFolder(const Target& t, int attempt) {
  const std::vector<std::string>& parts = t.vp.parts;
  UniqueFd parent;
  StatusOr<size_t> reached =
      internal::OpenExistingPrefix(t.os_root, parts, parts.size(), t.shown, &parent);
  if (!reached.ok()) return reached.status();
  size_t k = *reached;
  if (k == parts.size()) return Status();  // exists: fine (makedirs exist_ok)
  // Build the missing folders inside a hidden temporary folder and move the
  // first into place: one rename, so the watcher sees the whole new tree at
  // once (one FILE_CHANGED, as the SDK reports makedirs) and nobody sees a
  // half-made chain.
  static std::atomic<uint64_t> counter{0};
  char tmp[64];
  snprintf(tmp, sizeof tmp, ".pc-mkdir-%d-%llu", static_cast<int>(getpid()),
           static_cast<unsigned long long>(++counter));
  if (mkdirat(parent.get(), tmp, 0777) != 0) {
    return internal::ErrnoStatus(errno, "Cannot create " + t.shown);
  }
  UniqueFd dir(openat(parent.get(), tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  Status status = Status();
  for (size_t i = k; dir.valid() && i < parts.size(); ++i) {
    if (mkdirat(dir.get(), parts[i].c_str(), 0777) != 0) {
      status = internal::ErrnoStatus(errno, "Cannot create " + t.shown);
      break;
    }
    dir = UniqueFd(
        openat(dir.get(), parts[i].c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  }
  if (!dir.valid() && status.ok())
    status = internal::ErrnoStatus(errno, "Cannot create " + t.shown);
  bool retry = false;
  if (status.ok()) {
    std::string from = std::string(tmp) + "/" + parts[k];
    if (renameat2(parent.get(), from.c_str(), parent.get(), parts[k].c_str(), RENAME_NOREPLACE) !=
        0) {
      if (errno == EEXIST && attempt == 0) {
        retry = true;  // someone made it meanwhile: go round once more
      } else {
        status = internal::ErrnoStatus(errno, "Cannot create " + t.shown);
      }
    }
  }
  Status cleanup = internal::RemoveTree(parent.get(), tmp);
  if (!cleanup.ok()) {
    PC_LOG(kWarning, "files") << "could not remove a temporary folder: " << cleanup.message();
  }
  if (retry) return CreateLocalFolder(t, attempt + 1);
  return status;
}

Status Filesystem::Core::CreateFolder(const std::string& path) {
  StatusOr<Target> t = Resolve(path, NameUse::kCreate);
  if (!t.ok()) return t.status();
  if (t->provider) {
    if (t->vp.parts.empty()) return Status();
    Status s;
    {
      std::lock_guard<std::mutex> plock(*t->provider_mu);
      s = t->provider->CreateFolder(t->vp.Relative());
    }
    if (!s.ok()) return Status(s.code(), "Cannot create " + path + ": " + s.message());
    RefreshById(t->id);
    return Status();
  }
  return CreateLocalFolder(*t, 0);
}

Json Filesystem::Core::FolderInfo(const TreeNode& node, const std::string& path) const {
  // As the Buddy firmware answers FILE_INFO for a folder: its children.
  Json data = Json::MakeObject();
  data.set("path", path);
  if (node.has_attrs) {
    data.set("read_only", node.read_only);
    data.set("m_timestamp", node.mtime);
  }
  data.set("size", node.TotalSize());
  data.set("type", "FOLDER");
  Json children = Json::MakeArray();
  for (const auto& c : node.children) children.push_back(internal::ToDict(*c, typer_, false));
  data.set("file_count", static_cast<int64_t>(node.children.size()));
  data.set("children", std::move(children));
  return data;
}

StatusOr<Json> Filesystem::Core::FileInfo(const std::string& path) {
  StatusOr<Target> t = Resolve(path, NameUse::kExisting);
  if (!t.ok()) return t.status();
  auto tree_node = [&](Json* folder, std::optional<Node>* file) -> bool {
    std::lock_guard<std::mutex> lock(mu_);
    StorageState* s = FindByIdLocked(t->id);
    TreeNode* node = s ? s->root->Descend(t->vp.parts, t->vp.parts.size()) : nullptr;
    if (node == nullptr) return false;
    if (node->is_dir) {
      *folder = FolderInfo(*node, path);
    } else {
      *file = internal::ToNode(*node, typer_, 0);
    }
    return true;
  };
  Json data = Json::MakeObject();
  data.set("path", path);
  if (t->provider || t->vp.parts.empty()) {
    Json folder;
    std::optional<Node> file;
    if (!tree_node(&folder, &file)) return NotFoundError("File does not exist: " + path);
    if (!folder.is_null()) return folder;
    if (file->read_only) data.set("read_only", *file->read_only);
    data.set("size", file->size);
    if (file->m_timestamp) data.set("m_timestamp", *file->m_timestamp);
    StatusOr<GcodeMetadata> meta = Status(StatusCode::kUnimplemented, "");
    if (HasGcodeMetadata(t->vp.parts.back())) {
      std::lock_guard<std::mutex> plock(*t->provider_mu);
      meta = t->provider->Metadata(t->vp.Relative());
    }
    if (meta.ok()) {
      for (const Json::Member& m : meta->data.as_object()) data.set(m.key, m.value);
      if (const Thumbnail* preview = meta->Preview()) data.set("preview", preview->data);
    }
    return data;
  }
  const std::string& name = t->vp.parts.back();
  StatusOr<UniqueFd> parent =
      internal::OpenDirInside(t->os_root, t->vp.parts, t->vp.parts.size() - 1, path);
  if (!parent.ok()) {
    if (parent.status().code() == StatusCode::kNotFound)
      return NotFoundError("File does not exist: " + path);
    return parent.status();
  }
  struct stat st;
  if (fstatat(parent->get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return NotFoundError("File does not exist: " + path);
    return internal::ErrnoStatus(errno, path);
  }
  UniqueFd fd;
  if (S_ISLNK(st.st_mode)) {
    StatusOr<std::string> dir_real = internal::FdPath(parent->get());
    StatusOr<std::string> real =
        dir_real.ok() ? internal::RealPath(*dir_real + "/" + name) : dir_real;
    if (!real.ok()) return NotFoundError("File does not exist: " + path);
    if (!internal::IsInside(t->os_root, *real)) {
      return PermissionDeniedError("Path " + path + " leads outside its storage (symbolic link)");
    }
    fd = UniqueFd(open(real->c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
  } else if (S_ISDIR(st.st_mode)) {
    Json folder;
    std::optional<Node> file;
    if (!tree_node(&folder, &file) || folder.is_null()) {
      return NotFoundError("File does not exist: " + path);
    }
    return folder;
  } else {
    fd = UniqueFd(
        openat(parent->get(), name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
  }
  if (!fd.valid()) return internal::ErrnoStatus(errno, path);
  if (fstat(fd.get(), &st) != 0) return internal::ErrnoStatus(errno, path);
  if (S_ISDIR(st.st_mode)) return NotFoundError("File does not exist: " + path);
  if (!S_ISREG(st.st_mode)) return FailedPreconditionError(path + " is not a regular file");
  bool readonly_mount = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (StorageState* s = FindByIdLocked(t->id)) readonly_mount = s->readonly_mount;
  }
  data.set("read_only", internal::ModeReadOnly(st, readonly_mount));
  data.set("size", static_cast<int64_t>(st.st_size));
  data.set("m_timestamp", static_cast<int64_t>(st.st_mtime));
  GcodeMetadata meta;
  if (internal::ReadPrintFileMetadata(fd.get(), st.st_size, name, &meta)) {
    for (const Json::Member& m : meta.data.as_object()) data.set(m.key, m.value);
    if (const Thumbnail* preview = meta.Preview()) data.set("preview", preview->data);
  }
  return data;
}

StatusOr<std::string> Filesystem::Core::OsPath(const std::string& path) {
  StatusOr<Target> t = Resolve(path, NameUse::kExisting);
  if (!t.ok()) return t.status();
  if (t->provider) {
    return FailedPreconditionError("Storage " + Quoted(t->name) + " is provided by the host");
  }
  UniqueFd dir;
  StatusOr<size_t> reached = internal::OpenExistingPrefix(
      t->os_root, t->vp.parts, t->vp.parts.empty() ? 0 : t->vp.parts.size() - 1, path, &dir);
  if (!reached.ok()) return reached.status();
  std::string os_path = t->os_root;
  for (const std::string& p : t->vp.parts) {
    if (os_path.back() != '/') os_path += '/';
    os_path += p;
  }
  return os_path;
}

// ---------------------------------------------------------------- downloads

StatusOr<internal::DownloadTarget> Filesystem::Core::PrepareDownload(const std::string& path) {
  StatusOr<Target> t = Resolve(path, NameUse::kCreate);
  if (!t.ok()) return t.status();
  if (t->vp.parts.empty()) {
    return InvalidArgumentError("Destination " + path + " is a storage, not a file");
  }
  const std::string& name = t->vp.parts.back();
  if (Status s = internal::CheckName(name, NameUse::kCreate, FILENAME_LENGTH); !s.ok()) {
    return s;
  }
  if (Status s = RefusePrinted(*t, false, ""); !s.ok()) return s;
  internal::DownloadTarget d;
  d.path = t->vp.ToString();
  d.storage = t->name;
  d.relative = t->vp.Relative();
  d.name = name;
  if (t->provider) {
    std::lock_guard<std::mutex> plock(*t->provider_mu);
    if (!t->provider->CanStoreFiles()) {
      return FailedPreconditionError("Storage " + Quoted(t->name) + " does not accept downloads");
    }
    d.provider = t->provider;
    d.provider_mu = t->provider_mu;
    d.free_space = t->provider->Space().free_space;
    return d;
  }
  if (t->vp.parts.size() > 1) {
    VirtualPath parent = t->vp;
    parent.parts.pop_back();
    Status s = CreateFolder(parent.ToString());
    if (!s.ok()) return s;
  }
  StatusOr<UniqueFd> dir =
      internal::OpenDirInside(t->os_root, t->vp.parts, t->vp.parts.size() - 1, path);
  if (!dir.ok()) return dir.status();
  StatusOr<std::string> dir_path = internal::FdPath(dir->get());
  if (!dir_path.ok()) return dir_path.status();
  d.os_path = *dir_path + (dir_path->back() == '/' ? "" : "/") + name;
  struct stat st;
  if (fstatat(dir->get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode)) {
    return FailedPreconditionError("Destination " + path + " is a folder");
  }
  if (Status s = RefusePrinted(*t, false, d.os_path); !s.ok()) return s;
  struct statvfs vfs;
  if (fstatvfs(dir->get(), &vfs) == 0) {
    d.free_space = static_cast<int64_t>(vfs.f_bavail) * static_cast<int64_t>(vfs.f_frsize);
  }
  d.dir = std::move(*dir);
  return d;
}

bool Filesystem::Core::IsPrinted(const internal::DownloadTarget& d) {
  StatusOr<Target> t = Resolve(d.path, NameUse::kExisting);
  if (!t.ok()) return false;
  return !RefusePrinted(*t, false, d.os_path).ok();
}

namespace internal {

StatusOr<DownloadTarget> PrepareDownload(Filesystem& fs, const std::string& path) {
  return FilesystemAccess::core(fs)->PrepareDownload(path);
}

bool IsPrintedFile(Filesystem& fs, const DownloadTarget& t) {
  return FilesystemAccess::core(fs)->IsPrinted(t);
}

Status StoreDownload(Filesystem& fs, const DownloadTarget& t, const std::string& local_file) {
  Status s;
  {
    std::lock_guard<std::mutex> plock(*t.provider_mu);
    s = t.provider->StoreFile(t.relative, local_file);
  }
  if (!s.ok()) return s;
  Status refreshed = fs.Refresh(t.storage);
  if (!refreshed.ok()) {
    PC_LOG(kWarning, "files") << "listing " << t.storage
                              << " after a download failed: " << refreshed.message();
  }
  return Status();
}

}  // namespace internal

}  // namespace prusaconnect
