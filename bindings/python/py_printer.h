// Copyright 2026 The libprusaconnect Authors.
//
// PythonPrinter: a prusaconnect::Printer that calls back into the Python
// object owning it (the package's Printer, bindings/python/prusaconnect).
// Everything else a Python printer does is Printer's own API, which SWIG
// wraps directly (prusaconnect.i); this class only adds what involves
// Python callables, where the GIL rules of py_runtime.h apply.
//
// The owner is referenced weakly and called by method name (_run_handler,
// _on_register, _on_stop, _on_condition, ...), so Python-side reference
// cycles through handlers stay collectable by Python's GC. Calls from the
// network thread or under a library lock go through Dispatch() (the
// callback thread); command handlers, the printed-file question, storage
// providers and camera captures run on the library thread that needs them,
// with the GIL taken there (PythonCall).
#ifndef PRUSACONNECT_BINDINGS_PYTHON_PY_PRINTER_H_
#define PRUSACONNECT_BINDINGS_PYTHON_PY_PRINTER_H_

#include "py_runtime.h"  // Python.h first

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "prusaconnect/json.h"
#include "prusaconnect/printer.h"

namespace prusaconnect::python {

class PythonPrinter : public Printer {
 public:
  // Installs the register handler (owner._on_register(token)) and the stop
  // callback (owner._on_stop()), both run on the callback thread.
  PythonPrinter(PyObject* owner, std::optional<PrinterType> type, const std::string& sn,
                const std::string& fingerprint, const PrinterOptions& options);

  // Routes `command` to owner._run_handler(command_id, name, args, kwargs,
  // force) (true) or back to the library (false: its built-in handler, or
  // "Not Implemented"). _run_handler returns the repr() of the exception
  // the handler raised, or the outcome as a CommandResult.
  void route_handler(Command command, bool to_python);
  // Asks owner._printed_file() for the file being printed (on the thread
  // running the file command); false removes the question.
  void watch_printed_file(bool enabled);
  // Reports finished downloads to owner._on_download_finished(TransferInfo)
  // on the callback thread; false stops it. (The TransferInfo object is
  // made by NewTransferInfoObject(), defined in prusaconnect.i.)
  void watch_downloads(bool enabled);
  // Reports the changes of the condition named `name` (INTERNET, HTTP,
  // TOKEN, API) to owner._on_condition(name, ok, old_state) on the
  // callback thread; installed once per condition.
  void watch_condition(const std::string& name);
  // Reports new camera tokens to owner._on_camera_token(camera_id,
  // fingerprint, token) on the callback thread; false stops it.
  void watch_camera_tokens(bool enabled);
  // A camera driver whose Capture() calls owner._camera_capture(camera_id)
  // with the GIL on the camera's thread (bytes, or an exception).
  std::shared_ptr<CameraDriver> python_camera_driver(const std::string& camera_id);
  // Attaches a storage kept by a Python provider:
  // owner._storage_call(name, method, args) runs its methods. `can_store`:
  // it accepts downloads (store_file). MEDIUM_INSERTED as attach().
  Status attach_python_storage(const std::string& name, bool can_store);

 private:
  std::shared_ptr<PyRef> owner_;  // a weakref.ref to the owner
  std::mutex mu_;
  std::set<std::string> watched_;  // conditions; guarded by mu_
};

#ifndef SWIG
// A new wrapped TransferInfo (the SWIG wrapper defines it). REQUIRES the GIL.
PyObject* NewTransferInfoObject(const TransferInfo& info);
// Copies a wrapped CommandResult; false when `object` is not one (the SWIG
// wrapper defines it). REQUIRES the GIL.
bool CommandResultOf(PyObject* object, CommandResult* out);
#endif

// ---- module functions ----
// Forwards the library's log records to `forwarder(level, component,
// message)` on the callback thread; None removes it.
void install_log_sink(PyObject* forwarder);
void set_log_level(int level);
int log_level();
uint64_t dropped_log_records();
std::string fingerprint_from_serial(const std::string& sn);
std::string library_version();
std::string sdk_version();
// The wire names of one of the library's enums, in declaration order
// ("State", "Event", "Source", "Command", ...), for consistency tests.
Json enum_names(const std::string& kind);
// [[name, type, version, subversion], ...] of the SDK's printer types.
Json printer_types();
// Called at exit (atexit): no Python runs from library threads afterwards.
void shutdown();

}  // namespace prusaconnect::python

#endif  // PRUSACONNECT_BINDINGS_PYTHON_PY_PRINTER_H_
