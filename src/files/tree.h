// Copyright 2026 The libprusaconnect Authors.
//
// The in-memory tree of one storage (the SDK's File nodes) and its JSON
// forms: to_dict (the "new" format of FILE_CHANGED, one level of children)
// and to_dict_legacy (SEND_INFO and MEDIUM_INSERTED, recursive).
//
// Children are kept sorted by name (the SDK keeps directory-listing order,
// which is arbitrary); lookups are binary searches. A node costs about 100
// bytes plus its name when that is longer than 15 bytes.
//
// Thread safety: none; the Filesystem guards its trees with its lock.
#ifndef PRUSACONNECT_FILES_TREE_H_
#define PRUSACONNECT_FILES_TREE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "prusaconnect/const.h"
#include "prusaconnect/files.h"
#include "prusaconnect/json.h"

namespace prusaconnect::internal {

struct TreeNode {
  std::string name;
  TreeNode* parent = nullptr;
  int64_t size = 0;   // files
  int64_t mtime = 0;  // valid when has_attrs
  int wd = -1;        // local folders: their inotify watch
  bool is_dir = false;
  bool has_attrs = false;  // read_only and m_timestamp are known
  bool read_only = false;
  std::vector<std::unique_ptr<TreeNode>> children;  // sorted by name

  TreeNode* Find(std::string_view child) const;
  // Inserts `child`, replacing a node of the same name (as the SDK's add).
  TreeNode* Insert(std::unique_ptr<TreeNode> child);
  // Appends without keeping the order; call SortChildren() afterwards.
  TreeNode* Append(std::unique_ptr<TreeNode> child);
  void SortChildren();
  std::unique_ptr<TreeNode> Remove(std::string_view child);
  // Files: size. Folders: the total of the files below.
  int64_t TotalSize() const;
  // This node and everything below it.
  size_t Count() const;
  // The node `parts` below this one, or nullptr.
  TreeNode* Descend(const std::vector<std::string>& parts, size_t count) const;
  // Names from below the storage root down to this node.
  std::vector<std::string> Parts() const;
  // Same name, kind and attributes (not children).
  bool SameAttrs(const TreeNode& o) const;
};

// Classifies nodes as FOLDER, PRINT_FILE, FIRMWARE or FILE.
class FileTyper {
 public:
  explicit FileTyper(const std::vector<std::string>& print_extensions);
  FileType TypeOf(std::string_view name, bool is_dir) const;

 private:
  std::vector<std::string> print_extensions_;  // lower case
};

// "/<storage>/a/b"; the storage root itself is "/<storage>/" (with the
// trailing slash, as the SDK's abs_path gives it).
std::string VirtualPathOf(const TreeNode& node, const std::string& storage);

// The SDK's File.to_dict(): {"type","name",["read_only"],["m_timestamp"],
// "size"} plus, for a folder with include_children, "children" one level
// deep (each without children).
Json ToDict(const TreeNode& node, const FileTyper& typer, bool include_children);
// The SDK's File.to_dict_legacy(): {"type":"DIR"|"FILE", "name",
// ["read_only"], ["m_timestamp"], "size", ["children" (recursive)]}.
Json ToDictLegacy(const TreeNode& node);
// Appends the JSON text of ToDictLegacy(node) (the same bytes as its Dump()),
// without building the Json; with `extra`, that text is inserted before the
// closing brace of the node's object (",\"free_space\":1").
void AppendLegacyJson(const TreeNode& node, std::string_view extra, std::string* out);
// A public snapshot with `depth` levels of children (-1: all).
Node ToNode(const TreeNode& node, const FileTyper& typer, int depth);
// A provider's tree: hidden and invalid names are skipped, children sorted.
std::unique_ptr<TreeNode> FromNode(const Node& node, TreeNode* parent);

}  // namespace prusaconnect::internal

#endif  // PRUSACONNECT_FILES_TREE_H_
