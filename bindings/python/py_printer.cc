// Copyright 2026 The libprusaconnect Authors.
//
// PythonPrinter: every call from the library into Python. Hand-written C API because SWIG's
// directors and callbacks take the GIL wherever they are called from; these
// follow py_runtime.h's rules instead: nothing from the network thread or
// under a library lock touches Python directly (Dispatch() hands it to the
// callback thread), handlers, the printed-file question and camera drivers
// take the GIL on the library thread that needs them (PythonCall), and the
// owner is reached through a weak reference.
#include "py_printer.h"

#include <utility>
#include <vector>

#include "prusaconnect/camera.h"
#include "prusaconnect/conditions.h"
#include "prusaconnect/const.h"
#include "prusaconnect/log.h"
#include "prusaconnect/models.h"
#include "prusaconnect/transfer.h"
#include "prusaconnect/util.h"

namespace prusaconnect::python {
namespace {

// Turns what the owner's _run_handler returned into the command's outcome:
// a str is the repr() of the exception the handler raised, anything else
// must be the CommandResult that command.command_result() built.
StatusOr<CommandResult> ResultOf(PyObject* result) {
  if (PyUnicode_Check(result)) {
    Py_ssize_t size = 0;
    const char* text = PyUnicode_AsUTF8AndSize(result, &size);
    if (text == nullptr) return Status(StatusCode::kUnknown, CurrentErrorRepr());
    return Status(StatusCode::kUnknown, std::string(text, static_cast<size_t>(size)));
  }
  CommandResult r;
  if (!CommandResultOf(result, &r)) {
    return Status(StatusCode::kUnknown, "TypeError('bad handler result')");
  }
  return r;
}

// Runs the owner's _run_handler for `req` on this thread (the one that
// called command(), or a library handler thread).
StatusOr<CommandResult> RunPythonHandler(const std::shared_ptr<PyRef>& weak,
                                         const CommandRequest& req) {
  PythonCall call;
  if (!call.ok()) {
    return Status(StatusCode::kUnavailable, "RuntimeError('the interpreter is shutting down')");
  }
  PyObject* self = OwnerOf(weak);
  if (self == nullptr) {
    return Status(StatusCode::kUnavailable, "RuntimeError('the Printer object no longer exists')");
  }
  PyObject* result = nullptr;
  PyObject* args = PyTuple_New(5);
  if (args != nullptr) {
    PyTuple_SET_ITEM(args, 0, PyLong_FromLongLong(req.command_id));
    PyTuple_SET_ITEM(args, 1, PyText(req.command_name));
    PyTuple_SET_ITEM(args, 2, FromJson(req.args));
    PyTuple_SET_ITEM(args, 3, FromJson(req.kwargs));
    PyTuple_SET_ITEM(args, 4, PyBool_FromLong(req.force ? 1 : 0));
    bool built = true;
    for (Py_ssize_t i = 0; i < 5; ++i) built = built && PyTuple_GET_ITEM(args, i) != nullptr;
    if (built) {
      PyObject* fn = PyObject_GetAttrString(self, "_run_handler");
      if (fn != nullptr) {
        result = PyObject_Call(fn, args, nullptr);
        Py_DECREF(fn);
      }
    }
    Py_DECREF(args);
  }
  ReleaseOwnerLater(self);
  if (result == nullptr) {
    // Only a BaseException that is not an Exception (KeyboardInterrupt,
    // SystemExit...) gets here: _run_handler catches the others. The
    // command fails; the exception is re-raised by the command() call that
    // ran the handler, when there is one.
    std::string repr = ReprAndStashCurrentError();
    if (repr.empty()) repr = "SystemError('handler failed without an exception')";
    return Status(StatusCode::kUnknown, repr);
  }
  StatusOr<CommandResult> outcome = ResultOf(result);
  Py_DECREF(result);
  return outcome;
}

// A camera driver written in Python: Capture() asks the printer's owner
// (the package's Printer) for an image with owner._camera_capture(id).
class PythonDriver : public CameraDriver {
 public:
  PythonDriver(std::shared_ptr<PyRef> owner, std::string id)
      : owner_(std::move(owner)), id_(std::move(id)) {}

