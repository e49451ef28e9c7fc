// Copyright 2026 The libprusaconnect Authors.
//
// Host-provided storages written in Python (issue #17): the library's
// StorageProvider whose methods call a Python object, e.g. an OctoPrint
// plugin exposing OctoPrint's file manager as "/local".
//
// Hand-written C API because of the GIL rules (py_runtime.h): the library
// calls a provider on its own threads (a handler thread, a transfer's
// thread, the caller of attach_storage()/refresh_storage(), which released
// the GIL), never on the network thread and never with a library lock held;
// each call takes the GIL for the Python method only. The provider object
// lives in the Python Printer (`_storages`), which this class reaches
// through the printer's weak reference, so no reference cycle crosses the
// C++ boundary. The Python side (`Printer._storage_call`) turns every
// exception into a (code, message) pair; nothing a provider raises or
// returns can crash the process.
#include <utility>

#include "py_printer.h"
#include "py_runtime.h"

namespace prusaconnect::python {
namespace {

// The status code named by the Python side (Printer._storage_call).
StatusCode CodeOf(const std::string& name) {
  static const std::pair<const char*, StatusCode> kCodes[] = {
      {"NOT_FOUND", StatusCode::kNotFound},
      {"PERMISSION_DENIED", StatusCode::kPermissionDenied},
      {"ALREADY_EXISTS", StatusCode::kAlreadyExists},
      {"INVALID_ARGUMENT", StatusCode::kInvalidArgument},
      {"FAILED_PRECONDITION", StatusCode::kFailedPrecondition},
      {"UNIMPLEMENTED", StatusCode::kUnimplemented},
      {"UNAVAILABLE", StatusCode::kUnavailable},
  };
  for (const auto& [text, code] : kCodes) {
    if (name == text) return code;
  }
  return StatusCode::kInternal;
}

const Json* Member(const Json& object, const char* key) {
  return object.is_object() ? object.find(key) : nullptr;
}

// A node of list()'s tree: {"name", "size"?, "m_timestamp"?, "read_only"?,
// "children"? (a folder)}.
Status ToNode(const Json& j, bool root, int depth, Node* out) {
  if (!j.is_object()) return InvalidArgumentError("list(): a node must be a dict");
  if (depth > 64) return InvalidArgumentError("list(): the tree is more than 64 levels deep");
  const Json* name = Member(j, "name");
  if (!root) {
    if (name == nullptr || !name->is_string() || name->as_string().empty()) {
      return InvalidArgumentError("list(): every node needs a non-empty \"name\"");
    }
    out->name = name->as_string();
  }
  const Json* size = Member(j, "size");
  if (size != nullptr && !size->is_null()) {
    if (!size->is_int() || size->as_int() < 0) {
      return InvalidArgumentError("list(): \"size\" of " + out->name + " must be an int >= 0");
    }
    out->size = size->as_int();
  }
  const Json* ts = Member(j, "m_timestamp");
  if (ts != nullptr && !ts->is_null()) {
    if (!ts->is_number()) {
      return InvalidArgumentError("list(): \"m_timestamp\" of " + out->name + " must be a number");
    }
    out->m_timestamp = static_cast<int64_t>(ts->as_double());
  }
  const Json* ro = Member(j, "read_only");
  if (ro != nullptr && !ro->is_null()) {
    if (!ro->is_bool()) {
      return InvalidArgumentError("list(): \"read_only\" of " + out->name + " must be a bool");
    }
    out->read_only = ro->as_bool();
  }
  const Json* children = Member(j, "children");
  out->is_dir = root || (children != nullptr && !children->is_null());
  if (children != nullptr && !children->is_null()) {
    if (!children->is_array()) {
      return InvalidArgumentError("list(): \"children\" of " + out->name + " must be a list");
    }
    out->children.reserve(children->size());
    for (const Json& c : children->as_array()) {
      Node child;
      if (Status s = ToNode(c, false, depth + 1, &child); !s.ok()) return s;
      out->children.push_back(std::move(child));
    }
  }
  return Status();
}

std::optional<int64_t> OptionalInt(const Json& object, const char* key) {
  const Json* v = Member(object, key);
  if (v == nullptr || !v->is_int()) return std::nullopt;
  return v->as_int();
}

class PythonStorage : public StorageProvider {
 public:
  PythonStorage(std::shared_ptr<PyRef> owner, std::string name, bool can_store)
      : owner_(std::move(owner)), name_(std::move(name)), can_store_(can_store) {}

  std::string name() const override { return name_; }

