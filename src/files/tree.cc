// Copyright 2026 The libprusaconnect Authors.
#include "files/tree.h"

#include <algorithm>

#include "files/paths.h"
#include "util/ascii.h"
#include "util/json_writer.h"

namespace prusaconnect::internal {
namespace {

bool NameLess(const std::unique_ptr<TreeNode>& a, std::string_view b) { return a->name < b; }

bool EndsWithLower(std::string_view name, std::string_view suffix) {
  if (name.size() < suffix.size()) return false;
  size_t off = name.size() - suffix.size();
  for (size_t i = 0; i < suffix.size(); ++i) {
    if (AsciiLower(name[off + i]) != suffix[i]) return false;
  }
  return true;
}

// Builds the legacy dict bottom-up so that a folder's size is known when its
// object is written.
Json LegacyWithSize(const TreeNode& node, int64_t* size) {
  Json out = Json::MakeObject();
  Json::Object& o = out.as_object();
  o.reserve(node.is_dir ? 6 : 5);
  o.push_back({"type", node.is_dir ? "DIR" : "FILE"});
  o.push_back({"name", node.name});
  if (node.has_attrs) {
    o.push_back({"read_only", node.read_only});
    o.push_back({"m_timestamp", node.mtime});
  }
  if (!node.is_dir) {
    *size = node.size;
    o.push_back({"size", node.size});
    return out;
  }
  Json children = Json::MakeArray();
  Json::Array& a = children.as_array();
  a.reserve(node.children.size());
  int64_t total = 0;
  for (const auto& c : node.children) {
    int64_t s = 0;
    a.push_back(LegacyWithSize(*c, &s));
    total += s;
  }
  *size = total;
  o.push_back({"size", total});
  o.push_back({"children", std::move(children)});
  return out;
}

}  // namespace

TreeNode* TreeNode::Find(std::string_view child) const {
  auto it = std::lower_bound(children.begin(), children.end(), child, NameLess);
  if (it != children.end() && (*it)->name == child) return it->get();
  return nullptr;
}

TreeNode* TreeNode::Insert(std::unique_ptr<TreeNode> child) {
  child->parent = this;
  auto it = std::lower_bound(children.begin(), children.end(), child->name, NameLess);
  if (it != children.end() && (*it)->name == child->name) {
    *it = std::move(child);
    return it->get();
  }
  return children.insert(it, std::move(child))->get();
}

TreeNode* TreeNode::Append(std::unique_ptr<TreeNode> child) {
  child->parent = this;
  children.push_back(std::move(child));
  return children.back().get();
}

void TreeNode::SortChildren() {
  std::sort(children.begin(), children.end(),
            [](const std::unique_ptr<TreeNode>& a, const std::unique_ptr<TreeNode>& b) {
              return a->name < b->name;
            });
}

std::unique_ptr<TreeNode> TreeNode::Remove(std::string_view child) {
  auto it = std::lower_bound(children.begin(), children.end(), child, NameLess);
  if (it == children.end() || (*it)->name != child) return nullptr;
  std::unique_ptr<TreeNode> out = std::move(*it);
  children.erase(it);
  out->parent = nullptr;
  return out;
}

int64_t TreeNode::TotalSize() const {
  if (!is_dir) return size;
  int64_t total = 0;
  for (const auto& c : children) total += c->TotalSize();
  return total;
}

size_t TreeNode::Count() const {
  size_t n = 1;
  for (const auto& c : children) n += c->Count();
  return n;
}

TreeNode* TreeNode::Descend(const std::vector<std::string>& parts, size_t count) const {
  const TreeNode* node = this;
  for (size_t i = 0; i < count && i < parts.size(); ++i) {
    node = node->Find(parts[i]);
    if (node == nullptr) return nullptr;
  }
  return const_cast<TreeNode*>(node);
}

std::vector<std::string> TreeNode::Parts() const {
  std::vector<std::string> parts;
  for (const TreeNode* n = this; n->parent != nullptr; n = n->parent) parts.push_back(n->name);
  std::reverse(parts.begin(), parts.end());
  return parts;
}

bool TreeNode::SameAttrs(const TreeNode& o) const {
  return name == o.name && is_dir == o.is_dir && has_attrs == o.has_attrs &&
         (!has_attrs || (read_only == o.read_only && mtime == o.mtime)) &&
         (is_dir || size == o.size);
}

FileTyper::FileTyper(const std::vector<std::string>& print_extensions) {
  for (const std::string& e : print_extensions) {
    std::string lower;
    for (char c : e) lower += AsciiLower(c);
    print_extensions_.push_back(std::move(lower));
  }
}

FileType FileTyper::TypeOf(std::string_view name, bool is_dir) const {
  if (is_dir) return FileType::FOLDER;
  for (const std::string& e : print_extensions_) {
    if (EndsWithLower(name, e)) return FileType::PRINT_FILE;
  }
  if (EndsWithLower(name, FIRMWARE_EXTENSION)) return FileType::FIRMWARE;
  return FileType::FILE;
}

std::string VirtualPathOf(const TreeNode& node, const std::string& storage) {
  std::string path = "/" + storage;
  std::vector<std::string> parts = node.Parts();
  if (parts.empty()) return path + "/";
  for (const std::string& p : parts) {
    path += '/';
    path += p;
  }
  return path;
}

Json ToDict(const TreeNode& node, const FileTyper& typer, bool include_children) {
  Json out = Json::MakeObject();
  Json::Object& o = out.as_object();
  o.push_back({"type", ToString(typer.TypeOf(node.name, node.is_dir))});
  o.push_back({"name", node.name});
  if (node.has_attrs) {
    o.push_back({"read_only", node.read_only});
    o.push_back({"m_timestamp", node.mtime});
  }
  o.push_back({"size", node.TotalSize()});
  if (node.is_dir && include_children) {
    Json children = Json::MakeArray();
    for (const auto& c : node.children) children.push_back(ToDict(*c, typer, false));
    o.push_back({"children", std::move(children)});
  }
  return out;
}

Json ToDictLegacy(const TreeNode& node) {
  int64_t size = 0;
  return LegacyWithSize(node, &size);
}

namespace {

// LegacyWithSize's members, written as text. A folder's size is needed
// before its children: TotalSize() walks the subtree once per folder level,
// still far cheaper than building the Json.
void AppendLegacy(const TreeNode& node, std::string_view extra, std::string* out) {
  out->append(node.is_dir ? R"({"type":"DIR","name":)" : R"({"type":"FILE","name":)");
  AppendJsonString(node.name, out);
  if (node.has_attrs) {
    out->append(node.read_only ? R"(,"read_only":true,"m_timestamp":)"
                               : R"(,"read_only":false,"m_timestamp":)");
    AppendJsonInt(node.mtime, out);
  }
  out->append(R"(,"size":)");
  AppendJsonInt(node.is_dir ? node.TotalSize() : node.size, out);
  if (node.is_dir) {
    out->append(R"(,"children":[)");
    bool first = true;
    for (const auto& c : node.children) {
      if (!first) out->push_back(',');
      first = false;
      AppendLegacy(*c, {}, out);
    }
    out->push_back(']');
  }
  out->append(extra);
  out->push_back('}');
}

}  // namespace

void AppendLegacyJson(const TreeNode& node, std::string_view extra, std::string* out) {
  AppendLegacy(node, extra, out);
}

Node ToNode(const TreeNode& node, const FileTyper& typer, int depth) {
  Node n;
  n.name = node.name;
  n.is_dir = node.is_dir;
  n.type = typer.TypeOf(node.name, node.is_dir);
  n.size = node.TotalSize();
  if (node.has_attrs) {
    n.m_timestamp = node.mtime;
    n.read_only = node.read_only;
  }
  if (node.is_dir && depth != 0) {
    n.children.reserve(node.children.size());
    for (const auto& c : node.children) n.children.push_back(ToNode(*c, typer, depth - 1));
  }
  return n;
}

std::unique_ptr<TreeNode> FromNode(const Node& node, TreeNode* parent) {
  auto out = std::make_unique<TreeNode>();
  out->name = node.name;
  out->parent = parent;
  out->is_dir = node.is_dir;
  out->size = node.is_dir ? 0 : node.size;
  if (node.m_timestamp || node.read_only) {
    out->has_attrs = true;
    out->mtime = node.m_timestamp.value_or(0);
    out->read_only = node.read_only.value_or(false);
  }
  if (node.is_dir) {
    for (const Node& c : node.children) {
      if (!CheckName(c.name, NameUse::kExisting).ok()) continue;  // hidden, invalid or unsafe names
      out->Insert(FromNode(c, out.get()));
    }
  }
  return out;
}

}  // namespace prusaconnect::internal
