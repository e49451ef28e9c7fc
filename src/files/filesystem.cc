// Copyright 2026 The libprusaconnect Authors.
//
// Filesystem: the storages of one printer, their trees, and the file
// commands. One lock guards the trees; events decided under it go to an
// outbox and are handed to the sink after it is released, in order.
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

StatusOr<GcodeMetadata> StorageProvider::Metadata(const std::string&) {
  return Status(StatusCode::kUnimplemented, "metadata is not available for this storage");
}
Status StorageProvider::CreateFolder(const std::string&) {
  return Status(StatusCode::kUnimplemented, "creating folders is not supported by this storage");
}
Status StorageProvider::DeleteFile(const std::string&) {
  return Status(StatusCode::kUnimplemented, "deleting files is not supported by this storage");
}
Status StorageProvider::DeleteFolder(const std::string&, bool) {
  return Status(StatusCode::kUnimplemented, "deleting folders is not supported by this storage");
}
Status StorageProvider::StoreFile(const std::string&, const std::string&) {
  return Status(StatusCode::kUnimplemented, "storing files is not supported by this storage");
}

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

namespace {

// Delivers a storage's inotify batches to the Filesystem.
class Watcher : public internal::InotifyListener {
 public:
  Watcher(Filesystem::Core* core, uint64_t id) : core_(core), id_(id) {}
  void OnInotifyEvents(const std::vector<InotifyEvent>& events) override {
    core_->OnInotifyEvents(id_, events);
  }

 private:
  Filesystem::Core* core_;
  uint64_t id_;
};

thread_local bool t_draining = false;

std::string Quoted(const std::string& s) { return "\"" + s + "\""; }

}  // namespace

// ---------------------------------------------------------------- plumbing

StorageState* Filesystem::Core::FindLocked(const std::string& name) const {
  for (const auto& s : storages_) {
    if (s->name == name) return s.get();
  }
  return nullptr;
}

StorageState* Filesystem::Core::FindByIdLocked(uint64_t id) const {
  for (const auto& s : storages_) {
    if (s->id == id) return s.get();
  }
  return nullptr;
}

StorageContext Filesystem::Core::ContextLocked() {
  StorageContext ctx;
  ctx.typer = &typer_;
  ctx.events = &pending_;
  ctx.rescans = &rescans_;
  ctx.ignored = &ignored_;
  return ctx;
}

void Filesystem::Core::FlushLocked() {
  for (auto& e : pending_) outbox_.push_back(std::move(e));
  events_ += pending_.size();
  pending_.clear();
  if (pending_.capacity() > 64) pending_.shrink_to_fit();  // after a rescan's burst
  changed_.notify_all();
}

void Filesystem::Core::Drain() {
  // A sink that calls back into us (e.g. detaches) on this thread must not
  // wait for itself: the loop below picks up whatever it adds.
  if (t_draining) return;
  std::lock_guard<std::mutex> emit(emit_mu_);
  struct Flag {
    Flag() { t_draining = true; }
    ~Flag() { t_draining = false; }  // also when the sink throws
  } flag;
  for (;;) {
    std::pair<Event, Json> e;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (outbox_.empty()) break;
      e = std::move(outbox_.front());
      outbox_.pop_front();
    }
    if (sink_) sink_(e.first, e.second);
  }
}

Status Filesystem::Core::CheckStorageName(const std::string& name) {
  if (name.empty()) return InvalidArgumentError("Storage cannot be empty");
  if (name == "/") {
    return InvalidArgumentError(
        "A storage named \"/\" (the SDK's ROOT storage) is not supported: give it a name, "
        "e.g. \"local\"");
  }
  if (name.find('/') != std::string::npos) return InvalidArgumentError("Storage cannot contain /");
  Status s = internal::CheckName(name, NameUse::kCreate);
  if (!s.ok()) return InvalidArgumentError(StrCat("Invalid storage name: ", s.message()));
  return Status();
}

// ---------------------------------------------------------------- storages

