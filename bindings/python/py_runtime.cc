// Copyright 2026 The libprusaconnect Authors.
#include "py_runtime.h"

#include <pthread.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "py_convert.h"

namespace prusaconnect::python {
namespace {

constexpr int kMaxJsonDepth = 512;
constexpr size_t kMaxQueuedLogRecords = 10000;
constexpr auto kShutdownWait = std::chrono::seconds(5);

// ---- the gate: who may enter Python ----
struct Gate {
  std::mutex mu;
  std::condition_variable cv;
  bool shut_down = false;
  int active = 0;  // PythonCall scopes entered and not yet left
};
Gate& TheGate() {
  static Gate* gate = new Gate;  // never destroyed: used by threads at exit
  return *gate;
}

// ---- the callback thread ----
struct Task {
  std::function<void()> fn;
  bool droppable;
};
struct Dispatcher {
  std::mutex mu;
  std::condition_variable cv;
  std::deque<Task> tasks;
  std::vector<PyObject*> decrefs;
  size_t queued_droppable = 0;
  uint64_t dropped = 0;
  bool started = false;
  bool stopping = false;
  std::thread thread;
};
Dispatcher& TheDispatcher() {
  static Dispatcher* d = new Dispatcher;  // never destroyed (no std::terminate at exit)
  return *d;
}

void DispatcherMain() {
  pthread_setname_np(pthread_self(), "pc-py-callback");
  Dispatcher& d = TheDispatcher();
  for (;;) {
    std::deque<Task> batch;
    std::vector<PyObject*> decrefs;
    {
      std::unique_lock<std::mutex> lock(d.mu);
      d.cv.wait(lock, [&] { return d.stopping || !d.tasks.empty() || !d.decrefs.empty(); });
      if (d.tasks.empty() && d.decrefs.empty()) return;  // stopping, nothing left
      batch.swap(d.tasks);
      decrefs.swap(d.decrefs);
      d.queued_droppable = 0;
    }
    PythonCall call;
    if (!call.ok()) {
      // Shut down: nothing may touch Python any more; what the tasks hold
      // is leaked on purpose (the process is exiting).
      for (Task& t : batch) new std::function<void()>(std::move(t.fn));
      continue;
    }
    for (Task& t : batch) {
      t.fn();
      t.fn = nullptr;  // releases what the task held while the GIL is held
    }
    for (PyObject* o : decrefs) Py_DECREF(o);
  }
}

void EnsureStartedLocked(Dispatcher& d) {
  if (d.started) return;
  d.started = true;
  d.thread = std::thread(DispatcherMain);
}

// ---- stashed BaseExceptions ----
thread_local int t_stash_depth = 0;
thread_local PyObject* t_stash_type = nullptr;
thread_local PyObject* t_stash_value = nullptr;
thread_local PyObject* t_stash_tb = nullptr;

// ---- JSON ----
PyObject* EnumType() {
  static PyObject* type = nullptr;  // REQUIRES the GIL; kept for the process lifetime
  if (type == nullptr) {
    PyObject* module = PyImport_ImportModule("enum");
    if (module == nullptr) return nullptr;
    type = PyObject_GetAttrString(module, "Enum");
    Py_DECREF(module);
  }
  return type;
}

bool StringOf(PyObject* text_object, std::string* out) {
  Py_ssize_t size = 0;
  const char* data = PyUnicode_AsUTF8AndSize(text_object, &size);
  if (data == nullptr) return false;
  out->assign(data, static_cast<size_t>(size));
  return true;
}

// The text json.dumps makes of a dict key.
bool KeyToString(PyObject* key, std::string* out) {
  if (PyUnicode_Check(key)) return StringOf(key, out);
  if (key == Py_True) {
    *out = "true";
    return true;
  }
  if (key == Py_False) {
    *out = "false";
    return true;
  }
  if (key == Py_None) {
    *out = "null";
    return true;
  }
  if (PyLong_Check(key) || PyFloat_Check(key)) {
    PyObject* text = PyLong_Check(key) ? PyObject_Str(key) : PyObject_Repr(key);
    if (text == nullptr) return false;
    bool ok = StringOf(text, out);
    Py_DECREF(text);
    return ok;
  }
  PyErr_Format(PyExc_TypeError, "keys must be str, int, float, bool or None, not %s",
               Py_TYPE(key)->tp_name);
  return false;
}

bool ToJsonImpl(PyObject* o, Json* out, int depth) {
  if (depth > kMaxJsonDepth) {
    PyErr_SetString(PyExc_ValueError, "Circular reference detected (or nesting too deep)");
    return false;
  }
  if (o == Py_None) {
    *out = Json();
    return true;
  }
  if (o == Py_True || o == Py_False) {
    *out = Json(o == Py_True);
    return true;
  }
  if (PyUnicode_Check(o)) {
    std::string s;
    if (!StringOf(o, &s)) return false;
    *out = Json(std::move(s));
    return true;
  }
  if (PyLong_Check(o)) {
    int overflow = 0;
    long long v = PyLong_AsLongLongAndOverflow(o, &overflow);  // NOLINT(runtime/int)
    if (v == -1 && PyErr_Occurred()) return false;
    if (overflow == 0) {
      *out = Json(v);
      return true;
    }
    if (overflow > 0) {
      unsigned long long u = PyLong_AsUnsignedLongLong(o);  // NOLINT(runtime/int)
      if (!PyErr_Occurred()) {
        *out = Json(u);
        return true;
      }
      PyErr_Clear();
    }
    double d = PyLong_AsDouble(o);
    if (d == -1.0 && PyErr_Occurred()) return false;
    *out = Json(d);
    return true;
  }
  if (PyFloat_Check(o)) {
    *out = Json(PyFloat_AS_DOUBLE(o));
    return true;
  }
  if (PyDict_Check(o)) {
    Json obj = Json::MakeObject();
    Json::Object& members = obj.as_object();
    members.reserve(static_cast<size_t>(PyDict_GET_SIZE(o)));
    PyObject* key = nullptr;
    PyObject* value = nullptr;
    Py_ssize_t pos = 0;
    while (PyDict_Next(o, &pos, &key, &value)) {
      Py_INCREF(key);
      Py_INCREF(value);
      Json::Member m;
      bool ok = KeyToString(key, &m.key) && ToJsonImpl(value, &m.value, depth + 1);
      Py_DECREF(key);
      Py_DECREF(value);
      if (!ok) return false;
      members.push_back(std::move(m));
    }
    *out = std::move(obj);
    return true;
  }
  if (PyList_Check(o) || PyTuple_Check(o)) {
    PyObject* seq = PySequence_Fast(o, "expected a sequence");
    if (seq == nullptr) return false;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    Json::Array items;
    items.reserve(static_cast<size_t>(n));
    for (Py_ssize_t i = 0; i < n; ++i) {
      Json item;
      if (!ToJsonImpl(PySequence_Fast_GET_ITEM(seq, i), &item, depth + 1)) {
        Py_DECREF(seq);
        return false;
      }
      items.push_back(std::move(item));
    }
    Py_DECREF(seq);
    *out = Json(std::move(items));
    return true;
  }
  PyObject* enum_type = EnumType();
  if (enum_type == nullptr) return false;
  int is_enum = PyObject_IsInstance(o, enum_type);
  if (is_enum < 0) return false;
  if (is_enum) {
    PyObject* value = PyObject_GetAttrString(o, "value");
    if (value == nullptr) return false;
    bool ok = ToJsonImpl(value, out, depth + 1);
    Py_DECREF(value);
    return ok;
  }
  PyErr_Format(PyExc_TypeError, "Object of type %s is not JSON serializable", Py_TYPE(o)->tp_name);
  return false;
}

}  // namespace

// ---------------------------------------------------------------- errors

PyObject* ExceptionClass(StatusCode code) {
  switch (code) {
    case StatusCode::kInvalidArgument:
    case StatusCode::kOutOfRange:
      return PyExc_ValueError;
    case StatusCode::kNotFound:
      return PyExc_FileNotFoundError;
    case StatusCode::kAlreadyExists:
      return PyExc_FileExistsError;
    case StatusCode::kPermissionDenied:
      return PyExc_PermissionError;
    case StatusCode::kUnavailable:
      return PyExc_ConnectionError;
    case StatusCode::kDeadlineExceeded:
      return PyExc_TimeoutError;
    case StatusCode::kUnimplemented:
      return PyExc_NotImplementedError;
    default:
      return PyExc_RuntimeError;
  }
}

void SetPythonError(const Error& error) {
  PyErr_SetString(ExceptionClass(error.code()), error.what());
}

std::string Repr(PyObject* object) {
  PyObject* type = nullptr;
  PyObject* value = nullptr;
  PyObject* tb = nullptr;
  PyErr_Fetch(&type, &value, &tb);  // repr() must run without an error set
  std::string text;
  PyObject* repr = object != nullptr ? PyObject_Repr(object) : nullptr;
  if (repr == nullptr || !StringOf(repr, &text)) {
    PyErr_Clear();
    text = object != nullptr ? Py_TYPE(object)->tp_name : "NULL";
    text += "()";
  }
  Py_XDECREF(repr);
  PyErr_Restore(type, value, tb);
  return text;
}

namespace {

// repr() of the current exception; it stays set when `keep`, else it is
// cleared. "" when none is set.
std::string ReprOfCurrentError(bool keep) {
  PyObject* type = nullptr;
  PyObject* value = nullptr;
  PyObject* tb = nullptr;
  PyErr_Fetch(&type, &value, &tb);
  if (type == nullptr) return "";
  PyErr_NormalizeException(&type, &value, &tb);
  std::string text = Repr(value);
  if (keep) {
    PyErr_Restore(type, value, tb);
  } else {
    Py_XDECREF(type);
    Py_XDECREF(value);
    Py_XDECREF(tb);
  }
  return text;
}

}  // namespace

std::string CurrentErrorRepr() { return ReprOfCurrentError(false); }

std::string ReprAndStashCurrentError() {
  if (!StashEnabled()) return ReprOfCurrentError(false);
  std::string repr = ReprOfCurrentError(true);
  if (!repr.empty()) StashCurrentError();
  return repr;
}

StashScope::StashScope() { ++t_stash_depth; }
StashScope::~StashScope() { --t_stash_depth; }
bool StashEnabled() { return t_stash_depth > 0; }

void StashCurrentError() {
  PyObject* type = nullptr;
  PyObject* value = nullptr;
  PyObject* tb = nullptr;
  PyErr_Fetch(&type, &value, &tb);
  if (type == nullptr) return;
  if (t_stash_type != nullptr) {  // keep the first one
    Py_XDECREF(type);
    Py_XDECREF(value);
    Py_XDECREF(tb);
    return;
  }
  t_stash_type = type;
  t_stash_value = value;
  t_stash_tb = tb;
}

bool RestoreStashedError() {
  if (t_stash_type == nullptr) return false;
  PyErr_Restore(t_stash_type, t_stash_value, t_stash_tb);
  t_stash_type = t_stash_value = t_stash_tb = nullptr;
  return true;
}

// ---------------------------------------------------------------- PyRef

PyRef::PyRef(PyObject* object) : object_(object) { Py_XINCREF(object_); }

PyRef::~PyRef() {
  if (object_ == nullptr) return;
  if (IsShutDown()) return;  // exiting: leak rather than touch a dying interpreter
  if (PyGILState_Check()) {
    Py_DECREF(object_);
    return;
  }
  Dispatcher& d = TheDispatcher();
  {
    std::lock_guard<std::mutex> lock(d.mu);
    if (d.stopping) return;
    d.decrefs.push_back(object_);
    EnsureStartedLocked(d);
  }
  d.cv.notify_one();
}

// ---------------------------------------------------------------- GIL

bool IsFinalizing() {
#if PY_VERSION_HEX >= 0x030D0000
  return Py_IsFinalizing() != 0;
#else
  return _Py_IsFinalizing() != 0;
#endif
}

// The thread that ran Shutdown() from atexit: the one finalizing the
// interpreter, which must take the GIL back.
static std::atomic<std::thread::id> finalizing_thread{};

void AllowThreads::RestoreThread(PyThreadState* state) {
  std::thread::id finalizer = finalizing_thread.load();
  if (finalizer != std::thread::id() && finalizer != std::this_thread::get_id() && IsFinalizing()) {
    // Taking the GIL now would end this thread with a forced unwind through
    // C++ frames. The process is exiting: wait for it.
    for (;;) std::this_thread::sleep_for(std::chrono::hours(1));
  }
  PyEval_RestoreThread(state);
}

PythonCall::PythonCall() {
  Gate& g = TheGate();
  {
    std::lock_guard<std::mutex> lock(g.mu);
    if (g.shut_down || !Py_IsInitialized() || IsFinalizing()) return;
    ++g.active;
  }
  gil_ = PyGILState_Ensure();
  ok_ = true;
}

PythonCall::~PythonCall() {
  if (!ok_) return;
  PyGILState_Release(gil_);
  Gate& g = TheGate();
  {
    std::lock_guard<std::mutex> lock(g.mu);
    --g.active;
  }
  g.cv.notify_all();
}

// ---------------------------------------------------------------- dispatch

void Dispatch(std::function<void()> task, bool droppable) {
  Dispatcher& d = TheDispatcher();
  {
    std::lock_guard<std::mutex> lock(d.mu);
    if (d.stopping) {
      // Leak what the task holds: destroying it here could need the GIL.
      new std::function<void()>(std::move(task));
      return;
    }
    if (droppable) {
      if (d.queued_droppable >= kMaxQueuedLogRecords) {
        ++d.dropped;
        new std::function<void()>(std::move(task));
        return;
      }
      ++d.queued_droppable;
    }
    d.tasks.push_back(Task{std::move(task), droppable});
    EnsureStartedLocked(d);
  }
  d.cv.notify_one();
}

uint64_t DroppedLogRecords() {
  Dispatcher& d = TheDispatcher();
  std::lock_guard<std::mutex> lock(d.mu);
  return d.dropped;
}

bool IsShutDown() {
  Gate& g = TheGate();
  std::lock_guard<std::mutex> lock(g.mu);
  return g.shut_down;
}

void Shutdown() {
  // Called without the GIL (the wrapper releases it), from atexit: on the
  // thread that finalizes the interpreter next.
  finalizing_thread.store(std::this_thread::get_id());
  Gate& g = TheGate();
  {
    std::lock_guard<std::mutex> lock(g.mu);
    if (g.shut_down) return;
  }
  Dispatcher& d = TheDispatcher();
  std::thread thread;
  {
    std::lock_guard<std::mutex> lock(d.mu);
    d.stopping = true;
    thread = std::move(d.thread);
  }
  d.cv.notify_all();
  // The callback thread finishes what is queued (it may still enter Python).
  if (thread.joinable()) thread.join();
  std::unique_lock<std::mutex> lock(g.mu);
  g.shut_down = true;
  // Handlers still running Python on other threads (daemon threads calling
  // command(), background handlers) finish, or are given up on.
  g.cv.wait_for(lock, kShutdownWait, [&] { return g.active == 0; });
}

// ---------------------------------------------------------------- JSON

bool ToJson(PyObject* value, Json* out) { return ToJsonImpl(value, out, 0); }

PyObject* FromJson(const Json& value) {
  switch (value.type()) {
    case Json::Type::kNull:
      Py_RETURN_NONE;
    case Json::Type::kBool:
      return PyBool_FromLong(value.as_bool() ? 1 : 0);
    case Json::Type::kInt:
      return PyLong_FromLongLong(value.as_int());
    case Json::Type::kDouble:
      return PyFloat_FromDouble(value.as_double());
    case Json::Type::kString: {
      const std::string& s = value.as_string();
      return PyUnicode_DecodeUTF8(s.data(), static_cast<Py_ssize_t>(s.size()), "replace");
    }
    case Json::Type::kArray:
      return ToPy(value.as_array());  // each item back through FromJson()
    case Json::Type::kObject: {
      PyObject* dict = PyDict_New();
      if (dict == nullptr) return nullptr;
      for (const Json::Member& m : value.as_object()) {
        PyObject* key =
            PyUnicode_DecodeUTF8(m.key.data(), static_cast<Py_ssize_t>(m.key.size()), "replace");
        PyObject* item = key != nullptr ? FromJson(m.value) : nullptr;
        int rc = item != nullptr ? PyDict_SetItem(dict, key, item) : -1;
        Py_XDECREF(key);
        Py_XDECREF(item);
        if (rc < 0) {
          Py_DECREF(dict);
          return nullptr;
        }
      }
      return dict;
    }
  }
  Py_RETURN_NONE;
}

// ---------------------------------------------------------------- owners

std::shared_ptr<PyRef> WeakRefTo(PyObject* owner) {
  PyObject* ref = PyWeakref_NewRef(owner, nullptr);
  if (ref == nullptr) {
    std::string message = CurrentErrorRepr();
    throw Error(StatusCode::kInvalidArgument, "the owner must be weakly referenceable: " + message);
  }
  auto shared = std::make_shared<PyRef>(ref);
  Py_DECREF(ref);
  return shared;
}

PyObject* OwnerOf(const std::shared_ptr<PyRef>& weak) {
  PyObject* self = PyWeakref_GetObject(weak->get());  // borrowed
  if (self == nullptr) {
    PyErr_Clear();
    return nullptr;
  }
  if (self == Py_None) return nullptr;
  Py_INCREF(self);
  return self;
}

void CallOwnerLater(std::shared_ptr<PyRef> weak, const char* method,
                    std::function<PyObject*()> make_args) {
  Dispatch([weak = std::move(weak), method, make_args = std::move(make_args)] {
    PyObject* self = OwnerOf(weak);
    if (self == nullptr) return;
    PyObject* args = make_args();
    PyObject* fn = args != nullptr ? PyObject_GetAttrString(self, method) : nullptr;
    PyObject* result = fn != nullptr ? PyObject_Call(fn, args, nullptr) : nullptr;
    if (result == nullptr) PyErr_WriteUnraisable(self);
    Py_XDECREF(result);
    Py_XDECREF(fn);
    Py_XDECREF(args);
    Py_DECREF(self);
  });
}

PyObject* PyText(const std::string& s) {
  return PyUnicode_DecodeUTF8(s.data(), static_cast<Py_ssize_t>(s.size()), "replace");
}

void ReleaseOwnerLater(PyObject* self) {
  auto ref = std::make_shared<PyRef>(self);  // REQUIRES the GIL
  Py_DECREF(self);
  Dispatch([ref] {});
}

}  // namespace prusaconnect::python
