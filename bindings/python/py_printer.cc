// Copyright 2026 The libprusaconnect Authors.
//
// PythonPrinter: every call from the library into Python, but for the
// storage provider (py_storage.cc). Hand-written C API because SWIG's
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
// a str is the repr() of the exception the handler raised; a tuple is
// (event, source, reason, state, job_id, transfer_id, dialog_id, data).
StatusOr<CommandResult> ResultOf(PyObject* result) {
  if (PyUnicode_Check(result)) {
    std::string repr;
    Py_ssize_t size = 0;
    const char* text = PyUnicode_AsUTF8AndSize(result, &size);
    if (text == nullptr) return Status(StatusCode::kUnknown, CurrentErrorRepr());
    repr.assign(text, static_cast<size_t>(size));
    return Status(StatusCode::kUnknown, repr);
  }
  const char* event = nullptr;
  const char* source = nullptr;
  const char* reason = nullptr;
  const char* state = nullptr;
  long long job_id = 0;       // NOLINT(runtime/int)
  long long transfer_id = 0;  // NOLINT(runtime/int)
  long long dialog_id = 0;    // NOLINT(runtime/int)
  PyObject* data = nullptr;
  if (!PyTuple_Check(result) ||
      !PyArg_ParseTuple(result, "ssssLLLO", &event, &source, &reason, &state, &job_id, &transfer_id,
                        &dialog_id, &data)) {
    if (!PyErr_Occurred()) PyErr_SetString(PyExc_TypeError, "bad handler result");
    return Status(StatusCode::kUnknown, CurrentErrorRepr());
  }
  CommandResult r;
  auto bad = [](const char* what, const char* value) {
    return Status(StatusCode::kUnknown,
                  std::string("ValueError(\"unknown ") + what + ": '" + value + "'\")");
  };
  if (!Parse(source, &r.source)) return bad("source", source);
  if (*event != '\0') {
    Event e;
    if (!Parse(event, &e)) return bad("event", event);
    r.event = e;
  }
  if (*reason != '\0') r.reason = reason;
  if (*state != '\0') {
    State s;
    if (!Parse(state, &s)) return bad("state", state);
    r.state = s;
  }
  if (job_id != 0) r.job_id = job_id;
  if (transfer_id != 0) r.transfer_id = transfer_id;
  if (dialog_id != 0) r.dialog_id = dialog_id;
  if (!ToJson(data, &r.data)) return Status(StatusCode::kUnknown, CurrentErrorRepr());
  if (!r.data.is_object()) r.data = Json::MakeObject();
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
  return attach_storage(MakePythonStorage(owner_, name, can_store));
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
