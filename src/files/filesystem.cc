// Copyright 2026 The libprusaconnect Authors.
//
// The storages of a printer (Filesystem::Core, filesystem_core.h): attaching
// folders and host-provided storages, watching and refreshing them, reading
// their trees; and the public Filesystem. The file commands are in
// file_operations.cc.
#include "files/filesystem_core.h"

namespace prusaconnect {

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
