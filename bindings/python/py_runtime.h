// Copyright 2026 The libprusaconnect Authors.
//
// The Python side of the bindings' plumbing: the GIL discipline, the
// callback thread, error mapping and JSON <-> Python conversion.
//
// Threading rules (see docs/PYTHON.md):
//   * The library's network thread never takes the GIL. Everything it (or
//     a caller holding a library lock) hands to Python — condition callbacks,
//     log records, the registration callback, the stop callback, releasing a
//     Python reference — goes through Dispatch(), which only takes a
//     std::mutex; the bindings' own callback thread runs the work with the
//     GIL held, in order.
//   * Command handlers run on the thread that called command() (the GIL was
//     released around the C++ call and is re-acquired for the handler) or on
//     a library handler thread (background handlers); both use PythonCall.
//   * Shutdown() (registered with atexit by the package) stops the callback
//     thread and refuses any later entry into Python, so no library thread
//     touches the interpreter while it is being finalized.
#ifndef PRUSACONNECT_BINDINGS_PYTHON_PY_RUNTIME_H_
#define PRUSACONNECT_BINDINGS_PYTHON_PY_RUNTIME_H_

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <exception>
#include <functional>
#include <memory>
#include <string>

#include "prusaconnect/json.h"
#include "prusaconnect/status.h"

namespace prusaconnect::python {

// A failed call of PythonPrinter: the SWIG %exception block (and StatusToPy)
// turns it into the Python exception that ExceptionClass(code) names.
class Error : public std::exception {
 public:
  Error(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}
  explicit Error(const Status& status) : Error(status.code(), status.message()) {}
  StatusCode code() const { return code_; }
  const char* what() const noexcept override { return message_.c_str(); }

 private:
  StatusCode code_;
  std::string message_;
};

// The Python exception class of a status code (borrowed reference):
// InvalidArgument → ValueError, NotFound → FileNotFoundError,
// FailedPrecondition → RuntimeError, Unavailable → ConnectionError, ...
PyObject* ExceptionClass(StatusCode code);

// Sets the Python error indicator from an Error.
void SetPythonError(const Error& error);

// An owned reference to a Python object that may be released on any thread:
// immediately when the releasing thread holds the GIL, otherwise by the
// callback thread (or never, after Shutdown()). REQUIRES the GIL to create.
class PyRef {
 public:
  explicit PyRef(PyObject* object);  // takes a new reference
  ~PyRef();
  PyRef(const PyRef&) = delete;
  PyRef& operator=(const PyRef&) = delete;
  PyObject* get() const { return object_; }

 private:
  PyObject* object_;
};

// Holds the GIL for the scope, from any thread, unless the bindings are
// shut down (ok() is then false and Python must not be touched).
class PythonCall {
 public:
  PythonCall();
  ~PythonCall();
  PythonCall(const PythonCall&) = delete;
  PythonCall& operator=(const PythonCall&) = delete;
  bool ok() const { return ok_; }

 private:
  bool ok_ = false;
  PyGILState_STATE gil_{};
};

// Releases the GIL around a blocking call: the SWIG wrappers' allow-threads
// block (prusaconnect.i replaces SWIG's own with it). It re-acquires the GIL
// once at most — SWIG's would try again from its destructor when the first
// attempt ends the thread (a daemon thread at interpreter exit), which
// aborts the process — and a thread other than the finalizing one that
// returns while the interpreter is finalizing is parked for good instead of
// being ended (what Python 3.14 itself does).
class AllowThreads {
 public:
  AllowThreads() : save_(PyEval_SaveThread()) {}
  ~AllowThreads() { end(); }
  AllowThreads(const AllowThreads&) = delete;
  AllowThreads& operator=(const AllowThreads&) = delete;
  void end() {
    PyThreadState* state = save_;
    save_ = nullptr;
    if (state != nullptr) RestoreThread(state);
  }
  static void RestoreThread(PyThreadState* state);

 private:
  PyThreadState* save_;
};

// True once the interpreter is being finalized.
bool IsFinalizing();

// Runs `task` later on the callback thread with the GIL held. Never blocks
// on the GIL; safe under any library lock. Tasks run in the order given.
// Dropped after Shutdown(). `droppable` tasks (log records) are dropped when
// too many are waiting.
void Dispatch(std::function<void()> task, bool droppable = false);
// Log records dropped because the queue was full.
uint64_t DroppedLogRecords();
// Stops the callback thread after the tasks already queued and waits (up to
// a few seconds) for handlers still running Python. Called at exit.
void Shutdown();
bool IsShutDown();

// Enables, for the calling thread, stashing a BaseException (e.g.
// KeyboardInterrupt, SystemExit) raised by a handler so that the facade
// call that ran it re-raises it in Python (see RestoreStashedError()).
class StashScope {
 public:
  StashScope();
  ~StashScope();
  StashScope(const StashScope&) = delete;
  StashScope& operator=(const StashScope&) = delete;
};
// True when StashScope is active on this thread. REQUIRES the GIL.
bool StashEnabled();
// Moves the current Python error into this thread's stash. REQUIRES the GIL.
void StashCurrentError();
// Restores the stashed error as the current Python error; true if there
// was one. REQUIRES the GIL.
bool RestoreStashedError();

// repr() of the current Python exception ("ValueError('x')"), clearing the
// error indicator. REQUIRES the GIL and an error set.
std::string CurrentErrorRepr();
// repr() of the current Python exception, which a library thread's call
// into Python let through (a BaseException such as KeyboardInterrupt):
// stashed for the facade call that ran it to re-raise when StashEnabled(),
// else cleared. "" when none is set. REQUIRES the GIL.
std::string ReprAndStashCurrentError();
// repr() of `object`, or its type name when repr() fails. REQUIRES the GIL;
// leaves the error indicator as it was.
std::string Repr(PyObject* object);

// Python value → Json, as Python's json module would serialise it (dicts
// with str/int/float/bool/None keys, lists, tuples, str, int, float, bool,
// None), plus Enum members as their value. On failure sets TypeError or
// ValueError and returns false. REQUIRES the GIL.
bool ToJson(PyObject* value, Json* out);
// Json → new Python object (dict, list, str, int, float, bool, None), or
// nullptr with an exception set. REQUIRES the GIL.
PyObject* FromJson(const Json& value);

// ---- the Python object that owns a PythonPrinter ----
// PythonPrinter (py_printer.h) references its Python owner weakly and
// calls back into it by method name.

// A weak reference to `owner`; InvalidArgument Error when it cannot be
// weakly referenced. REQUIRES the GIL.
std::shared_ptr<PyRef> WeakRefTo(PyObject* owner);

// The owner (a new reference) or nullptr when it is gone. REQUIRES the GIL.
PyObject* OwnerOf(const std::shared_ptr<PyRef>& weak);

// Calls owner.<method>(*args) on the callback thread. `args` is built there,
// with the GIL held, by `make_args` (a new tuple reference).
void CallOwnerLater(std::shared_ptr<PyRef> weak, const char* method,
                    std::function<PyObject*()> make_args);

// Releases a reference to the owner on the callback thread: the last
// reference to a Printer must not go away on a thread that is running one
// of its commands or capturing one of its cameras' images. REQUIRES the GIL.
void ReleaseOwnerLater(PyObject* self);

// A new str from UTF-8 text (invalid bytes replaced). REQUIRES the GIL.
PyObject* PyText(const std::string& s);

}  // namespace prusaconnect::python

#endif  // PRUSACONNECT_BINDINGS_PYTHON_PY_RUNTIME_H_
