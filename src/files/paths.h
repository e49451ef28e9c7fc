// Copyright 2026 The libprusaconnect Authors.
//
// Path rules: every path Connect sends is hostile input. This file turns a
// virtual path ("/usb/a/b.gcode") into checked components and resolves them
// inside a storage's folder with file descriptors, so that neither "..",
// nor a symbolic link, nor an absolute path can reach outside the storage.
//
// The rules (docs/FILES.md "Path rules"):
//   * absolute ("/<storage>/..."), no NUL byte, valid UTF-8;
//   * empty components ("//", a trailing "/") are ignored; "." and ".." are
//     refused, so are names starting with "." (hidden, never listed);
//   * each component at most MAX_NAME_LENGTH (255) characters and 255 bytes
//     (the Linux NAME_MAX);
//   * for a name about to be created (CREATE_FOLDER, downloads): no forbidden
//     character (const.h ForbiddenCharacters) and no control character in
//     any component, and a file name at most FILENAME_LENGTH (248) bytes.
//     Existing entries are not held to these: a "part #2.gcode" copied onto
//     a USB stick is listed and can be inspected and deleted;
//   * symbolic links are followed only when they lead to a place inside the
//     storage.
//
// Thread safety: free functions without state.
#ifndef PRUSACONNECT_FILES_PATHS_H_
#define PRUSACONNECT_FILES_PATHS_H_

#include <sys/stat.h>

#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "prusaconnect/status.h"
#include "util/posix.h"  // UniqueFd, ErrnoText
#include "util/str_cat.h"

namespace prusaconnect::internal {

// ---- text ----
// Strict UTF-8 (as Python's bytes.decode): no overlong forms, no surrogates,
// nothing above U+10FFFF.
bool IsValidUtf8(std::string_view s);
// Code points in valid UTF-8.
size_t Utf8Length(std::string_view s);

// ---- names and virtual paths ----
// How a name is used: naming an entry that may exist, or creating one.
enum class NameUse { kExisting, kCreate };

// Checks one name: a storage name or a path component. `max_bytes` is 255,
// or FILENAME_LENGTH for a file about to be created. The message names the
// component and says what is wrong.
Status CheckName(std::string_view name, NameUse use, size_t max_bytes = 255);

struct VirtualPath {
  std::string storage;
  std::vector<std::string> parts;  // below the storage; empty for its root

  // "/usb/a/b" ("/usb" for the root).
  std::string ToString() const;
  // "a/b" ("" for the root).
  std::string Relative() const;
};

// Parses and checks a virtual path (all rules above except symbolic links,
// which need the disk).
StatusOr<VirtualPath> ParseVirtualPath(std::string_view path, NameUse use);

// True when `a` is `b` or a folder above it (by components, not by text:
// "/usb/a" does not contain "/usb/ab").
bool SameOrAncestor(const VirtualPath& a, const VirtualPath& b);

// ---- the disk ----
// The canonical absolute path of `path` (realpath), or an error.
StatusOr<std::string> RealPath(const std::string& path);
// The canonical path of an open file descriptor.
StatusOr<std::string> FdPath(int fd);
// True when `path` is `root` or below it (both canonical).
bool IsInside(std::string_view root, std::string_view path);

// Opens as many leading folders of `parts[0..count)` below `root` as exist,
// with the same checks as OpenDirInside; returns how many were opened (the
// folder reached is in *dir). A component that exists but is not a folder
// is an error.
StatusOr<size_t> OpenExistingPrefix(const std::string& root, const std::vector<std::string>& parts,
                                    size_t count, const std::string& shown, UniqueFd* dir);

// Opens the folder `root` + `parts[0..count)` for reading, without ever
// leaving `root` (canonical): a symbolic link is followed only when its
// target is inside. `shown` is the virtual path used in messages; a missing
// folder is NotFound.
StatusOr<UniqueFd> OpenDirInside(const std::string& root, const std::vector<std::string>& parts,
                                 size_t count, const std::string& shown);

// Deletes the folder `name` in `parent_fd` with everything in it, never
// following a symbolic link (links are removed, not their targets).
Status RemoveTree(int parent_fd, const std::string& name);

// read_only as we define it: no write permission bit at all, or a read-only
// mount. (The SDK used access(W_OK), always false for root — quirk Q39.)
inline bool ModeReadOnly(const struct stat& st, bool readonly_mount) {
  return readonly_mount || (st.st_mode & (S_IWUSR | S_IWGRP | S_IWOTH)) == 0;
}

// A message for an errno from operating on `shown` ("Permission denied").
Status ErrnoStatus(int err, const std::string& what);

}  // namespace prusaconnect::internal

#endif  // PRUSACONNECT_FILES_PATHS_H_
