// Copyright 2026 The libprusaconnect Authors.
#include "octoprint_storage.h"

#include <openssl/evp.h>

#include <climits>
#include <cmath>
#include <utility>

#include "saturate.h"
#include "state_map.h"

namespace octoprint_adapter {

namespace pc = prusaconnect;

namespace {

std::string Str(const pc::Json* j) { return j != nullptr && j->is_string() ? j->as_string() : ""; }

std::pair<std::string, std::string> SplitPath(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return {"", path};
  return {path.substr(0, slash + 1), path.substr(slash + 1)};
}

int BigEndian32(const std::string& b, size_t at) {
  if (b.size() < at + 4) return 0;
  return (static_cast<unsigned char>(b[at]) << 24) | (static_cast<unsigned char>(b[at + 1]) << 16) |
         (static_cast<unsigned char>(b[at + 2]) << 8) | static_cast<unsigned char>(b[at + 3]);
}

}  // namespace

std::optional<pc::Thumbnail> PngThumbnail(const std::string& png) {
  if (png.size() <= 24 || png.compare(1, 3, "PNG") != 0) return std::nullopt;
  pc::Thumbnail t;
  t.width = BigEndian32(png, 16);
  t.height = BigEndian32(png, 20);
  t.format = "PNG";
  t.key = std::to_string(t.width) + "x" + std::to_string(t.height) + "_PNG";
  t.data = Base64Encode(png);
  return t;
}

std::string Base64Encode(const std::string& bytes) {
  // OpenSSL's encoder (linked already); thumbnails are far below its int
  // limit, and a larger input is refused rather than cut.
  if (bytes.size() > static_cast<size_t>(INT_MAX) / 4 * 3) return std::string();
  std::string out((bytes.size() + 2) / 3 * 4 + 1, '\0');  // EVP_EncodeBlock adds a NUL
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(bytes.data()),
                          static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

OctoPrintStorage::OctoPrintStorage(std::shared_ptr<const OctoPrintClient> client, std::string name)
    : client_(std::move(client)), name_(std::move(name)) {}

pc::Node OctoPrintStorage::NodeFromEntry(const pc::Json& e) {
  pc::Node n;
  n.name = Str(e.find("name"));
  n.is_dir = Str(e.find("type")) == "folder";
  if (const pc::Json* s = e.find("size"); s != nullptr && s->is_number()) n.size = s->as_int();
  if (const pc::Json* d = e.find("date"); d != nullptr && d->is_number()) {
    n.m_timestamp = SaturatingCast<int64_t>(d->as_double());
  }
  if (const pc::Json* c = e.find("children"); n.is_dir && c != nullptr && c->is_array()) {
    for (const pc::Json& child : c->as_array()) n.children.push_back(NodeFromEntry(child));
  }
  return n;
}

pc::StatusOr<pc::Node> OctoPrintStorage::List() {
  pc::StatusOr<pc::Json> j = client_->Get("/api/files/local?recursive=true");
  if (!j.ok()) return j.status();
  pc::Node root;
  root.name = name_;
  root.is_dir = true;
  if (const pc::Json* files = j->find("files"); files != nullptr && files->is_array()) {
    for (const pc::Json& e : files->as_array()) {
      if (Str(e.find("origin")) == "sdcard") continue;
      root.children.push_back(NodeFromEntry(e));
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (const pc::Json* f = j->find("free"); f != nullptr && f->is_number()) {
    space_.free_space = f->as_int();
  }
  if (const pc::Json* t = j->find("total"); t != nullptr && t->is_number()) {
    space_.total_space = t->as_int();
  }
  return root;
}

pc::SpaceInfo OctoPrintStorage::Space() {
  std::lock_guard<std::mutex> lock(mu_);
  return space_;
}

pc::GcodeMetadata OctoPrintStorage::MetadataFromEntry(const pc::Json& e) {
  pc::GcodeMetadata m;
  const pc::Json* a = e.find("gcodeAnalysis");
  if (a == nullptr || !a->is_object()) return m;
  if (const pc::Json* t = a->find("estimatedPrintTime"); t != nullptr && t->is_number()) {
    m.data.set("estimated printing time (normal mode)",
               FormatDuration(static_cast<int64_t>(std::llround(t->as_double()))));
  }
  if (const pc::Json* f = a->find("filament"); f != nullptr && f->is_object()) {
    if (const pc::Json* t0 = f->find("tool0"); t0 != nullptr && t0->is_object()) {
      if (const pc::Json* len = t0->find("length"); len != nullptr && len->is_number()) {
        m.data.set("filament used [mm]", len->as_double());
      }
      if (const pc::Json* vol = t0->find("volume"); vol != nullptr && vol->is_number()) {
        m.data.set("filament used [cm3]", vol->as_double());
      }
    }
  }
  return m;
}

pc::StatusOr<pc::GcodeMetadata> OctoPrintStorage::Metadata(const std::string& path) {
  pc::StatusOr<pc::Json> e = client_->Get(OctoPrintClient::FilePath(path));
  if (!e.ok()) return e.status();
  pc::GcodeMetadata m = MetadataFromEntry(*e);
  std::string thumb = Str(e->find("thumbnail"));
  if (!thumb.empty()) {
    // Relative to OctoPrint's base URL (Slicer Thumbnails plugin).
    pc::StatusOr<std::string> png = client_->GetBytes(thumb[0] == '/' ? thumb : "/" + thumb);
    std::optional<pc::Thumbnail> t = png.ok() ? PngThumbnail(*png) : std::nullopt;
    if (t) m.thumbnails.push_back(std::move(*t));
  }
  return m;
}

pc::Status OctoPrintStorage::CreateFolder(const std::string& path) {
  // What exists comes from one listing: asking OctoPrint 1.10 for a path
  // that does not exist (GET /api/files/local/<missing>) logs four ERROR
  // tracebacks in octoprint.log. Each missing component is then created,
  // parents first; an existing folder is fine.
  pc::StatusOr<pc::Json> listing = client_->Get("/api/files/local?recursive=true");
  if (!listing.ok()) return listing.status();
  const pc::Json* level = listing->find("files");
  size_t start = 0;
  while (start < path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    std::string prefix = path.substr(0, end);
    std::string component = path.substr(start, end - start);
    const pc::Json* found = nullptr;
    if (level != nullptr && level->is_array()) {
      for (const pc::Json& e : level->as_array()) {
        if (Str(e.find("name")) == component && Str(e.find("origin")) != "sdcard") found = &e;
      }
    }
    if (found != nullptr && Str(found->find("type")) != "folder") {
      return pc::AlreadyExistsError("A file named " + prefix + " exists in OctoPrint");
    }
    if (found == nullptr) {
      auto [parent, name] = SplitPath(prefix);
      pc::Status s = client_->CreateFolder(parent, name);
      if (!s.ok()) return s;
      level = nullptr;  // below a new folder nothing exists yet
    } else {
      level = found->find("children");
    }
    start = end + 1;
  }
  return pc::Status();
}

pc::Status OctoPrintStorage::DeleteFile(const std::string& path) {
  pc::Status s = client_->Delete(OctoPrintClient::FilePath(path));
  if (s.code() == pc::StatusCode::kFailedPrecondition) {
    return pc::FailedPreconditionError("OctoPrint refused to delete " + path + ": " + s.message());
  }
  return s;
}

pc::Status OctoPrintStorage::DeleteFolder(const std::string& path, bool force) {
  if (!force) {
    pc::StatusOr<pc::Json> e = client_->Get(OctoPrintClient::FilePath(path));
    if (!e.ok()) return e.status();
    const pc::Json* c = e->find("children");
    if (c != nullptr && c->is_array() && c->size() > 0) {
      return pc::FailedPreconditionError("Folder is not empty: " + path);
    }
  }
  return DeleteFile(path);
}

pc::Status OctoPrintStorage::StoreFile(const std::string& path, const std::string& local_file) {
  auto [folder, name] = SplitPath(path);
  if (!folder.empty()) {
    pc::Status s = CreateFolder(folder.substr(0, folder.size() - 1));
    if (!s.ok()) return s;
  }
  pc::StatusOr<pc::Json> r = client_->Upload(folder, name, local_file, false, false);
  if (!r.ok()) {
    return pc::Status(r.status().code(),
                      "uploading " + path + " to OctoPrint failed: " + r.status().message());
  }
  return pc::Status();
}

}  // namespace octoprint_adapter