Status Filesystem::Core::Attach(const std::string& folder, const std::string& name) {
  Status valid = CheckStorageName(name);
  if (!valid.ok()) return valid;
  StatusOr<std::string> real = internal::RealPath(folder.empty() ? "." : folder);
  if (!real.ok()) return NotFoundError("Folder " + Quoted(folder) + " does not exist");
  UniqueFd fd(open(real->c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) {
    return FailedPreconditionError("Cannot open " + Quoted(folder) +
                                   " as a folder: " + internal::ErrnoText(errno));
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return FailedPreconditionError("the filesystem is closed");
    if (FindLocked(name) != nullptr) return AlreadyExistsError("`" + name + "` is already used");
    auto s = std::make_unique<StorageState>();
    s->id = next_id_++;
    s->name = name;
    s->os_root = *real;
    s->watcher = std::make_unique<Watcher>(this, s->id);
    s->root = std::make_unique<TreeNode>();
    s->root->name = name;
    s->root->is_dir = true;
    internal::StorageSpace(*s);  // readonly_mount
    struct stat st;
    if (fstat(fd.get(), &st) == 0) {
      s->root->has_attrs = true;
      s->root->read_only = internal::ModeReadOnly(st, s->readonly_mount);
      s->root->mtime = static_cast<int64_t>(st.st_mtime);
    }
    internal::ScanFolder(*s, s->root.get(), fd.get(), s->os_root, &s->wds);
    Json data = Json::MakeObject();  // set() moves the tree in; an initializer list would copy it
    data.set("root", "/" + name);
    data.set("files", internal::StorageLegacy(*s));
    pending_.emplace_back(Event::MEDIUM_INSERTED, std::move(data));
    storages_.push_back(std::move(s));
    FlushLocked();
  }
  Drain();
  return Status();
}

Status Filesystem::Core::AttachProvider(std::shared_ptr<StorageProvider> provider) {
  if (!provider) return InvalidArgumentError("no provider");
  std::string name = provider->name();
  Status valid = CheckStorageName(name);
  if (!valid.ok()) return valid;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (FindLocked(name) != nullptr) return AlreadyExistsError("`" + name + "` is already used");
  }
  auto mu = std::make_shared<std::mutex>();
  StatusOr<Node> listing = Status(StatusCode::kInternal, "");
  SpaceInfo space;
  {
    std::lock_guard<std::mutex> plock(*mu);
    listing = provider->List();
    if (listing.ok()) space = provider->Space();
  }
  if (!listing.ok()) return listing.status();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return FailedPreconditionError("the filesystem is closed");
    if (FindLocked(name) != nullptr) return AlreadyExistsError("`" + name + "` is already used");
    auto s = std::make_unique<StorageState>();
    s->id = next_id_++;
    s->name = name;
    s->provider = std::move(provider);
    s->provider_mu = std::move(mu);
    s->provider_space = space;
    s->root = internal::FromNode(*listing, nullptr);
    s->root->name = name;
    s->root->is_dir = true;
    Json data = Json::MakeObject();  // set() moves the tree in; an initializer list would copy it
    data.set("root", "/" + name);
    data.set("files", internal::StorageLegacy(*s));
    pending_.emplace_back(Event::MEDIUM_INSERTED, std::move(data));
    storages_.push_back(std::move(s));
    FlushLocked();
  }
  Drain();
  return Status();
}

Status Filesystem::Core::Detach(const std::string& name) {
  std::unique_ptr<StorageState> gone;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = storages_.begin(); it != storages_.end(); ++it) {
      if ((*it)->name == name) {
        gone = std::move(*it);
        storages_.erase(it);
        break;
      }
    }
    if (!gone) return NotFoundError("`" + name + "` is not used as a storage");
    pending_.emplace_back(Event::MEDIUM_EJECTED, Json::MakeObject({{"root", "/" + name}}));
    FlushLocked();
  }
  // Without our lock: a callback in progress may be waiting for it.
  if (gone->watcher) InotifyHub::Instance().RemoveListener(gone->watcher.get());
  gone.reset();
  Drain();
  return Status();
}

