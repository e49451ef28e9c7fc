// Copyright 2026 The libprusaconnect Authors.
//
// Files: the printer's storages as Connect sees them — the C++ counterpart of
// the reference SDK's `files.py` plus Prusa's `gcode-metadata`.
//
// A Filesystem is a set of named storages ("usb", "local", ...). Each is
// either a local folder (Attach), kept up to date by watching it with
// inotify, or a tree the host provides through a StorageProvider
// (AttachProvider) for files that live elsewhere (e.g. OctoPrint's file
// list). Both kinds answer SEND_INFO's tree, SEND_FILE_INFO and the file
// commands the same way, and both report changes as FILE_CHANGED events.
//
// Paths given to a Filesystem are *virtual*: "/<storage>/<path inside it>",
// the form Connect uses ("/usb/box.gcode"). Every path that comes from
// outside is hostile until checked: it is resolved inside its storage's
// folder (no "..", no symbolic link leading out, no NUL byte), every
// component is checked for forbidden characters and length, and names
// starting with "." (hidden, never listed) are refused. docs/FILES.md has the
// rules and the decisions behind them.
//
// A Printer owns one Filesystem (Printer::fs()); one can also be used alone,
// with any event sink, e.g. in tests or tools.
//
// Thread safety: every method may be called from any thread, concurrently.
// The event sink and StorageProvider methods are never called with an
// internal lock held, so they may call back into the Filesystem.
#ifndef PRUSACONNECT_FILES_H_
#define PRUSACONNECT_FILES_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "prusaconnect/const.h"
#include "prusaconnect/export.h"
#include "prusaconnect/json.h"
#include "prusaconnect/status.h"

namespace prusaconnect {

namespace internal {
struct FilesystemAccess;
}  // namespace internal

// A file or folder. Values of this type are snapshots: changing one does not
// change the Filesystem.
struct PRUSACONNECT_API Node {
  std::string name;
  bool is_dir = false;
  // Files: bytes. Folders: the total of the files below (as the SDK computes
  // it); a provider may leave it 0.
  int64_t size = 0;
  // Modification time in whole seconds since the epoch.
  std::optional<int64_t> m_timestamp;
  // No write permission bit set, or a read-only mount.
  std::optional<bool> read_only;
  // Folders only; sorted by name when the Filesystem returns them.
  std::vector<Node> children;
  // FOLDER, PRINT_FILE, FIRMWARE or FILE. Set by the Filesystem from the name
  // (FilesystemOptions::print_extensions); ignored in a provider's tree.
  FileType type = FileType::FILE;
};

// Free and total bytes of a storage; unset when unknown.
struct PRUSACONNECT_API SpaceInfo {
  std::optional<int64_t> free_space;
  std::optional<int64_t> total_space;
};

// One thumbnail embedded in a print file, as gcode-metadata reports it.
struct PRUSACONNECT_API Thumbnail {
  std::string key;  // "WxH_FORMAT", e.g. "313x173_PNG"
  int width = 0;    // 0 when the slicer wrote no "WxH"
  int height = 0;
  std::string format;  // "PNG", "QOI" or "JPG"
  std::string data;    // base64, as in the file
};

// What gcode-metadata's get_metadata() extracts from a print file.
struct PRUSACONNECT_API GcodeMetadata {
  // Its `data` dict: same keys, value types, values and order (e.g.
  // "filament used [mm]": 1234.5, "temperature per tool": [215, 240]).
  Json data = Json::MakeObject();
  // In file order; a later thumbnail with the same key replaces the earlier.
  std::vector<Thumbnail> thumbnails;
  // False when reading stopped at a defect where gcode-metadata stops too
  // (invalid UTF-8, a thumbnail block whose length does not match its
  // header): `data` then holds what was found before it.
  bool complete = true;