  StatusOr<std::string> Capture() override {
    PythonCall call;
    if (!call.ok()) return UnavailableError("Python is shutting down");
    PyObject* self = OwnerOf(owner_);
    if (self == nullptr) return UnavailableError("the printer object is gone");
    StatusOr<std::string> image = InternalError("no image");
    PyObject* result = PyObject_CallMethod(self, "_camera_capture", "s#", id_.data(),
                                           static_cast<Py_ssize_t>(id_.size()));
    if (result == nullptr) {
      image = UnavailableError("take_a_photo() raised " + CurrentErrorRepr());
    } else if (PyObject_CheckBuffer(result)) {
      Py_buffer view;
      if (PyObject_GetBuffer(result, &view, PyBUF_SIMPLE) == 0) {
        image = std::string(static_cast<const char*>(view.buf), static_cast<size_t>(view.len));
        PyBuffer_Release(&view);
      } else {
        image = InvalidArgumentError("take_a_photo() returned an unreadable buffer: " +
                                     CurrentErrorRepr());
      }
    } else {
      image = InvalidArgumentError("take_a_photo() must return bytes, not " + Repr(result));
    }
    Py_XDECREF(result);
    ReleaseOwnerLater(self);
    return image;
  }

  std::string Describe() const override { return "Python driver of camera " + id_; }

 private:
  std::shared_ptr<PyRef> owner_;
  std::string id_;
};

template <typename E>
Json NamesOf() {
  Json out = Json::MakeArray();
  for (E v : AllValues<E>()) out.push_back(ToString(v));
  return out;
}

// ---- storages kept by Python (StorageProvider) ----
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

// ---------------------------------------------------------------- PythonPrinter

PythonPrinter::PythonPrinter(PyObject* owner, std::optional<PrinterType> type,
                             const std::string& sn, const std::string& fingerprint,
                             const PrinterOptions& options)
    : Printer(type, sn, fingerprint, options), owner_(WeakRefTo(owner)) {
  std::shared_ptr<PyRef> weak = owner_;
  set_register_handler([weak](const std::string& token) {
    CallOwnerLater(weak, "_on_register", [token] { return Py_BuildValue("(N)", PyText(token)); });
  });
  set_stop_cb([weak] { CallOwnerLater(weak, "_on_stop", [] { return PyTuple_New(0); }); });
}

void PythonPrinter::route_handler(Command command, bool to_python) {
  if (!to_python) {
    set_handler(command, nullptr);
    return;
  }
  std::shared_ptr<PyRef> weak = owner_;
  set_handler(command, [weak](const CommandRequest& req) -> StatusOr<CommandResult> {
    return RunPythonHandler(weak, req);
  });
}

void PythonPrinter::watch_printed_file(bool enabled) {
  if (!enabled) {
    set_printed_file_cb(nullptr);
    return;
  }
  std::shared_ptr<PyRef> weak = owner_;
  set_printed_file_cb([weak]() -> std::string {
    PythonCall call;
    if (!call.ok()) return "";
    PyObject* self = OwnerOf(weak);
    if (self == nullptr) return "";
    std::string path;
    PyObject* result = PyObject_CallMethod(self, "_printed_file", nullptr);
    if (result == nullptr) {
      PyErr_WriteUnraisable(self);
    } else if (PyUnicode_Check(result)) {
      Py_ssize_t size = 0;
      const char* text = PyUnicode_AsUTF8AndSize(result, &size);
      if (text != nullptr) {
        path.assign(text, static_cast<size_t>(size));
      } else {
        PyErr_Clear();
      }
    }
    Py_XDECREF(result);
    ReleaseOwnerLater(self);
    return path;
  });
}

void PythonPrinter::watch_downloads(bool enabled) {
  if (!enabled) {
    set_download_finished_cb(nullptr);
    return;
  }
  std::shared_ptr<PyRef> weak = owner_;
  set_download_finished_cb([weak](const TransferInfo& done) {
    // On the transfer's thread: no GIL here, the callback thread calls Python.
    CallOwnerLater(weak, "_on_download_finished", [done]() -> PyObject* {
      PyObject* info = NewTransferInfoObject(done);
      return info != nullptr ? Py_BuildValue("(N)", info) : nullptr;
    });
  });
}

void PythonPrinter::watch_condition(const std::string& name) {
  Conditions& all = conditions();
  Condition* c = nullptr;
  for (Condition* node : {&all.INTERNET, &all.HTTP, &all.TOKEN, &all.API}) {
    if (node->name() == name) c = node;
  }
  if (c == nullptr) throw Error(StatusCode::kInvalidArgument, "no condition " + name);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!watched_.insert(name).second) return;
  }
  std::shared_ptr<PyRef> weak = owner_;
  auto report = [weak, name](bool ok) {
    return [weak, name, ok](const Condition&, CondState old_state) {
      const char* old = CondStateName(old_state);
      CallOwnerLater(weak, "_on_condition", [name, ok, old] {
        return Py_BuildValue("(NOs)", PyText(name), ok ? Py_True : Py_False, old);
      });
    };
  };
  c->add_fixed_callback(report(true));
  c->add_broke_callback(report(false));
}