void Filesystem::Core::Close() {
  std::vector<std::unique_ptr<StorageState>> all;
  {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
    all = std::move(storages_);
    storages_.clear();
    changed_.notify_all();
  }
  for (auto& s : all) {
    if (s->watcher) InotifyHub::Instance().RemoveListener(s->watcher.get());
  }
}

Status Filesystem::Core::Refresh(const std::string& name) {
  uint64_t id;
  {
    std::lock_guard<std::mutex> lock(mu_);
    StorageState* s = FindLocked(name);
    if (s == nullptr) return NotFoundError("Storage " + Quoted(name) + " does not exist");
    id = s->id;
  }
  return RefreshById(id);
}

Status Filesystem::Core::RefreshById(uint64_t id) {
  std::shared_ptr<StorageProvider> provider;
  std::shared_ptr<std::mutex> pmu;
  {
    std::lock_guard<std::mutex> lock(mu_);
    StorageState* s = FindByIdLocked(id);
    if (s == nullptr) return NotFoundError("the storage was detached");
    if (s->local()) {
      internal::RescanLocal(*s, ContextLocked());
      FlushLocked();
    } else {
      provider = s->provider;
      pmu = s->provider_mu;
    }
  }
  if (provider) {
    StatusOr<Node> listing = Status(StatusCode::kInternal, "");
    SpaceInfo space;
    {
      std::lock_guard<std::mutex> plock(*pmu);
      listing = provider->List();
      if (listing.ok()) space = provider->Space();
    }
    if (!listing.ok()) return listing.status();
    std::lock_guard<std::mutex> lock(mu_);
    StorageState* s = FindByIdLocked(id);
    if (s == nullptr) return NotFoundError("the storage was detached");
    ++rescans_;
    s->provider_space = space;
    internal::ReplaceTree(*s, internal::FromNode(*listing, nullptr), ContextLocked());
    FlushLocked();
  }
  Drain();
  return Status();
}

void Filesystem::Core::OnInotifyEvents(uint64_t id, const std::vector<InotifyEvent>& events) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    StorageState* s = FindByIdLocked(id);
    if (s == nullptr) return;
    internal::ApplyInotifyEvents(*s, events, ContextLocked());
    FlushLocked();
  }
  Drain();
}

// ---------------------------------------------------------------- reading

std::vector<std::string> Filesystem::Core::Storages() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> names;
  for (const auto& s : storages_) names.push_back(s->name);
  return names;
}

SpaceInfo Filesystem::Core::Space(const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  StorageState* s = FindLocked(name);
  return s ? internal::StorageSpace(*s) : SpaceInfo{};
}

std::optional<Node> Filesystem::Core::Get(const std::string& path, int depth) const {
  StatusOr<VirtualPath> vp = internal::ParseVirtualPath(path, NameUse::kExisting);
  if (!vp.ok()) return std::nullopt;
  std::lock_guard<std::mutex> lock(mu_);
  StorageState* s = FindLocked(vp->storage);
  if (s == nullptr) return std::nullopt;
  TreeNode* node = s->root->Descend(vp->parts, vp->parts.size());
  if (node == nullptr) return std::nullopt;
  return internal::ToNode(*node, typer_, depth);
}

Json Filesystem::Core::ToDictLegacy() {
  Json root = Json::MakeObject(
      {{"type", "DIR"}, {"name", "/"}, {"read_only", true}, {"children", Json::MakeArray()}});
  std::lock_guard<std::mutex> lock(mu_);
  Json& children = *root.find("children");
  children.as_array().reserve(storages_.size());
  for (const auto& s : storages_) children.push_back(internal::StorageLegacy(*s));
  return root;
}

