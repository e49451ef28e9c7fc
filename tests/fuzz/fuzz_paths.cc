// Copyright 2026 The libprusaconnect Authors.
//
// libFuzzer target: path resolution of the files feature (src/files/paths.cc)
// — the checks every path from Connect goes through before the disk is
// touched. Invariants: a path that parses prints back (ToString) to a path
// that parses to the same components; a path contains itself; names it
// accepts are valid UTF-8.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "files/paths.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace pc = prusaconnect::internal;
  if (size == 0) return 0;
  const pc::NameUse use = (data[0] & 1) ? pc::NameUse::kCreate : pc::NameUse::kExisting;
  std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);

  (void)pc::IsValidUtf8(text);
  if (pc::IsValidUtf8(text)) (void)pc::Utf8Length(text);
  if (pc::CheckName(text, use).ok() && !pc::IsValidUtf8(text)) std::abort();

  prusaconnect::StatusOr<pc::VirtualPath> path = pc::ParseVirtualPath(text, use);
  if (!path.ok()) return 0;
  if (!pc::IsValidUtf8(path->storage)) std::abort();
  for (const std::string& part : path->parts) {
    if (!pc::IsValidUtf8(part) || part.empty()) std::abort();
  }
  std::string shown = path->ToString();
  (void)path->Relative();
  prusaconnect::StatusOr<pc::VirtualPath> again = pc::ParseVirtualPath(shown, use);
  if (!again.ok()) std::abort();
  if (again->storage != path->storage || again->parts != path->parts) std::abort();
  if (!pc::SameOrAncestor(*path, *again)) std::abort();
  (void)pc::IsInside("/tmp/root", "/tmp/root/" + path->Relative());
  return 0;
}