  // The thumbnail SEND_FILE_INFO sends as "preview": the largest PNG (by
  // pixels, then by length), else the largest JPG; never QOI, which browsers
  // cannot show. nullptr when there is none.
  const Thumbnail* Preview() const;
};

// True when `name` has an extension gcode-metadata reads: .gcode .gc .g .gco
// (FDM) or .sl1 .sl1s .m1 (SL), compared case-insensitively.
PRUSACONNECT_API bool HasGcodeMetadata(std::string_view name);

// Reads the metadata of the print file at `os_path` as gcode-metadata does,
// deterministically and without writing any cache file. `name` (default: the
// basename of os_path) chooses the format and feeds the filename metadata
// (e.g. "_0.4n_0.2mm_PLA_MK4_1h2m"). Only the first 800,000 and the last
// 40,000 bytes of a G-code file are read. Errors: NotFound, PermissionDenied
// (cannot open), InvalidArgument (not a print file extension).
PRUSACONNECT_API StatusOr<GcodeMetadata> ReadGcodeMetadata(const std::string& os_path,
                                                           const std::string& name = "");

// "1d 2h 3m 4s" → 93784 seconds (gcode-metadata's estimated_to_seconds);
// nullopt when nothing parses or the total is 0.
PRUSACONNECT_API std::optional<int64_t> EstimatedToSeconds(std::string_view text);

// A storage whose files the host keeps (its paths are relative to the
// storage: "box.gcode", "sub/box.gcode"; never empty, never starting with
// "/"). The Filesystem lists it on attach and on Refresh(), and forwards the
// file commands Connect sends; every path is validated before a provider
// sees it.
//
// Methods are called from library threads (handler threads, the caller of
// Refresh()), never concurrently for one provider and never with a library
// lock held.
class PRUSACONNECT_API StorageProvider {
 public:
  virtual ~StorageProvider() = default;

  // The storage name, e.g. "local" (the virtual path is "/local/..."). Must
  // be a valid path component; asked once, at attach.
  virtual std::string name() const = 0;
  // The whole tree now: a folder whose children are the storage's files and
  // folders (its own name is ignored). Hidden names (".x") are skipped.
  virtual StatusOr<Node> List() = 0;
  // Free and total bytes; unknown by default.
  virtual SpaceInfo Space() { return {}; }
  // The metadata of a print file for SEND_FILE_INFO. By default
  // Unimplemented: FILE_INFO then carries the file's attributes only. A
  // provider whose files are reachable locally can return
  // ReadGcodeMetadata(local_path).
  virtual StatusOr<GcodeMetadata> Metadata(const std::string& path);
  // The file commands. By default they fail with Unimplemented ("not
  // supported by this storage"). After one succeeds the Filesystem refreshes
  // the storage, which reports the change as FILE_CHANGED.
  virtual Status CreateFolder(const std::string& path);
  virtual Status DeleteFile(const std::string& path);
  virtual Status DeleteFolder(const std::string& path, bool force);
  // Downloads (transfer.h): true when StoreFile() works, so that a download
  // into this storage is refused before it starts when it does not.
  virtual bool CanStoreFiles() const { return false; }
  // Receives a completed download: `local_file` holds all of its bytes; store
  // it at `path` (e.g. upload it). The library removes local_file afterwards.
  // Called on the transfer's thread. By default Unimplemented.
  virtual Status StoreFile(const std::string& path, const std::string& local_file);
};

struct PRUSACONNECT_API FilesystemOptions {
  // Names ending in one of these (case-insensitively) are PRINT_FILE. The
  // default is the SDK's list, so .bgcode and .sl1 are FILE as in the SDK
  // (quirk Q38); a host that prints binary G-code adds ".bgcode".
  std::vector<std::string> print_extensions = {".gcode", ".gc", ".g", ".gco"};
};

class PRUSACONNECT_API Filesystem {
 public:
  // Receives MEDIUM_INSERTED, MEDIUM_EJECTED and FILE_CHANGED (source WUI)
  // with their `data`, in the order they happened. May be empty.
  using EventSink = std::function<void(Event event, const Json& data)>;

  explicit Filesystem(EventSink sink, const FilesystemOptions& options = {});
  // Detaches every storage without events.
  ~Filesystem();
  Filesystem(const Filesystem&) = delete;
  Filesystem& operator=(const Filesystem&) = delete;

