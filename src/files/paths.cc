// Copyright 2026 The libprusaconnect Authors.
#include "files/paths.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <memory>

#include "prusaconnect/const.h"

namespace prusaconnect::internal {

// ---------------------------------------------------------------- text

bool IsValidUtf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const unsigned char* end = p + s.size();
  while (p < end) {
    unsigned c = *p;
    if (c < 0x80) {
      ++p;
      continue;
    }
    int n;
    unsigned cp;
    if (c >= 0xC2 && c <= 0xDF) {
      n = 1;
      cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
      n = 2;
      cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (end - p <= n) return false;
    for (int i = 1; i <= n; ++i) {
      if ((p[i] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (p[i] & 0x3F);
    }
    if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    p += n + 1;
  }
  return true;
}

size_t Utf8Length(std::string_view s) {
  size_t n = 0;
  for (char c : s) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  }
  return n;
}

// ---------------------------------------------------------------- names

Status CheckName(std::string_view name, NameUse use, size_t max_bytes) {
  auto shown = [&] { return StrCat("\"", name, "\""); };
  if (name.empty()) return InvalidArgumentError("Empty name");
  if (name.find('\0') != std::string_view::npos) {
    return InvalidArgumentError("Name contains a NUL byte");
  }
  if (!IsValidUtf8(name)) {
    return InvalidArgumentError("Name is not valid UTF-8");
  }
  if (name == "." || name == "..") {
    return InvalidArgumentError(StrCat("Path components \".\" and \"..\" are not allowed"));
  }
  if (name.front() == '.') {
    return InvalidArgumentError(
        StrCat("Name ", shown(), " starts with \".\" (hidden names are not allowed)"));
  }
  if (use == NameUse::kCreate) {
    for (char c : name) {
      auto u = static_cast<unsigned char>(c);
      if (u < 0x20 || u == 0x7F) {
        return InvalidArgumentError(StrCat("Name ", shown(), " contains a control character"));
      }
    }
    for (const std::string& bad : ForbiddenCharacters()) {
      if (name.find(bad) != std::string_view::npos) {
        return InvalidArgumentError(StrCat("Forbidden character '", bad, "' in name ", shown()));
      }
    }
  }
  size_t chars = Utf8Length(name);
  if (chars > static_cast<size_t>(MAX_NAME_LENGTH)) {
    return InvalidArgumentError(
        StrCat("Name is too long: ", chars, " characters, at most ", MAX_NAME_LENGTH));
  }
  if (name.size() > max_bytes) {
    return InvalidArgumentError(
        StrCat("Name is too long: ", name.size(), " bytes in UTF-8, at most ", max_bytes));
  }
  return Status();
}

std::string VirtualPath::ToString() const {
  std::string s = "/" + storage;
  for (const std::string& p : parts) {
    s += '/';
    s += p;
  }
  return s;
}

std::string VirtualPath::Relative() const {
  std::string s;
  for (const std::string& p : parts) {
    if (!s.empty()) s += '/';
    s += p;
  }
  return s;
}

StatusOr<VirtualPath> ParseVirtualPath(std::string_view path, NameUse use) {
  if (path.find('\0') != std::string_view::npos) {
    return InvalidArgumentError("Path contains a NUL byte");
  }
  if (path.empty() || path.front() != '/') {
    return InvalidArgumentError(
        StrCat("Path must be absolute, starting with /<storage>: \"", path, "\""));
  }
  if (!IsValidUtf8(path)) return InvalidArgumentError("Path is not valid UTF-8");
  if (path.size() > PATH_MAX) {
    return InvalidArgumentError(
        StrCat("Path is too long: ", path.size(), " bytes, at most ", PATH_MAX));
  }
  VirtualPath vp;
  bool first = true;
  size_t i = 0;
  while (i < path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    std::string_view comp = path.substr(i, j - i);
    i = j + 1;
    if (comp.empty()) continue;
    Status s = CheckName(comp, use);
    if (!s.ok()) return InvalidArgumentError(StrCat(s.message(), ": \"", path, "\""));
    if (first) {
      vp.storage = std::string(comp);
      first = false;
    } else {
      vp.parts.emplace_back(comp);
    }
  }
  if (first) {
    return InvalidArgumentError(StrCat("Path names no storage: \"", path, "\""));
  }
  return vp;
}

bool SameOrAncestor(const VirtualPath& a, const VirtualPath& b) {
  if (a.storage != b.storage || a.parts.size() > b.parts.size()) return false;
  for (size_t i = 0; i < a.parts.size(); ++i) {
    if (a.parts[i] != b.parts[i]) return false;
  }
  return true;
}

// ---------------------------------------------------------------- disk

Status ErrnoStatus(int err, const std::string& what) {
  std::string msg = StrCat(what, ": ", ErrnoText(err));
  switch (err) {
    case ENOENT:
    case ENOTDIR:
      return NotFoundError(msg);
    case EACCES:
    case EPERM:
    case EROFS:
      return PermissionDeniedError(msg);
    case EEXIST:
      return AlreadyExistsError(msg);
    case ENOTEMPTY:
    case EBUSY:
      return FailedPreconditionError(msg);
    case ENAMETOOLONG:
    case ELOOP:
      return InvalidArgumentError(msg);
    case ENOSPC:
    case EDQUOT:
      return ResourceExhaustedError(msg);
    default:
      return InternalError(msg);
  }
}

StatusOr<std::string> RealPath(const std::string& path) {
  std::unique_ptr<char, decltype(&free)> r(realpath(path.c_str(), nullptr), &free);
  if (!r) return ErrnoStatus(errno, path);
  return std::string(r.get());
}

StatusOr<std::string> FdPath(int fd) {
  char link[64];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  char buf[PATH_MAX + 1];
  ssize_t n = readlink(link, buf, PATH_MAX);
  if (n < 0) return ErrnoStatus(errno, link);
  return std::string(buf, static_cast<size_t>(n));
}

bool IsInside(std::string_view root, std::string_view path) {
  if (root == "/") return !path.empty() && path.front() == '/';
  if (path.size() < root.size() || path.compare(0, root.size(), root) != 0) return false;
  return path.size() == root.size() || path[root.size()] == '/';
}

namespace {

int OpenDirAt(int dirfd, const char* name) {
  int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0 && errno == EACCES) {
    // A folder we may pass through but not list.
    fd = openat(dirfd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  }
  return fd;
}

}  // namespace

StatusOr<size_t> OpenExistingPrefix(const std::string& root, const std::vector<std::string>& parts,
                                    size_t count, const std::string& shown, UniqueFd* out) {
  UniqueFd dir(open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir.valid()) return ErrnoStatus(errno, "Storage folder " + root);
  std::string os_path = root;
  size_t i = 0;
  for (; i < count && i < parts.size(); ++i) {
    const std::string& name = parts[i];
    std::string next = os_path;
    if (next.back() != '/') next += '/';
    next += name;
    int fd = OpenDirAt(dir.get(), name.c_str());
    if (fd < 0 && errno == ENOENT) break;
    if (fd < 0 && (errno == ELOOP || errno == ENOTDIR)) {
      struct stat st;
      if (fstatat(dir.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
        return ErrnoStatus(errno, shown);
      }
      if (!S_ISLNK(st.st_mode)) {
        return FailedPreconditionError(StrCat("\"", name, "\" in ", shown, " is not a folder"));
      }
      StatusOr<std::string> real = RealPath(next);
      if (!real.ok()) {
        return NotFoundError(StrCat("\"", name, "\" in ", shown, " is a broken symbolic link"));
      }
      if (!IsInside(root, *real)) {
        return PermissionDeniedError(StrCat(
            "Path ", shown, " leads outside its storage through the symbolic link \"", name, "\""));
      }
      fd = open(real->c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0) {
        return FailedPreconditionError(StrCat("\"", name, "\" in ", shown, " is not a folder"));
      }
      next = *real;
    }
    if (fd < 0) return ErrnoStatus(errno, shown);
    dir = UniqueFd(fd);
    os_path = next;
  }
  *out = std::move(dir);
  return i;
}

StatusOr<UniqueFd> OpenDirInside(const std::string& root, const std::vector<std::string>& parts,
                                 size_t count, const std::string& shown) {
  UniqueFd dir;
  StatusOr<size_t> reached = OpenExistingPrefix(root, parts, count, shown, &dir);
  if (!reached.ok()) return reached.status();
  if (*reached < std::min(count, parts.size())) {
    return NotFoundError(StrCat("Folder \"", parts[*reached], "\" in ", shown, " does not exist"));
  }
  return dir;
}

namespace {

Status RemoveTreeDepth(int parent_fd, const std::string& name, int depth) {
  if (depth > 512) return FailedPreconditionError("Folder tree is too deep to delete");
  int fd = openat(parent_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, name);
  DIR* d = fdopendir(fd);
  if (d == nullptr) {
    int err = errno;
    close(fd);
    return ErrnoStatus(err, name);
  }
  std::unique_ptr<DIR, int (*)(DIR*)> dir(d, &closedir);
  std::vector<std::pair<std::string, bool>> entries;
  // NOLINTNEXTLINE(concurrency-mt-unsafe): this DIR stream is used by one thread only.
  while (struct dirent* e = readdir(d)) {
    std::string child = e->d_name;
    if (child == "." || child == "..") continue;
    bool is_dir = e->d_type == DT_DIR;
    if (e->d_type == DT_UNKNOWN) {
      struct stat st;
      if (fstatat(fd, child.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) is_dir = S_ISDIR(st.st_mode);
    }
    entries.emplace_back(std::move(child), is_dir);
  }
  for (const auto& [child, is_dir] : entries) {
    if (is_dir) {
      Status s = RemoveTreeDepth(fd, child, depth + 1);
      if (!s.ok()) return s;
    } else if (unlinkat(fd, child.c_str(), 0) != 0 && errno != ENOENT) {
      return ErrnoStatus(errno, child);
    }
  }
  dir.reset();
  if (unlinkat(parent_fd, name.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT) {
    return ErrnoStatus(errno, name);
  }
  return Status();
}

}  // namespace

Status RemoveTree(int parent_fd, const std::string& name) {
  return RemoveTreeDepth(parent_fd, name, 0);
}

}  // namespace prusaconnect::internal