  StatusOr<Node> List() override {
    StatusOr<Json> tree = Call("list", Json::MakeArray());
    if (!tree.ok()) return tree.status();
    Node root;
    if (Status s = ToNode(*tree, true, 0, &root); !s.ok()) return s;
    return root;
  }

  SpaceInfo Space() override {
    StatusOr<Json> space = Call("space", Json::MakeArray());
    SpaceInfo info;
    if (!space.ok() || !space->is_object()) return info;
    info.free_space = OptionalInt(*space, "free_space");
    info.total_space = OptionalInt(*space, "total_space");
    return info;
  }

  StatusOr<GcodeMetadata> Metadata(const std::string& path) override {
    StatusOr<Json> m = Call("metadata", Json::MakeArray({path}));
    if (!m.ok()) return m.status();
    if (!m->is_object()) return InvalidArgumentError("metadata() must return a dict");
    GcodeMetadata out;
    if (const Json* data = m->find("data"); data != nullptr && data->is_object()) out.data = *data;
    if (const Json* thumbs = m->find("thumbnails"); thumbs != nullptr && thumbs->is_array()) {
      for (const Json& t : thumbs->as_array()) {
        const Json* key = Member(t, "key");
        const Json* data = Member(t, "data");
        if (key == nullptr || !key->is_string() || data == nullptr || !data->is_string()) {
          return InvalidArgumentError("metadata(): a thumbnail needs \"key\" and base64 \"data\"");
        }
        Thumbnail th;
        th.key = key->as_string();
        th.data = data->as_string();
        if (const Json* f = Member(t, "format"); f != nullptr && f->is_string()) {
          th.format = f->as_string();
        }
        th.width = static_cast<int>(OptionalInt(t, "width").value_or(0));
        th.height = static_cast<int>(OptionalInt(t, "height").value_or(0));
        out.thumbnails.push_back(std::move(th));
      }
    }
    return out;
  }

  Status CreateFolder(const std::string& path) override {
    return Call("create_folder", Json::MakeArray({path})).status();
  }
  Status DeleteFile(const std::string& path) override {
    return Call("delete_file", Json::MakeArray({path})).status();
  }
  Status DeleteFolder(const std::string& path, bool force) override {
    return Call("delete_folder", Json::MakeArray({Json(path), Json(force)})).status();
  }
  bool CanStoreFiles() const override { return can_store_; }
  Status StoreFile(const std::string& path, const std::string& local_file) override {
    return Call("store_file", Json::MakeArray({path, local_file})).status();
  }

 private:
  // owner._storage_call(name, method, args) → (code, value or message).
  StatusOr<Json> Call(const char* method, const Json& args) {
    PythonCall call;
    if (!call.ok()) return UnavailableError("Python is shutting down");
    PyObject* self = OwnerOf(owner_);
    if (self == nullptr) return UnavailableError("the printer object is gone");
    PyObject* py_args = FromJson(args);
    PyObject* result =
        py_args == nullptr
            ? nullptr
            : PyObject_CallMethod(self, "_storage_call", "s#sO", name_.data(),
                                  static_cast<Py_ssize_t>(name_.size()), method, py_args);
    Py_XDECREF(py_args);
    StatusOr<Json> out = InternalError("no answer");
    Json answer;
    if (result == nullptr) {
      // A BaseException (KeyboardInterrupt...) that _storage_call let
      // through: this command fails, and command() re-raises it when the
      // host's thread ran it.
      out = InternalError(std::string(method) + "() raised " + ReprAndStashCurrentError());
    } else if (!ToJson(result, &answer)) {
      out = InvalidArgumentError(std::string(method) + "() returned " + Repr(result) +
                                 ", which is not JSON data: " + CurrentErrorRepr());
    } else if (!answer.is_array() || answer.size() != 2 || !answer[0].is_string()) {
      out = InternalError("_storage_call() answered " + answer.Dump());
    } else if (answer[0].as_string() == "OK") {
      out = answer[1];
    } else {
      out = Status(CodeOf(answer[0].as_string()),
                   answer[1].is_string() ? answer[1].as_string() : answer[1].Dump());
    }
    Py_XDECREF(result);
    ReleaseOwnerLater(self);
    return out;
  }

  std::shared_ptr<PyRef> owner_;
  const std::string name_;
  const bool can_store_;
};

}  // namespace

std::shared_ptr<StorageProvider> MakePythonStorage(std::shared_ptr<PyRef> owner,
                                                   const std::string& name, bool can_store) {
  return std::make_shared<PythonStorage>(std::move(owner), name, can_store);
}

}  // namespace prusaconnect::python