  // ---- storages ----
  // Lists `folder` and attaches it as `storage` (the SDK's Printer.attach),
  // watching it for changes; emits MEDIUM_INSERTED. InvalidArgument for a bad
  // name ("", "/" or one containing "/", a forbidden character, a leading
  // "."), AlreadyExists for a name in use, NotFound / FailedPrecondition when
  // the folder does not exist or is not a folder.
  Status Attach(const std::string& folder, const std::string& storage);
  // Attaches a host-provided storage under provider->name(); emits
  // MEDIUM_INSERTED. Errors as Attach, plus the provider's List() error.
  Status AttachProvider(std::shared_ptr<StorageProvider> provider);
  // Emits MEDIUM_EJECTED. NotFound for an unknown storage.
  Status Detach(const std::string& storage);
  // Lists the storage again and reports every difference from the tree held
  // so far as FILE_CHANGED (the way a provider tells about changes; for a
  // local folder a full rescan).
  Status Refresh(const std::string& storage);
  // Delivers now, on the calling thread, the file changes the kernel has
  // reported for attached folders and the library's watcher thread has not
  // processed yet (FILE_CHANGED is queued before it returns): the SDK's
  // Printer.inotify_handler(). Never needed — the watcher thread delivers
  // them by itself — but a host may call it from any thread at any rate to
  // be sure a change it just made is seen; cheap when none is pending.
  void ProcessPendingChanges();
  // Names, in attach order.
  std::vector<std::string> storages() const;
  SpaceInfo Space(const std::string& storage) const;

  // ---- reading ----
  // The node at `path` ("/usb/a.gcode"; "/usb" is the storage's root), with
  // `depth` levels of children (-1: all). nullopt when unknown.
  std::optional<Node> Get(const std::string& path, int depth = -1) const;
  // SEND_INFO's "files": the SDK's legacy tree of every storage.
  Json ToDictLegacy() const;
  // Appends the JSON text of ToDictLegacy() (the same bytes as its Dump())
  // to `out` without building the Json: what the SEND_INFO answer uses.
  void AppendLegacyJson(std::string* out) const;
  // SEND_FILE_INFO's data for `path`: for a file its attributes, metadata
  // and preview; for a folder its children (as the Buddy firmware answers).
  // Errors carry a message for people ("File does not exist: /usb/x").
  StatusOr<Json> FileInfo(const std::string& path) const;
  // The OS path of `path` in a local storage, whether or not it exists, after
  // all checks (for a host's START_PRINT handler or a download). Errors:
  // InvalidArgument (a refused path), PermissionDenied (it leads outside the
  // storage through a link), NotFound (unknown storage), FailedPrecondition
  // (a provided storage has no OS paths).
  StatusOr<std::string> OsPath(const std::string& path) const;
  // Waits up to `timeout_ms` until `path` exists (or, with exists=false, no
  // longer exists) in the tree. The SDK's wait_until_path.
  bool WaitUntilPath(const std::string& path, int64_t timeout_ms, bool exists = true) const;

  // ---- commands (what CREATE_FOLDER, DELETE_FILE, DELETE_FOLDER do) ----
  // Creates `path` and any missing parents; an existing folder is fine.
  Status CreateFolder(const std::string& path);
  // Refused for a folder, a read-only file and the printed file.
  Status DeleteFile(const std::string& path);
  // Refused for a storage root, a read-only folder and a folder holding the
  // printed file; a non-empty folder needs `force`.
  Status DeleteFolder(const std::string& path, bool force);

  // The file being printed, as a virtual path ("" when none); consulted by
  // the delete commands (and downloads). Called without locks held.
  void set_printed_file_cb(std::function<std::string()> cb);
  std::string printed_file() const;

  // ---- observation ----
  struct Stats {
    size_t nodes = 0;              // files and folders held, all storages
    size_t watches = 0;            // inotify watches held by this Filesystem
    uint64_t events = 0;           // events emitted
    uint64_t rescans = 0;          // full rescans (Refresh, queue overflow)
    uint64_t ignored_changes = 0;  // changes to unknown nodes, ignored
  };
  Stats stats() const;

  class Core;  // the implementation (src/files/filesystem.cc)

 private:
  friend struct internal::FilesystemAccess;
  std::shared_ptr<Core> core_;
};

}  // namespace prusaconnect

#endif  // PRUSACONNECT_FILES_H_