std::shared_ptr<CameraDriver> PythonPrinter::python_camera_driver(const std::string& camera_id) {
  return std::make_shared<PythonDriver>(owner_, camera_id);
}

void PythonPrinter::watch_camera_tokens(bool enabled) {
  if (!enabled) {
    cameras().set_token_cb(nullptr);
    return;
  }
  std::shared_ptr<PyRef> weak = owner_;
  cameras().set_token_cb(
      [weak](const std::string& id, const std::string& fingerprint, const std::string& token) {
        CallOwnerLater(weak, "_on_camera_token", [id, fingerprint, token] {
          return Py_BuildValue("(NNN)", PyText(id), PyText(fingerprint), PyText(token));
        });
      });
}

Status PythonPrinter::attach_python_storage(const std::string& name, bool can_store) {
  return attach_storage(std::make_shared<PythonStorage>(owner_, name, can_store));
}

// ---------------------------------------------------------------- module functions

namespace {
std::mutex log_mu;
std::shared_ptr<PyRef> log_forwarder;  // guarded by log_mu
}  // namespace

void install_log_sink(PyObject* forwarder) {
  if (forwarder == nullptr || forwarder == Py_None) {
    SetLogSink(nullptr);
    std::lock_guard<std::mutex> lock(log_mu);
    log_forwarder.reset();
    return;
  }
  {
    std::lock_guard<std::mutex> lock(log_mu);
    log_forwarder = std::make_shared<PyRef>(forwarder);
  }
  SetLogSink([](LogLevel level, const std::string& component, const std::string& message) {
    std::shared_ptr<PyRef> fn;
    {
      std::lock_guard<std::mutex> lock(log_mu);
      fn = log_forwarder;
    }
    if (!fn) return;
    Dispatch(
        [fn, level, component, message] {
          PyObject* result = PyObject_CallFunction(fn->get(), "(iNN)", static_cast<int>(level),
                                                   PyText(component), PyText(message));
          if (result == nullptr) PyErr_WriteUnraisable(fn->get());
          Py_XDECREF(result);
        },
        /*droppable=*/true);
  });
}

void set_log_level(int level) {
  LogLevel l = LogLevel::kError;
  if (level <= 10) {
    l = LogLevel::kDebug;
  } else if (level <= 20) {
    l = LogLevel::kInfo;
  } else if (level <= 30) {
    l = LogLevel::kWarning;
  }
  SetLogLevel(l);
}

int log_level() { return static_cast<int>(GetLogLevel()); }
uint64_t dropped_log_records() { return DroppedLogRecords(); }
std::string fingerprint_from_serial(const std::string& sn) { return FingerprintFromSerial(sn); }
std::string library_version() { return Version(); }
std::string sdk_version() { return SDK_VERSION; }

Json enum_names(const std::string& kind) {
  if (kind == "State") return NamesOf<State>();
  if (kind == "JobState") return NamesOf<JobState>();
  if (kind == "MMUType") return NamesOf<MMUType>();
  if (kind == "StorageType") return NamesOf<StorageType>();
  if (kind == "Event") return NamesOf<Event>();
  if (kind == "Source") return NamesOf<Source>();
  if (kind == "Command") return NamesOf<Command>();
  if (kind == "TransferType") return NamesOf<TransferType>();
  if (kind == "FileType") return NamesOf<FileType>();
  if (kind == "RegistrationStatus") return NamesOf<RegistrationStatus>();
  if (kind == "CapabilityType") return NamesOf<CapabilityType>();
  if (kind == "TriggerScheme") return NamesOf<TriggerScheme>();
  throw Error(StatusCode::kInvalidArgument, "unknown enum: " + kind);
}

Json printer_types() {
  Json out = Json::MakeArray();
  for (const PrinterType& t : PrinterType::All()) {
    out.push_back(Json::MakeArray({t.Name(), t.type(), t.version(), t.subversion()}));
  }
  return out;
}

void shutdown() {
  // No more log records: what library threads log from now on is dropped.
  SetLogSink(nullptr);
  {
    std::lock_guard<std::mutex> lock(log_mu);
    log_forwarder.reset();
  }
  Shutdown();
}

}  // namespace prusaconnect::python