void Filesystem::Core::AppendLegacyJson(std::string* out) {
  out->append(R"({"type":"DIR","name":"/","read_only":true,"children":[)");
  std::lock_guard<std::mutex> lock(mu_);
  bool first = true;
  for (const auto& s : storages_) {
    if (!first) out->push_back(',');
    first = false;
    internal::AppendStorageLegacyJson(*s, out);
  }
  out->append("]}");
}

bool Filesystem::Core::WaitUntilPath(const std::string& path, int64_t timeout_ms,
                                     bool exists) const {
  StatusOr<VirtualPath> vp = internal::ParseVirtualPath(path, NameUse::kExisting);
  if (!vp.ok()) return false;
  std::unique_lock<std::mutex> lock(mu_);
  return changed_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] {
    StorageState* s = FindLocked(vp->storage);
    bool found = s != nullptr && s->root->Descend(vp->parts, vp->parts.size()) != nullptr;
    return found == exists;
  });
}

Filesystem::Stats Filesystem::Core::GetStats() const {
  std::lock_guard<std::mutex> lock(mu_);
  Filesystem::Stats st;
  for (const auto& s : storages_) {
    st.nodes += s->root->Count();
    st.watches += s->wds.size();
  }
  st.events = events_;
  st.rescans = rescans_;
  st.ignored_changes = ignored_;
  return st;
}

void Filesystem::Core::SetPrintedFileCb(std::function<std::string()> cb) {
  std::lock_guard<std::mutex> lock(cb_mu_);
  printed_cb_ = std::move(cb);
}

std::string Filesystem::Core::PrintedFile() const {
  std::function<std::string()> cb;
  {
    std::lock_guard<std::mutex> lock(cb_mu_);
    cb = printed_cb_;
  }
  return cb ? cb() : std::string();
}

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

// ---------------------------------------------------------------- Filesystem

Filesystem::Filesystem(EventSink sink, const FilesystemOptions& options)
    : core_(std::make_shared<Core>(std::move(sink), options)) {}

Filesystem::~Filesystem() { core_->Close(); }

Status Filesystem::Attach(const std::string& folder, const std::string& storage) {
  return core_->Attach(folder, storage);
}
Status Filesystem::AttachProvider(std::shared_ptr<StorageProvider> provider) {
  return core_->AttachProvider(std::move(provider));
}
Status Filesystem::Detach(const std::string& storage) { return core_->Detach(storage); }
Status Filesystem::Refresh(const std::string& storage) { return core_->Refresh(storage); }

void Filesystem::ProcessPendingChanges() { InotifyHub::Instance().Drain(); }
std::vector<std::string> Filesystem::storages() const { return core_->Storages(); }
SpaceInfo Filesystem::Space(const std::string& storage) const { return core_->Space(storage); }
std::optional<Node> Filesystem::Get(const std::string& path, int depth) const {
  return core_->Get(path, depth);
}
Json Filesystem::ToDictLegacy() const { return core_->ToDictLegacy(); }

void Filesystem::AppendLegacyJson(std::string* out) const { core_->AppendLegacyJson(out); }
StatusOr<Json> Filesystem::FileInfo(const std::string& path) const { return core_->FileInfo(path); }
StatusOr<std::string> Filesystem::OsPath(const std::string& path) const {
  return core_->OsPath(path);
}
bool Filesystem::WaitUntilPath(const std::string& path, int64_t timeout_ms, bool exists) const {
  return core_->WaitUntilPath(path, timeout_ms, exists);
}
Status Filesystem::CreateFolder(const std::string& path) { return core_->CreateFolder(path); }
Status Filesystem::DeleteFile(const std::string& path) { return core_->DeleteFile(path); }
Status Filesystem::DeleteFolder(const std::string& path, bool force) {
  return core_->DeleteFolder(path, force);
}
void Filesystem::set_printed_file_cb(std::function<std::string()> cb) {
  core_->SetPrintedFileCb(std::move(cb));
}
std::string Filesystem::printed_file() const { return core_->PrintedFile(); }
Filesystem::Stats Filesystem::stats() const { return core_->GetStats(); }

}  // namespace prusaconnect
